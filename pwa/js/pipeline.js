/**
 * The SOP pipeline on the phone, pure (no DOM, no IndexedDB), after docs/interfaces-pipeline.md:
 * the stages, and STEPS, the one table of steps: per mutation (its wire name) everything the app
 * knows of that step. Every other module reads it. The server decides; a step's local effect
 * only lets the officer see it at once (tests/js/stage-transitions.test.mjs holds it to the
 * server's own table). Also the life of a photo waiting for upload.
 */
import { checkKk, checkNik } from "./identity-checks.js";

/** Forward stages in pipeline order; `rejected` is terminal and ranked apart (-1). */
export const STAGE_ORDER = Object.freeze([
  "listed", "found", "verified", "picked_up", "recorded", "sent_to_registry", "card_collected", "delivered",
]);

/** Rank of a stage: its place in STAGE_ORDER; -1 for rejected or an unknown code. */
export function rankOf(stage) {
  return STAGE_ORDER.indexOf(stage);
}

// Move forward to `target` (forward stages are a max), from at least `from`, never out of rejected.
function forward(view, from, target) {
  const rank = rankOf(view.stage);
  if (view.stage === "rejected" || rank < rankOf(from)) return view.stage;
  return rank < rankOf(target) ? target : view.stage;
}

// The step moves a case at one of `from` to `target`, and leaves it anywhere else.
const move = (view, from, target) => (from.includes(view.stage) ? target : view.stage);
const RECORD = { route: "#/warga/{id}/rekam", form: "record", action: "Catat hasil rekam" };

/**
 * Mutation name → its step: `label` (what the officer reads of it: "Tersimpan di HP: …",
 * "Perlu perbaikan"), `action` (the case screen's button), `route` (the hash of its form; {id}
 * is the resident), `form` (the step form's DOM id base, case-form-kit.js; none: the resident
 * form), `group` (one form for several residents, opened with or without one), `offeredAt`
 * (stages whose case screen offers it), `residents(args)` and `photos(args)` (default: the
 * one resident_id, no photo), `local(view, args, residentId, entry)` (the view while it is
 * unsent). In the order of the case screen's buttons.
 */
export const STEPS = Object.freeze({
  register_resident: {
    label: "Pendaftaran warga", action: "Daftarkan warga ini", route: "#/daftar/{id}", offeredAt: ["listed"],
    // A "Belum Ditemukan" (listed) resident registered with its own id becomes Terdata.
    local: (v, a) => ({ ...v, ...a, stage: !v?.stage || v.stage === "listed" ? "found" : v.stage }),
  },
  verify_resident: {
    label: "Verifikasi", action: "Verifikasi", route: "#/warga/{id}/verifikasi", form: "verify", offeredAt: ["found"],
    photos: (a) => (a.kk_photo ? [a.kk_photo] : []),
    local: (v, a) => ({
      ...v, stage: move(v, ["found"], "verified"),
      verification: { checks: a.checks, notes: a.notes ?? null }, kk_photo: a.kk_photo ?? v.kk_photo ?? null,
    }),
  },
  reject_resident: {
    label: "Penolakan", action: "Tolak", route: "#/warga/{id}/tolak", form: "reject", offeredAt: ["found"],
    local: (v, a) => ({
      ...v, stage: move(v, ["listed", "found"], "rejected"), rejection: { reason: a.reason, reason_text: a.reason_text ?? null },
    }),
  },
  pick_up: {
    label: "Penjemputan", action: "Jemput", route: "#/jemput/{id}", form: "pickup", group: true, offeredAt: ["verified"],
    residents: (a) => [...(a.resident_ids || [])],
    local: (v, a) => ({
      ...v, stage: forward(v, "verified", "picked_up"),
      pickup: { pickup_id: a.pickup_id, at: a.picked_up_at, point: a.pickup_point, vehicle: a.vehicle },
    }),
  },
  record_done: {
    ...RECORD, label: "Perekaman selesai", offeredAt: ["verified", "picked_up"],
    local: (v, a) => ({ ...v, stage: forward(v, "verified", "recorded"), recording: { at: a.recorded_at } }),
  },
  record_failed: {
    ...RECORD, label: "Perekaman gagal", offeredAt: ["picked_up"],
    local: (v, a, id, entry) => (v.stage === "picked_up"
      ? { ...v, stage: "verified", pickup: null, recording: { failed: a.reason, reason_text: a.reason_text ?? null, at: entry.at } }
      : v),
  },
  cancel_pickup: {
    label: "Pembatalan penjemputan", action: "Batalkan penjemputan", route: "#/warga/{id}/batal-jemput", form: "cancel",
    offeredAt: ["picked_up"],
    local: (v) => (v.stage === "picked_up" ? { ...v, stage: "verified", pickup: null } : v),
  },
  handover_batch: {
    label: "Penyerahan ke Disdukcapil", action: "Serahkan berkas ke Disdukcapil", route: "#/serahkan-berkas/{id}",
    form: "handover", group: true, offeredAt: ["recorded"],
    residents: (a) => [...(a.resident_ids || [])],
    local: (v, a) => ({ ...v, stage: forward(v, "recorded", "sent_to_registry"), batch_id: a.batch_id, batch_number: a.number, batch_handed_at: a.handed_at }),
  },
  record_collection: {
    label: "Pengambilan KTP", action: "Catat pengambilan KTP", route: "#/warga/{id}/ambil-ktp", form: "collection",
    offeredAt: ["sent_to_registry"],
    residents: (a) => (a.items || []).map((i) => i.resident_id),
    local: (v, a, id) => {
      const item = (a.items || []).find((i) => i.resident_id === id);
      if (!item) return v;
      if (item.outcome === "collected") return { ...v, stage: forward(v, "sent_to_registry", "card_collected"), card_issue: null, card_collected_at: a.collected_at };
      return { ...v, card_issue: { reason: item.reason, reason_text: item.reason_text ?? null, batch_id: a.batch_id, at: a.collected_at } };
    },
  },
  deliver_card: {
    label: "Penyerahan KTP", action: "Serahkan KTP", route: "#/warga/{id}/serahkan-ktp", form: "deliver",
    offeredAt: ["card_collected"],
    photos: (a) => (a.photo ? [a.photo] : []),
    // From sent_to_registry too, as on the server: the card in hand shows it was collected.
    local: (v, a) => ({
      ...v, stage: forward(v, "sent_to_registry", "delivered"),
      delivery: {
        delivery_id: a.delivery_id, delivered_at: a.delivered_at, recipient: a.recipient,
        proxy_name: a.proxy_name ?? null, proxy_relation: a.proxy_relation ?? null,
        signature_sha256: a.signature?.sha256 ?? null, photo: a.photo ?? null, gps: a.gps ?? null,
      },
    }),
  },
  update_resident: {
    label: "Perubahan data warga", action: "Ubah data", route: "#/ubah/{id}", offeredAt: [...STAGE_ORDER.slice(1), "rejected"],
    local: (v, a) => ({ ...v, ...a.fields }),
  },
  // Saved by update_resident's form when an identity field changed before verification.
  correct_identity: {
    label: "Koreksi data identitas", action: "Ubah data", route: "#/ubah/{id}", offeredAt: [],
    // NIK/KK warnings as the server recomputes them (only it knows a NIK of another kecamatan).
    local: (v, a) => {
      const n = { ...v, ...a.fields };
      const k = { kecamatanCode: String(n.desa_code).slice(0, 6) };
      return { ...n, warnings: [...checkNik(n.nik, { ...k, sex: n.sex, birthDate: n.birth_date }).warnings,
        ...checkKk(n.kk_number, k).warnings, ...(v.warnings || []).filter((w) => w === "nik_registered_elsewhere" && n.nik === v.nik)] };
    },
  },
});

/** True while the officer may correct identity data: before verification. */
export const identityEditable = (stage) => rankOf(stage) >= 0 && rankOf(stage) < rankOf("verified");

/** The hash that opens step `name` for resident `id` (a group step also without one). */
export function hashOf(name, id) {
  return STEPS[name].route.replace("/{id}", id ? `/${id}` : "");
}

/** The residents a mutation touches (from its args). */
export function residentIdsOf(name, args) {
  if (!args) return [];
  return STEPS[name]?.residents?.(args) ?? (args.resident_id ? [args.resident_id] : []);
}

/** Every resident an outbox entry touches (older entries only had resident_id). */
export function touchedIds(entry) {
  if (Array.isArray(entry.resident_ids) && entry.resident_ids.length) return entry.resident_ids;
  const ids = residentIdsOf(entry.name, entry.args);
  return ids.length ? ids : entry.resident_id ? [entry.resident_id] : [];
}

/** sha256 ids of the photos a mutation references (they are uploaded after it is synced). */
export function attachmentRefsOf(name, args) {
  return STEPS[name]?.photos?.(args || {}) ?? [];
}

/**
 * The effect of one still-pending mutation on the view of resident `residentId` (a fresh
 * object; `view` may be null only for a registration). The server's copy replaces it once the
 * mutation is answered; a mutation this version does not know changes nothing locally.
 */
export function applyLocal(view, entry, residentId) {
  const step = STEPS[entry.name];
  if (!step || (!view && entry.name !== "register_resident")) return view;
  return step.local(view, entry.args || {}, residentId, entry);
}

/** True when a case at `stage` offers step `name`. */
export const offered = (name, stage) => STEPS[name].offeredAt.includes(stage);

/** The steps (mutation names) a case offers the officer, in the order they are shown. */
export function actionsFor(view) {
  return Object.keys(STEPS).filter((name) => offered(name, view?.stage));
}

// ---------------------------------------------------------------- photos waiting for upload

/**
 * Photos that may be uploaded once a sync answer acknowledged these entries: those referenced
 * by an acknowledged entry that was not rejected (rejected ones wait in "perlu perbaikan").
 */
export function readyAttachmentIds(acknowledgedEntries, rejectedMutationIds = []) {
  const rejected = new Set(rejectedMutationIds);
  const ids = new Set();
  for (const e of acknowledgedEntries) {
    if (rejected.has(e.id)) continue;
    for (const sha of attachmentRefsOf(e.name, e.args)) ids.add(sha);
  }
  return [...ids];
}

/**
 * Photos nobody needs any more: not yet released for upload and referenced by no outbox entry
 * and no "perlu perbaikan" record (e.g. the rejected record was dismissed or fixed without it).
 */
export function orphanAttachmentIds(attachments, outbox, rejected) {
  const used = new Set();
  for (const e of [...outbox, ...rejected]) for (const sha of attachmentRefsOf(e.name, e.args)) used.add(sha);
  return attachments.filter((a) => !a.ready && !used.has(a.sha256)).map((a) => a.sha256);
}

/** Photos to upload now, oldest first (released and not failed for good). */
export function uploadQueue(attachments) {
  return attachments
    .filter((a) => a.ready && !a.failed)
    .sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
}

/** Photo counts for the home screen: {count, waiting, queued, failed, bytes, remaining}. */
export function attachmentSummary(attachments) {
  const s = { count: attachments.length, waiting: 0, queued: 0, failed: 0, bytes: 0, remaining: 0 };
  for (const a of attachments) {
    s.bytes += a.size;
    if (a.failed) s.failed += 1;
    else if (a.ready) {
      s.queued += 1;
      s.remaining += a.size - (a.offset || 0);
    } else s.waiting += 1;
  }
  return s;
}
