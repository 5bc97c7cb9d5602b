/**
 * The one module that owns IndexedDB. Every write that the officer relies on is a single
 * readwrite transaction with durability "strict" and resolves only on `complete`. Nothing in
 * here awaits the network: callers fetch first, then hand the parsed answer in.
 */
import { makeEntry, recoverFromGap, sortById } from "./outbox-rules.js";
import { groupByResident, planLogin, planSyncApply, residentRecord } from "./sync-merge.js";
import { dismissedKey, withoutNotice } from "./notices.js";
import { orphanAttachmentIds, readyAttachmentIds, residentIdsOf, touchedIds, uploadQueue } from "./pipeline.js";
import { healTrigger, planLoginHeal } from "./heal-rules.js";
import { carryOutHeal, healIfNeeded, keepLog, keepPhoto } from "./db-kept.js";
import { staleDrafts, storageError } from "./drafts.js";

export const DB_NAME = "cah";
export const DB_VERSION = 4;
const SESSION_KEY = "current";
// acked: what the server acknowledged, kept to heal a restored server; kept_photos: uploaded
// photos kept for the same reason (heal-rules.js says how long); drafts: forms not yet saved.
const STORES = ["session", "residents", "outbox", "rejected", "attachments", "acked", "kept_photos", "drafts"];

let dbPromise = null;

// Versioned upgrades: each step runs once, in order, so an old phone catches up in one open.
const UPGRADES = [
  (db) => {
    db.createObjectStore("session", { keyPath: "key" });
    db.createObjectStore("residents", { keyPath: "resident_id" }).createIndex("by_desa", "desa_code");
    db.createObjectStore("outbox", { keyPath: "id" }).createIndex("by_resident", "resident_id");
    db.createObjectStore("rejected", { keyPath: "rid", autoIncrement: true }).createIndex("by_resident", "resident_id");
  },
  // v2 (pipeline): photos waiting for upload; an outbox entry may touch several residents.
  (db, tx) => {
    db.createObjectStore("attachments", { keyPath: "sha256" });
    const outbox = tx.objectStore("outbox");
    outbox.createIndex("by_residents", "resident_ids", { multiEntry: true });
    outbox.openCursor().onsuccess = (event) => {
      const cursor = event.target.result;
      if (!cursor) return;
      const e = cursor.value;
      if (!Array.isArray(e.resident_ids)) {
        const ids = residentIdsOf(e.name, e.args);
        cursor.update({ ...e, resident_ids: ids.length ? ids : [e.resident_id] });
      }
      cursor.continue();
    };
  },
  // v3 (issue #9): the acknowledged log, in order of acknowledgement, and uploaded photos.
  (db) => {
    db.createObjectStore("acked", { keyPath: "seq", autoIncrement: true });
    db.createObjectStore("kept_photos", { keyPath: "sha256" });
  },
  // v4 (issue #11): what the officer typed into a form and has not saved yet (never sent).
  (db) => db.createObjectStore("drafts", { keyPath: "key" }),
];

/** The single database connection (opened once, upgraded in place). */
export function openDb() {
  if (dbPromise) return dbPromise;
  dbPromise = new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      for (let v = event.oldVersion; v < DB_VERSION; v += 1) UPGRADES[v](db, request.transaction);
    };
    request.onsuccess = () => {
      const db = request.result;
      // Queued before anything reads a draft, so an expired one is never offered.
      try { dropStaleDrafts(db.transaction(["drafts"], "readwrite").objectStore("drafts")); } catch { /* next start */ }
      // A newer app version in another tab wants to upgrade: step aside instead of blocking it.
      db.onversionchange = () => {
        db.close();
        dbPromise = null;
      };
      resolve(db);
    };
    request.onerror = () => {
      dbPromise = null;
      reject(request.error);
    };
    request.onblocked = () => console.warn("IndexedDB upgrade waits for another tab to close");
  });
  return dbPromise;
}

// Drafts older than DRAFT_DAYS or of residents that left the phone (drafts.js staleDrafts).
function dropStaleDrafts(store, goneIds) {
  store.getAll().onsuccess = (e) => {
    for (const key of staleDrafts(e.target.result, Date.now(), goneIds)) store.delete(key);
  };
}

const req = (request) =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

/**
 * Run `work(stores)` in one transaction; resolve with its result only after `complete`.
 * `work` may await IndexedDB requests (the transaction stays alive) but nothing else.
 */
async function run(names, mode, work) {
  const db = await openDb();
  const tx = mode === "readwrite" ? db.transaction(names, mode, { durability: "strict" }) : db.transaction(names, mode);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new DOMException("Transaksi dibatalkan", "AbortError"));
  });
  const stores = Object.fromEntries(names.map((n) => [n, tx.objectStore(n)]));
  let result;
  try {
    result = await work(stores, tx);
  } catch (err) {
    try { tx.abort(); } catch { /* already finished */ }
    await done.catch(() => {});
    throw storageError(err);
  }
  await done.catch((err) => { throw storageError(err); });
  return result;
}

/** The session record (token, client_id, user, desa, cursor, next_mutation_id …) or null. */
export function getSession() {
  return run(["session"], "readonly", async (s) => (await req(s.session.get(SESSION_KEY))) ?? null);
}

/** All outbox entries, lowest mutation id first. */
export function getOutbox() {
  return run(["outbox"], "readonly", async (s) => sortById(await req(s.outbox.getAll())));
}

/** Number of outbox entries, of records in "perlu perbaikan" and of photos not yet uploaded. */
export function getCounts() {
  return run(["outbox", "rejected", "attachments"], "readonly", async (s) => ({
    outbox: await req(s.outbox.count()),
    rejected: await req(s.rejected.count()),
    attachments: await req(s.attachments.count()),
  }));
}

/** Every photo still on the phone (waiting for its sync, queued, or failed for good). */
export function listAttachments() {
  return run(["attachments"], "readonly", (s) => req(s.attachments.getAll()));
}

/** One stored photo or null. */
export function getAttachment(sha256) {
  return run(["attachments"], "readonly", async (s) => (await req(s.attachments.get(sha256))) ?? null);
}

/** Photos to upload now (their mutation was accepted), oldest first. */
export function getUploadQueue() {
  return run(["attachments"], "readonly", async (s) => uploadQueue(await req(s.attachments.getAll())));
}

/** Remember how far an upload got (the server's offset), to show progress and resume. */
export function noteUploadOffset(sha256, offset) {
  return run(["attachments"], "readwrite", async (s) => {
    const a = await req(s.attachments.get(sha256));
    if (a) s.attachments.put({ ...a, offset });
  });
}

/** The server said the upload is complete: the photo moves to the kept photos (a restored
 * server may need it again) and leaves the upload queue. */
export function finishAttachment(sha256) {
  return run(["attachments", "kept_photos"], "readwrite", (s) => keepPhoto(s, sha256, new Date().toISOString()));
}

/** The server can never accept this file (413/415/422): keep it, stop retrying, show why. */
export function failAttachment(sha256, error) {
  return run(["attachments"], "readwrite", async (s) => {
    const a = await req(s.attachments.get(sha256));
    if (a) s.attachments.put({ ...a, failed: error });
  });
}

// Photos referenced by no queued mutation and no "perlu perbaikan" record, and never released.
async function dropOrphans(s) {
  const [attachments, outbox, rejected] = await Promise.all([
    req(s.attachments.getAll()), req(s.outbox.getAll()), req(s.rejected.getAll()),
  ]);
  for (const sha of orphanAttachmentIds(attachments, outbox, rejected)) s.attachments.delete(sha);
}

async function releaseAttachments(s, shas) {
  for (const sha of shas) {
    const a = await req(s.attachments.get(sha));
    if (a && !a.ready) s.attachments.put({ ...a, ready: true });
  }
}

/** Every resident record ({resident_id, desa_code, server, view, pending, changed_at}). */
export function listResidents() {
  return run(["residents"], "readonly", (s) => req(s.residents.getAll()));
}

/** One resident record or null. */
export function getResident(residentId) {
  return run(["residents"], "readonly", async (s) => (await req(s.residents.get(residentId))) ?? null);
}

/** The "perlu perbaikan" records, oldest first. */
export function listRejected() {
  return run(["rejected"], "readonly", (s) => req(s.rejected.getAll()));
}

/** One "perlu perbaikan" record or null. */
export function getRejected(rid) {
  return run(["rejected"], "readonly", async (s) => (await req(s.rejected.get(rid))) ?? null);
}

/**
 * Number a mutation, queue it, store its photos and update the view of every resident it
 * touches: all inside the caller's transaction. `attachments` are {sha256, blob, mime, size,
 * kind}; they wait (ready: false) until a sync answer accepts the mutation.
 */
async function queueMutation(s, name, args, at, attachments = []) {
  const session = await req(s.session.get(SESSION_KEY));
  if (!session?.client_id) throw new Error("Belum masuk: tidak ada sesi di HP ini.");
  const id = session.next_mutation_id ?? 1;
  const entry = makeEntry(id, name, args, at);
  const records = [];
  s.outbox.add(entry); // add, not put: an unsent mutation is never overwritten
  for (const residentId of touchedIds(entry)) {
    const pending = await req(s.outbox.index("by_residents").getAll(residentId));
    if (!pending.some((e) => e.id === id)) pending.push(entry);
    const old = await req(s.residents.get(residentId));
    const record = residentRecord(residentId, old?.server ?? null, pending);
    if (record) {
      s.residents.put(record);
      records.push(record);
    }
  }
  for (const a of attachments) {
    const old = await req(s.attachments.get(a.sha256));
    if (!old) {
      s.attachments.put({
        sha256: a.sha256, blob: a.blob, mime: a.mime, size: a.size, kind: a.kind,
        resident_id: entry.resident_id, created_at: at, ready: false, offset: 0, failed: null,
      });
    }
  }
  s.session.put({ ...session, next_mutation_id: id + 1 });
  return { entry, record: records[0] ?? null, records };
}

const SAVE_STORES = ["session", "outbox", "residents", "attachments"];

/**
 * Save a case action, its outbox entry and its photos in ONE strict transaction; resolves
 * after commit (only then may the app say "Tersimpan").
 */
export function saveMutation(name, args, at, attachments = []) {
  return run(SAVE_STORES, "readwrite", (s) => queueMutation(s, name, args, at, attachments));
}

/** Send a corrected rejected mutation as a new one and drop the rejected record, atomically. */
export function resendRejected(rid, name, args, at, attachments = []) {
  return run([...SAVE_STORES, "rejected"], "readwrite", async (s) => {
    const result = await queueMutation(s, name, args, at, attachments);
    s.rejected.delete(rid);
    await dropOrphans(s); // e.g. a photo replaced while fixing
    return result;
  });
}

/** Forget a rejected mutation for good (the officer chose "Abaikan"), and photos only it used. */
export function dismissRejected(rid) {
  return run(["outbox", "rejected", "attachments"], "readwrite", async (s) => {
    s.rejected.delete(rid);
    await dropOrphans(s);
  });
}

/** Apply a 200 sync answer (acknowledge, route rejections, store changes) in ONE transaction;
 * a server that lost acknowledged work is healed in the same transaction. */
export function applySyncResponse(response, nowIso) {
  return run(STORES, "readwrite", async (s) => {
    const session = await req(s.session.get(SESSION_KEY));
    if (!session) throw new Error("Sesi hilang saat sinkronisasi.");
    const outbox = await req(s.outbox.getAll());
    const residents = await req(s.residents.getAll());
    const plan = planSyncApply({ session, outbox, residents }, response, nowIso);
    for (const id of plan.deleteOutbox) s.outbox.delete(id);
    for (const r of plan.rejected) s.rejected.add(r);
    for (const id of plan.deleteResidents) s.residents.delete(id);
    for (const r of plan.putResidents) s.residents.put(r);
    dropStaleDrafts(s.drafts, plan.deleteResidents);
    await releaseAttachments(s, plan.readyAttachments);
    await keepLog(s, plan.logged, session.client_id, nowIso);
    const last = Number(response.last_mutation_id ?? 0);
    const next = await healIfNeeded(s, session, plan.session, last, response.database_id ?? null);
    s.session.put(next);
    return { ...plan, healed: next !== plan.session };
  });
}

/** Handle 409 mutation_gap: drop what the server covers, renumber the rest from last + 1;
 * a last_mutation_id below what was acknowledged (or a new database_id) heals the server. */
export function applyGap(lastMutationId, databaseId = null) {
  return run(STORES, "readwrite", async (s) => {
    const session = await req(s.session.get(SESSION_KEY));
    const outbox = await req(s.outbox.getAll());
    const plan = recoverFromGap(outbox, lastMutationId);
    for (const e of outbox) s.outbox.delete(e.id);
    for (const e of plan.renumbered) s.outbox.add(e);
    // Recompute the view of residents whose entries were acknowledged here.
    const ids = new Set(plan.acknowledged.flatMap(touchedIds));
    const pendingBy = groupByResident(plan.renumbered);
    for (const id of ids) {
      const old = await req(s.residents.get(id));
      const record = residentRecord(id, old?.server ?? null, pendingBy.get(id) || []);
      if (record) s.residents.put(record);
      else if (old) s.residents.delete(id);
    }
    // Their results are unknown here; the server holds them, so their photos may go up.
    await releaseAttachments(s, readyAttachmentIds(plan.acknowledged));
    const nowIso = new Date().toISOString();
    await keepLog(s, plan.acknowledged, session.client_id, nowIso);
    const after = { ...session, next_mutation_id: plan.nextMutationId, acked_through: Math.max(lastMutationId, 0) };
    s.session.put(await healIfNeeded(s, session, after, lastMutationId, databaseId));
    return plan;
  });
}

/** Start a session from a device-login answer (renumbering a kept outbox for the new client). */
export function startSession(login) {
  return run(STORES, "readwrite", async (s) => {
    const previous = await req(s.session.get(SESSION_KEY));
    const outbox = await req(s.outbox.getAll());
    const dismissed = await req(s.session.get(dismissedKey(login.user?.username)));
    const plan = planLogin(previous, outbox, login, dismissed?.ids);
    if (plan.clearLocal) {
      for (const name of ["residents", "rejected", "outbox", "attachments", "acked", "kept_photos", "drafts"]) s[name].clear();
    } else {
      for (const e of outbox) s.outbox.delete(e.id);
      for (const e of plan.renumbered) s.outbox.add(e);
    }
    let session = { ...plan.session, database_id: login.database_id ?? null };
    if (!plan.clearLocal && healTrigger(previous, 0, login.database_id)?.identityChanged) {
      // A server restored from a backup older than this login: it knows neither the old
      // client nor what it sent, so the whole kept log goes again, each entry with its origin.
      session = await carryOutHeal(s, session, planLoginHeal(await req(s.acked.getAll()), plan.renumbered));
    }
    s.session.put(session);
    return session;
  });
}

/**
 * End the session on this phone. keepData (unsent work exists): only the token goes, so the
 * same officer can log in again and send it. Otherwise every store is emptied (personal data)
 * except each officer's dismissed conflict ids (notices.js dismissedKey).
 */
export function signOut({ keepData, reason = "logout", message = "" }) {
  return run(STORES, "readwrite", async (s) => {
    const session = await req(s.session.get(SESSION_KEY));
    if (keepData) {
      if (session) s.session.put({ ...session, token: null, signed_out: { reason, message } });
    } else {
      for (const name of STORES) if (name !== "session") s[name].clear();
      s.session.delete(SESSION_KEY);
    }
  });
}

/** The draft of a form ({key, user, hash, at, values, signature?, photo?, resume?}) or null. */
export function getDraft(key) {
  return run(["drafts"], "readonly", async (s) => (await req(s.drafts.get(key))) ?? null);
}

/** Every draft on the phone. */
export function listDrafts() {
  return run(["drafts"], "readonly", (s) => req(s.drafts.getAll()));
}

/** Keep (replace) a form's draft. */
export function putDraft(draft) {
  return run(["drafts"], "readwrite", async (s) => { s.drafts.put(draft); });
}

/** Forget a form's draft (saved or discarded). */
export function deleteDraft(key) {
  return run(["drafts"], "readwrite", async (s) => { s.drafts.delete(key); });
}

/** Remember why the last sync failed (shown on the home screen). */
export function noteSyncError(error) {
  return run(["session"], "readwrite", async (s) => {
    const session = await req(s.session.get(SESSION_KEY));
    if (session) s.session.put({ ...session, last_sync_error: error });
  });
}

/** Dismiss a conflict notice for good (notices.js withoutNotice). */
export function dismissNotice(id) {
  return run(["session"], "readwrite", async (s) => {
    const session = await req(s.session.get(SESSION_KEY));
    if (!session) return;
    const next = withoutNotice(session, id);
    s.session.put(next);
    if (next.user?.username) s.session.put({ key: dismissedKey(next.user.username), ids: next.dismissed_notices });
  });
}

/** Everything not yet accepted by the server, for "Unduh data yang belum terkirim" (format 2,
 * docs/phone-app.md): photos in base64, read after the transaction (it cannot wait). */
export async function exportUnsent() {
  const data = await run(["session", "outbox", "rejected", "attachments"], "readonly", async (s) => {
    const session = await req(s.session.get(SESSION_KEY));
    return {
      format: "cah-belum-terkirim",
      format_version: 2,
      client_id: session?.client_id ?? null,
      user: session?.user?.username ?? null,
      kecamatan: session?.kecamatan ?? null,
      outbox: sortById(await req(s.outbox.getAll())),
      perlu_perbaikan: await req(s.rejected.getAll()),
      foto_belum_terkirim: await req(s.attachments.getAll()),
    };
  });
  data.foto_belum_terkirim = await Promise.all(data.foto_belum_terkirim.map(async ({ blob, ...meta }) =>
    ({ ...meta, data: blob ? await base64(blob) : null })));
  return data;
}

const base64 = (blob) =>
  new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).split(",")[1] ?? "");
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });

/** Empty every store (used after the officer explicitly chose to discard another officer's data). */
export function clearAll() {
  return run(STORES, "readwrite", async (s) => {
    for (const name of STORES) s[name].clear();
  });
}
