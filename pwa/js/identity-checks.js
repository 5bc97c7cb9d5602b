/**
 * Pure NIK and KK checks (no DOM). NIK = PPKKCC DDMMYY SSSS; women have day + 40.
 * The shared vectors in tests/vectors/identity_checks.json define the codes; the server's
 * sync/validators.py gives the same answers. Errors block saving, warnings never do.
 */

/** Indonesian message per check code ({kecamatan_code} is filled in by messageFor). */
export const MESSAGES_ID = Object.freeze({
  nik_format: "NIK harus 16 digit angka.",
  nik_date: "Tanggal lahir di dalam NIK (digit ke-7 sampai ke-12) tidak mungkin ada.",
  nik_serial: "Nomor urut NIK (4 digit terakhir) tidak boleh 0000.",
  nik_region:
    "NIK tidak diawali kode kecamatan ini ({kecamatan_code}). Periksa kembali; data tetap boleh disimpan.",
  nik_birth_date:
    "Tanggal lahir di NIK berbeda dengan tanggal lahir yang diisi. Periksa kembali; data tetap boleh disimpan.",
  nik_sex:
    "Kode jenis kelamin di NIK (perempuan: tanggal + 40) tidak sesuai dengan jenis kelamin yang diisi. Periksa kembali; data tetap boleh disimpan.",
  nik_registered_elsewhere:
    "NIK ini sudah tercatat pada data warga di kecamatan lain. Periksa kembali bersama Disdukcapil; data tetap boleh disimpan.",
  kk_format: "Nomor KK harus 16 digit angka.",
  kk_region:
    "Nomor KK tidak diawali kode kecamatan ini ({kecamatan_code}). Periksa kembali; data tetap boleh disimpan.",
});

// ASCII digits only: \d would also be ASCII in JS, but spelling it out matches the server.
const SIXTEEN_DIGITS = /^[0-9]{16}$/;

function daysInMonth(month, twoDigitYear) {
  // The century is unknown: "00" must count as a leap year (2000 was), so only YY % 4 matters.
  if (month === 2) return twoDigitYear % 4 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Decode the date part of a 16-digit NIK: {day, month, year2, female}, or null if impossible. */
export function decodeNikDate(nik) {
  const dayCode = Number(nik.slice(6, 8));
  const month = Number(nik.slice(8, 10));
  const year2 = Number(nik.slice(10, 12));
  const female = dayCode > 40;
  const day = female ? dayCode - 40 : dayCode;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(month, year2)) return null;
  return { day, month, year2, female };
}

function parseIsoDate(value) {
  if (typeof value !== "string") return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null; // an unusable birth date is the form's error, not the NIK's
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
}

/** Check a NIK against sex ("male"/"female"), birth date ("YYYY-MM-DD") and kecamatan code. */
export function checkNik(nik, { sex = null, birthDate = null, kecamatanCode = "" } = {}) {
  const errors = [];
  const warnings = [];
  if (nik == null || nik === "") return { errors, warnings }; // residents may have no NIK
  if (!SIXTEEN_DIGITS.test(nik)) return { errors: ["nik_format"], warnings };
  if (kecamatanCode && nik.slice(0, 6) !== kecamatanCode) warnings.push("nik_region");
  if (nik.slice(12) === "0000") errors.push("nik_serial");
  const decoded = decodeNikDate(nik);
  if (decoded === null) {
    errors.push("nik_date");
    return { errors, warnings }; // no date to compare with the birth date or the sex
  }
  const born = parseIsoDate(birthDate);
  if (born && (born.day !== decoded.day || born.month !== decoded.month || born.year % 100 !== decoded.year2)) {
    warnings.push("nik_birth_date");
  }
  if ((sex === "male" && decoded.female) || (sex === "female" && !decoded.female)) {
    warnings.push("nik_sex");
  }
  return { errors, warnings };
}

/** Check a KK number's format and region. */
export function checkKk(kk, { kecamatanCode = "" } = {}) {
  if (kk == null || kk === "") return { errors: [], warnings: [] };
  if (!SIXTEEN_DIGITS.test(kk)) return { errors: ["kk_format"], warnings: [] };
  // Families move, so a KK from elsewhere is only a warning.
  const warnings = kecamatanCode && kk.slice(0, 6) !== kecamatanCode ? ["kk_region"] : [];
  return { errors: [], warnings };
}

/** The Indonesian message of a check code. */
export function messageFor(code, { kecamatanCode = "" } = {}) {
  const text = MESSAGES_ID[code];
  return text ? text.replace("{kecamatan_code}", kecamatanCode) : code;
}
