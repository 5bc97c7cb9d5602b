/**
 * The entry of the case UI: opening any step by its mutation name (pipeline.js STEPS says
 * which form and at which stages a case offers it), fixing a rejected step in its form, and
 * wiring the step forms once. The case screen is in case-screen.js, the step forms in
 * case-step-forms.js and case-delivery.js, what they share in case-form-kit.js; the resident
 * form (register_resident, update_resident) in resident-form-view.js.
 */
import * as db from "./db.js";
import { STEPS, actionsFor } from "./pipeline.js";
import { FORMS, cancel } from "./case-form-kit.js";
import { showCase } from "./case-screen.js";
import { setupStepForms } from "./case-step-forms.js";
import { setupDelivery } from "./case-delivery.js";
import { openResidentStep } from "./resident-form-view.js";
import { $, go, loadData, record } from "./app-shell.js";

/** Open the form of step `name` for a resident (null: a group form opened from home), or to fix `rejected`. */
export function openStep(name, residentId, rejected = null) {
  const step = STEPS[name];
  if (!step.form) return openResidentStep(name, residentId, rejected);
  // A one-resident form opened by URL at the wrong stage shows the case (and what it allows).
  if (!step.group && !rejected && !actionsFor(record(residentId)?.view).includes(name)) {
    return record(residentId) ? showCase(residentId) : go("#/");
  }
  return FORMS[step.form].open(residentId, rejected);
}

/** Fix "perlu perbaikan" record rid in the form of its step (saved as a new mutation). */
export async function openFix(rid) {
  const rejected = await db.getRejected(rid);
  if (!rejected) return go("#/perbaikan");
  await loadData();
  // A step this version no longer knows can only be looked at as the resident's data.
  const name = STEPS[rejected.name] ? rejected.name : "update_resident";
  const residentId = rejected.args?.resident_id || rejected.resident_id;
  if (name !== "register_resident" && !STEPS[name].group && !record(residentId)) {
    window.alert("Data warga ini tidak ada lagi di HP (mungkin bukan wilayah tugas Anda lagi). Pilih Abaikan.");
    return go("#/perbaikan");
  }
  return openStep(name, residentId, rejected);
}

/** Wire the case screen and the step forms once. */
export function setupCaseViews() {
  setupStepForms();
  setupDelivery();
  $("case-back-button").addEventListener("click", () => go("#/"));
  for (const [kind, { submit }] of Object.entries(FORMS)) {
    $(`${kind}-form`).addEventListener("submit", submit);
    $(`${kind}-form`).querySelector("button.cancel").addEventListener("click", cancel);
  }
}
