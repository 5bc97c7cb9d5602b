/**
 * The case screen: one resident's data, the evidence of every pipeline step, and a button for
 * each next step the stage allows (pipeline.js: actionsFor and each step's button and route).
 */
import { STEPS, actionsFor, hashOf } from "./pipeline.js";
import {
  DISABILITY_LABELS, MARITAL_STATUS_LABELS, RECIPIENT_LABELS, RECORD_FAILED_REASON_LABELS,
  REJECTION_REASON_LABELS, SEX_LABELS, VERIFICATION_CHECK_LABELS, VULNERABLE_CATEGORY_LABELS, labelOf, stageLabel,
} from "./labels.js";
import { ageInYears, formatDate, formatDateTimeWita } from "./format.js";
import { messageFor } from "./identity-checks.js";
import { defaultDay, waLink, waMessage } from "./wa-link.js";
import { casesWithNik } from "./notices.js";
import { cardIssueText, readyText } from "./work-lists.js";
import * as db from "./db.js";
import { $, desaName, el, go, kecamatanCode, loadData, record, refresh, showView, state } from "./app-shell.js";

// `num`: a number read as one (NIK, KK, phone) that must never break across lines.
function detail(term, value, num = false) {
  if (value == null || value === "") return [];
  return [el("dt", { text: term }), el("dd", { text: String(value), ...(num ? { class: "num" } : {}) })];
}

/** A batch ({batch_id, batch_number}) by its berita acara number: the case's own, or another
 * case's of the same batch; never by its uuid. */
export function batchName(v) {
  const number = v.batch_number || state.residents.find((r) => r.view.batch_id === v.batch_id && r.view.batch_number)?.view.batch_number;
  return number ? `Berita acara ${number}` : "Berkas belum bernomor di HP ini (sinkronkan)";
}

/** The conflict notices (of one resident, or all) into `list`, each with "Tutup". */
export function renderNotices(list, residentId = null) {
  const notices = (state.session?.notices || []).filter((n) => !residentId || n.resident_id === residentId);
  list.hidden = notices.length === 0;
  list.replaceChildren(...notices.map((n) => {
    const who = !residentId && record(n.resident_id)?.view.name;
    return el("li", {},
      el("p", { text: who ? `${who}: ${n.message}` : n.message }),
      who ? el("button", { type: "button", text: "Buka", "aria-label": `Buka ${who}`, onclick: () => go(`#/warga/${n.resident_id}`) }) : null,
      el("button", { type: "button", text: "Tutup pemberitahuan", onclick: async () => {
        await db.dismissNotice(n.id);
        await refresh();
        renderNotices(list, residentId);
      } }));
  }));
}

/** Warn under the NIK field when `nik` is already on the phone, with a link to that case.
 * Redrawn only when the cases change: a blur redraw would swallow the tap on the link. */
export function showNikOnPhone(nik, exceptId) {
  const same = casesWithNik(state.residents, nik, exceptId);
  const box = $("nik-on-phone");
  const key = same.map((r) => r.resident_id).join();
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.hidden = !key;
  box.replaceChildren(...same.flatMap((r) => [`NIK ini sudah ada di HP: ${r.view.name}, Desa ${desaName(r.desa_code)}. `,
    el("a", { href: `#/warga/${r.resident_id}`, text: "Buka data warga itu" }), " "]));
}

/** "Kabari warga": date, time and place (prefilled) and the WhatsApp link they make. */
function renderWa(v) {
  const box = $("case-wa");
  box.hidden = v.stage !== "card_collected";
  if (box.hidden) return box.replaceChildren();
  const field = (id, label, value) => [el("label", { for: id, text: label }), el("input", { id, value, autocomplete: "off" })];
  const link = el("a", { id: "wa-link", class: "button primary", target: "_blank", rel: "noopener", text: "Kabari warga lewat WhatsApp" });
  const note = el("p", { class: "hint" });
  box.replaceChildren(el("h2", { text: "Kabari warga" }),
    ...field("wa-date", "Tanggal penyerahan (hh/bb/tttt)", defaultDay()),
    ...field("wa-time", "Jam penyerahan (WITA)", "09:00"),
    ...field("wa-place", "Tempat penyerahan", `Kantor Desa ${desaName(v.desa_code)}`), link, note);
  const update = () => {
    const s = state.session;
    const m = waMessage({ name: v.name, date: $("wa-date").value, time: $("wa-time").value, place: $("wa-place").value, officer: s?.user?.full_name, kecamatan: s?.kecamatan?.name });
    const href = m.text && waLink(v.phone, m.text);
    link.hidden = !href;
    if (href) link.href = href;
    note.textContent = m.error || (href ? "" : "Nomor HP warga belum ada atau bukan nomor HP: kabari lewat keluarga atau ketua RT.");
  };
  box.oninput = update;
  update();
}

function checksText(verification) {
  const checks = verification?.checks || {};
  const done = Object.entries(VERIFICATION_CHECK_LABELS).filter(([k]) => checks[k]).map(([, label]) => label);
  return done.length ? done.join("; ") : "—";
}

/** The case screen of one resident: data, pipeline evidence and the next steps. */
export async function showCase(residentId) {
  await loadData();
  const rec = record(residentId);
  if (!rec) return go("#/");
  const v = rec.view;
  $("case-title").textContent = v.name;
  $("case-stage").replaceChildren(
    el("span", { class: `stage s-${v.stage}`, text: stageLabel(v.stage) }),
    rec.pending ? el("span", { class: "badge", text: "Belum terkirim" }) : "",
  );
  const age = ageInYears(v.birth_date);
  const rt = [v.rt && `RT ${v.rt}`, v.rw && `RW ${v.rw}`].filter(Boolean).join(" / ");
  const pickup = v.pickup ? [formatDateTimeWita(v.pickup.at), v.pickup.point, v.pickup.vehicle].filter(Boolean).join(" · ") : null;
  const recording = v.recording?.failed
    ? `Gagal: ${labelOf(RECORD_FAILED_REASON_LABELS, v.recording.failed)}${v.recording.reason_text ? ` (${v.recording.reason_text})` : ""}`
    : v.recording?.at ? `Sudah rekam ${formatDateTimeWita(v.recording.at)}` : null;
  const ready = readyText(v);
  const batch = v.batch_id ? `${batchName(v)}${v.stage === "sent_to_registry" && !ready ? " · menunggu KTP dicetak" : ""}` : null;
  const d = v.delivery;
  const delivery = d ? [
    formatDateTimeWita(d.delivered_at),
    d.recipient === "proxy" ? `diwakilkan ${d.proxy_name || ""} (${d.proxy_relation || ""})` : labelOf(RECIPIENT_LABELS, d.recipient),
    d.gps ? `GPS ${d.gps.lat}, ${d.gps.lon}` : "tanpa GPS",
  ].filter(Boolean).join(" · ") : null;
  $("case-details").replaceChildren(
    ...detail("Desa", desaName(v.desa_code)),
    ...detail("NIK", v.nik || "Belum punya NIK", Boolean(v.nik)),
    ...detail("Nomor KK", v.kk_number, true),
    ...detail("Jenis kelamin", labelOf(SEX_LABELS, v.sex)),
    ...detail("Tempat, tanggal lahir", [v.birth_place, formatDate(v.birth_date)].filter(Boolean).join(", ") + (age != null ? ` (umur ${age} tahun)` : "")),
    ...detail("Status perkawinan", labelOf(MARITAL_STATUS_LABELS, v.marital_status)),
    ...detail("Alamat", [v.address, rt].filter(Boolean).join(", ")),
    ...detail("Nomor HP", v.phone, true),
    ...detail("Kategori rentan", labelOf(VULNERABLE_CATEGORY_LABELS, v.vulnerable_category)),
    ...detail("Disabilitas", labelOf(DISABILITY_LABELS, v.disability)),
    ...detail("Pemeriksaan verifikasi", v.verification ? checksText(v.verification) : null),
    ...detail("Alasan ditolak", v.rejection ? `${labelOf(REJECTION_REASON_LABELS, v.rejection.reason)}${v.rejection.reason_text ? ` (${v.rejection.reason_text})` : ""}` : null),
    ...detail("Penjemputan", pickup),
    ...detail("Perekaman", recording),
    ...detail("Disdukcapil", batch),
    ...detail("KTP", ready),
    ...detail("Masalah KTP", cardIssueText(v.card_issue)),
    ...detail("Penyerahan KTP", delivery),
    ...detail("Catatan", v.notes),
  );
  // "Perlu dicek" says why: the warnings the NIK/KK checks left on the case.
  $("case-warnings").hidden = !v.warnings?.length;
  $("case-warnings").replaceChildren(el("h2", { text: "Perlu dicek" }), el("ul", {},
    ...(v.warnings || []).map((c) => el("li", { text: messageFor(c, { kecamatanCode: kecamatanCode() }) }))));
  renderNotices($("case-notices"), residentId);
  renderWa(v);
  // Steps that share a form (record_done, record_failed) share its button.
  const hashes = [...new Map(actionsFor(v).map((name) => [hashOf(name, residentId), STEPS[name].action]))];
  $("case-actions").replaceChildren(...hashes.map(([hash, text], i) => el("button", {
    type: "button", class: i === 0 && hash !== hashOf("update_resident", residentId) ? "primary" : "", text, onclick: () => go(hash),
  })));
  showView("view-case");
}
