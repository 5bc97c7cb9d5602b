import { test } from "node:test";
import assert from "node:assert/strict";
import { FREE_FIELDS, buildRegistration, buildUpdate, isRealDate, serverFieldMessages } from "../../pwa/js/resident-form.js";

const ctx = { residentId: "0b0e5b8e-8a3f-4c6b-9d53-5a3c1e2f7a10", kecamatanCode: "631104", desaCodes: ["6311042005"], today: "2026-11-28" };
const typed = (o = {}) => ({
  desa_code: "6311042005", name: "  Siti   Aminah ", nik: "6311045206050003", kk_number: "6311040101200001",
  sex: "female", birth_place: "Batumandi", birth_date: "2005-06-12", marital_status: "single",
  address: "Jl. Pasar  Lama", rt: "2", rw: "01", phone: "0812-3456-7890", vulnerable_category: "", disability: "", notes: "", ...o,
});

test("a complete registration becomes register_resident args (DESIGN §4)", () => {
  const { args, errors, warnings } = buildRegistration(typed(), ctx);
  assert.deepEqual(errors, {});
  assert.deepEqual(warnings, {});
  assert.deepEqual(args, {
    resident_id: ctx.residentId, desa_code: "6311042005", name: "Siti Aminah", nik: "6311045206050003",
    kk_number: "6311040101200001", sex: "female", birth_place: "Batumandi", birth_date: "2005-06-12",
    marital_status: "single", address: "Jl. Pasar Lama", rt: "002", rw: "001", phone: "081234567890",
    vulnerable_category: null, disability: null, notes: null,
  });
});

test("required fields are named in Indonesian", () => {
  const { errors } = buildRegistration({}, ctx);
  assert.deepEqual(Object.keys(errors).sort(), ["address", "birth_date", "birth_place", "desa_code", "marital_status", "name", "sex"].sort());
  assert.equal(errors.name, "Wajib diisi.");
  assert.equal(errors.sex, "Silakan pilih.");
});

test("NIK errors block, NIK warnings only warn", () => {
  assert.equal(buildRegistration(typed({ nik: "123" }), ctx).errors.nik, "NIK harus 16 digit angka.");
  const warned = buildRegistration(typed({ sex: "male" }), ctx);
  assert.deepEqual(warned.errors, {});
  assert.equal(warned.warnings.nik.length, 1);
  assert.match(warned.warnings.nik[0], /jenis kelamin/);
  const kk = buildRegistration(typed({ kk_number: "6311010101200001" }), ctx);
  assert.deepEqual(kk.errors, {});
  assert.match(kk.warnings.kk_number[0], /\(631104\)/);
});

test("no NIK and no KK is fine", () => {
  const { args, errors } = buildRegistration(typed({ nik: " ", kk_number: "" }), ctx);
  assert.deepEqual(errors, {});
  assert.equal(args.nik, null);
  assert.equal(args.kk_number, null);
});

test("dates: real, not in the future, not before 1900", () => {
  assert.equal(buildRegistration(typed({ birth_date: "2027-01-01" }), ctx).errors.birth_date, "Tanggal lahir tidak masuk akal.");
  assert.equal(buildRegistration(typed({ birth_date: "1899-12-31" }), ctx).errors.birth_date, "Tanggal lahir tidak masuk akal.");
  assert.equal(buildRegistration(typed({ birth_date: "2005-02-30" }), ctx).errors.birth_date, "Tanggal tidak valid.");
  assert.equal(isRealDate("2000-02-29"), true);
  assert.equal(isRealDate("2001-02-29"), false);
});

test("desa must be one of the officer's", () => {
  assert.match(buildRegistration(typed({ desa_code: "6311042099" }), ctx).errors.desa_code, /tidak ditugaskan/);
});

test("RT/RW, phone and choices follow the server's rules", () => {
  const bad = buildRegistration(typed({ rt: "0", rw: "12a", phone: "telp 0812", vulnerable_category: "alien", disability: "x" }), ctx).errors;
  assert.deepEqual(Object.keys(bad).sort(), ["disability", "phone", "rt", "rw", "vulnerable_category"]);
  const ok = buildRegistration(typed({ phone: "+62 812.3456.7890", vulnerable_category: "natural_disaster", disability: "visual", notes: "baris 1\nbaris 2" }), ctx).args;
  assert.equal(ok.phone, "+6281234567890");
  assert.equal(ok.vulnerable_category, "natural_disaster");
  assert.equal(ok.notes, "baris 1\nbaris 2");
});

test("an edit sends only the free fields that changed", () => {
  const current = { phone: "081100", address: "Jl. A", rt: "001", rw: null, notes: null, vulnerable_category: null, disability: null, name: "X" };
  const { fields, errors } = buildUpdate({ phone: "081100", address: "Jl. B", rt: "1", rw: "", notes: "", vulnerable_category: "neglected", disability: "", name: "Y" }, current);
  assert.deepEqual(errors, {});
  assert.deepEqual(fields, { address: "Jl. B", vulnerable_category: "neglected" });
  assert.ok(FREE_FIELDS.every((f) => !["name", "nik", "sex"].includes(f)));
});

test("server field messages are flattened to form fields", () => {
  assert.deepEqual(serverFieldMessages({ "args.birth_date": "Salah.", args: { fields: { phone: ["A", "B"] } }, _schema: "Umum." }),
    { birth_date: "Salah.", phone: "A B", _schema: "Umum." });
});
