/**
 * The one module that owns IndexedDB. Every write that the officer relies on is a single
 * readwrite transaction with durability "strict" and resolves only on `complete`. Nothing in
 * here awaits the network: callers fetch first, then hand the parsed answer in.
 */
import { makeEntry, recoverFromGap, sortById } from "./outbox-rules.js";
import { planLogin, planSyncApply, residentRecord } from "./sync-merge.js";

export const DB_NAME = "cah";
export const DB_VERSION = 1;
const SESSION_KEY = "current";
const STORES = ["session", "residents", "outbox", "rejected"];

let dbPromise = null;

// Versioned upgrades: each step runs once, in order, so an old phone catches up in one open.
const UPGRADES = [
  (db) => {
    db.createObjectStore("session", { keyPath: "key" });
    db.createObjectStore("residents", { keyPath: "resident_id" }).createIndex("by_desa", "desa_code");
    db.createObjectStore("outbox", { keyPath: "id" }).createIndex("by_resident", "resident_id");
    db.createObjectStore("rejected", { keyPath: "rid", autoIncrement: true }).createIndex("by_resident", "resident_id");
  },
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
    throw err;
  }
  await done;
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

/** Number of outbox entries and of records in "perlu perbaikan". */
export function getCounts() {
  return run(["outbox", "rejected"], "readonly", async (s) => ({
    outbox: await req(s.outbox.count()),
    rejected: await req(s.rejected.count()),
  }));
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

// Number a mutation, queue it and update the resident's view: all inside the caller's transaction.
async function queueMutation(s, name, args, at) {
  const session = await req(s.session.get(SESSION_KEY));
  if (!session?.client_id) throw new Error("Belum masuk: tidak ada sesi di HP ini.");
  const id = session.next_mutation_id ?? 1;
  const entry = makeEntry(id, name, args, at);
  const pending = await req(s.outbox.index("by_resident").getAll(entry.resident_id));
  const old = await req(s.residents.get(entry.resident_id));
  s.outbox.add(entry); // add, not put: an unsent mutation is never overwritten
  const record = residentRecord(entry.resident_id, old?.server ?? null, [...pending, entry]);
  if (record) s.residents.put(record);
  s.session.put({ ...session, next_mutation_id: id + 1 });
  return { entry, record };
}

/** Save a resident change and its outbox entry in ONE strict transaction; resolves after commit. */
export function saveMutation(name, args, at) {
  return run(["session", "outbox", "residents"], "readwrite", (s) => queueMutation(s, name, args, at));
}

/** Send a corrected rejected mutation as a new one and drop the rejected record, atomically. */
export function resendRejected(rid, name, args, at) {
  return run(["session", "outbox", "residents", "rejected"], "readwrite", async (s) => {
    const result = await queueMutation(s, name, args, at);
    s.rejected.delete(rid);
    return result;
  });
}

/** Forget a rejected mutation for good (the officer chose "Abaikan"). */
export function dismissRejected(rid) {
  return run(["rejected"], "readwrite", async (s) => {
    s.rejected.delete(rid);
  });
}

/** Apply a 200 sync answer (acknowledge, route rejections, store changes) in ONE transaction. */
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
    s.session.put(plan.session);
    return plan;
  });
}

/** Handle 409 mutation_gap: drop what the server covers, renumber the rest from last + 1. */
export function applyGap(lastMutationId) {
  return run(["session", "outbox", "residents"], "readwrite", async (s) => {
    const session = await req(s.session.get(SESSION_KEY));
    const outbox = await req(s.outbox.getAll());
    const plan = recoverFromGap(outbox, lastMutationId);
    for (const e of outbox) s.outbox.delete(e.id);
    for (const e of plan.renumbered) s.outbox.add(e);
    // Recompute the view of residents whose entries were acknowledged here.
    const ids = new Set(plan.acknowledged.map((e) => e.resident_id));
    for (const id of ids) {
      const old = await req(s.residents.get(id));
      const pending = plan.renumbered.filter((e) => e.resident_id === id);
      const record = residentRecord(id, old?.server ?? null, pending);
      if (record) s.residents.put(record);
      else if (old) s.residents.delete(id);
    }
    s.session.put({ ...session, next_mutation_id: plan.nextMutationId });
    return plan;
  });
}

/** Start a session from a device-login answer (renumbering a kept outbox for the new client). */
export function startSession(login) {
  return run(STORES, "readwrite", async (s) => {
    const previous = await req(s.session.get(SESSION_KEY));
    const outbox = await req(s.outbox.getAll());
    const plan = planLogin(previous, outbox, login);
    if (plan.clearLocal) {
      s.residents.clear();
      s.rejected.clear();
      s.outbox.clear();
    } else {
      for (const e of outbox) s.outbox.delete(e.id);
      for (const e of plan.renumbered) s.outbox.add(e);
    }
    s.session.put(plan.session);
    return plan.session;
  });
}

/**
 * End the session on this phone. keepData (unsent work exists): only the token goes, so the
 * same officer can log in again and send it. Otherwise every store is emptied (personal data).
 */
export function signOut({ keepData, reason = "logout", message = "" }) {
  return run(STORES, "readwrite", async (s) => {
    const session = await req(s.session.get(SESSION_KEY));
    if (keepData) {
      if (session) s.session.put({ ...session, token: null, signed_out: { reason, message } });
    } else {
      for (const name of STORES) s[name].clear();
    }
  });
}

/** Remember why the last sync failed (shown on the home screen). */
export function noteSyncError(error) {
  return run(["session"], "readwrite", async (s) => {
    const session = await req(s.session.get(SESSION_KEY));
    if (session) s.session.put({ ...session, last_sync_error: error });
  });
}

/** Everything not yet accepted by the server, for "Unduh data yang belum terkirim". */
export function exportUnsent() {
  return run(["session", "outbox", "rejected"], "readonly", async (s) => {
    const session = await req(s.session.get(SESSION_KEY));
    return {
      client_id: session?.client_id ?? null,
      user: session?.user?.username ?? null,
      kecamatan: session?.kecamatan ?? null,
      outbox: sortById(await req(s.outbox.getAll())),
      perlu_perbaikan: await req(s.rejected.getAll()),
    };
  });
}

/** Empty every store (used after the officer explicitly chose to discard another officer's data). */
export function clearAll() {
  return run(STORES, "readwrite", async (s) => {
    for (const name of STORES) s[name].clear();
  });
}
