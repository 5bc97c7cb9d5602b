// Every shared NIK/KK vector must give exactly the same codes here as in sync/validators.py.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { MESSAGES_ID, checkKk, checkNik, decodeNikDate, messageFor } from "../../pwa/js/identity-checks.js";

const vectors = JSON.parse(readFileSync(new URL("../vectors/identity_checks.json", import.meta.url), "utf8"));
const sorted = (codes) => [...codes].sort();

test("vectors file has NIK and KK cases", () => {
  assert.ok(vectors.nik.length >= 20);
  assert.ok(vectors.kk.length >= 5);
});

for (const v of vectors.nik) {
  test(`NIK: ${v.case}`, () => {
    const got = checkNik(v.nik, { sex: v.sex, birthDate: v.birth_date, kecamatanCode: v.kecamatan_code });
    assert.deepEqual(sorted(got.errors), sorted(v.errors), "errors");
    assert.deepEqual(sorted(got.warnings), sorted(v.warnings), "warnings");
  });
}

for (const v of vectors.kk) {
  test(`KK: ${v.case}`, () => {
    const got = checkKk(v.kk_number, { kecamatanCode: v.kecamatan_code });
    assert.deepEqual(sorted(got.errors), sorted(v.errors), "errors");
    assert.deepEqual(sorted(got.warnings), sorted(v.warnings), "warnings");
  });
}

test("messages are the vectors file's messages_id, word for word", () => {
  assert.deepEqual({ ...MESSAGES_ID }, vectors.messages_id);
});

test("every code used in the vectors has a message", () => {
  const codes = new Set([...vectors.nik, ...vectors.kk].flatMap((v) => [...v.errors, ...v.warnings]));
  for (const code of codes) assert.ok(MESSAGES_ID[code], code);
});

test("messageFor fills in the kecamatan code", () => {
  assert.equal(
    messageFor("nik_region", { kecamatanCode: "631104" }),
    "NIK tidak diawali kode kecamatan ini (631104). Periksa kembali; data tetap boleh disimpan.",
  );
  assert.equal(messageFor("unknown_code"), "unknown_code");
});

test("decodeNikDate reads women's day + 40", () => {
  assert.deepEqual(decodeNikDate("6311045206050003"), { day: 12, month: 6, year2: 5, female: true });
  assert.equal(decodeNikDate("6311043102990001"), null);
});

test("non-ASCII digits are a format error", () => {
  assert.deepEqual(checkNik("٦٣١١٠٤١٢٠٣٩٩٠٠٠٢", { kecamatanCode: "631104" }).errors, ["nik_format"]);
});
