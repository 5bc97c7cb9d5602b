/**
 * The forms of the SOP steps between registration and delivery: verify (with a KK photo),
 * reject, pick up (one or many), cancel a pick-up, the recording result, the handover of a batch
 * to Disdukcapil and the card collection. Each has an open… (prefilled when fixing a rejected
 * mutation) and a submit… that builds the mutation with case-forms.js; defineForm declares
 * them (at the end).
 */
import {
  buildCancelPickup, buildCollection, buildHandover, buildPickup, buildRecording, buildReject, buildVerify,
} from "./case-forms.js";
import { setStepTime, stepTimeValue } from "./date-input.js";
import {
  COLLECTION_OUTCOME_LABELS, MARITAL_STATUS_LABELS, NOT_PRINTED_REASON_LABELS, RECORD_FAILED_REASON_LABELS,
  REJECTION_REASON_LABELS, VERIFICATION_CHECK_LABELS, labelOf,
} from "./labels.js";
import { ageInYears, eligibilityNote, formatDate } from "./format.js";
import { collectionDefault, sortRecords } from "./work-lists.js";
import { checkStepOrder } from "./step-order.js";
import { offered } from "./pipeline.js";
import {
  clearErrors, current, defineForm, nameOf, openForm, photoField, save, showErrors, whoLine,
} from "./case-form-kit.js";
import { $, desaName, el, fillOptions, go, newUuid, record, state } from "./app-shell.js";
import { batchName } from "./case-screen.js";

let kkPhoto = null; // the KK photo field of the verification form

// ---------------------------------------------------------------- verify / reject
/** The verification form: age hint, the checks, the KK photo. */
function openVerify(residentId, rejected = null) {
  const v = record(residentId)?.view;
  if (!v) return go("#/");
  openForm("verify", { residentId, rid: rejected?.rid ?? null, rejected });
  $("verify-who").textContent = whoLine(residentId);
  const age = ageInYears(v.birth_date);
  $("verify-age").textContent = age == null
    ? "Tanggal lahir belum tercatat: periksa umur dari KK."
    : `${eligibilityNote(age, v.marital_status)} Lahir ${formatDate(v.birth_date)}; status: ${labelOf(MARITAL_STATUS_LABELS, v.marital_status) || "belum tercatat"}.`;
  const a = rejected?.args;
  for (const k of Object.keys(VERIFICATION_CHECK_LABELS)) $(`v-${k}`).checked = Boolean(a?.checks?.[k]);
  $("v-notes").value = a?.notes || "";
  kkPhoto.reset(a?.kk_photo || null);
}

async function submitVerify(event) {
  event.preventDefault();
  if (current?.kind !== "verify") return;
  clearErrors("verify");
  const photo = await kkPhoto.value();
  const built = buildVerify({
    kk_copy_seen: $("v-kk_copy_seen").checked, age_eligible: $("v-age_eligible").checked,
    marital_eligible: $("v-marital_eligible").checked, kk_photo: photo.sha, notes: $("v-notes").value,
  }, { residentId: current.residentId });
  if (!showErrors("verify", built.errors)) return;
  await save("verify", "verify_resident", built.args, photo.attachments, nameOf(current.residentId));
}

function openReject(residentId, rejected = null) {
  if (!record(residentId)) return go("#/");
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
  // A rejection ends the case (only the camat can undo it): asked once more.
  if (!window.confirm(`Tolak ${nameOf(current.residentId)} (${labelOf(REJECTION_REASON_LABELS, built.args.reason)})? Warga ini tidak diproses lagi; hanya camat yang bisa membatalkannya.`)) return;
  await save("reject", "reject_resident", built.args, [], nameOf(current.residentId));
}

// ---------------------------------------------------------------- pick-up, cancel, recording
function checklist(listId, prefix, records, checkedIds) {
  const checked = new Set(checkedIds);
  $(listId).replaceChildren(...records.map((r) => {
    const id = `${prefix}-r-${r.resident_id}`;
    return el("li", {},
      el("input", { type: "checkbox", id, value: r.resident_id, ...(checked.has(r.resident_id) ? { checked: "" } : {}) }),
      el("label", { for: id, text: `${r.view.name} · Desa ${desaName(r.desa_code)}` }));
  }));
  if (!records.length) $(listId).append(el("li", { class: "muted", text: "Tidak ada warga yang bisa dipilih." }));
}

const checkedIn = (listId) => [...$(listId).querySelectorAll('input[type="checkbox"]:checked')].map((c) => c.value);

function candidates(name, extraIds = []) {
  const extra = new Set(extraIds);
  return sortRecords(state.residents.filter((r) => offered(name, r.view.stage) || extra.has(r.resident_id)));
}

/** The pick-up form: verified residents to tick (one preset when opened from a case). */
function openPickup(residentId = null, rejected = null) {
  const a = rejected?.args;
  const preset = a?.resident_ids || (residentId ? [residentId] : []);
  openForm("pickup", { residentId, rid: rejected?.rid ?? null, rejected, pickupId: a?.pickup_id || newUuid() });
  checklist("pickup-list", "pk", candidates("pick_up", preset), preset);
  setStepTime("pk-picked_up_at", a?.picked_up_at);
  $("pk-pickup_point").value = a?.pickup_point || "";
  $("pk-vehicle").value = a?.vehicle || "";
}

async function submitPickup(event) {
  event.preventDefault();
  if (current?.kind !== "pickup") return;
  clearErrors("pickup");
  const built = buildPickup({
    resident_ids: checkedIn("pickup-list"), picked_up_at: stepTimeValue("pk-picked_up_at"),
    pickup_point: $("pk-pickup_point").value, vehicle: $("pk-vehicle").value,
  }, { pickupId: current.pickupId });
  if (!showErrors("pickup", built.errors)) return;
  const ids = built.args.resident_ids;
  await save("pickup", "pick_up", built.args, [], ids.length === 1 ? nameOf(ids[0]) : `${ids.length} warga`);
}

function openCancel(residentId, rejected = null) {
  if (!record(residentId)) return go("#/");
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

/** Show the fields of the chosen recording outcome. */
function syncRecordFields() {
  const failed = $("rec-failed").checked;
  $("rec-done-fields").hidden = failed;
  $("rec-failed-fields").hidden = !failed;
}

/** The recording result form (done, or failed when picked up). */
function openRecord(residentId, rejected = null) {
  const v = record(residentId)?.view;
  if (!v) return go("#/");
  openForm("record", { residentId, rid: rejected?.rid ?? null, rejected });
  $("record-who").textContent = whoLine(residentId);
  // A resident who came to the office alone (not picked up) can only be recorded, not "failed".
  const canFail = offered("record_failed", v.stage) || rejected?.name === "record_failed";
  $("rec-failed").disabled = !canFail;
  const a = rejected?.args || {};
  $(rejected?.name === "record_failed" ? "rec-failed" : "rec-done").checked = true;
  setStepTime("rec-recorded_at", a?.recorded_at);
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
    outcome, recorded_at: stepTimeValue("rec-recorded_at"), reason: $("rec-reason").value, reason_text: $("rec-reason_text").value,
  }, { residentId: current.residentId });
  if (built.name === "record_done") checkStepOrder(built.name, [record(current.residentId)?.view], built, "recorded_at");
  if (!showErrors("record", built.errors)) return;
  await save("record", built.name, built.args, [], nameOf(current.residentId));
}

// ---------------------------------------------------------------- handover and collection
/** The handover form: recorded residents to tick, the batch number and time. */
function openHandover(residentId = null, rejected = null) {
  const a = rejected?.args;
  const preset = a?.resident_ids || (residentId ? [residentId] : candidates("handover_batch").map((r) => r.resident_id));
  openForm("handover", { residentId, rid: rejected?.rid ?? null, rejected, batchId: a?.batch_id || newUuid() });
  checklist("handover-list", "ho", candidates("handover_batch", preset), preset);
  $("ho-number").value = a?.number || "";
  setStepTime("ho-handed_at", a?.handed_at);
  $("ho-notes").value = a?.notes || "";
}

async function submitHandover(event) {
  event.preventDefault();
  if (current?.kind !== "handover") return;
  clearErrors("handover");
  const built = buildHandover({
    resident_ids: checkedIn("handover-list"), number: $("ho-number").value,
    handed_at: stepTimeValue("ho-handed_at"), notes: $("ho-notes").value,
  }, { batchId: current.batchId });
  checkStepOrder("handover_batch", checkedIn("handover-list").map((id) => record(id)?.view), built, "handed_at");
  if (!showErrors("handover", built.errors)) return;
  await save("handover", "handover_batch", built.args, [], `berkas ${built.args.number} (${built.args.resident_ids.length} warga)`);
}

function collectionRow(r, item) {
  const id = r.resident_id;
  const name = r.view.name;
  const outcome = el("select", { id: `col-o-${id}` }, el("option", { value: "", text: "Belum diketahui" }));
  fillOptions(outcome, COLLECTION_OUTCOME_LABELS);
  const reason = el("select", { id: `col-r-${id}` }, el("option", { value: "", text: "Pilih alasan…" }));
  fillOptions(reason, NOT_PRINTED_REASON_LABELS);
  const text = el("input", { id: `col-t-${id}`, maxlength: "500", autocomplete: "off" });
  outcome.value = collectionDefault(r, item);
  reason.value = item?.reason || "";
  text.value = item?.reason_text || "";
  const extra = el("div", { class: "sub" },
    el("label", { for: reason.id, text: `Alasan belum dicetak: ${name}` }), reason,
    el("label", { for: text.id, text: `Keterangan: ${name}` }), text);
  const toggle = () => { extra.hidden = outcome.value !== "not_printed"; };
  outcome.addEventListener("change", toggle);
  toggle();
  return el("li", { class: "field" },
    el("label", { for: outcome.id, text: `KTP ${name}` }), outcome, extra,
    el("p", { id: `m-col-${id}`, class: "msg-error" }));
}

/** The card collection form: one outcome per resident of the batch. */
function openCollection(residentId, rejected = null) {
  const a = rejected?.args;
  const v = record(residentId)?.view;
  const batchId = a?.batch_id || v?.batch_id || null;
  openForm("collection", { residentId, rid: rejected?.rid ?? null, rejected, batchId });
  $("collection-batch").textContent = batchId ? batchName({ batch_id: batchId, batch_number: v?.batch_id === batchId ? v.batch_number : null }) : "Berkas tidak diketahui di HP ini.";
  const items = new Map((a?.items || []).map((i) => [i.resident_id, i]));
  const rows = sortRecords(state.residents.filter((r) => items.has(r.resident_id)
    || (offered("record_collection", r.view.stage) && (!batchId || r.view.batch_id === batchId))));
  $("collection-list").replaceChildren(...rows.map((r) => collectionRow(r, items.get(r.resident_id))));
  current.rows = rows.map((r) => r.resident_id);
  setStepTime("col-collected_at", a?.collected_at);
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
  const built = buildCollection({ items, collected_at: stepTimeValue("col-collected_at") }, { batchId: current.batchId });
  checkStepOrder("record_collection", current.rows.map((id) => record(id)?.view), built, "collected_at");
  if (!showErrors("collection", built.errors)) return;
  await save("collection", "record_collection", built.args, [], `${built.args.items.length} KTP`);
}

/** Wire the controls of these forms once (app start). */
export function setupStepForms() {
  fillOptions($("r-reason"), REJECTION_REASON_LABELS);
  fillOptions($("rec-reason"), RECORD_FAILED_REASON_LABELS);
  kkPhoto = photoField("v", "kk_photo");
  $("rec-done").addEventListener("change", syncRecordFields);
  $("rec-failed").addEventListener("change", syncRecordFields);
}

defineForm("verify", "v", openVerify, submitVerify);
defineForm("reject", "r", openReject, submitReject);
defineForm("pickup", "pk", openPickup, submitPickup);
defineForm("cancel", "c", openCancel, submitCancel);
defineForm("record", "rec", openRecord, submitRecord);
defineForm("handover", "ho", openHandover, submitHandover);
defineForm("collection", "col", openCollection, submitCollection);
