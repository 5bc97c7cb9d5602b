import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ageInYears, eligibilityNote, formatAge, formatDate, formatDateTimeWita, formatNumber, isoWithOffset, maskNik } from "../../pwa/js/format.js";

const maskVectors = JSON.parse(readFileSync(new URL("../vectors/nik_mask.json", import.meta.url), "utf8"));

test("isoWithOffset writes the device clock with its offset", () => {
  const s = isoWithOffset(new Date("2026-11-28T01:15:03Z"));
  assert.match(s, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
  assert.equal(Date.parse(s), Date.parse("2026-11-28T01:15:03Z"), "same instant");
});

test("Indonesian dates, WITA times and numbers", () => {
  assert.equal(formatDate("2026-11-28"), "28/11/2026");
  assert.equal(formatDate(""), "");
  assert.equal(formatDateTimeWita("2026-11-28T01:15:00Z"), "28/11/2026 09.15 WITA");
  assert.equal(formatDateTimeWita("2026-11-28T16:05:00Z"), "29/11/2026 00.05 WITA");
  assert.equal(formatNumber(1234567), "1.234.567");
  assert.equal(formatNumber(12), "12");
});

test("ages in words", () => {
  assert.equal(formatAge(10_000), "baru saja");
  assert.equal(formatAge(5 * 60_000), "5 menit");
  assert.equal(formatAge(3 * 3600_000), "3 jam");
  assert.equal(formatAge(50 * 3600_000), "2 hari");
});

test("NIK is masked in lists: every case of the shared vectors (first 6 and last 4 visible)", () => {
  assert.ok(maskVectors.cases.length >= 7);
  for (const { nik, visible } of maskVectors.cases) assert.equal(maskNik(nik), visible.replaceAll("#", "•"), nik);
  assert.equal(maskNik("6311045206050003"), "631104••••••0003");
  assert.equal(maskNik(null), "");
});

test("age and eligibility (KTP-el at 17 or married, recording from 16, NIK off at 22)", () => {
  const today = new Date(2026, 10, 28);
  assert.equal(ageInYears("2010-11-28", today), 16);
  assert.equal(ageInYears("2010-11-29", today), 15);
  assert.match(eligibilityNote(15, "single"), /belum bisa rekam/);
  assert.match(eligibilityNote(16, "single"), /boleh rekam/);
  assert.match(eligibilityNote(15, "married"), /wajib KTP-el/);
  assert.match(eligibilityNote(23, "single"), /dinonaktifkan/);
  assert.equal(eligibilityNote(null), "");
});
