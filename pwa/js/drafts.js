/**
 * Pure draft rules (docs/phone-app.md "Draf"): the key, a form's control values, unsaved
 * input, whose draft it is, where to go after logging in again, the message for a full phone.
 */

/** One draft per form and case. */
export const draftKey = (kind, residentId) => `${kind}:${residentId || "new"}`;

const SKIP = /^(fieldset|button|submit|reset|file|image|output)$/;
const prop = (c) => (c.type === "checkbox" || c.type === "radio" ? "checked" : "value");
const kept = (c) => c.id && !SKIP.test(c.type);

/** {id: value or checked} of the controls with an id (files skipped). */
export const readControls = (controls) => Object.fromEntries([...controls].filter(kept).map((c) => [c.id, c[prop(c)]]));

const differs = (values) => (c) => kept(c) && Object.hasOwn(values, c.id) && c[prop(c)] !== values[c.id];

/** Put values back, never into a disabled control (a field locked since, e.g. identity after
 * verification: its save would drop the value silently); returns the controls that changed. */
export function writeControls(controls, values) {
  const changed = [...controls].filter((c) => !c.disabled && differs(values)(c));
  for (const c of changed) c[prop(c)] = values[c.id];
  return changed;
}

/** Ids of disabled controls whose stored value differs: input the draft can no longer give back. */
export const lockedChanges = (controls, values) => [...controls].filter((c) => c.disabled && differs(values)(c)).map((c) => c.id);

/** What the officer is told about lockedChanges (identity fields are "f-<field>"). */
export const lockedNote = (ids) => (ids.some((id) => id.startsWith("f-"))
  ? "Perubahan data identitas di draf tidak bisa dipakai lagi karena warga sudah diverifikasi; koreksi dilakukan camat/operator di kantor."
  : "Sebagian isian di draf tidak bisa dipakai lagi: pilihan itu tidak tersedia sekarang.");

/** True when values (controls and marks: signature points, photo sha) differ from the form as opened. */
export const hasInput = (values, base) => Object.keys({ ...values, ...base }).some((k) => (values[k] ?? "") !== (base[k] ?? ""));

/** Days a draft is kept (docs/phone-app.md "Draf"): it may hold a NIK and KK number. */
export const DRAFT_DAYS = 14;

/** Keys of drafts to delete at `now` (ms): older than DRAFT_DAYS (or undated), or of a
 * resident in `goneIds` (no longer on the phone). */
export function staleDrafts(drafts, now, goneIds = []) {
  const gone = new Set(goneIds);
  return drafts.filter((d) => !(Date.parse(d.at) > now - DRAFT_DAYS * 864e5) || gone.has(d.key.slice(d.key.indexOf(":") + 1)))
    .map((d) => d.key);
}

/** A draft is offered only to the officer who typed it (PDP). */
export const mayOffer = (draft, username) => Boolean(draft && username && draft.user === username);

/** After logging in: the newest form this officer was signed out of by the server, or home. */
export function resumeHash(drafts, username) {
  const kept = drafts.filter((d) => d.resume && mayOffer(d, username)).sort((a, b) => (a.at < b.at ? 1 : -1));
  return kept[0]?.hash || "#/";
}

export const QUOTA_MESSAGE = "Memori HP penuh. Hapus foto, video atau aplikasi yang tidak dipakai di HP ini, lalu coba lagi";

/** An IndexedDB error for the officer: QuotaExceededError gets QUOTA_MESSAGE. */
export const storageError = (err) => (err?.name === "QuotaExceededError" ? new DOMException(QUOTA_MESSAGE, err.name) : err);
