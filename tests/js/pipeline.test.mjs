import { test } from "node:test";
import assert from "node:assert/strict";
import {
  STAGE_ORDER, actionsFor, applyLocal, attachmentRefsOf, attachmentSummary, orphanAttachmentIds, rankOf,
  readyAttachmentIds, residentIdsOf, touchedIds, uploadQueue,
} from "../../pwa/js/pipeline.js";
import { STAGE_LABELS } from "../../pwa/js/labels.js";
import { makeEntry } from "../../pwa/js/outbox-rules.js";

const rid = (n) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const SHA = "a".repeat(64);
const SHA2 = "b".repeat(64);
const AT = "2026-11-28T09:00:00+08:00";
const view = (stage, extra = {}) => ({ resident_id: rid(1), name: "Warga", stage, ...extra });
const e = (name, args, id = 1) => makeEntry(id, name, args, AT);
const apply = (stage, name, args) => applyLocal(view(stage), e(name, { resident_id: rid(1), ...args }), rid(1)).stage;

test("every stage of the label table has a rank; rejected is -1", () => {
  for (const code of Object.keys(STAGE_LABELS)) {
    if (code === "rejected") assert.equal(rankOf(code), -1);
    else assert.ok(rankOf(code) >= 0, code);
  }
  assert.equal(STAGE_ORDER[0], "listed");
  assert.ok(rankOf("verified") < rankOf("picked_up"));
});

test("residents touched by each mutation", () => {
  assert.deepEqual(residentIdsOf("verify_resident", { resident_id: rid(1) }), [rid(1)]);
  assert.deepEqual(residentIdsOf("pick_up", { pickup_id: "p", resident_ids: [rid(1), rid(2)] }), [rid(1), rid(2)]);
  assert.deepEqual(residentIdsOf("handover_batch", { resident_ids: [rid(3)] }), [rid(3)]);
  assert.deepEqual(residentIdsOf("record_collection", { items: [{ resident_id: rid(4) }, { resident_id: rid(5) }] }), [rid(4), rid(5)]);
  const entry = e("pick_up", { pickup_id: "p", resident_ids: [rid(1), rid(2)] });
  assert.equal(entry.resident_id, rid(1));
  assert.deepEqual(entry.resident_ids, [rid(1), rid(2)]);
  assert.deepEqual(touchedIds({ name: "update_resident", args: {}, resident_id: rid(9) }), [rid(9)], "old v1 entries");
});

test("photos referenced by mutations", () => {
  assert.deepEqual(attachmentRefsOf("verify_resident", { kk_photo: SHA }), [SHA]);
  assert.deepEqual(attachmentRefsOf("verify_resident", { kk_photo: null }), []);
  assert.deepEqual(attachmentRefsOf("deliver_card", { photo: SHA2 }), [SHA2]);
  assert.deepEqual(attachmentRefsOf("register_resident", { kk_photo: SHA }), []);
});

test("local effect of each mutation on the stage (forward is a max; rejected is terminal)", () => {
  assert.equal(applyLocal(null, e("register_resident", { resident_id: rid(1), name: "A" }), rid(1)).stage, "found");
  assert.equal(applyLocal(view("listed", { nik: null }), e("register_resident", { resident_id: rid(1), name: "A" }), rid(1)).stage, "found",
    "a Belum Ditemukan resident registered with its id becomes Terdata");
  assert.equal(apply("found", "verify_resident", { checks: {} }), "verified");
  assert.equal(apply("picked_up", "verify_resident", { checks: {} }), "picked_up");
  assert.equal(apply("rejected", "verify_resident", { checks: {} }), "rejected", "conflict: the server keeps the stage");
  assert.equal(apply("found", "reject_resident", { reason: "deceased" }), "rejected");
  assert.equal(apply("verified", "reject_resident", { reason: "deceased" }), "verified");
  assert.equal(apply("verified", "cancel_pickup", { reason: "x" }), "verified");
  assert.equal(apply("picked_up", "cancel_pickup", { reason: "x" }), "verified");
  assert.equal(apply("verified", "record_done", { recorded_at: AT }), "recorded");
  assert.equal(apply("found", "record_done", { recorded_at: AT }), "found", "not verified yet: the server will refuse");
  assert.equal(apply("picked_up", "record_failed", { reason: "device_down" }), "verified");
  assert.equal(apply("card_collected", "deliver_card", { delivery_id: "d", signature: { sha256: SHA } }), "delivered");
  assert.equal(apply("sent_to_registry", "deliver_card", { delivery_id: "d" }), "delivered", "as on the server (stage_transitions.json)");
  assert.equal(apply("found", "future_mutation", {}), "found");
});

test("pick-up, handover and collection apply to each resident they list", () => {
  const pick = e("pick_up", { pickup_id: "p1", resident_ids: [rid(1), rid(2)], picked_up_at: AT, pickup_point: "Balai desa", vehicle: "Mobil" });
  const v = applyLocal(view("verified"), pick, rid(2));
  assert.equal(v.stage, "picked_up");
  assert.deepEqual(v.pickup, { pickup_id: "p1", at: AT, point: "Balai desa", vehicle: "Mobil" });
  assert.equal(applyLocal(view("rejected"), pick, rid(2)).stage, "rejected");
  assert.equal(applyLocal(view("recorded"), pick, rid(2)).stage, "recorded");
  const batch = e("handover_batch", { batch_id: "b1", number: "BA-1", resident_ids: [rid(1)] });
  assert.equal(applyLocal(view("recorded"), batch, rid(1)).stage, "sent_to_registry");
  assert.equal(applyLocal(view("recorded"), batch, rid(1)).batch_id, "b1");
  const col = e("record_collection", { batch_id: "b1", collected_at: AT, items: [
    { resident_id: rid(1), outcome: "collected" },
    { resident_id: rid(2), outcome: "not_printed", reason: "blanko_habis", reason_text: null }] });
  assert.equal(applyLocal(view("sent_to_registry"), col, rid(1)).stage, "card_collected");
  const issue = applyLocal(view("sent_to_registry"), col, rid(2));
  assert.equal(issue.stage, "sent_to_registry");
  assert.equal(issue.card_issue.reason, "blanko_habis");
  assert.equal(applyLocal(view("sent_to_registry"), col, rid(3)).stage, "sent_to_registry");
});

test("delivery keeps only the signature's hash in the view", () => {
  const d = applyLocal(view("card_collected"), e("deliver_card", {
    resident_id: rid(1), delivery_id: "d1", delivered_at: AT, recipient: "proxy", proxy_name: "Siti", proxy_relation: "Ibu",
    signature: { data: "AAAA", sha256: SHA }, photo: SHA2, gps: null }), rid(1));
  assert.equal(d.delivery.signature_sha256, SHA);
  assert.equal(JSON.stringify(d).includes("AAAA"), false);
  assert.equal(d.delivery.proxy_relation, "Ibu");
});

test("actions offered per stage", () => {
  assert.deepEqual(actionsFor(view("listed")), ["register_resident"]);
  assert.deepEqual(actionsFor(view("found")), ["verify_resident", "reject_resident", "update_resident"]);
  assert.ok(actionsFor(view("verified")).includes("pick_up"));
  assert.ok(actionsFor(view("picked_up")).includes("cancel_pickup"));
  assert.ok(actionsFor(view("card_collected")).includes("deliver_card"));
  assert.deepEqual(actionsFor(view("delivered")), ["update_resident"]);
  assert.deepEqual(actionsFor(null), []);
});

test("photos are released for upload only by an accepted mutation", () => {
  const v1 = e("verify_resident", { resident_id: rid(1), kk_photo: SHA }, 1);
  const d2 = e("deliver_card", { resident_id: rid(2), photo: SHA2 }, 2);
  assert.deepEqual(readyAttachmentIds([v1, d2], []), [SHA, SHA2]);
  assert.deepEqual(readyAttachmentIds([v1, d2], [2]), [SHA], "a rejected delivery's photo waits in perlu perbaikan");
});

test("orphans: never released and referenced by nothing queued or rejected", () => {
  const atts = [{ sha256: SHA, ready: false }, { sha256: SHA2, ready: false }, { sha256: "c".repeat(64), ready: true }];
  const outbox = [e("verify_resident", { resident_id: rid(1), kk_photo: SHA })];
  assert.deepEqual(orphanAttachmentIds(atts, outbox, []), [SHA2]);
  assert.deepEqual(orphanAttachmentIds(atts, [], [{ name: "deliver_card", args: { photo: SHA2 } }]), [SHA]);
});

test("upload queue and summary", () => {
  const atts = [
    { sha256: "1", ready: true, size: 100, offset: 40, created_at: "2026-11-28T10:00:00+08:00" },
    { sha256: "2", ready: true, size: 50, created_at: "2026-11-28T09:00:00+08:00" },
    { sha256: "3", ready: false, size: 70, created_at: "2026-11-28T08:00:00+08:00" },
    { sha256: "4", ready: true, size: 10, failed: { code: "hash_mismatch" }, created_at: "x" },
  ];
  assert.deepEqual(uploadQueue(atts).map((a) => a.sha256), ["2", "1"]);
  assert.deepEqual(attachmentSummary(atts), { count: 4, waiting: 1, queued: 2, failed: 1, bytes: 230, remaining: 110 });
});
