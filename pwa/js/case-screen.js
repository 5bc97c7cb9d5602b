/**
 * The case screen: one resident's data, the evidence of every pipeline step, and a button for
 * each next step the stage allows (pipeline.js: actionsFor and each step's button and route).
 */
import { STEPS, actionsFor, hashOf } from "./pipeline.js";
import {
  DISABILITY_LABELS, MARITAL_STATUS_LABELS, NOT_PRINTED_REASON_LABELS, RECIPIENT_LABELS, RECORD_FAILED_REASON_LABELS,
  REJECTION_REASON_LABELS, SEX_LABELS, VERIFICATION_CHECK_LABELS, VULNERABLE_CATEGORY_LABELS, labelOf, stageLabel,
} from "./labels.js";
import { ageInYears, formatDate, formatDateTimeWita } from "./format.js";
import { $, desaName, el, go, loadData, record, showView } from "./app-shell.js";

function detail(term, value) {
  if (value == null || value === "") return [];
  return [el("dt", { text: term }), el("dd", { text: String(value) })];
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
  const batch = v.batch_id ? `Berkas ${v.batch_number || v.batch_id.slice(0, 8)}${v.stage === "sent_to_registry" ? " · menunggu KTP dicetak" : ""}` : null;
  const issue = v.card_issue ? `KTP belum dicetak: ${labelOf(NOT_PRINTED_REASON_LABELS, v.card_issue.reason)}${v.card_issue.reason_text ? ` (${v.card_issue.reason_text})` : ""}` : null;
  const d = v.delivery;
  const delivery = d ? [
    formatDateTimeWita(d.delivered_at),
    d.recipient === "proxy" ? `diwakilkan ${d.proxy_name || ""} (${d.proxy_relation || ""})` : labelOf(RECIPIENT_LABELS, d.recipient),
    d.gps ? `GPS ${d.gps.lat}, ${d.gps.lon}` : "tanpa GPS",
  ].filter(Boolean).join(" · ") : null;
  $("case-details").replaceChildren(
    ...detail("Desa", desaName(v.desa_code)),
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
  // Steps that share a form (record_done, record_failed) share its button.
  const hashes = [...new Map(actionsFor(v).map((name) => [hashOf(name, residentId), STEPS[name].action]))];
  $("case-actions").replaceChildren(...hashes.map(([hash, text], i) => el("button", {
    type: "button", class: i === 0 && hash !== hashOf("update_resident", residentId) ? "primary" : "", text, onclick: () => go(hash),
  })));
  showView("view-case");
}
