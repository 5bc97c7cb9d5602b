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

/** Plug in the router that go() runs (app.js does this before anything navigates). */
export function setRouter(route) {
  router = route;
}

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

/** Show one view (a <section> id) and hide every other. */
export function showView(id) {
  for (const v of document.querySelectorAll("main > section, #loading")) v.hidden = v.id !== id;
  window.scrollTo(0, 0);
}

/** True while a form the officer may have typed into is shown (the login form aside). */
export const formOpen = () => Boolean(document.querySelector("main > section:not([hidden]):not(#view-login) form"));

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
