import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DRAFT_DAYS, QUOTA_MESSAGE, draftKey, staleDrafts, hasInput, lockedChanges, lockedNote, mayOffer, readControls, resumeHash, storageError, writeControls,
} from "../../pwa/js/drafts.js";

// Stand-ins for form controls: what readControls/writeControls look at.
const controls = () => [
  { id: "f-name", type: "text", value: "Sari" },
  { id: "f-desa_code", type: "select-one", value: "6311042005" },
  { id: "d-owner", type: "radio", checked: true, value: "owner" },
  { id: "d-proxy", type: "radio", checked: false, value: "proxy" },
  { id: "v-kk_copy_seen", type: "checkbox", checked: false, value: "on" },
  { id: "d-photo", type: "file", value: "C:\\fakepath\\a.jpg" },
  { id: "", type: "text", value: "no id" },
  { id: "save", type: "submit", value: "" },
  { id: "box", type: "fieldset" },
];

test("draftKey: one draft per form and resident, 'new' for a form without one", () => {
  assert.equal(draftKey("register", null), "register:new");
  assert.equal(draftKey("update", "00000000-0000-4000-8000-000000000001"), "update:00000000-0000-4000-8000-000000000001");
  assert.equal(draftKey("pickup", undefined), "pickup:new");
});

test("readControls: values by id, checked for radios and checkboxes; files, buttons and unnamed skipped", () => {
  assert.deepEqual(readControls(controls()), {
    "f-name": "Sari", "f-desa_code": "6311042005", "d-owner": true, "d-proxy": false, "v-kk_copy_seen": false,
  });
});

test("writeControls puts values back and returns only what changed; unknown ids are ignored", () => {
  const cs = controls();
  const changed = writeControls(cs, { "f-name": "Sari Uji", "d-owner": false, "d-proxy": true, "f-desa_code": "6311042005", "gone": "x", "d-photo": "y" });
  assert.deepEqual(changed.map((c) => c.id), ["f-name", "d-owner", "d-proxy"]);
  assert.equal(cs[0].value, "Sari Uji");
  assert.equal(cs[3].checked, true);
  assert.equal(cs[5].value, "C:\\fakepath\\a.jpg");
});

test("hasInput: unsaved input is any difference from the form as it opened (marks included)", () => {
  const base = { "f-name": "", "f-phone": "0812", signature: 0, photo: undefined };
  assert.equal(hasInput({ ...base }, base), false);
  assert.equal(hasInput({ ...base, "f-phone": "08123" }, base), true);
  assert.equal(hasInput({ ...base, signature: 12 }, base), true);
  assert.equal(hasInput({ ...base, photo: "ab".repeat(32) }, base), true);
  assert.equal(hasInput({ ...base, photo: null }, base), false, "no photo is no photo");
  assert.equal(hasInput({ ...base, "f-extra": "" }, base), false, "a new empty control is no input");
  assert.equal(hasInput({ ...base, "v-x": true }, { ...base, "v-x": false }), true);
});

test("mayOffer: a draft is offered only to the officer who typed it", () => {
  const draft = { key: "register:new", user: "petugas" };
  assert.equal(mayOffer(draft, "petugas"), true);
  assert.equal(mayOffer(draft, "petugas2"), false);
  assert.equal(mayOffer(draft, undefined), false);
  assert.equal(mayOffer({ key: "x" }, undefined), false);
  assert.equal(mayOffer(null, "petugas"), false);
});

test("resumeHash: after logging in again, the newest form this officer was signed out of", () => {
  const drafts = [
    { user: "petugas", hash: "#/daftar", at: "2026-12-06T01:00:00Z", resume: true },
    { user: "petugas", hash: "#/ubah/1", at: "2026-12-06T02:00:00Z", resume: true },
    { user: "petugas", hash: "#/ubah/2", at: "2026-12-06T03:00:00Z" },
    { user: "petugas2", hash: "#/ubah/3", at: "2026-12-06T04:00:00Z", resume: true },
  ];
  assert.equal(resumeHash(drafts, "petugas"), "#/ubah/1");
  assert.equal(resumeHash(drafts, "camat"), "#/");
  assert.equal(resumeHash([], "petugas"), "#/");
});

test("storageError: a full phone reads 'Memori HP penuh…', other errors are unchanged", () => {
  const full = storageError(new DOMException("Quota exceeded", "QuotaExceededError"));
  assert.equal(full.name, "QuotaExceededError");
  assert.equal(full.message, QUOTA_MESSAGE);
  assert.match(full.message, /^Memori HP penuh\. /);
  const other = new DOMException("x", "ConstraintError");
  assert.equal(storageError(other), other);
  assert.equal(storageError(undefined), undefined);
});

test("a draft never writes into a disabled control (identity locked after verification); the officer is told", () => {
  const cs = [
    { id: "f-name", type: "text", value: "Nama Server", disabled: true },
    { id: "f-nik", type: "text", value: "6311045506040001", disabled: true },
    { id: "f-phone", type: "tel", value: "" },
  ];
  const stored = { "f-name": "Nama Draf", "f-nik": "6311045506040001", "f-phone": "081277778888" };
  assert.deepEqual(lockedChanges(cs, stored), ["f-name"], "an equal locked value is no loss");
  assert.deepEqual(writeControls(cs, stored).map((c) => c.id), ["f-phone"]);
  assert.equal(cs[0].value, "Nama Server");
  assert.equal(lockedNote(["f-name"]), "Perubahan data identitas di draf tidak bisa dipakai lagi karena warga sudah diverifikasi; koreksi dilakukan camat/operator di kantor.");
  assert.match(lockedNote(["rec-failed"]), /^Sebagian isian di draf tidak bisa dipakai lagi/);
  assert.deepEqual(lockedChanges(controls(), { "f-name": "x" }), [], "nothing disabled, nothing lost");
});

test("drafts go after 14 days, and with their resident when it leaves the phone; undated ones go too", () => {
  const now = Date.parse("2026-12-20T10:00:00+08:00");
  const d = (key, at) => ({ key, at, user: "petugas", values: {} });
  const drafts = [
    d("update:R1", "2026-12-19T10:00:00+08:00"),
    d("deliver:R2", "2026-12-06T10:00:01+08:00"), // 14 days less a second
    d("verify:R3", "2026-12-06T09:59:59+08:00"), // older than 14 days
    d("register:new", "2026-12-20T09:00:00+08:00"),
    d("pickup:new", undefined),
  ];
  assert.equal(DRAFT_DAYS, 14);
  assert.deepEqual(staleDrafts(drafts, now), ["verify:R3", "pickup:new"]);
  assert.deepEqual(staleDrafts(drafts, now, ["R1", "new-ish"]), ["update:R1", "verify:R3", "pickup:new"]);
  assert.deepEqual(staleDrafts(drafts.slice(0, 2), now, ["R9"]), []);
});
