/**
 * Pure form rules (no DOM): turn what the officer typed into register_resident args or
 * update_resident fields, with Indonesian messages per field. Mirrors sync/schemas.py so the
 * server rarely has to reject what the phone accepted.
 */
import { checkKk, checkNik, messageFor } from "./identity-checks.js";
import { DISABILITY_LABELS, MARITAL_STATUS_LABELS, SEX_LABELS, VULNERABLE_CATEGORY_LABELS } from "./labels.js";

/** Fields an update_resident may change (sync/schemas.py FREE_FIELDS). */
export const FREE_FIELDS = Object.freeze(["phone", "address", "rt", "rw", "notes", "vulnerable_category", "disability"]);
/** Fields a correct_identity may change too (sync/schemas_identity.py IDENTITY_FIELDS). */
export const IDENTITY_FIELDS = Object.freeze(["name", "nik", "kk_number", "sex", "birth_place", "birth_date", "marital_status", "desa_code"]);

const REQUIRED = "Wajib diisi.";
const CHOOSE = "Silakan pilih.";

// As the server stores text (wirefields.py clean_text): no format characters (U+200B, U+00AD…), NFC.
const clean = (v) => String(v ?? "").replace(/\p{Cf}/gu, "").normalize("NFC");
const squash = (v) => clean(v).trim().split(/\s+/).filter(Boolean).join(" ");
// Multi-line notes keep their lines; other text is collapsed to single spaces (as the server does).
const text = (v) => (clean(v).includes("\n") ? clean(v).trim() : squash(v));
// A NIK/KK typed in groups ("6311 0452.0605 0003"): spaces and dots dropped.
export const idNumber = (v) => clean(v).replace(/[\s.]/g, "") || null;

function optionalText(value, max, errors, field) {
  const t = text(value);
  if (t.length > max) errors[field] = `Paling banyak ${max} karakter.`;
  return t || null;
}

function rtRw(value, errors, field) {
  const t = String(value ?? "").trim();
  if (!t) return null;
  if (!/^[0-9]{1,3}$/.test(t) || Number(t) === 0) {
    errors[field] = "Harus berupa angka, paling banyak 3 digit.";
    return null;
  }
  return t.padStart(3, "0");
}

function phone(value, errors) {
  const t = String(value ?? "").replace(/[\s.\-]/g, "");
  if (!t) return null;
  if (!/^\+?[0-9]{6,15}$/.test(t)) {
    errors.phone = "Nomor telepon hanya boleh angka (boleh diawali +), 6 sampai 15 digit.";
    return null;
  }
  return t;
}

function choice(value, table, errors, field, required) {
  const v = value || null;
  if (v === null) {
    if (required) errors[field] = CHOOSE;
    return null;
  }
  if (!Object.hasOwn(table, v)) errors[field] = "Pilihan tidak valid.";
  return v;
}

/** True for a "YYYY-MM-DD" that exists on the calendar (Date.parse accepts 30 February). */
export function isRealDate(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() + 1 === Number(m[2]) && d.getUTCDate() === Number(m[3]);
}

/** Today's date as "YYYY-MM-DD" on the device clock. */
export function todayIso(now = new Date()) {
  const p = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}

/** Validate the free fields; returns {fields, errors} with normalised values. */
export function normaliseFreeFields(values) {
  const errors = {};
  const fields = {
    phone: phone(values.phone, errors),
    address: optionalText(values.address, 200, errors, "address"),
    rt: rtRw(values.rt, errors, "rt"),
    rw: rtRw(values.rw, errors, "rw"),
    notes: optionalText(values.notes, 1000, errors, "notes"),
    vulnerable_category: choice(values.vulnerable_category, VULNERABLE_CATEGORY_LABELS, errors, "vulnerable_category", false),
    disability: choice(values.disability, DISABILITY_LABELS, errors, "disability", false),
  };
  return { fields, errors };
}

/**
 * Validate a registration. Returns {args, errors, warnings}: errors {field: message} block
 * saving; warnings {field: [message]} (NIK/KK checks) only inform.
 */
export function buildRegistration(values, { residentId, kecamatanCode, desaCodes = [], today = todayIso() }) {
  const { fields, errors } = normaliseFreeFields(values);
  const warnings = {};
  const desa = String(values.desa_code || "");
  if (!desa) errors.desa_code = CHOOSE;
  else if (desaCodes.length && !desaCodes.includes(desa)) errors.desa_code = "Desa ini tidak ditugaskan kepada Anda.";
  const name = squash(values.name);
  if (!name) errors.name = REQUIRED;
  else if (name.length > 100) errors.name = "Paling banyak 100 karakter.";
  const sex = choice(values.sex, SEX_LABELS, errors, "sex", true);
  const birthPlace = optionalText(values.birth_place, 100, errors, "birth_place");
  if (!birthPlace) errors.birth_place = REQUIRED;
  const birthDate = String(values.birth_date || "");
  if (!birthDate) errors.birth_date = REQUIRED;
  else if (!isRealDate(birthDate)) errors.birth_date = "Tanggal tidak valid.";
  else if (birthDate < "1900-01-01" || birthDate > today) errors.birth_date = "Tanggal lahir tidak masuk akal.";
  const marital = choice(values.marital_status, MARITAL_STATUS_LABELS, errors, "marital_status", true);
  if (!fields.address) errors.address = REQUIRED;

  const nik = idNumber(values.nik);
  const kk = idNumber(values.kk_number);
  const nikCheck = checkNik(nik, { sex, birthDate: errors.birth_date ? null : birthDate, kecamatanCode });
  const kkCheck = checkKk(kk, { kecamatanCode });
  const msg = (code) => messageFor(code, { kecamatanCode });
  if (nikCheck.errors.length) errors.nik = nikCheck.errors.map(msg).join(" ");
  if (nikCheck.warnings.length) warnings.nik = nikCheck.warnings.map(msg);
  if (kkCheck.errors.length) errors.kk_number = kkCheck.errors.map(msg).join(" ");
  if (kkCheck.warnings.length) warnings.kk_number = kkCheck.warnings.map(msg);

  const args = {
    resident_id: residentId,
    desa_code: desa,
    name,
    nik,
    kk_number: kk,
    sex,
    birth_place: birthPlace,
    birth_date: birthDate,
    marital_status: marital,
    ...fields,
  };
  return { args, errors, warnings };
}

/**
 * Validate an edit of free fields against the current view. Returns {fields, errors}: only
 * the fields that really changed (an empty object means nothing to send).
 */
export function buildUpdate(values, current) {
  const { fields, errors } = normaliseFreeFields(values);
  const changed = {};
  for (const f of FREE_FIELDS) {
    if ((fields[f] ?? null) !== (current?.[f] ?? null)) changed[f] = fields[f];
  }
  return { fields: changed, errors };
}

/**
 * Validate an edit that may correct identity fields too (registration rules). Returns {name,
 * fields, errors, warnings}: correct_identity if an identity field changed, else update_resident,
 * and only the changed fields; an untouched stored value blocks nothing.
 */
export function buildCorrection(values, current, opts) {
  const { args, errors, warnings } = buildRegistration(values, opts);
  const fields = {};
  for (const f of [...IDENTITY_FIELDS, ...FREE_FIELDS]) {
    if ((args[f] ?? null) !== (current?.[f] ?? null)) fields[f] = args[f];
  }
  for (const f of Object.keys(errors)) {
    if (f === "address" ? errors.address === REQUIRED : !(f in fields) && !FREE_FIELDS.includes(f)) delete errors[f];
  }
  const name = IDENTITY_FIELDS.some((f) => f in fields) ? "correct_identity" : "update_resident";
  return { name, fields, errors, warnings };
}

/** Flatten the server's field messages ({"args.nik": "…"} or nested) to {field: message}. */
export function serverFieldMessages(fields) {
  const out = {};
  const walk = (value, path) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    } else {
      const key = path.split(".").filter((p) => p !== "args" && p !== "fields").pop() || "_";
      out[key] = Array.isArray(value) ? value.join(" ") : String(value);
    }
  };
  walk(fields || {}, "");
  return out;
}
