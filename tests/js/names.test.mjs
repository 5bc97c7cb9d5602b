// Names as people write them (issue #11 §4) on the phone: what is saved is clean (NFC, no
// invisible format characters, NIK/KK without the card's spaces and dots), and the work-list
// search folds case, accents and apostrophes as the office does (sync/wirefields.py fold).
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildRegistration, buildUpdate } from "../../pwa/js/resident-form.js";
import { filterRecords } from "../../pwa/js/work-lists.js";

const ctx = { residentId: "0b0e5b8e-8a3f-4c6b-9d53-5a3c1e2f7a10", kecamatanCode: "631104", desaCodes: ["6311042005"], today: "2026-11-28" };
const typed = (o = {}) => ({
  desa_code: "6311042005", name: "Siti Aminah", nik: "6311045206050003", kk_number: "6311040101200001",
  sex: "female", birth_place: "Batumandi", birth_date: "2005-06-12", marital_status: "single",
  address: "Jl. Pasar Lama", rt: "2", rw: "01", phone: "", vulnerable_category: "", disability: "", notes: "", ...o,
});
const saved = (o) => buildRegistration(typed(o), ctx);

test("names are saved in NFC without invisible format characters", () => {
  const nfd = "Nur A\u030aini";
  assert.equal(saved({ name: nfd }).args.name, "Nur \u00c5ini");
  assert.equal(saved({ name: "Siti\u200b Aminah" }).args.name, "Siti Aminah");
  assert.equal(saved({ name: "Ri\u00adna Wati" }).args.name, "Rina Wati");
  assert.equal(saved({ name: "\u202aSiti\u202c \u2066Aminah\u2069" }).args.name, "Siti Aminah");
  assert.equal(saved({ name: "\u200b\u00ad" }).errors.name, "Wajib diisi.");
  // Free text too, on a registration and on an edit; a note keeps its lines.
  assert.equal(saved({ birth_place: "Bat\u200bumandi" }).args.birth_place, "Batumandi");
  assert.equal(buildUpdate({ address: "Jl.\u00a0Pa\u00adsar", notes: "satu\u200b\ndua" }, {}).fields.address, "Jl. Pasar");
  assert.equal(buildUpdate({ notes: "satu\u200b\ndua" }, {}).fields.notes, "satu\ndua");
});

test("spaces and dots typed inside a NIK or KK number are dropped", () => {
  const { args, errors } = saved({ nik: "6311 0452.0605 0003", kk_number: " 6311.0401.0120.0001 " });
  assert.deepEqual(errors, {});
  assert.equal(args.nik, "6311045206050003");
  assert.equal(args.kk_number, "6311040101200001");
  assert.equal(saved({ nik: " . " }).args.nik, null);
  assert.equal(saved({ nik: "6311-0452-0605-0003" }).errors.nik, "NIK harus 16 digit angka.");
});

const rec = (name, nik = null) => ({ resident_id: name, desa_code: "6311042005", view: { name, stage: "found", nik }, pending: 0 });
const records = [rec("Ma'ruf"), rec("\u00c9lok \u00d1urjanah", "6311045206050003"), rec("Nur A\u030aini"), rec("Budi")];
const found = (query) => filterRecords(records, { query }).map((r) => r.view.name);

test("the work-list search folds case, accents and apostrophes", () => {
  assert.deepEqual(found("maruf"), ["Ma'ruf"]);
  assert.deepEqual(found("MA\u2019RUF"), ["Ma'ruf"]);
  assert.deepEqual(found("ma`ruf"), ["Ma'ruf"]);
  assert.deepEqual(found("\u00c9lok \u00d1urjanah"), ["\u00c9lok \u00d1urjanah"]);
  assert.deepEqual(found("elok  nurjanah"), ["\u00c9lok \u00d1urjanah"]);
  assert.deepEqual(found("nur \u00c5ini"), ["Nur A\u030aini"]);
  assert.deepEqual(found("Nur Ai\u200bni"), ["Nur A\u030aini"]);
  assert.deepEqual(found("6311 0452.0605"), ["\u00c9lok \u00d1urjanah"]);
  assert.equal(found("").length, 4);
});

test("the phone folds like the server: fullwidth apostrophe and ß", () => {
  // sync/wirefields.py fold: "Ma＇ruf" → "maruf" (NFKD makes it an apostrophe, then dropped),
  // "Straße" → "strasse" (casefold).
  const more = [rec("Straße Wati"), rec("Ma\uff07ruf Dua")];
  const hits = (query) => filterRecords(more, { query }).map((r) => r.view.name);
  assert.deepEqual(hits("maruf dua"), ["Ma\uff07ruf Dua"]);
  assert.deepEqual(hits("STRASSE"), ["Straße Wati"]);
});
