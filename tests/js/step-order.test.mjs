import { test } from "node:test";
import assert from "node:assert/strict";
import { checkStepOrder, stepOrderProblem } from "../../pwa/js/step-order.js";

const collected = { name: "Ani", card_collected_at: "2026-12-05T02:00:00Z" }; // 10.00 WITA

test("a delivery before that card's collection is refused, naming the collection time", () => {
  const msg = stepOrderProblem("deliver_card", collected, "2026-12-05T09:59:00+08:00");
  assert.equal(msg, "Waktu ini lebih awal dari pengambilan KTP (05/12/2026 10.00 WITA). Periksa tanggal dan jam.");
  assert.equal(stepOrderProblem("deliver_card", collected, "2026-12-05T10:00:00+08:00"), null);
  assert.equal(stepOrderProblem("deliver_card", collected, "2026-12-05T10:00:59+08:00"), null);
  assert.equal(stepOrderProblem("deliver_card", { name: "Budi" }, "2026-01-01T00:00:00+08:00"), null); // unknown: no refusal
});

test("a collection before its batch's handover, and the other steps of the chain", () => {
  const handed = { name: "Ani", batch_handed_at: "2026-12-04T01:00:00Z" };
  assert.match(stepOrderProblem("record_collection", handed, "2026-12-04T08:59:00+08:00"), /penyerahan berkas ke Disdukcapil \(04\/12\/2026 09\.00 WITA\)/);
  assert.equal(stepOrderProblem("record_collection", handed, "2026-12-04T09:00:00+08:00"), null);
  assert.match(stepOrderProblem("record_done", { pickup: { at: "2026-12-01T01:00:00Z" } }, "2026-12-01T08:00:00+08:00"), /penjemputan/);
  assert.match(stepOrderProblem("handover_batch", { recording: { at: "2026-12-01T01:00:00Z" } }, "2026-11-30T09:00:00+08:00"), /perekaman/);
  // a failed recording has no time to respect; a pick-up has no typed step before it
  assert.equal(stepOrderProblem("handover_batch", { recording: { failed: "device_down", at: "2026-12-09T01:00:00Z" } }, "2026-12-01T09:00:00+08:00"), null);
  assert.equal(stepOrderProblem("pick_up", collected, "2020-01-01T00:00:00+08:00"), null);
});

test("checkStepOrder adds the message to the builder's errors, with the name when several", () => {
  const built = { args: { collected_at: "2026-12-04T08:00:00+08:00" }, errors: {} };
  const early = { name: "Citra", batch_handed_at: "2026-12-04T01:00:00Z" };
  checkStepOrder("record_collection", [undefined, { name: "Dedi" }, early], built, "collected_at");
  assert.match(built.errors.collected_at, /^Citra: Waktu ini lebih awal dari penyerahan berkas/);
  const invalid = { args: null, errors: { delivered_at: "Waktu tidak valid." } };
  checkStepOrder("deliver_card", [collected], invalid, "delivered_at");
  assert.equal(invalid.errors.delivered_at, "Waktu tidak valid."); // the builder's own error stays
});

test("an unreadable step time (NaN) is refused, not let through by a false comparison", () => {
  for (const bad of ["205-06-12T10:00:00+08:00", "", "garbage"]) {
    assert.equal(stepOrderProblem("deliver_card", collected, bad), "Waktu tidak valid. Periksa tanggal dan jam.", bad);
  }
  assert.equal(stepOrderProblem("deliver_card", { card_collected_at: "??" }, "2026-12-05T10:00:00+08:00"), null, "an unknown previous time refuses nothing");
});
