/**
 * Pure form rules for the pipeline actions (no DOM): what the officer typed → mutation args
 * (docs/interfaces-pipeline.md), with an Indonesian message per field. Each builder returns
 * {args, errors}; errors {field: message} block saving.
 */
import { parseStepTime } from "./date-input.js";
import {
  NOT_PRINTED_REASON_LABELS, RECORD_FAILED_REASON_LABELS, RECIPIENT_LABELS, REJECTION_REASON_LABELS,
} from "./labels.js";

export const MAX_PICKUP = 50;
export const MAX_BATCH_RESIDENTS = 500;
const REQUIRED = "Wajib diisi.";
const CHOOSE = "Silakan pilih.";
const FUTURE_SLACK_MS = 10 * 60 * 1000;
const SHA256 = /^[0-9a-f]{64}$/;

const squash = (v) => String(v ?? "").trim().split(/\s+/).filter(Boolean).join(" ");

function text(value, max, errors, field, required = false) {
  const t = String(value ?? "").includes("\n") ? String(value).trim() : squash(value);
  if (!t && required) errors[field] = REQUIRED;
  else if (t.length > max) errors[field] = `Paling banyak ${max} karakter.`;
  return t || null;
}

function choice(value, table, errors, field) {
  if (!value) {
    errors[field] = CHOOSE;
    return null;
  }
  if (!Object.hasOwn(table, value)) errors[field] = "Pilihan tidak valid.";
  return value;
}

/**
 * A step time as typed, {date: "28/11/2026", time: "14:30"} (date-input.js: hh/bb/tttt, 24-hour
 * WITA) → ISO 8601 with the WITA offset ("2026-11-28T14:30:00+08:00"). Required, and not later
 * than now (+10 minutes of slack for a slightly fast clock).
 */
export function localDateTime(value, errors, field, now = new Date()) {
  const { iso, error } = parseStepTime(value?.date, value?.time);
  const t = Date.parse(iso);
  if (error) errors[field] = error;
  // Written so that NaN (an unreadable time) fails every test instead of passing them.
  else if (!(t <= now.getTime() + FUTURE_SLACK_MS)) errors[field] = Number.isNaN(t) ? "Waktu tidak valid." : "Waktu tidak boleh di masa depan.";
  else if (!(t >= Date.parse("2020-01-01T00:00:00+08:00"))) errors[field] = "Waktu tidak masuk akal.";
  return errors[field] ? null : iso;
}

/** verify_resident: the SOP needs the KK copy (seen, or photographed); one eligibility check must hold. */
export function buildVerify(values, { residentId }) {
  const errors = {};
  const checks = {
    kk_copy_seen: Boolean(values.kk_copy_seen),
    age_eligible: Boolean(values.age_eligible),
    marital_eligible: Boolean(values.marital_eligible),
  };
  const kkPhoto = values.kk_photo || null;
  if (kkPhoto && !SHA256.test(kkPhoto)) errors.kk_photo = "Foto tidak valid; ambil ulang.";
  if (!checks.kk_copy_seen && !kkPhoto) {
    errors.kk_copy_seen = "Fotokopi KK wajib dilihat (atau difoto) sebelum verifikasi.";
  }
  if (!checks.age_eligible && !checks.marital_eligible) {
    errors.age_eligible = "Warga memenuhi syarat karena umur atau status kawin. Bila tidak keduanya, pilih Tolak dengan alasan \"Belum memenuhi syarat\".";
  }
  const notes = text(values.notes, 1000, errors, "notes");
  return { args: { resident_id: residentId, checks, kk_photo: kkPhoto, notes }, errors };
}

/** reject_resident: a reason; its text is required for "other". */
export function buildReject(values, { residentId }) {
  const errors = {};
  const reason = choice(values.reason, REJECTION_REASON_LABELS, errors, "reason");
  const reasonText = text(values.reason_text, 500, errors, "reason_text", reason === "other");
  return { args: { resident_id: residentId, reason, reason_text: reasonText }, errors };
}

/** pick_up of one or several verified residents (1–50), all or nothing on the server. */
export function buildPickup(values, { pickupId, now = new Date() }) {
  const errors = {};
  const ids = [...new Set(values.resident_ids || [])];
  if (ids.length === 0) errors.resident_ids = "Pilih minimal satu warga yang dijemput.";
  else if (ids.length > MAX_PICKUP) errors.resident_ids = `Paling banyak ${MAX_PICKUP} warga sekali jemput.`;
  const at = localDateTime(values.picked_up_at, errors, "picked_up_at", now);
  const point = text(values.pickup_point, 200, errors, "pickup_point", true);
  const vehicle = text(values.vehicle, 100, errors, "vehicle", true);
  return { args: { pickup_id: pickupId, resident_ids: ids, picked_up_at: at, pickup_point: point, vehicle }, errors };
}

/** cancel_pickup: picked_up → verified, with a reason. */
export function buildCancelPickup(values, { residentId }) {
  const errors = {};
  const reason = text(values.reason, 500, errors, "reason", true);
  return { args: { resident_id: residentId, reason }, errors };
}

/** record_done (outcome "done") or record_failed (outcome "failed") at the kecamatan office. */
export function buildRecording(values, { residentId, now = new Date() }) {
  const errors = {};
  if (values.outcome === "failed") {
    const reason = choice(values.reason, RECORD_FAILED_REASON_LABELS, errors, "reason");
    const reasonText = text(values.reason_text, 500, errors, "reason_text", reason === "other");
    return { name: "record_failed", args: { resident_id: residentId, reason, reason_text: reasonText }, errors };
  }
  if (values.outcome !== "done") errors.outcome = CHOOSE;
  const at = localDateTime(values.recorded_at, errors, "recorded_at", now);
  return { name: "record_done", args: { resident_id: residentId, recorded_at: at }, errors };
}

/** handover_batch: residents that are Sudah Rekam, handed to Disdukcapil with a berita acara number. */
export function buildHandover(values, { batchId, now = new Date() }) {
  const errors = {};
  const ids = [...new Set(values.resident_ids || [])];
  if (ids.length === 0) errors.resident_ids = "Pilih minimal satu warga yang diserahkan.";
  else if (ids.length > MAX_BATCH_RESIDENTS) errors.resident_ids = `Paling banyak ${MAX_BATCH_RESIDENTS} warga per berkas.`;
  const number = text(values.number, 50, errors, "number", true);
  const at = localDateTime(values.handed_at, errors, "handed_at", now);
  const notes = text(values.notes, 1000, errors, "notes");
  return { args: { batch_id: batchId, number, handed_at: at, resident_ids: ids, notes }, errors };
}

/**
 * record_collection for one batch: items [{resident_id, outcome, reason, reason_text}].
 * A card not printed needs a reason (and its text for "other"). Errors are keyed
 * "item-<resident_id>" for the item's row.
 */
export function buildCollection(values, { batchId, now = new Date() }) {
  const errors = {};
  const items = [];
  for (const item of values.items || []) {
    const key = `item-${item.resident_id}`;
    if (item.outcome === "collected") {
      items.push({ resident_id: item.resident_id, outcome: "collected", reason: null, reason_text: null });
    } else if (item.outcome === "not_printed") {
      const e = {};
      const reason = choice(item.reason, NOT_PRINTED_REASON_LABELS, e, "reason");
      const reasonText = text(item.reason_text, 500, e, "reason_text", reason === "other");
      if (e.reason || e.reason_text) errors[key] = e.reason ? `Alasan belum dicetak: ${e.reason}` : `Keterangan: ${e.reason_text}`;
      items.push({ resident_id: item.resident_id, outcome: "not_printed", reason, reason_text: reasonText });
    }
  }
  if (!items.length) errors.items = "Tandai minimal satu KTP: sudah diambil atau belum dicetak.";
  const at = localDateTime(values.collected_at, errors, "collected_at", now);
  return { args: { batch_id: batchId, items, collected_at: at }, errors };
}

/** GPS from the Geolocation API, rounded (6 decimals ≈ 0,1 m; accuracy in whole metres). */
export function gpsFromPosition(position) {
  const c = position?.coords;
  if (!c || !Number.isFinite(c.latitude) || !Number.isFinite(c.longitude)) return null;
  const round6 = (n) => Math.round(n * 1e6) / 1e6;
  return {
    lat: round6(c.latitude),
    lon: round6(c.longitude),
    accuracy_m: Number.isFinite(c.accuracy) ? Math.round(c.accuracy) : null,
  };
}

/** deliver_card: to the owner or a proxy (name + relation), a signature, optional photo and GPS. */
export function buildDelivery(values, { residentId, deliveryId, now = new Date() }) {
  const errors = {};
  const recipient = choice(values.recipient, RECIPIENT_LABELS, errors, "recipient");
  const proxy = recipient === "proxy";
  const proxyName = proxy ? text(values.proxy_name, 100, errors, "proxy_name", true) : null;
  const proxyRelation = proxy ? text(values.proxy_relation, 50, errors, "proxy_relation", true) : null;
  const at = localDateTime(values.delivered_at, errors, "delivered_at", now);
  const sig = values.signature;
  if (!sig?.data || !SHA256.test(sig.sha256 || "")) errors.signature = values.signature_problem || "Tanda tangan penerima wajib ada.";
  else if (values.signature_problem) errors.signature = values.signature_problem;
  const photo = values.photo || null;
  if (photo && !SHA256.test(photo)) errors.photo = "Foto tidak valid; ambil ulang.";
  return {
    args: {
      resident_id: residentId, delivery_id: deliveryId, delivered_at: at, recipient,
      proxy_name: proxyName, proxy_relation: proxyRelation,
      signature: sig ? { data: sig.data, sha256: sig.sha256 } : null,
      photo, gps: values.gps || null,
    },
    errors,
  };
}
