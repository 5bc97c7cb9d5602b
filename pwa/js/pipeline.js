/**
 * Pure pipeline rules on the phone (no DOM, no IndexedDB), after docs/interfaces-pipeline.md:
 * which residents a mutation touches, which photos it references, what a still-unsent mutation
 * does to the officer's view of a case, which actions a case offers, and the life of a photo
 * waiting for upload. The server decides; this only lets the officer see the effect at once.
 */

/** Forward stages in pipeline order; `rejected` is terminal and ranked apart (-1). */
export const STAGE_ORDER = Object.freeze([
  "listed", "found", "verified", "picked_up", "recorded", "sent_to_registry", "card_collected", "delivered",
]);

/** Rank of a stage: its place in STAGE_ORDER; -1 for rejected or an unknown code. */
export function rankOf(stage) {
  return STAGE_ORDER.indexOf(stage);
}

/** Mutations whose args carry a list of residents instead of one resident_id. */
export function residentIdsOf(name, args) {
  if (!args) return [];
  if (name === "pick_up" || name === "handover_batch") return [...(args.resident_ids || [])];
  if (name === "record_collection") return (args.items || []).map((i) => i.resident_id);
  return args.resident_id ? [args.resident_id] : [];
}

/** Every resident an outbox entry touches (older entries only had resident_id). */
export function touchedIds(entry) {
  if (Array.isArray(entry.resident_ids) && entry.resident_ids.length) return entry.resident_ids;
  const ids = residentIdsOf(entry.name, entry.args);
  return ids.length ? ids : entry.resident_id ? [entry.resident_id] : [];
}

/** sha256 ids of the photos a mutation references (they are uploaded after it is synced). */
export function attachmentRefsOf(name, args) {
  if (name === "verify_resident") return args?.kk_photo ? [args.kk_photo] : [];
  if (name === "deliver_card") return args?.photo ? [args.photo] : [];
  return [];
}

// Move forward to `target` (forward stages are a max), from at least `from`, never out of rejected.
function forward(view, from, target) {
  const rank = rankOf(view.stage);
  if (view.stage === "rejected" || rank < rankOf(from)) return view.stage;
  return rank < rankOf(target) ? target : view.stage;
}

/**
 * The effect of one still-pending mutation on the view of resident `residentId` (a fresh
 * object; `view` may be null only for a registration). Mirrors the server's rules closely
 * enough for the officer; the server's copy replaces it once the mutation is answered.
 */
export function applyLocal(view, entry, residentId) {
  const a = entry.args || {};
  if (entry.name === "register_resident") {
    // A "Belum Ditemukan" (listed) resident registered with its own id becomes Terdata.
    const stage = !view?.stage || view.stage === "listed" ? "found" : view.stage;
    return { ...(view || {}), ...a, stage };
  }
  if (!view) return view;
  switch (entry.name) {
    case "update_resident":
      return { ...view, ...a.fields };
    case "verify_resident":
      return {
        ...view,
        stage: view.stage === "found" ? "verified" : view.stage,
        verification: { checks: a.checks, notes: a.notes ?? null },
        kk_photo: a.kk_photo ?? view.kk_photo ?? null,
      };
    case "reject_resident":
      return {
        ...view,
        stage: view.stage === "found" ? "rejected" : view.stage,
        rejection: { reason: a.reason, reason_text: a.reason_text ?? null },
      };
    case "pick_up":
      return {
        ...view,
        stage: forward(view, "verified", "picked_up"),
        pickup: { pickup_id: a.pickup_id, at: a.picked_up_at, point: a.pickup_point, vehicle: a.vehicle },
      };
    case "cancel_pickup":
      return view.stage === "picked_up" ? { ...view, stage: "verified", pickup: null } : view;
    case "record_done":
      return { ...view, stage: forward(view, "verified", "recorded"), recording: { at: a.recorded_at } };
    case "record_failed":
      return view.stage === "picked_up"
        ? { ...view, stage: "verified", pickup: null, recording: { failed: a.reason, reason_text: a.reason_text ?? null, at: entry.at } }
        : view;
    case "handover_batch":
      return { ...view, stage: forward(view, "recorded", "sent_to_registry"), batch_id: a.batch_id, batch_number: a.number };
    case "record_collection": {
      const item = (a.items || []).find((i) => i.resident_id === residentId);
      if (!item) return view;
      if (item.outcome === "collected") return { ...view, stage: forward(view, "sent_to_registry", "card_collected"), card_issue: null };
      return { ...view, card_issue: { reason: item.reason, reason_text: item.reason_text ?? null, batch_id: a.batch_id, at: a.collected_at } };
    }
    case "deliver_card":
      return {
        ...view,
        stage: forward(view, "card_collected", "delivered"),
        delivery: {
          delivery_id: a.delivery_id, delivered_at: a.delivered_at, recipient: a.recipient,
          proxy_name: a.proxy_name ?? null, proxy_relation: a.proxy_relation ?? null,
          signature_sha256: a.signature?.sha256 ?? null, photo: a.photo ?? null, gps: a.gps ?? null,
        },
      };
    default:
      return view; // a mutation this version does not know changes nothing locally
  }
}

/** Actions (codes) a case offers the officer, in the order they are shown. */
export function actionsFor(view) {
  switch (view?.stage) {
    case "listed": return ["register"];
    case "found": return ["verify", "reject", "edit"];
    case "verified": return ["pick_up", "record_done", "edit"];
    case "picked_up": return ["record_done", "record_failed", "cancel_pickup", "edit"];
    case "recorded": return ["handover", "edit"];
    case "sent_to_registry": return ["collection", "edit"];
    case "card_collected": return ["deliver", "edit"];
    case "delivered":
    case "rejected": return ["edit"];
    default: return [];
  }
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
