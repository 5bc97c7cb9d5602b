/**
 * The case screens of the phone app: one resident's data and next steps, and the forms of
 * every SOP step after registration (verify, reject, pick up, cancel, recording, handover to
 * Disdukcapil, card collection, card delivery with signature, photo and GPS). app.js owns the
 * router and hands in what these screens need (setupCaseViews); this module is their entry:
 * the case screen is in case-screen.js, the step forms in case-step-forms.js and
 * case-delivery.js, what they share in case-form-kit.js. The rules live in the pure modules
 * (case-forms.js, pipeline.js, signature-codec.js, photo-sizing.js).
 */
import { actionsFor } from "./pipeline.js";
import { RECORD_FAILED_REASON_LABELS, REJECTION_REASON_LABELS } from "./labels.js";
import { FORMS, $, cancel, ctx, current, fillOptions, initCaseKit, photoField, photoFields, record } from "./case-form-kit.js";
import { showCase } from "./case-screen.js";
import {
  openCancel, openCollection, openHandover, openPickup, openRecord, openReject, openVerify, submitCancel, submitCollection,
  submitHandover, submitPickup, submitRecord, submitReject, submitVerify, syncRecordFields,
} from "./case-step-forms.js";
import { openDeliver, setupDelivery, submitDeliver } from "./case-delivery.js";

export { showCase };

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
  initCaseKit(context);
  fillOptions($("r-reason"), REJECTION_REASON_LABELS);
  fillOptions($("rec-reason"), RECORD_FAILED_REASON_LABELS);
  photoFields.v = photoField("v", "kk_photo");
  photoFields.d = photoField("d", "delivery_photo");
  setupDelivery();
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
