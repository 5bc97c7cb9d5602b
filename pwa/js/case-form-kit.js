/**
 * What every form of a case step shares: the form table, the context app.js hands in, the open
 * form, error display, saving a step's mutation (with its photos) and the photo fields. The
 * forms themselves are in case-step-forms.js and case-delivery.js; case-views.js wires them.
 */
import { MUTATION_LABELS, stageLabel } from "./labels.js";
import { preparePhoto } from "./photo.js";
import { formatBytes } from "./photo-sizing.js";
import { serverFieldMessages } from "./resident-form.js";

/** Form kind → {view, form, prefix of control ids}. */
export const FORMS = {
  verify: { view: "view-verify", form: "verify-form", prefix: "v" },
  reject: { view: "view-reject", form: "reject-form", prefix: "r" },
  pickup: { view: "view-pickup", form: "pickup-form", prefix: "pk" },
  cancel: { view: "view-cancel", form: "cancel-form", prefix: "c" },
  record: { view: "view-record", form: "record-form", prefix: "rec" },
  handover: { view: "view-handover", form: "handover-form", prefix: "ho" },
  collection: { view: "view-collection", form: "collection-form", prefix: "col" },
  deliver: { view: "view-deliver", form: "deliver-form", prefix: "d" },
};

/** What app.js hands in (setupCaseViews): {state, db, sync, el, go, showView, setNotice, loadData, desaName, newUuid, isoWithOffset, sortRecords}. */
export let ctx = null;
/** The open form: {kind, residentId, rid, rejected, ids…} (only this module replaces it). */
export let current = null;
/** The photo field of each form that has one, by control prefix ("v", "d"). */
export const photoFields = {};
/** An element by id. */
export const $ = (id) => document.getElementById(id);

/** Keep the context app.js hands in. */
export function initCaseKit(context) {
  ctx = context;
}

/** The resident record of an id in the loaded state (or null). */
export const record = (id) => ctx.state.residents.find((r) => r.resident_id === id) || null;
/** The name of a resident ("Warga" when unknown). */
export const nameOf = (id) => record(id)?.view?.name || "Warga";

/** Append one option per entry of a label table. */
export function fillOptions(select, table) {
  select.append(...Object.entries(table).map(([code, label]) => ctx.el("option", { value: code, text: label })));
}

/** Clear the field, form and server messages of a form. */
export function clearErrors(kind) {
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
  box.replaceChildren(ctx.el("p", { text: `Ditolak server: ${rejected.message}` }));
  for (const [, msg] of Object.entries(serverFieldMessages(rejected.fields))) {
    if (msg !== rejected.message) box.append(ctx.el("p", { text: msg }));
  }
  box.hidden = false;
}

/** One line about the resident a form is for: name, desa, stage. */
export function whoLine(id) {
  const v = record(id)?.view;
  return v ? `${v.name} · Desa ${ctx.desaName(v.desa_code)} · ${stageLabel(v.stage)}` : "";
}

/** Open a form of kind with its state, after resetting it and showing any server error. */
export function openForm(kind, state) {
  current = { kind, ...state };
  $(FORMS[kind].form).reset();
  clearErrors(kind);
  showServerError(kind, state.rejected);
  ctx.showView(FORMS[kind].view);
}

/** Save one action (its mutation, plus photos) in one transaction, then back to the list. */
export async function save(kind, name, args, attachments, who) {
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

/** "Batal": back to the case, the fix list or home. */
export function cancel() {
  const back = current?.rid ? "#/perbaikan" : current?.residentId ? `#/warga/${current.residentId}` : "#/";
  current = null;
  ctx.go(back);
}

// ---------------------------------------------------------------- photo fields
/** A photo input (prefix-photo) with its status and preview; kind is the attachment kind. */
export function photoField(prefix, kind) {
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
