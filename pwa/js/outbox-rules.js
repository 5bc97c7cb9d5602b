/**
 * Pure outbox logic (no DOM, no IndexedDB): numbering, acknowledgement, batching, gap
 * recovery, result routing, summaries and the local view of a resident with pending edits.
 */
import { applyLocal, residentIdsOf, touchedIds } from "./pipeline.js";

/** Most mutations per request: the server's limit (sync/schemas.py MAX_MUTATIONS). */
export const MAX_BATCH = 500;

/** Records older than this in the outbox are "stale": the officer is told to sync soon. */
export const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * One outbox entry; only id, name, at and args travel (wireMutation), the rest is local.
 * resident_ids lists every resident the mutation touches (a pick-up or a batch has several;
 * IndexedDB indexes it multiEntry); resident_id is the first of them.
 */
export function makeEntry(id, name, args, at) {
  if (!Number.isInteger(id) || id < 1) throw new RangeError("mutation id must be a positive integer");
  const ids = residentIdsOf(name, args);
  return { id, name, at, args, resident_id: ids[0] ?? args.resident_id, resident_ids: ids };
}

/**
 * The wire form of an entry: {id, name, at, args} (keeps each record small on 2G), plus
 * `origin` {client_id, id} on an entry resent under another client than the one it was
 * first sent by (docs/sync-protocol.md, "After a server restore").
 */
export function wireMutation(entry) {
  const wire = { id: entry.id, name: entry.name, at: entry.at, args: entry.args };
  if (entry.origin) wire.origin = entry.origin;
  return wire;
}

/** Entries sorted by mutation id (a fresh array). */
export function sortById(entries) {
  return [...entries].sort((a, b) => a.id - b.id);
}

/** The next mutation id after the server said it has applied up to lastMutationId. */
export function nextIdAfter(nextMutationId, lastMutationId) {
  // Never hand out an id the server already covers: such a mutation would be skipped as a
  // "duplicate" and silently lost (e.g. after the phone's storage was restored from older data).
  return Math.max(nextMutationId, (lastMutationId ?? 0) + 1);
}

/** Split entries by the server's last_mutation_id: covered ones leave the outbox. */
export function acknowledge(entries, lastMutationId) {
  const acknowledged = [];
  const remaining = [];
  for (const e of sortById(entries)) (e.id <= lastMutationId ? acknowledged : remaining).push(e);
  return { acknowledged, remaining };
}

/** The first batch to send: lowest ids first, at most `size` entries. */
export function nextBatch(entries, size = MAX_BATCH) {
  return sortById(entries).slice(0, Math.max(1, Math.min(size, MAX_BATCH)));
}

/** Give entries consecutive ids from firstId on, keeping their order. */
export function renumber(entries, firstId) {
  return sortById(entries).map((e, i) => ({ ...e, id: firstId + i }));
}

/**
 * 409 mutation_gap: the server has applied up to lastMutationId but our next id is further on.
 * Entries up to lastMutationId are acknowledged; the rest are renumbered from last + 1 so the
 * resend is contiguous. Returns {acknowledged, renumbered, nextMutationId}.
 */
export function recoverFromGap(entries, lastMutationId) {
  const { acknowledged, remaining } = acknowledge(entries, lastMutationId);
  const shifted = remaining.length > 0 && remaining[0].id !== lastMutationId + 1;
  const renumbered = shifted ? renumber(remaining, lastMutationId + 1) : remaining;
  const top = renumbered.length ? renumbered[renumbered.length - 1].id + 1 : lastMutationId + 1;
  // Continue right after the last entry (or after the server's last) so no gap is left.
  return { acknowledged, renumbered, nextMutationId: top };
}

/**
 * Route the server's results for acknowledged entries: applied and duplicate simply leave the
 * outbox; rejected ones become "perlu perbaikan" records carrying the server's message.
 */
export function classifyResults(acknowledgedEntries, results, rejectedAt) {
  const byId = new Map((results || []).map((r) => [r.id, r]));
  const applied = [];
  const duplicate = [];
  const rejected = [];
  const unknown = [];
  for (const entry of acknowledgedEntries) {
    const r = byId.get(entry.id);
    if (!r) unknown.push(entry.id); // acknowledged by a later response (its result was lost)
    // A re-sent mutation that was rejected the first time comes back as "duplicate" with its
    // original rejection attached: it still belongs in "perlu perbaikan" (the first answer was lost).
    else if (r.status === "rejected" || (r.status === "duplicate" && r.code)) {
      rejected.push({
        mutation_id: entry.id, name: entry.name, at: entry.at, args: entry.args,
        resident_id: entry.resident_id, resident_ids: touchedIds(entry), code: r.code || "rejected",
        message: r.message || "Ditolak server.", fields: r.fields || {}, rejected_at: rejectedAt,
      });
    } else if (r.status === "duplicate") duplicate.push(entry.id);
    else applied.push(entry.id);
  }
  return { applied, duplicate, rejected, unknown };
}

/** Outbox size and age: {count, oldestAt, ageMs, stale, bytes} (bytes = JSON size, unzipped). */
export function summarize(entries, now = Date.now()) {
  let oldest = null;
  let bytes = 0;
  for (const e of entries) {
    const t = Date.parse(e.at);
    if (!Number.isNaN(t) && (oldest === null || t < oldest)) oldest = t;
    bytes += JSON.stringify(wireMutation(e)).length;
  }
  const ageMs = oldest === null ? 0 : Math.max(0, now - oldest);
  return {
    count: entries.length,
    oldestAt: oldest === null ? null : new Date(oldest).toISOString(),
    ageMs,
    stale: entries.length > 0 && ageMs > STALE_AFTER_MS,
    bytes,
  };
}

/**
 * What the officer sees of a resident: the server's copy with the still-pending outbox entries
 * laid over it in id order. Server wins for whatever the outbox no longer covers.
 */
export function overlayPending(server, pendingEntries, residentId = server?.resident_id) {
  let out = server ? { ...server } : null;
  for (const e of sortById(pendingEntries)) {
    out = applyLocal(out, e, residentId ?? touchedIds(e)[0]);
  }
  if (!out) return null;
  return { ...out, pending: pendingEntries.length };
}

/** base_version for an update: the server's version, or 1 for a registration not yet synced. */
export function baseVersionOf(record) {
  // The server creates a resident at version 1; an edit queued behind its registration is
  // therefore made against version 1.
  return record?.server?.version ?? 1;
}
