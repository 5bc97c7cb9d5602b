/**
 * The case screens of the phone app: one resident's data and next steps, and the forms of
 * every SOP step after registration (verify, reject, pick up, cancel, recording, handover to
 * Disdukcapil, card collection, card delivery with signature, photo and GPS). app.js owns the
 * router and hands in what these screens need (setupCaseViews); the rules live in the pure
 * modules (case-forms.js, pipeline.js, signature-codec.js, photo-sizing.js).
 */
import { actionsFor } from "./pipeline.js";
import {
  buildCancelPickup, buildCollection, buildDelivery, buildHandover, buildPickup, buildRecording, buildReject, buildVerify,
  gpsFromPosition, toLocalInput,
} from "./case-forms.js";
import {
  COLLECTION_OUTCOME_LABELS, DISABILITY_LABELS, MARITAL_STATUS_LABELS, MUTATION_LABELS, NOT_PRINTED_REASON_LABELS,
  RECIPIENT_LABELS, RECORD_FAILED_REASON_LABELS, REJECTION_REASON_LABELS, SEX_LABELS, VERIFICATION_CHECK_LABELS,
  VULNERABLE_CATEGORY_LABELS, labelOf, stageLabel,
} from "./labels.js";
import { ageInYears, eligibilityNote, formatDate, formatDateTimeWita } from "./format.js";
import { SignaturePad, signatureProblem } from "./signature-pad.js";
import { decodeSignature, encodeSignature } from "./signature-codec.js";
import { preparePhoto } from "./photo.js";
import { formatBytes } from "./photo-sizing.js";
import { serverFieldMessages } from "./resident-form.js";

/** Every screen of this module (app.js hides them when it shows another view). */
export const CASE_VIEWS = [
  "view-case", "view-verify", "view-reject", "view-pickup", "view-cancel", "view-record", "view-handover",
  "view-collection", "view-deliver",
];

/** Which form fixes a rejected mutation of each name. */
export const FORM_OF_MUTATION = Object.freeze({
  verify_resident: "verify", reject_resident: "reject", pick_up: "pickup", cancel_pickup: "cancel",
  record_done: "record", record_failed: "record", handover_batch: "handover", record_collection: "collection",
  deliver_card: "deliver",
});

// form kind → {view, form, prefix of control ids}
const FORMS = {
  verify: { view: "view-verify", form: "verify-form", prefix: "v" },
  reject: { view: "view-reject", form: "reject-form", prefix: "r" },
  pickup: { view: "view-pickup", form: "pickup-form", prefix: "pk" },
  cancel: { view: "view-cancel", form: "cancel-form", prefix: "c" },
  record: { view: "view-record", form: "record-form", prefix: "rec" },
  handover: { view: "view-handover", form: "handover-form", prefix: "ho" },
  collection: { view: "view-collection", form: "collection-form", prefix: "col" },
  deliver: { view: "view-deliver", form: "deliver-form", prefix: "d" },
};

let ctx = null;
let current = null; // the open form: {kind, residentId, rid, rejected, ids…}
let pad = null;
const photoFields = {};
const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- helpers
const record = (id) => ctx.state.residents.find((r) => r.resident_id === id) || null;
const nameOf = (id) => record(id)?.view?.name || "Warga";

function fillOptions(select, table) {
  select.append(...Object.entries(table).map(([code, label]) => ctx.el("option", { value: code, text: label })));
}

function clearErrors(kind) {
  const { form } = FORMS[kind];
  for (const m of $(form).querySelectorAll(".msg-error")) m.textContent = "";
  for (const c of $(form).querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  $(`${kind}-server-errors`).hidden = true;
  $(`${kind}-server-errors`).replaceChildren();
}

function messageId(kind, field) {
  const p = FORMS[kind].prefix;
  return field.startsWith("item-") ? `m-${p}-${field.slice(5)}` : `m-${p}-${field}`;
}

/** Show {field: message}; returns true when there was nothing to show. */
function showErrors(kind, errors) {
  const entries = Object.entries(errors);
  const general = [];
  for (const [field, msg] of entries) {
    const target = $(messageId(kind, field));
    if (target) target.textContent = msg;
    else general.push(msg);
    $(`${FORMS[kind].prefix}-${field}`)?.setAttribute("aria-invalid", "true");
  }
  $(`${kind}-message`).textContent = entries.length ? ["Periksa isian yang ditandai merah.", ...general].join(" ") : "";
  return entries.length === 0;
}

function showServerError(kind, rejected) {
  if (!rejected) return;
  const box = $(`${kind}-server-errors`);
  box.replaceChildren(ctx.el("p", { text: `Ditolak server: ${rejected.message}` }));
  for (const [, msg] of Object.entries(serverFieldMessages(rejected.fields))) {
    if (msg !== rejected.message) box.append(ctx.el("p", { text: msg }));
  }
  box.hidden = false;
}

function whoLine(id) {
  const v = record(id)?.view;
  return v ? `${v.name} · Desa ${ctx.desaName(v.desa_code)} · ${stageLabel(v.stage)}` : "";
}

function openForm(kind, state) {
  current = { kind, ...state };
  $(FORMS[kind].form).reset();
  clearErrors(kind);
  showServerError(kind, state.rejected);
  ctx.showView(FORMS[kind].view);
}

/** Save one action (its mutation, plus photos) in one transaction, then back to the list. */
async function save(kind, name, args, attachments, who) {
  const button = $(FORMS[kind].form).querySelector('button[type="submit"]');
  const open = current;
  if (!open || button.disabled) return;
  button.disabled = true;
  const at = ctx.isoWithOffset(new Date());
  try {
    if (open.rid) await ctx.db.resendRejected(open.rid, name, args, at, attachments);
    else await ctx.db.saveMutation(name, args, at, attachments);
  } catch (err) {
    $(`${kind}-message`).textContent = `Gagal menyimpan di HP: ${err?.message || err}. Data belum tersimpan.`;
    return;
  } finally {
    button.disabled = false;
  }
  current = null;
  // Only now, after the transaction committed, does the officer read "Tersimpan".
  await ctx.loadData();
  ctx.setNotice(`Tersimpan di HP: ${MUTATION_LABELS[name]} ${who}.`);
  ctx.go("#/");
  if (navigator.onLine) ctx.sync.flush("saved");
}

function cancel() {
  const back = current?.rid ? "#/perbaikan" : current?.residentId ? `#/warga/${current.residentId}` : "#/";
  current = null;
  ctx.go(back);
}

// ---------------------------------------------------------------- photo fields
function photoField(prefix, kind) {
  const input = $(`${prefix}-photo`);
  const status = $(`${prefix}-photo-status`);
  const preview = $(`${prefix}-photo-preview`);
  const field = { current: null, existing: null, busy: null };
  const clearPreview = () => {
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.removeAttribute("src");
    preview.hidden = true;
  };
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    field.current = null;
    clearPreview();
    if (!file) {
      status.textContent = field.existing ? "Foto sebelumnya tetap dipakai." : "";
      return;
    }
    status.textContent = "Memproses foto…";
    field.busy = preparePhoto(file)
      .then((p) => {
        field.current = { ...p, kind };
        status.textContent = `Foto siap: ${p.width}×${p.height} piksel, ${formatBytes(p.size)} (asli ${formatBytes(p.originalSize)}).`;
        preview.src = URL.createObjectURL(p.blob);
        preview.hidden = false;
      })
      .catch((err) => {
        status.textContent = err.message;
        input.value = "";
      })
      .finally(() => { field.busy = null; });
  });
  field.reset = (existing = null) => {
    input.value = "";
    field.current = null;
    field.existing = existing;
    clearPreview();
    status.textContent = existing ? "Foto yang diambil sebelumnya tetap dipakai (boleh diganti)." : "";
  };
  /** {sha: sha256 | null, attachments: [new photo]} once any processing has finished. */
  field.value = async () => {
    if (field.busy) await field.busy;
    if (field.current) return { sha: field.current.sha256, attachments: [field.current] };
    return { sha: field.existing, attachments: [] };
  };
  return field;
}

// ---------------------------------------------------------------- the case screen
const ACTION_BUTTONS = {
  register: ["Daftarkan warga ini", (id) => ctx.go(`#/daftar/${id}`)],
  verify: ["Verifikasi", (id) => ctx.go(`#/warga/${id}/verifikasi`)],
  reject: ["Tolak", (id) => ctx.go(`#/warga/${id}/tolak`)],
  pick_up: ["Jemput", (id) => ctx.go(`#/jemput/${id}`)],
  record: ["Catat hasil rekam", (id) => ctx.go(`#/warga/${id}/rekam`)],
  cancel_pickup: ["Batalkan penjemputan", (id) => ctx.go(`#/warga/${id}/batal-jemput`)],
  handover: ["Serahkan berkas ke Disdukcapil", (id) => ctx.go(`#/serahkan-berkas/${id}`)],
  collection: ["Catat pengambilan KTP", (id) => ctx.go(`#/warga/${id}/ambil-ktp`)],
  deliver: ["Serahkan KTP", (id) => ctx.go(`#/warga/${id}/serahkan-ktp`)],
  edit: ["Ubah data", (id) => ctx.go(`#/ubah/${id}`)],
};

function detail(term, value) {
  if (value == null || value === "") return [];
  return [ctx.el("dt", { text: term }), ctx.el("dd", { text: String(value) })];
}

function checksText(verification) {
  const checks = verification?.checks || {};
  const done = Object.entries(VERIFICATION_CHECK_LABELS).filter(([k]) => checks[k]).map(([, label]) => label);
  return done.length ? done.join("; ") : "—";
}

/** The case screen of one resident: data, pipeline evidence and the next steps. */
export async function showCase(residentId) {
  await ctx.loadData();
  const rec = record(residentId);
  if (!rec) return ctx.go("#/");
  const v = rec.view;
  $("case-title").textContent = v.name;
  $("case-stage").replaceChildren(
    ctx.el("span", { class: `stage s-${v.stage}`, text: stageLabel(v.stage) }),
    rec.pending ? ctx.el("span", { class: "badge", text: "Belum terkirim" }) : "",
  );
  const age = ageInYears(v.birth_date);
  const rt = [v.rt && `RT ${v.rt}`, v.rw && `RW ${v.rw}`].filter(Boolean).join(" / ");
  const pickup = v.pickup ? [formatDateTimeWita(v.pickup.at), v.pickup.point, v.pickup.vehicle].filter(Boolean).join(" · ") : null;
  const recording = v.recording?.failed
    ? `Gagal: ${labelOf(RECORD_FAILED_REASON_LABELS, v.recording.failed)}${v.recording.reason_text ? ` (${v.recording.reason_text})` : ""}`
    : v.recording?.at ? `Sudah rekam ${formatDateTimeWita(v.recording.at)}` : null;
  const batch = v.batch_id ? `Berkas ${v.batch_number || v.batch_id.slice(0, 8)}${v.stage === "sent_to_registry" ? " · menunggu KTP dicetak" : ""}` : null;
  const issue = v.card_issue ? `KTP belum dicetak: ${labelOf(NOT_PRINTED_REASON_LABELS, v.card_issue.reason)}${v.card_issue.reason_text ? ` (${v.card_issue.reason_text})` : ""}` : null;
  const d = v.delivery;
  const delivery = d ? [
    formatDateTimeWita(d.delivered_at),
    d.recipient === "proxy" ? `diwakilkan ${d.proxy_name || ""} (${d.proxy_relation || ""})` : labelOf(RECIPIENT_LABELS, d.recipient),
    d.gps ? `GPS ${d.gps.lat}, ${d.gps.lon}` : "tanpa GPS",
  ].filter(Boolean).join(" · ") : null;
  $("case-details").replaceChildren(
    ...detail("Desa", ctx.desaName(v.desa_code)),
    ...detail("NIK", v.nik || "Belum punya NIK"),
    ...detail("Nomor KK", v.kk_number),
    ...detail("Jenis kelamin", labelOf(SEX_LABELS, v.sex)),
    ...detail("Tempat, tanggal lahir", [v.birth_place, formatDate(v.birth_date)].filter(Boolean).join(", ") + (age != null ? ` (umur ${age} tahun)` : "")),
    ...detail("Status perkawinan", labelOf(MARITAL_STATUS_LABELS, v.marital_status)),
    ...detail("Alamat", [v.address, rt].filter(Boolean).join(", ")),
    ...detail("Nomor HP", v.phone),
    ...detail("Kategori rentan", labelOf(VULNERABLE_CATEGORY_LABELS, v.vulnerable_category)),
    ...detail("Disabilitas", labelOf(DISABILITY_LABELS, v.disability)),
    ...detail("Pemeriksaan verifikasi", v.verification ? checksText(v.verification) : null),
    ...detail("Alasan ditolak", v.rejection ? `${labelOf(REJECTION_REASON_LABELS, v.rejection.reason)}${v.rejection.reason_text ? ` (${v.rejection.reason_text})` : ""}` : null),
    ...detail("Penjemputan", pickup),
    ...detail("Perekaman", recording),
    ...detail("Disdukcapil", batch),
    ...detail("Masalah KTP", issue),
    ...detail("Penyerahan KTP", delivery),
    ...detail("Catatan", v.notes),
  );
  const actions = actionsFor(v);
  const codes = [];
  for (const a of actions) {
    const code = a === "record_done" || a === "record_failed" ? "record" : a;
    if (!codes.includes(code)) codes.push(code);
  }
  $("case-actions").replaceChildren(...codes.map((code, i) => {
    const [label, onclick] = ACTION_BUTTONS[code];
    return ctx.el("button", { type: "button", class: i === 0 && code !== "edit" ? "primary" : "", text: label, onclick: () => onclick(residentId) });
  }));
  ctx.showView("view-case");
}

// ---------------------------------------------------------------- verify / reject
function openVerify(residentId, rejected = null) {
  const v = record(residentId)?.view;
  if (!v) return ctx.go("#/");
  openForm("verify", { residentId, rid: rejected?.rid ?? null, rejected });
  $("verify-who").textContent = whoLine(residentId);
  const age = ageInYears(v.birth_date);
  $("verify-age").textContent = age == null
    ? "Tanggal lahir belum tercatat: periksa umur dari KK."
    : `${eligibilityNote(age, v.marital_status)} Lahir ${formatDate(v.birth_date)}; status: ${labelOf(MARITAL_STATUS_LABELS, v.marital_status) || "belum tercatat"}.`;
  const a = rejected?.args;
  for (const k of Object.keys(VERIFICATION_CHECK_LABELS)) $(`v-${k}`).checked = Boolean(a?.checks?.[k]);
  $("v-notes").value = a?.notes || "";
  photoFields.v.reset(a?.kk_photo || null);
}

async function submitVerify(event) {
  event.preventDefault();
  if (current?.kind !== "verify") return;
  clearErrors("verify");
  const photo = await photoFields.v.value();
  const built = buildVerify({
    kk_copy_seen: $("v-kk_copy_seen").checked, age_eligible: $("v-age_eligible").checked,
    marital_eligible: $("v-marital_eligible").checked, kk_photo: photo.sha, notes: $("v-notes").value,
  }, { residentId: current.residentId });
  if (!showErrors("verify", built.errors)) return;
  await save("verify", "verify_resident", built.args, photo.attachments, nameOf(current.residentId));
}

function openReject(residentId, rejected = null) {
  if (!record(residentId)) return ctx.go("#/");
  openForm("reject", { residentId, rid: rejected?.rid ?? null, rejected });
  $("reject-who").textContent = whoLine(residentId);
  $("r-reason").value = rejected?.args?.reason || "";
  $("r-reason_text").value = rejected?.args?.reason_text || "";
}

async function submitReject(event) {
  event.preventDefault();
  if (current?.kind !== "reject") return;
  clearErrors("reject");
  const built = buildReject({ reason: $("r-reason").value, reason_text: $("r-reason_text").value }, { residentId: current.residentId });
  if (!showErrors("reject", built.errors)) return;
  await save("reject", "reject_resident", built.args, [], nameOf(current.residentId));
}

// ---------------------------------------------------------------- pick-up, cancel, recording
function checklist(listId, prefix, records, checkedIds) {
  const checked = new Set(checkedIds);
  $(listId).replaceChildren(...records.map((r) => {
    const id = `${prefix}-r-${r.resident_id}`;
    return ctx.el("li", {},
      ctx.el("input", { type: "checkbox", id, value: r.resident_id, ...(checked.has(r.resident_id) ? { checked: "" } : {}) }),
      ctx.el("label", { for: id, text: `${r.view.name} · Desa ${ctx.desaName(r.desa_code)}` }));
  }));
  if (!records.length) $(listId).append(ctx.el("li", { class: "muted", text: "Tidak ada warga yang bisa dipilih." }));
}

const checkedIn = (listId) => [...$(listId).querySelectorAll('input[type="checkbox"]:checked')].map((c) => c.value);

function candidates(stage, extraIds = []) {
  const extra = new Set(extraIds);
  return ctx.sortRecords(ctx.state.residents.filter((r) => r.view.stage === stage || extra.has(r.resident_id)));
}

function openPickup(residentId = null, rejected = null) {
  const a = rejected?.args;
  const preset = a?.resident_ids || (residentId ? [residentId] : []);
  openForm("pickup", { residentId, rid: rejected?.rid ?? null, rejected, pickupId: a?.pickup_id || ctx.newUuid() });
  checklist("pickup-list", "pk", candidates("verified", preset), preset);
  $("pk-picked_up_at").value = a?.picked_up_at ? toLocalInput(new Date(a.picked_up_at)) : toLocalInput();
  $("pk-pickup_point").value = a?.pickup_point || "";
  $("pk-vehicle").value = a?.vehicle || "";
}

async function submitPickup(event) {
  event.preventDefault();
  if (current?.kind !== "pickup") return;
  clearErrors("pickup");
  const built = buildPickup({
    resident_ids: checkedIn("pickup-list"), picked_up_at: $("pk-picked_up_at").value,
    pickup_point: $("pk-pickup_point").value, vehicle: $("pk-vehicle").value,
  }, { pickupId: current.pickupId });
  if (!showErrors("pickup", built.errors)) return;
  const ids = built.args.resident_ids;
  await save("pickup", "pick_up", built.args, [], ids.length === 1 ? nameOf(ids[0]) : `${ids.length} warga`);
}

function openCancel(residentId, rejected = null) {
  if (!record(residentId)) return ctx.go("#/");
  openForm("cancel", { residentId, rid: rejected?.rid ?? null, rejected });
  $("cancel-who").textContent = whoLine(residentId);
  $("c-reason").value = rejected?.args?.reason || "";
}

async function submitCancel(event) {
  event.preventDefault();
  if (current?.kind !== "cancel") return;
  clearErrors("cancel");
  const built = buildCancelPickup({ reason: $("c-reason").value }, { residentId: current.residentId });
  if (!showErrors("cancel", built.errors)) return;
  await save("cancel", "cancel_pickup", built.args, [], nameOf(current.residentId));
}

function syncRecordFields() {
  const failed = $("rec-failed").checked;
  $("rec-done-fields").hidden = failed;
  $("rec-failed-fields").hidden = !failed;
}

function openRecord(residentId, rejected = null) {
  const v = record(residentId)?.view;
  if (!v) return ctx.go("#/");
  openForm("record", { residentId, rid: rejected?.rid ?? null, rejected });
  $("record-who").textContent = whoLine(residentId);
  // A resident who came to the office alone (not picked up) can only be recorded, not "failed".
  const canFail = v.stage === "picked_up" || rejected?.name === "record_failed";
  $("rec-failed").disabled = !canFail;
  const a = rejected?.args || {};
  $(rejected?.name === "record_failed" ? "rec-failed" : "rec-done").checked = true;
  $("rec-recorded_at").value = a.recorded_at ? toLocalInput(new Date(a.recorded_at)) : toLocalInput();
  $("rec-reason").value = a.reason || "";
  $("rec-reason_text").value = a.reason_text || "";
  syncRecordFields();
}

async function submitRecord(event) {
  event.preventDefault();
  if (current?.kind !== "record") return;
  clearErrors("record");
  const outcome = $("rec-failed").checked ? "failed" : $("rec-done").checked ? "done" : "";
  const built = buildRecording({
    outcome, recorded_at: $("rec-recorded_at").value, reason: $("rec-reason").value, reason_text: $("rec-reason_text").value,
  }, { residentId: current.residentId });
  if (!showErrors("record", built.errors)) return;
  await save("record", built.name, built.args, [], nameOf(current.residentId));
}

// ---------------------------------------------------------------- handover and collection
function openHandover(residentId = null, rejected = null) {
  const a = rejected?.args;
  const preset = a?.resident_ids || (residentId ? [residentId] : candidates("recorded").map((r) => r.resident_id));
  openForm("handover", { residentId, rid: rejected?.rid ?? null, rejected, batchId: a?.batch_id || ctx.newUuid() });
  checklist("handover-list", "ho", candidates("recorded", preset), preset);
  $("ho-number").value = a?.number || "";
  $("ho-handed_at").value = a?.handed_at ? toLocalInput(new Date(a.handed_at)) : toLocalInput();
  $("ho-notes").value = a?.notes || "";
}

async function submitHandover(event) {
  event.preventDefault();
  if (current?.kind !== "handover") return;
  clearErrors("handover");
  const built = buildHandover({
    resident_ids: checkedIn("handover-list"), number: $("ho-number").value,
    handed_at: $("ho-handed_at").value, notes: $("ho-notes").value,
  }, { batchId: current.batchId });
  if (!showErrors("handover", built.errors)) return;
  await save("handover", "handover_batch", built.args, [], `berkas ${built.args.number} (${built.args.resident_ids.length} warga)`);
}

function collectionRow(r, item) {
  const id = r.resident_id;
  const name = r.view.name;
  const outcome = ctx.el("select", { id: `col-o-${id}` }, ctx.el("option", { value: "", text: "Belum diketahui" }));
  fillOptions(outcome, COLLECTION_OUTCOME_LABELS);
  const reason = ctx.el("select", { id: `col-r-${id}` }, ctx.el("option", { value: "", text: "Pilih alasan…" }));
  fillOptions(reason, NOT_PRINTED_REASON_LABELS);
  const text = ctx.el("input", { id: `col-t-${id}`, maxlength: "500", autocomplete: "off" });
  outcome.value = item?.outcome || "";
  reason.value = item?.reason || "";
  text.value = item?.reason_text || "";
  const extra = ctx.el("div", { class: "sub" },
    ctx.el("label", { for: reason.id, text: `Alasan belum dicetak: ${name}` }), reason,
    ctx.el("label", { for: text.id, text: `Keterangan: ${name}` }), text);
  const toggle = () => { extra.hidden = outcome.value !== "not_printed"; };
  outcome.addEventListener("change", toggle);
  toggle();
  return ctx.el("li", { class: "field" },
    ctx.el("label", { for: outcome.id, text: `KTP ${name}` }), outcome, extra,
    ctx.el("p", { id: `m-col-${id}`, class: "msg-error" }));
}

function openCollection(residentId, rejected = null) {
  const a = rejected?.args;
  const batchId = a?.batch_id || record(residentId)?.view?.batch_id || null;
  openForm("collection", { residentId, rid: rejected?.rid ?? null, rejected, batchId });
  const v = record(residentId)?.view;
  $("collection-batch").textContent = batchId ? `Berkas ${v?.batch_number || batchId.slice(0, 8)}` : "Berkas tidak diketahui di HP ini.";
  const items = new Map((a?.items || []).map((i) => [i.resident_id, i]));
  const rows = ctx.sortRecords(ctx.state.residents.filter((r) => items.has(r.resident_id)
    || (r.view.stage === "sent_to_registry" && (!batchId || r.view.batch_id === batchId))));
  $("collection-list").replaceChildren(...rows.map((r) => collectionRow(r, items.get(r.resident_id))));
  current.rows = rows.map((r) => r.resident_id);
  $("col-collected_at").value = a?.collected_at ? toLocalInput(new Date(a.collected_at)) : toLocalInput();
}

async function submitCollection(event) {
  event.preventDefault();
  if (current?.kind !== "collection") return;
  clearErrors("collection");
  if (!current.batchId) {
    $("collection-message").textContent = "Berkas warga ini tidak diketahui di HP; sinkronkan dulu.";
    return;
  }
  const items = current.rows.map((id) => ({
    resident_id: id, outcome: $(`col-o-${id}`).value, reason: $(`col-r-${id}`).value, reason_text: $(`col-t-${id}`).value,
  }));
  const built = buildCollection({ items, collected_at: $("col-collected_at").value }, { batchId: current.batchId });
  if (!showErrors("collection", built.errors)) return;
  await save("collection", "record_collection", built.args, [], `${built.args.items.length} KTP`);
}

// ---------------------------------------------------------------- delivery
function signatureStatus() {
  const n = pad.points;
  $("signature-status").textContent = n
    ? `Tanda tangan: ${pad.strokes.length} goresan, ${n} titik.`
    : "Belum ada tanda tangan.";
  if (n) $("m-d-signature").textContent = "";
}

function syncProxyFields() {
  $("d-proxy-fields").hidden = !$("d-proxy").checked;
}

function askGps() {
  if (!navigator.geolocation) {
    $("d-gps-status").textContent = "HP ini tidak bisa memberi lokasi. Penyerahan tetap bisa disimpan.";
    return;
  }
  const open = current;
  $("d-gps-status").textContent = "Mengambil lokasi…";
  navigator.geolocation.getCurrentPosition((position) => {
    if (current !== open) return;
    open.gps = gpsFromPosition(position);
    $("d-gps-status").textContent = open.gps
      ? `Lokasi: ${open.gps.lat}, ${open.gps.lon}${open.gps.accuracy_m != null ? ` (±${open.gps.accuracy_m} m)` : ""}.`
      : "Lokasi tidak terbaca.";
  }, (err) => {
    if (current !== open) return;
    const why = err?.code === 1 ? "izin lokasi ditolak" : err?.code === 3 ? "waktu habis" : "lokasi tidak tersedia";
    $("d-gps-status").textContent = `Lokasi tidak diambil (${why}). Penyerahan tetap bisa disimpan tanpa GPS.`;
  }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

async function openDeliver(residentId, rejected = null) {
  if (!record(residentId)) return ctx.go("#/");
  const a = rejected?.args || {};
  openForm("deliver", { residentId, rid: rejected?.rid ?? null, rejected, deliveryId: a.delivery_id || ctx.newUuid(), gps: a.gps || null });
  $("deliver-who").textContent = whoLine(residentId);
  $(a.recipient === "proxy" ? "d-proxy" : "d-owner").checked = true;
  $("d-proxy_name").value = a.proxy_name || "";
  $("d-proxy_relation").value = a.proxy_relation || "";
  $("d-delivered_at").value = a.delivered_at ? toLocalInput(new Date(a.delivered_at)) : toLocalInput();
  syncProxyFields();
  photoFields.d.reset(a.photo || null);
  pad.reset(); // measured now that the view is visible
  if (a.signature?.data) {
    try { pad.load(decodeSignature(a.signature.data)); } catch { /* draw again */ }
  }
  $("d-gps-status").textContent = current.gps
    ? `Lokasi: ${current.gps.lat}, ${current.gps.lon}.`
    : "Lokasi belum diambil (boleh dilewati).";
  // Ask at once only when the officer allowed location before; otherwise the button asks.
  try {
    const perm = await navigator.permissions?.query({ name: "geolocation" });
    if (perm?.state === "granted" && !current?.gps && current?.kind === "deliver") askGps();
  } catch { /* the Permissions API is optional */ }
}

async function submitDeliver(event) {
  event.preventDefault();
  if (current?.kind !== "deliver") return;
  clearErrors("deliver");
  const open = current;
  const problem = signatureProblem(pad.strokes);
  let signature = null;
  if (!problem) {
    try {
      signature = await encodeSignature(pad.toSignature());
    } catch (err) {
      $("m-d-signature").textContent = err.message;
      return;
    }
  }
  const photo = await photoFields.d.value();
  const built = buildDelivery({
    recipient: $("d-proxy").checked ? "proxy" : $("d-owner").checked ? "owner" : "",
    proxy_name: $("d-proxy_name").value, proxy_relation: $("d-proxy_relation").value,
    delivered_at: $("d-delivered_at").value, signature, signature_problem: problem,
    photo: photo.sha, gps: open.gps,
  }, { residentId: open.residentId, deliveryId: open.deliveryId });
  if (!showErrors("deliver", built.errors)) return;
  await save("deliver", "deliver_card", built.args, photo.attachments, nameOf(open.residentId));
}

// ---------------------------------------------------------------- entry points for app.js
const NEEDS_ACTION = {
  verify: "verify", reject: "reject", record: "record_done", cancel: "cancel_pickup", collection: "collection", deliver: "deliver",
};

/** Open a form by route: kind is a key of FORMS; residentId may be null for the group forms. */
export function openAction(kind, residentId, rejected = null) {
  // A one-resident form opened by URL at the wrong stage shows the case (and what it allows).
  const needs = NEEDS_ACTION[kind];
  if (needs && !rejected && !actionsFor(record(residentId)?.view).includes(needs)) {
    return residentId && record(residentId) ? showCase(residentId) : ctx.go("#/");
  }
  switch (kind) {
    case "verify": return openVerify(residentId, rejected);
    case "reject": return openReject(residentId, rejected);
    case "pickup": return openPickup(residentId, rejected);
    case "cancel": return openCancel(residentId, rejected);
    case "record": return openRecord(residentId, rejected);
    case "handover": return openHandover(residentId, rejected);
    case "collection": return openCollection(residentId, rejected);
    case "deliver": return openDeliver(residentId, rejected);
    default: return ctx.go("#/");
  }
}

/** Fix a rejected pipeline mutation in its own form (saved as a new mutation). */
export function openFix(rejected) {
  const kind = FORM_OF_MUTATION[rejected.name];
  const residentId = rejected.args?.resident_id || rejected.resident_id;
  const needsResident = !["pickup", "handover"].includes(kind);
  if (needsResident && !record(residentId)) {
    window.alert("Data warga ini tidak ada lagi di HP (mungkin bukan wilayah tugas Anda lagi). Pilih Abaikan.");
    return ctx.go("#/perbaikan");
  }
  return openAction(kind, residentId, rejected);
}

/** True while a form with unsaved input is open. */
export function formOpen() {
  return Boolean(current) && !$(FORMS[current.kind].view).hidden;
}

/** Resident names of a rejected mutation (for the "Perlu perbaikan" list). */
export function namesOf(rejected) {
  const ids = rejected.resident_ids?.length ? rejected.resident_ids : [rejected.resident_id];
  const names = ids.map((id) => record(id)?.view?.name).filter(Boolean);
  if (rejected.args?.number) return `berkas ${rejected.args.number}`;
  return names.length > 2 ? `${names.slice(0, 2).join(", ")} dan ${names.length - 2} lainnya` : names.join(", ") || "Warga";
}

/** Wire the forms once; ctx = {state, db, sync, el, go, showView, setNotice, loadData, desaName, newUuid, isoWithOffset, sortRecords}. */
export function setupCaseViews(context) {
  ctx = context;
  fillOptions($("r-reason"), REJECTION_REASON_LABELS);
  fillOptions($("rec-reason"), RECORD_FAILED_REASON_LABELS);
  photoFields.v = photoField("v", "kk_photo");
  photoFields.d = photoField("d", "delivery_photo");
  pad = new SignaturePad($("signature-pad"), { onChange: signatureStatus });
  $("signature-undo").addEventListener("click", () => pad.undo());
  $("signature-clear").addEventListener("click", () => pad.clear());
  $("d-gps-button").addEventListener("click", askGps);
  $("d-owner").addEventListener("change", syncProxyFields);
  $("d-proxy").addEventListener("change", syncProxyFields);
  $("rec-done").addEventListener("change", syncRecordFields);
  $("rec-failed").addEventListener("change", syncRecordFields);
  $("case-back-button").addEventListener("click", () => ctx.go("#/"));
  const submit = { verify: submitVerify, reject: submitReject, pickup: submitPickup, cancel: submitCancel, record: submitRecord,
    handover: submitHandover, collection: submitCollection, deliver: submitDeliver };
  for (const [kind, { form }] of Object.entries(FORMS)) {
    $(form).addEventListener("submit", submit[kind]);
    $(form).querySelector("button.cancel").addEventListener("click", cancel);
  }
}
