/**
 * Pure merge rules between the phone's stores and the server (no DOM, no IndexedDB): what a
 * sync response, a device login and a local edit change in the session, outbox and residents.
 * db.js carries out these plans inside one IndexedDB transaction each.
 */
import { acknowledge, classifyResults, nextIdAfter, overlayPending, renumber, sortById } from "./outbox-rules.js";
import { readyAttachmentIds, touchedIds } from "./pipeline.js";
import { mergeNotices } from "./notices.js";

/** A residents-store record: the server copy, the pending count and the merged view. */
export function residentRecord(residentId, server, pendingEntries) {
  const view = overlayPending(server, pendingEntries, residentId);
  if (!view) return null; // neither on the server nor waiting in the outbox: nothing to show
  const sorted = sortById(pendingEntries);
  return {
    resident_id: residentId,
    desa_code: view.desa_code,
    server: server || null,
    view,
    pending: pendingEntries.length,
    // Latest local change, for "newest first" in the list; the server time otherwise.
    changed_at: sorted.length ? sorted[sorted.length - 1].at : server?.updated_at ?? null,
  };
}

/** Desa codes the officer is assigned to, from a sync's changes (null when not sent). */
export function assignedCodesFrom(changes) {
  const a = changes?.assignments;
  if (a && Array.isArray(a.desa_codes)) return a.desa_codes.map(String);
  if (Array.isArray(a)) return a.map((x) => String(typeof x === "string" ? x : x.desa_code ?? x.code));
  if (Array.isArray(changes?.desa)) return changes.desa.map((d) => String(d.code));
  return null;
}

// Args part naming record fields, as sync/echo.py.
const ECHO_BASES = { register_resident: (a) => a, update_resident: (a) => a.fields, correct_identity: (a) => a.fields };

/** Server copy from a compact echo: base of own mutation `sent`, then the entry (null: unfit). */
export function echoedRecord(entry, sent) {
  const base = sent?.args?.resident_id === entry.resident_id && ECHO_BASES[sent.name]?.(sent.args);
  if (!base || typeof base !== "object") return null;
  const record = { ...base, ...entry };
  delete record.echo_of;
  return record;
}

/** Entries per resident; an entry touching several residents (a pick-up) is in each list. */
export function groupByResident(entries) {
  const map = new Map();
  for (const e of entries) {
    for (const id of touchedIds(e)) {
      if (!map.has(id)) map.set(id, []);
      map.get(id).push(e);
    }
  }
  return map;
}

/**
 * Plan the effect of a 200 sync response. Rule for residents: the server's copy wins for
 * everything the outbox no longer covers; entries still pending (sent later, or created while
 * the request was in flight) are laid over it, so the officer never sees an edit vanish.
 */
export function planSyncApply({ session, outbox, residents }, response, nowIso) {
  const last = Number(response.last_mutation_id ?? 0);
  const { acknowledged, remaining } = acknowledge(outbox, last);
  const outcome = classifyResults(acknowledged, response.results, nowIso);
  const changes = response.changes || {};

  const assigned = assignedCodesFrom(changes);
  const nextSession = {
    ...session,
    cursor: response.cursor ?? session.cursor ?? null,
    next_mutation_id: nextIdAfter(session.next_mutation_id ?? 1, last),
    // What the server has acknowledged and who it is: a later answer below either, or from
    // another database, means a restore lost work this phone still holds (heal-rules.js).
    acked_through: last,
    database_id: response.database_id ?? session.database_id ?? null,
    last_sync_at: nowIso,
    last_sync_error: null,
    clock_skew_flagged: Boolean(response.clock_skew_flagged),
  };
  if (Array.isArray(changes.desa)) nextSession.desa = changes.desa.map((d) => ({ code: String(d.code), name: d.name }));
  if (assigned) nextSession.assigned_codes = assigned;
  if (changes.assignments?.kecamatan) nextSession.kecamatan = changes.assignments.kecamatan;
  if (Array.isArray(changes.assignments?.operations)) nextSession.operations = changes.assignments.operations;

  const records = new Map(residents.map((r) => [r.resident_id, r]));
  const servers = new Map(residents.map((r) => [r.resident_id, r.server || null]));
  const affected = new Set(acknowledged.flatMap(touchedIds));
  for (const r of changes.residents || []) {
    servers.set(r.resident_id, r);
    affected.add(r.resident_id);
  }
  // An echo not rebuilt keeps the cursor: its row comes again in full. After a scope reset
  // the old cursor belongs to the old scope: start over instead.
  const sentById = new Map(acknowledged.map((e) => [e.id, e]));
  for (const c of changes.echoes || []) {
    const r = echoedRecord(c, sentById.get(c.echo_of));
    if (!r) nextSession.cursor = response.scope_reset ? null : session.cursor ?? null;
    else {
      servers.set(r.resident_id, r);
      affected.add(r.resident_id);
    }
  }
  for (const item of changes.removed || []) {
    const id = typeof item === "string" ? item : item?.resident_id;
    if (!id) continue;
    servers.set(id, null);
    affected.add(id);
  }

  const pendingBy = groupByResident(remaining);
  const put = new Map();
  const del = new Set();
  for (const id of affected) {
    const rec = residentRecord(id, servers.get(id) ?? null, pendingBy.get(id) || []);
    if (rec) put.set(id, rec);
    else if (records.has(id)) del.add(id);
  }
  // Residents of a desa no longer assigned go, unless the officer still has unsent work on them
  // (the server then answers that mutation, and the record goes once it is acknowledged).
  if (assigned) {
    const allowed = new Set(assigned);
    const current = new Map([...records, ...put]);
    for (const [id, rec] of current) {
      if (del.has(id) || allowed.has(rec.desa_code) || (pendingBy.get(id) || []).length) continue;
      put.delete(id);
      del.add(id);
    }
  }
  // Conflict notices: kept once per id until dismissed (docs/sync-protocol.md, notices).
  const notices = mergeNotices(session.notices, changes.notices, session.dismissed_notices, del);
  nextSession.notices = notices.notices;
  const refused = new Set(outcome.rejected.map((r) => r.mutation_id));
  return {
    session: nextSession,
    deleteOutbox: acknowledged.map((e) => e.id),
    // Accepted entries go to the acknowledged log (a rejected one had no effect to redo).
    logged: acknowledged.filter((e) => !refused.has(e.id)),
    rejected: outcome.rejected,
    // Photos of accepted mutations may now be uploaded (DESIGN §4: after the mutation).
    readyAttachments: readyAttachmentIds(acknowledged, outcome.rejected.map((r) => r.mutation_id)),
    putResidents: [...put.values()],
    deleteResidents: [...del],
    counts: {
      acknowledged: acknowledged.length,
      applied: outcome.applied.length,
      duplicate: outcome.duplicate.length,
      rejected: outcome.rejected.length,
      remaining: remaining.length,
    },
    addedNotices: notices.added,
  };
}

/**
 * Plan a device login. The same officer logging in again (e.g. after the token was revoked)
 * keeps everything: the unsent outbox is renumbered from 1 for the new client. `dismissed`:
 * the conflict ids this officer dismissed before an earlier logout. Another officer
 * starts clean — the caller must first make sure no unsent data of the previous one is left.
 */
export function planLogin(previous, outbox, login, dismissed = []) {
  const sameUser = Boolean(previous?.user?.username) && previous.user.username === login.user?.username;
  // The old client may have had an entry applied whose answer was lost: its origin lets the
  // server recognise it instead of applying it twice.
  const renumbered = sameUser ? renumber(outbox, 1).map((e, i) => ({
    ...e, origin: e.origin ?? (previous.client_id ? { client_id: previous.client_id, id: sortById(outbox)[i].id } : undefined),
  })) : [];
  const desa = (login.desa || []).map((d) => ({ code: String(d.code), name: d.name }));
  return {
    session: {
      key: "current",
      token: login.token,
      client_id: login.client_id,
      user: login.user,
      kecamatan: login.kecamatan,
      desa,
      assigned_codes: desa.map((d) => d.code),
      // A new client starts with a full pull: its scope may have changed since the last login.
      cursor: null,
      next_mutation_id: renumbered.length + 1,
      acked_through: 0,
      // The identity this phone knew stays until the caller has compared it (db.startSession).
      database_id: sameUser ? previous.database_id ?? null : null,
      last_sync_at: sameUser ? previous.last_sync_at ?? null : null,
      last_sync_error: null,
      signed_out: null,
      // The same officer keeps the conflict notices and what was dismissed (`dismissed`: ids
      // kept for this username across a logout that emptied the session, notices.js).
      notices: sameUser ? previous.notices ?? [] : [],
      dismissed_notices: [...new Set([...dismissed, ...(sameUser ? previous.dismissed_notices ?? [] : [])])].slice(-500),
    },
    renumbered,
    clearLocal: !sameUser,
  };
}

/** True when the phone holds unsent work of an officer other than `username`. */
export function holdsForeignWork(previous, username, outboxCount, rejectedCount) {
  if (!previous?.user?.username || outboxCount + rejectedCount === 0) return false;
  return previous.user.username !== username;
}
