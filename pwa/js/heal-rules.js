/**
 * Pure rules of the acknowledged log (no DOM, no IndexedDB): what the phone keeps after the
 * server acknowledged it, for how long, and how it heals a server restored from a backup by
 * resending what that backup lacks (docs/sync-protocol.md, "After a server restore").
 */
import { sortById } from "./outbox-rules.js";
import { attachmentRefsOf } from "./pipeline.js";

/** Kept for 30 days after acknowledgement, and at most this much (oldest dropped first). */
export const KEEP_DAYS = 30;
export const KEEP_MAX_ENTRIES = 5000;
export const KEEP_MAX_PHOTO_BYTES = 100 * 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The log record of an acknowledged outbox entry (the store adds `seq`, the order of
 * acknowledgement). `origin` is where a resent entry was first acknowledged, if it was.
 */
export function logEntry(entry, clientId, ackedAt) {
  return {
    client_id: clientId, id: entry.id, name: entry.name, at: entry.at, args: entry.args,
    resident_id: entry.resident_id, resident_ids: entry.resident_ids, origin: entry.origin ?? null,
    // A resent entry keeps the time it was first acknowledged: resending must not restart
    // its retention period.
    acked_at: entry.first_acked_at ?? ackedAt,
  };
}

/**
 * Whether a server answer shows a server that lost acknowledged work: {identityChanged,
 * lowered}, or null when all is well. A first answer (no identity known yet) is never one.
 */
export function healTrigger(session, lastMutationId, databaseId) {
  const identityChanged = Boolean(session?.database_id && databaseId && databaseId !== session.database_id);
  const lowered = Number(lastMutationId ?? 0) < Number(session?.acked_through ?? 0);
  return identityChanged || lowered ? { identityChanged, lowered } : null;
}

function outboxForm(e, origin) {
  return { id: e.id, name: e.name, at: e.at, args: e.args, resident_id: e.resident_id,
    resident_ids: e.resident_ids, ...(origin ? { origin } : {}),
    ...(e.acked_at ? { first_acked_at: e.acked_at } : {}) };
}

/**
 * The server still knows this client but holds only up to `last`: the client's log entries
 * above it go back to the outbox, in order, ahead of what was never sent, all numbered from
 * last + 1. Entries of earlier clients were acknowledged before this client existed, so the
 * restored copy (which knows this client) has them. Returns {resend, dropSeqs, nextMutationId}.
 */
export function planHeal(log, outbox, clientId, last) {
  const missing = log.filter((e) => e.client_id === clientId && e.id > last).sort((a, b) => a.id - b.id);
  // Within one client the ids are reused as it numbers on: only an older client's origin is kept.
  const back = missing.map((e) => outboxForm(e, e.origin));
  const resend = [...back, ...sortById(outbox)].map((e, i) => ({ ...e, id: last + 1 + i }));
  return { resend, dropSeqs: missing.map((e) => e.seq), nextMutationId: last + 1 + resend.length };
}

/**
 * Logged in again on a server with another identity: the new client knows nothing, so the
 * whole log is resent first (oldest first), each entry with the client and id it was first
 * acknowledged under (the server skips those its restored copy holds), then the outbox.
 * Returns {resend, dropSeqs, nextMutationId}.
 */
export function planLoginHeal(log, outbox) {
  const ordered = [...log].sort((a, b) => a.seq - b.seq);
  const back = ordered.map((e) => outboxForm(e, e.origin ?? { client_id: e.client_id, id: e.id }));
  const resend = [...back, ...sortById(outbox)].map((e, i) => ({ ...e, id: i + 1 }));
  return { resend, dropSeqs: ordered.map((e) => e.seq), nextMutationId: resend.length + 1 };
}

/** Photos the resent entries need: they wait for their mutation again. */
export function photosOf(entries) {
  const shas = new Set();
  for (const e of entries) for (const sha of attachmentRefsOf(e.name, e.args)) shas.add(sha);
  return shas;
}

/**
 * A kept photo put back in the upload queue after a heal: HEAD first (the server may hold
 * it), uploaded only when missing; it waits for its mutation when that one is resent.
 */
export function photoToCheck(kept, waitsForMutation) {
  // kept_at stays: kept again after the check, its retention period goes on, not over.
  return { ...kept, ready: !waitsForMutation, offset: 0, failed: null, verify: true };
}

/**
 * What leaves the kept log and photos: older than KEEP_DAYS, or beyond the count / byte caps
 * (oldest first). items: [{key, at, size}] in any order; returns the keys to drop.
 */
export function expired(items, now, { maxCount = Infinity, maxBytes = Infinity, days = KEEP_DAYS } = {}) {
  const cutoff = now - days * DAY_MS;
  // Ties (one answer acknowledges many entries at once) go by key: the log's seq grows with
  // acknowledgement, so the highest is the newest.
  const byKey = (a, b) => (typeof a.key === "number" && typeof b.key === "number"
    ? b.key - a.key : String(b.key).localeCompare(String(a.key)));
  const newestFirst = [...items].sort((a, b) => String(b.at).localeCompare(String(a.at)) || byKey(a, b));
  const drop = [];
  let count = 0;
  let bytes = 0;
  for (const item of newestFirst) {
    count += 1;
    bytes += item.size || 0;
    const t = Date.parse(item.at);
    if (count > maxCount || bytes > maxBytes || Number.isNaN(t) || t < cutoff) drop.push(item.key);
  }
  return drop;
}
