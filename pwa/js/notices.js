/** Pure: conflict notices (changes.notices, docs/sync-protocol.md) kept in the session until
 * dismissed, and the check that a NIK is already on the phone. */

/** Merge incoming notices into kept ones: one per id, never a dismissed id, none about a
 * resident that left the phone (`gone`). → {notices, added: ids new to the phone}. */
export function mergeNotices(kept, incoming, dismissed, gone = []) {
  const skip = new Set([...(dismissed || []), ...gone]);
  const byId = new Map((kept || []).filter((n) => !skip.has(n.resident_id)).map((n) => [n.id, n]));
  let added = 0;
  for (const n of Array.isArray(incoming) ? incoming : []) {
    if (n?.id == null || skip.has(n.id) || skip.has(n.resident_id)) continue;
    added += !byId.has(n.id);
    byId.set(n.id, { id: n.id, kind: n.kind, resident_id: n.resident_id, created_at: n.created_at, message: String(n.message ?? "") });
  }
  return { notices: [...byId.values()], added };
}

/** The session without notice `id`, remembered as dismissed (the last 500 ids). */
export function withoutNotice(session, id) {
  return {
    ...session,
    notices: (session.notices || []).filter((n) => n.id !== id),
    dismissed_notices: [...(session.dismissed_notices || []).filter((x) => x !== id), id].slice(-500),
  };
}

/** The session-store record that keeps an officer's dismissed ids across a logout
 * ({key, ids}): conflict ids only, no personal data, so a clean logout leaves it. */
export const dismissedKey = (username) => `dismissed:${username}`;

/** Resident records whose NIK is `nik` (16 digits), other than `exceptId`. */
export const casesWithNik = (records, nik, exceptId) =>
  (/^\d{16}$/.test(nik || "") ? records.filter((r) => r.resident_id !== exceptId && r.view?.nik === nik) : []);
