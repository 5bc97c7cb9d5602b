/**
 * The acknowledged log and kept photos inside db.js's transactions (issue #9). db.js opens
 * IndexedDB and runs every transaction; these helpers only act on the store handles it passes
 * in (`s.acked`, `s.kept_photos`, …), so a heal is part of the same transaction as the answer
 * that revealed it. The rules themselves are pure, in heal-rules.js.
 */
import { residentRecord, groupByResident } from "./sync-merge.js";
import { touchedIds } from "./pipeline.js";
import {
  KEEP_MAX_ENTRIES, KEEP_MAX_PHOTO_BYTES, expired, healTrigger, logEntry, photoToCheck, photosOf, planHeal,
} from "./heal-rules.js";

const req = (request) =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

/** Move an uploaded photo from the upload queue to the kept photos, then apply the byte cap. */
export async function keepPhoto(s, sha256, nowIso) {
  const a = await req(s.attachments.get(sha256));
  if (!a) return;
  s.attachments.delete(sha256);
  const { verify: _verify, ...photo } = a;
  s.kept_photos.put({ ...photo, kept_at: photo.kept_at || nowIso }); // a re-check keeps its age
  await prunePhotos(s, nowIso);
}

async function prunePhotos(s, nowIso) {
  const kept = await req(s.kept_photos.getAll());
  const items = kept.map((p) => ({ key: p.sha256, at: p.kept_at, size: p.size }));
  for (const sha of expired(items, Date.parse(nowIso), { maxBytes: KEEP_MAX_PHOTO_BYTES })) s.kept_photos.delete(sha);
}

/**
 * Add acknowledged entries to the kept log, then drop what is past retention — on every
 * answer, not only those that acknowledge something, so that 30 days mean 30 days on a phone
 * that only pulls.
 */
export async function keepLog(s, entries, clientId, nowIso) {
  for (const e of entries) s.acked.add(logEntry(e, clientId, nowIso));
  const log = await req(s.acked.getAll());
  const items = log.map((e) => ({ key: e.seq, at: e.acked_at }));
  for (const seq of expired(items, Date.parse(nowIso), { maxCount: KEEP_MAX_ENTRIES })) s.acked.delete(seq);
  await prunePhotos(s, nowIso);
}

/** Recompute the view of residents after their pending entries changed. */
async function refreshResidents(s, ids, pending) {
  const pendingBy = groupByResident(pending);
  for (const id of ids) {
    const old = await req(s.residents.get(id));
    const record = residentRecord(id, old?.server ?? null, pendingBy.get(id) || []);
    if (record) s.residents.put(record);
    else if (old) s.residents.delete(id);
  }
}

/**
 * Put a heal plan into effect: the outbox becomes plan.resend, the resent entries leave the
 * log, every kept photo is checked with the server again (those of resent entries wait for
 * their mutation), and the pull starts over. Returns the session to store.
 */
export async function carryOutHeal(s, session, plan) {
  const outbox = await req(s.outbox.getAll());
  for (const e of outbox) s.outbox.delete(e.id);
  for (const e of plan.resend) s.outbox.add(e);
  for (const seq of plan.dropSeqs) s.acked.delete(seq);
  const waiting = photosOf(plan.resend);
  for (const kept of await req(s.kept_photos.getAll())) {
    if (!(await req(s.attachments.get(kept.sha256)))) s.attachments.put(photoToCheck(kept, waiting.has(kept.sha256)));
    s.kept_photos.delete(kept.sha256);
  }
  await refreshResidents(s, new Set(plan.resend.flatMap(touchedIds)), plan.resend);
  // The restored change sequence may repeat numbers this phone has passed.
  return { ...session, cursor: null, next_mutation_id: plan.nextMutationId, healed_at: new Date().toISOString() };
}

/** After an answer from the server: heal it when it lost acknowledged work (same client). */
export async function healIfNeeded(s, before, after, last, databaseId) {
  const trigger = healTrigger(before, last, databaseId);
  if (!trigger) return after;
  const plan = planHeal(await req(s.acked.getAll()), await req(s.outbox.getAll()), before.client_id, last);
  return carryOutHeal(s, { ...after, acked_through: last, database_id: databaseId ?? after.database_id ?? null }, plan);
}

