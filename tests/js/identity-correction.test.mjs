// The phone's side of correct_identity: which mutation "Ubah data" sends (resident-form.js
// buildCorrection), when the identity fields are open (pipeline.js identityEditable) and the
// case as the phone shows it while the correction is unsent (warnings recomputed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildCorrection } from "../../pwa/js/resident-form.js";
import { applyLocal, identityEditable } from "../../pwa/js/pipeline.js";
import { makeEntry } from "../../pwa/js/outbox-rules.js";

const ID = "00000000-0000-4000-8000-000000000001";
const VIEW = {
  resident_id: ID, stage: "found", desa_code: "6311042005", name: "Salah Ketik Namaa",
  nik: "6311041203990001", kk_number: null, sex: "female", birth_place: "Paringin",
  birth_date: "1999-03-12", marital_status: "single", address: "Jl. Uji", rt: null, rw: null,
  phone: null, notes: null, vulnerable_category: null, disability: null, warnings: ["nik_sex"],
};
const OPTS = { kecamatanCode: "631104", desaCodes: ["6311042005"], today: "2026-12-06" };
const form = (changes) => ({ ...VIEW, rt: "", rw: "", phone: "", notes: "", ...changes });

test("identity fields are open until the case is verified", () => {
  assert.deepEqual(["listed", "found", "verified", "delivered", "rejected"].map(identityEditable),
    [true, true, false, false, false]);
});

test("a corrected name and an added KK make one correct_identity with only those fields", () => {
  const built = buildCorrection(form({ name: "Salah  Ketik Nama", kk_number: "6311 0401 0120 0002" }), VIEW, OPTS);
  assert.equal(built.name, "correct_identity");
  assert.deepEqual(built.fields, { name: "Salah Ketik Nama", kk_number: "6311040101200002" });
  assert.deepEqual(built.errors, {});
});

test("free fields only stay an update_resident; with an identity change they ride along", () => {
  const free = buildCorrection(form({ phone: "0812 3456 789" }), VIEW, OPTS);
  assert.deepEqual([free.name, free.fields, free.errors], ["update_resident", { phone: "08123456789" }, {}]);
  const both = buildCorrection(form({ phone: "08123456789", sex: "male" }), VIEW, OPTS);
  assert.deepEqual([both.name, both.fields], ["correct_identity", { sex: "male", phone: "08123456789" }]);
});

test("a wrong changed NIK blocks; a stored value left alone does not", () => {
  assert.ok(buildCorrection(form({ nik: "123" }), VIEW, OPTS).errors.nik);
  const untouched = buildCorrection(form({ name: "Nama Baru" }), { ...VIEW, birth_place: null }, OPTS);
  assert.deepEqual(untouched.errors, {});
});

test("the unsent correction shows the corrected case without the NIK/sex warning", () => {
  const entry = makeEntry(1, "correct_identity", { resident_id: ID, base_version: 1, fields: { sex: "male", kk_number: "6311040101200002" } }, "2026-12-06T09:00:00+08:00");
  const view = applyLocal(VIEW, entry, ID);
  assert.equal(view.sex, "male");
  assert.equal(view.kk_number, "6311040101200002");
  assert.deepEqual(view.warnings, []);
});
