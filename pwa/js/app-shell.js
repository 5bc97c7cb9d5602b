/**
 * What every screen of the phone app shares: the page state, the one sync client, the DOM
 * helpers, the view switch, navigation, the data load and the change notice. Screens import
 * what they need from here and never call each other: app.js owns the router and plugs it in
 * (setRouter), and a screen that shows the data redraws on onChanged.
 */
import * as db from "./db.js";
import { SyncClient } from "./sync-client.js";
import { summarize } from "./outbox-rules.js";
import { AttachmentUploader } from "./attachment-upload.js";
import { hasInput, lockedChanges, lockedNote, mayOffer, readControls, writeControls } from "./drafts.js";

/** The app version; the shell version is appended to it at start. */
export const APP_VERSION = "1.0.0";

/** An element by id. */
export const $ = (id) => document.getElementById(id);
/** The page state every screen reads and writes. */
export const state = {
  session: null,
  residents: [],
  rejected: [],
  attachments: [],
  counts: { outbox: 0, rejected: 0, attachments: 0 },
  list: "all", // the work list shown on the home screen (work-lists.js)
  desa: "", // "" = every desa
  summary: null,
  form: null, // {mode: "new" | "edit", residentId, record, rid}
  lastResult: null,
  storage: { persisted: null, lowSpace: false, free: null },
  offlineReady: false,
  version: "",
  updater: null,
  waitingWorker: null,
};

/** The single sync flusher of the page (it also uploads the photos). */
export const sync = new SyncClient({ store: db, appVersion: APP_VERSION, uploader: new AttachmentUploader({ store: db }) });
let router = null;

/** Plug in the router that go() runs (app.js does this before anything navigates). Leaving a
 * form with unsaved input (Back, a link, a hash change) asks first; "no" puts its hash back. */
export function setRouter(route) {
  router = () => {
    if (draft && window.location.hash !== draft.hash && !mayLeave()) return history.pushState(null, "", draft.hash);
    return route();
  };
}

/** Run the router for the current hash (the hashchange listener). */
export const navigate = () => router();

/** A new element: props "class", "text", "on<event>" or attributes, then children. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

/** Append one option per entry of a label table. */
export function fillOptions(select, table) {
  select.append(...Object.entries(table).map(([code, label]) => el("option", { value: code, text: label })));
}

let homeY = 0; // where the home list was scrolled to when another view replaced it

/** Show one view (a <section> id) and hide every other; home comes back where it was left. */
export function showView(id) {
  if (draft && draft.view !== id) endDraft();
  if (!$("view-home").hidden && id !== "view-home") homeY = window.scrollY;
  for (const v of document.querySelectorAll("main > section, #loading")) v.hidden = v.id !== id;
  window.scrollTo(0, id === "view-home" ? homeY : 0);
}

/** A random UUID (version 4). */
export function newUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Older WebViews: RFC 4122 version 4 from getRandomValues.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The code of the officer's kecamatan ("" before login). */
export const kecamatanCode = () => state.session?.kecamatan?.code || "";
/** The name of a desa code (the code itself when unknown). */
export const desaName = (code) => state.session?.desa?.find((d) => d.code === code)?.name || code || "";
/** The resident record of an id in the loaded state (or null). */
export const record = (id) => state.residents.find((r) => r.resident_id === id) || null;
/** The desa the officer is assigned to, as {code, name}. */
export const assignedDesa = () => {
  const codes = new Set(state.session?.assigned_codes || []);
  return (state.session?.desa || []).filter((d) => codes.has(d.code));
};

// ---------------------------------------------------------------- data refresh
/** Read session, residents, rejected, outbox and photos from IndexedDB into state. */
export async function loadData() {
  const [session, residents, rejected, outbox, attachments] = await Promise.all([
    db.getSession(), db.listResidents(), db.listRejected(), db.getOutbox(), db.listAttachments(),
  ]);
  state.session = session;
  state.residents = residents;
  state.rejected = rejected;
  state.attachments = attachments;
  state.summary = summarize(outbox);
  state.counts = { outbox: outbox.length, rejected: rejected.length, attachments: attachments.length };
}

const changes = new EventTarget();
/** Call fn after every change notice (a screen redraws what it shows of the data). */
export const onChanged = (fn) => changes.addEventListener("changed", () => fn());

/** Reload the data, then tell every screen (the change notice). */
export async function refresh() {
  await loadData();
  changes.dispatchEvent(new Event("changed"));
}

/** Navigate to a hash route (runs the router again when the hash is already there). */
export function go(hash) {
  if (window.location.hash === hash) router();
  else window.location.hash = hash;
}

/** The notice line of the home screen (e.g. "Tersimpan di HP: …"). */
export function setNotice(text) {
  $("notice").textContent = text;
}

// ---------------------------------------------------------------- drafts (rules: drafts.js)
/** The open form's draft: {key, form, view, hash, hooks, base, offer, note, locked, timer} or null. */
let draft = null;
const valuesOf = (d) => ({ ...readControls(d.form.elements), ...d.hooks.marks?.() });
const unsaved = () => Boolean(draft && !draft.offer && hasInput(valuesOf(draft), draft.base));

/** Keep a draft of a form just opened and prefilled; offer a stored one first. hooks: marks()
 * (input beside the controls, comparable), extra() (stored beside the values), restore(draft). */
export async function startDraft(key, form, hooks = {}) {
  if (draft) detach(draft);
  const d = { key, form, hooks, view: form.closest("section").id, hash: window.location.hash, timer: 0 };
  d.base = valuesOf(d);
  d.note = el("p", { class: "hint draft-note", "aria-live": "polite" });
  form.append(d.note);
  draft = d;
  const stored = await db.getDraft(key).catch(() => null);
  if (draft !== d || !mayOffer(stored, state.session?.user?.username)) return;
  const answer = (keep) => {
    d.offer.remove();
    d.offer = null;
    form.inert = false;
    if (!keep) return db.deleteDraft(key);
    const locked = lockedChanges(form.elements, stored.values);
    if (locked.length) form.before(d.locked = el("p", { class: "card warn", role: "alert", text: lockedNote(locked) }));
    // Dependent parts (proxy fields, NIK checks, date echoes) follow the restored values.
    for (const c of writeControls(form.elements, stored.values)) {
      for (const type of ["input", "change"]) c.dispatchEvent(new Event(type, { bubbles: true }));
    }
    hooks.restore?.(stored);
    draftChanged();
  };
  d.offer = el("div", { class: "card warn draft-offer", role: "alert" },
    el("p", { text: "Lanjutkan isian yang belum disimpan?" }),
    el("button", { type: "button", class: "primary", text: "Lanjutkan", onclick: () => answer(true) }),
    el("button", { type: "button", text: "Buang", onclick: () => answer(false) }));
  form.inert = true;
  form.before(d.offer);
}

/** The open form changed (input, signature, photo): save its draft shortly. */
export function draftChanged() {
  if (!draft || draft.offer) return;
  clearTimeout(draft.timer);
  draft.note.style.visibility = "hidden"; // not emptied: a tap must not see the form move
  draft.timer = setTimeout(saveDraft, 300, draft);
}

function saveDraft(d, extra = {}) {
  if (!d || d.offer) return Promise.resolve();
  clearTimeout(d.timer);
  const values = valuesOf(d);
  if (!hasInput(values, d.base)) return db.deleteDraft(d.key).catch(() => {});
  const record = { key: d.key, user: state.session?.user?.username, hash: d.hash, at: new Date().toISOString(), values };
  const said = (text) => Object.assign(d.note, { textContent: text }).style.visibility = "";
  return db.putDraft({ ...record, ...d.hooks.extra?.(), ...extra }).then(
    () => said("Isian disimpan sementara sebagai draf di HP (belum dikirim)."),
    (err) => said(`Draf tidak tersimpan: ${err?.message || err}`));
}

function detach(d) {
  clearTimeout(d.timer);
  d.offer?.remove();
  d.locked?.remove();
  d.note.remove();
  d.form.inert = false;
  if (draft === d) draft = null;
}

/** Stop keeping the open form's draft; unsaved input stays stored (extra: added to it). */
export function endDraft(extra) {
  const d = draft;
  if (!d) return Promise.resolve();
  detach(d);
  return saveDraft(d, extra);
}

/** The form was saved: its draft goes. */
export function dropDraft() {
  const d = draft;
  if (!d) return Promise.resolve();
  detach(d);
  return db.deleteDraft(d.key).catch(() => {});
}

/** May the officer leave the open form? Unsaved input asks first and stays as a draft. */
export function mayLeave() {
  if (unsaved() && !window.confirm("Isian belum disimpan. Tinggalkan formulir ini? " +
    "Isian tetap disimpan sebagai draf di HP dan ditawarkan lagi saat formulir ini dibuka.")) return false;
  endDraft();
  return true;
}

/** Signed out by the server: keep the input for the same officer's next login (true if any). */
export async function suspendDraft() {
  const kept = unsaved();
  await endDraft(kept ? { resume: true } : undefined);
  return kept;
}

for (const type of ["input", "change"]) {
  document.addEventListener(type, (event) => { if (draft?.form.contains(event.target)) draftChanged(); });
}
window.addEventListener("beforeunload", (event) => {
  if (!unsaved()) return;
  saveDraft(draft);
  event.preventDefault();
  event.returnValue = "";
});
// A phone may kill a hidden tab (the camera opened for a photo): save before that.
document.addEventListener("visibilitychange", () => {
  if (document.hidden && draft) saveDraft(draft);
});
