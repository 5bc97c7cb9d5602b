/**
 * What every form of a case step shares: the forms (declared by case-step-forms.js and
 * case-delivery.js), the open form, error display, saving a step's mutation (with its photos)
 * and the photo fields. Which step a form saves, its route and its label are in pipeline.js
 * (STEPS); a form here is only its DOM ids and its open/submit.
 */
import * as db from "./db.js";
import { STEPS } from "./pipeline.js";
import { stageLabel } from "./labels.js";
import { isoWithOffset } from "./format.js";
import { preparePhoto } from "./photo.js";
import { formatBytes } from "./photo-sizing.js";
import { serverFieldMessages } from "./resident-form.js";
import { draftKey } from "./drafts.js";
import {
  $, desaName, draftChanged, dropDraft, el, go, loadData, mayLeave, record, setNotice, showView, startDraft, sync,
} from "./app-shell.js";

/**
 * Form kind → {prefix, open(residentId, rejected), submit(event)}. The kind is the base of the
 * form's DOM ids (view-<kind>, <kind>-form, <kind>-message, <kind>-server-errors), the prefix
 * that of its controls and their messages (<prefix>-<field>, m-<prefix>-<field>).
 */
export const FORMS = {};
/** The open form: {kind, residentId, rid, rejected, ids…} (only this module replaces it). */
export let current = null;

const photos = {}; // control prefix → its photo field

/**
 * Declare a step form (once, when its module loads). Once opened and prefilled it keeps a draft
 * (app-shell.js startDraft) with its photo; hooks (marks, extra, restore) add other input.
 */
export function defineForm(kind, prefix, open, submit, hooks = {}) {
  const withDraft = async (residentId, rejected) => {
    await open(residentId, rejected);
    if ($(`view-${kind}`).hidden || current?.kind !== kind) return;
    const photo = photos[prefix];
    await startDraft(draftKey(kind, residentId), $(`${kind}-form`), {
      marks: () => ({ ...hooks.marks?.(), photo: photo?.current?.sha256 }),
      extra: () => ({ ...hooks.extra?.(), photo: photo?.current }),
      restore: (d) => {
        hooks.restore?.(d);
        if (d.photo) photo?.show(d.photo);
      },
    });
  };
  FORMS[kind] = { prefix, open: withDraft, submit };
}

/** The name of a resident ("Warga" when unknown). */
export const nameOf = (id) => record(id)?.view?.name || "Warga";

/** Clear the field, form and server messages of a form. */
export function clearErrors(kind) {
  const form = $(`${kind}-form`);
  for (const m of form.querySelectorAll(".msg-error")) m.textContent = "";
  for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  $(`${kind}-server-errors`).hidden = true;
  $(`${kind}-server-errors`).replaceChildren();
}

function messageId(kind, field) {
  const p = FORMS[kind].prefix;
  return field.startsWith("item-") ? `m-${p}-${field.slice(5)}` : `m-${p}-${field}`;
}

/** Show {field: message}; returns true when there was nothing to show. */
export function showErrors(kind, errors) {
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
  box.replaceChildren(el("p", { text: `Ditolak server: ${rejected.message}` }));
  for (const [, msg] of Object.entries(serverFieldMessages(rejected.fields))) {
    if (msg !== rejected.message) box.append(el("p", { text: msg }));
  }
  box.hidden = false;
}

/** One line about the resident a form is for: name, desa, stage. */
export function whoLine(id) {
  const v = record(id)?.view;
  return v ? `${v.name} · Desa ${desaName(v.desa_code)} · ${stageLabel(v.stage)}` : "";
}

/** Open a form of kind with its state, after resetting it and showing any server error. */
export function openForm(kind, state) {
  current = { kind, ...state };
  $(`${kind}-form`).reset();
  clearErrors(kind);
  showServerError(kind, state.rejected);
  showView(`view-${kind}`);
}

/** Save one step (its mutation `name`, plus photos) in one transaction, then back to the list. */
export async function save(kind, name, args, attachments, who) {
  const button = $(`${kind}-form`).querySelector('button[type="submit"]');
  const open = current;
  if (!open || button.disabled) return;
  button.disabled = true;
  const at = isoWithOffset(new Date());
  try {
    if (open.rid) await db.resendRejected(open.rid, name, args, at, attachments);
    else await db.saveMutation(name, args, at, attachments);
  } catch (err) {
    $(`${kind}-message`).textContent = `Gagal menyimpan di HP: ${err?.message || err}. Data belum tersimpan.`;
    return;
  } finally {
    button.disabled = false;
  }
  current = null;
  await dropDraft();
  // Only now, after the transaction committed, does the officer read "Tersimpan".
  await loadData();
  setNotice(`Tersimpan di HP: ${STEPS[name].label} ${who}.`);
  go("#/");
  if (navigator.onLine) sync.flush("saved");
}

/** "Batal": back to the case, the fix list or home. */
export function cancel() {
  if (!mayLeave()) return;
  const back = current?.rid ? "#/perbaikan" : current?.residentId ? `#/warga/${current.residentId}` : "#/";
  current = null;
  go(back);
}

// ---------------------------------------------------------------- photo fields
/** A photo input (prefix-photo) with its status and preview; kind is the attachment kind. */
export function photoField(prefix, kind) {
  const input = $(`${prefix}-photo`);
  const status = $(`${prefix}-photo-status`);
  const preview = $(`${prefix}-photo-preview`);
  const field = { current: null, existing: null, busy: null };
  photos[prefix] = field;
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
        field.show({ ...p, kind });
        draftChanged();
      })
      .catch((err) => {
        status.textContent = err.message;
        input.value = "";
      })
      .finally(() => { field.busy = null; });
  });
  /** Show a prepared photo (also one restored from a draft) as the chosen one. */
  field.show = (p) => {
    clearPreview();
    field.current = p;
    status.textContent = `Foto siap: ${p.width}×${p.height} piksel, ${formatBytes(p.size)} (asli ${formatBytes(p.originalSize)}).`;
    preview.src = URL.createObjectURL(p.blob);
    preview.hidden = false;
  };
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
