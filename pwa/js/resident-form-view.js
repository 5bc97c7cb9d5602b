/**
 * The registration and edit form of a resident, the form of the steps register_resident,
 * update_resident and, before verification, correct_identity (also used to fix a rejected one):
 * opening it prefilled, live NIK/KK checks, field errors, and saving the mutation.
 */
import * as db from "./db.js";
import { baseVersionOf } from "./outbox-rules.js";
import { FREE_FIELDS, buildCorrection, buildRegistration, buildUpdate, idNumber, serverFieldMessages } from "./resident-form.js";
import { identityEditable } from "./pipeline.js";
import { checkKk, checkNik, messageFor } from "./identity-checks.js";
import { showNikOnPhone } from "./case-screen.js";
import { FIELD_LABELS } from "./labels.js";
import { ageInYears, eligibilityNote, isoWithOffset } from "./format.js";
import { echo, parseDate, setDate } from "./date-input.js";
import {
  $, assignedDesa, desaName, dropDraft, el, go, kecamatanCode, loadData, mayLeave, newUuid, setNotice, showView,
  startDraft, state, sync,
} from "./app-shell.js";
import { draftKey } from "./drafts.js";
import { checkStorage } from "./app-status.js";

const FORM_FIELDS = Object.keys(FIELD_LABELS);

/** The control of a form field (id f-<field>). */
export function formControl(field) {
  return $(`f-${field}`);
}

function clearFormMessages() {
  for (const f of FORM_FIELDS) {
    $(`m-${f}`).textContent = "";
    formControl(f).removeAttribute("aria-invalid");
  }
  $("w-nik").replaceChildren();
  $("w-kk_number").replaceChildren();
  $("form-message").textContent = "";
  $("form-server-errors").hidden = true;
  $("form-server-errors").replaceChildren();
}

/** Open the form: new, edit, or fixing a rejected record (rid, serverError). */
export function openForm({ mode, values = {}, residentId = null, record = null, rid = null, serverError = null }) {
  const editing = mode === "edit";
  // Before verification "Ubah data" corrects the identity fields too (correct_identity).
  const identity = editing && identityEditable(record?.view?.stage);
  state.form = { mode, residentId, record, rid, identity };
  const form = $("resident-form");
  form.reset();
  clearFormMessages();
  const desa = formControl("desa_code");
  desa.replaceChildren(el("option", { value: "", text: "Pilih desa…" }), ...assignedDesa().map((d) => el("option", { value: d.code, text: d.name })));
  if (assignedDesa().length === 1 && mode === "new") desa.value = assignedDesa()[0].code;
  $("form-title").textContent = rid ? "Perbaiki data yang ditolak" : editing ? "Ubah data warga" : "Daftarkan warga baru";
  $("save-button").textContent = editing ? "Simpan perubahan" : "Simpan";
  $("form-identity-note").hidden = !editing || identity;
  for (const f of FORM_FIELDS) {
    const control = formControl(f);
    control.disabled = editing && !identity && !FREE_FIELDS.includes(f);
    const value = values[f];
    if (value != null) {
      if (f === "desa_code" && ![...desa.options].some((o) => o.value === value)) {
        desa.append(el("option", { value, text: desaName(value) }));
      }
      if (f === "birth_date") setDate(control, value);
      else control.value = value;
    }
  }
  echo(formControl("birth_date"));
  if (serverError) showServerError(serverError);
  runLiveChecks();
  showView("view-form");
  formControl(editing ? (identity ? "name" : "phone") : desa.value ? "name" : "desa_code").focus();
  startDraft(draftKey(editing ? "update" : "register", residentId), form);
}

function showServerError(rejected) {
  const box = $("form-server-errors");
  box.replaceChildren(el("p", { text: `Ditolak server: ${rejected.message}` }));
  for (const [field, msg] of Object.entries(serverFieldMessages(rejected.fields))) {
    if (FIELD_LABELS[field] && $(`m-${field}`)) {
      $(`m-${field}`).textContent = msg;
      formControl(field).setAttribute("aria-invalid", "true");
    } else {
      box.append(el("p", { text: msg }));
    }
  }
  box.hidden = false;
}

/**
 * The form as a step (case-views.js openStep): register_resident of a "Belum Ditemukan"
 * resident found in the field (prefilled, same id), update_resident (only the free fields are
 * enabled), or either one fixing `rejected`.
 */
export async function openResidentStep(name, residentId, rejected = null) {
  const rid = rejected?.rid ?? null;
  const registering = name === "register_resident";
  if (registering && rejected) return openForm({ mode: "new", values: rejected.args, residentId, rid, serverError: rejected });
  const record = await db.getResident(residentId);
  if (!record) return go("#/");
  if (registering) {
    const values = Object.fromEntries(Object.entries(record.view).filter(([k, v]) => FORM_FIELDS.includes(k) && v != null));
    return openForm({ mode: "new", values, residentId });
  }
  // Identity values of a refused correction only while they may still be corrected here.
  const fixed = Object.entries(rejected?.args.fields || {}).filter(([f]) => identityEditable(record.view.stage) || FREE_FIELDS.includes(f));
  openForm({ mode: "edit", values: { ...record.view, ...Object.fromEntries(fixed) }, residentId, record, rid, serverError: rejected });
}

function formValues() {
  const v = Object.fromEntries(FORM_FIELDS.map((f) => [f, formControl(f).value]));
  // typed as hh/bb/tttt; the rules and the wire use ISO (unreadable text stays, to be refused)
  return { ...v, birth_date: parseDate(v.birth_date).iso || v.birth_date };
}

/** NIK/KK checks and the age note while typing (not when editing free fields only). */
export function runLiveChecks() {
  if (state.form?.mode === "edit" && !state.form.identity) {
    $("age-note").textContent = "";
    return;
  }
  const v = formValues();
  const opts = { kecamatanCode: kecamatanCode() };
  const nik = checkNik(idNumber(v.nik), { sex: v.sex || null, birthDate: v.birth_date || null, ...opts });
  const kk = checkKk(idNumber(v.kk_number), opts);
  showChecks("nik", nik);
  showNikOnPhone(idNumber(v.nik), state.form?.residentId); // before saving, from the phone's data
  showChecks("kk_number", kk);
  $("age-note").textContent = eligibilityNote(ageInYears(v.birth_date), v.marital_status);
}

function showChecks(field, { errors, warnings }) {
  const msg = (c) => messageFor(c, { kecamatanCode: kecamatanCode() });
  $(`m-${field}`).textContent = errors.map(msg).join(" ");
  if (errors.length) formControl(field).setAttribute("aria-invalid", "true");
  else formControl(field).removeAttribute("aria-invalid");
  $(`w-${field}`).replaceChildren(...warnings.map((c) => el("li", { text: msg(c) })));
}

function showFieldErrors(errors) {
  for (const f of FORM_FIELDS) {
    $(`m-${f}`).textContent = errors[f] || "";
    if (errors[f]) formControl(f).setAttribute("aria-invalid", "true");
    else formControl(f).removeAttribute("aria-invalid");
  }
  const first = FORM_FIELDS.find((f) => errors[f]);
  if (first) {
    $("form-message").textContent = "Periksa isian yang ditandai merah.";
    formControl(first).focus();
  }
}

/** Submit: build the mutation, save it in one transaction, then "Tersimpan". */
export async function onSave(event) {
  event.preventDefault();
  const form = state.form;
  if (!form) return;
  const values = formValues();
  let name;
  let args;
  if (form.mode === "new") {
    const built = buildRegistration(values, {
      residentId: form.residentId || newUuid(),
      kecamatanCode: kecamatanCode(),
      desaCodes: form.rid ? [] : assignedDesa().map((d) => d.code),
    });
    showFieldErrors(built.errors);
    if (Object.keys(built.errors).length) return;
    form.residentId = built.args.resident_id; // a second tap re-uses the same id
    name = "register_resident";
    args = built.args;
  } else {
    const built = form.identity
      ? buildCorrection(values, form.record.view, { kecamatanCode: kecamatanCode(), desaCodes: assignedDesa().map((d) => d.code) })
      : { ...buildUpdate(values, form.record.view), name: "update_resident" };
    showFieldErrors(built.errors);
    if (Object.keys(built.errors).length) return;
    if (!Object.keys(built.fields).length) {
      $("form-message").textContent = "Tidak ada perubahan untuk disimpan.";
      return;
    }
    name = built.name;
    args = { resident_id: form.residentId, base_version: baseVersionOf(form.record), fields: built.fields };
  }
  const button = $("save-button");
  button.disabled = true;
  try {
    const at = isoWithOffset(new Date());
    if (form.rid) await db.resendRejected(form.rid, name, args, at);
    else await db.saveMutation(name, args, at);
  } catch (err) {
    $("form-message").textContent = `Gagal menyimpan di HP: ${err?.message || err}. Data belum tersimpan.`;
    return;
  } finally {
    button.disabled = false;
  }
  // Only now, after the transaction committed, does the officer read "Tersimpan".
  const who = name === "register_resident" ? args.name : args.fields.name ?? form.record.view.name;
  state.form = null;
  await dropDraft();
  await loadData();
  setNotice(`Tersimpan di HP: ${who}.`);
  go("#/");
  if (navigator.onLine) sync.flush("saved");
  checkStorage();
}

/** "Batal": back to where the form was opened from. */
export function onCancel() {
  if (!mayLeave()) return;
  state.form = null;
  go(window.location.hash.startsWith("#/perbaiki/") ? "#/perbaikan" : "#/");
}
