import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MAX_BATCH, STALE_AFTER_MS, acknowledge, baseVersionOf, classifyResults, makeEntry, nextBatch,
  nextIdAfter, overlayPending, recoverFromGap, renumber, summarize, wireMutation,
} from "../../pwa/js/outbox-rules.js";

const rid = (n) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const reg = (id, n = id, at = "2026-11-28T09:00:00+08:00") =>
  makeEntry(id, "register_resident", { resident_id: rid(n), name: `Warga ${n}`, desa_code: "6311042005" }, at);
const many = (count, from = 1) => Array.from({ length: count }, (_, i) => reg(from + i));

test("makeEntry numbers with positive integers and keeps the resident id", () => {
  const e = reg(7);
  assert.equal(e.id, 7);
  assert.equal(e.resident_id, rid(7));
  assert.throws(() => makeEntry(0, "register_resident", { resident_id: rid(1) }, "x"), RangeError);
  assert.throws(() => makeEntry(1.5, "register_resident", { resident_id: rid(1) }, "x"), RangeError);
});

test("the wire form carries only id, name, at and args", () => {
  assert.deepEqual(Object.keys(wireMutation({ ...reg(1), local: "x" })), ["id", "name", "at", "args"]);
});

test("nextIdAfter never hands out an id the server already covers", () => {
  assert.equal(nextIdAfter(5, 3), 5);
  assert.equal(nextIdAfter(5, 9), 10);
  assert.equal(nextIdAfter(1, 0), 1);
  assert.equal(nextIdAfter(1, undefined), 1);
});

test("entries leave the outbox only when last_mutation_id covers them", () => {
  const { acknowledged, remaining } = acknowledge([reg(3), reg(1), reg(2), reg(4)], 2);
  assert.deepEqual(acknowledged.map((e) => e.id), [1, 2]);
  assert.deepEqual(remaining.map((e) => e.id), [3, 4]);
  assert.equal(acknowledge(many(3), 0).acknowledged.length, 0);
  assert.equal(acknowledge(many(3), 99).remaining.length, 0);
});

test("batches hold at most 500 (the server's limit), lowest ids first", () => {
  assert.equal(MAX_BATCH, 500);
  const entries = many(1234).reverse();
  const batch = nextBatch(entries);
  assert.equal(batch.length, 500);
  assert.equal(batch[0].id, 1);
  assert.equal(batch[499].id, 500);
  assert.equal(nextBatch(entries, 10_000).length, 500, "never above the server limit");
  assert.equal(nextBatch(entries, 100).length, 100);
  assert.equal(nextBatch(many(3)).length, 3, "a small outbox is one batch");
  assert.deepEqual(nextBatch([]), []);
});

test("renumber keeps order and makes ids consecutive", () => {
  assert.deepEqual(renumber([reg(9), reg(4), reg(7)], 1).map((e) => [e.id, e.args.name]), [
    [1, "Warga 4"], [2, "Warga 7"], [3, "Warga 9"],
  ]);
});

test("409 mutation_gap: covered entries go, the rest is resent from last + 1", () => {
  // The server applied up to 39; the phone's next entries are 45..47 (e.g. storage restored).
  const plan = recoverFromGap([reg(45), reg(46), reg(47)], 39);
  assert.deepEqual(plan.acknowledged, []);
  assert.deepEqual(plan.renumbered.map((e) => e.id), [40, 41, 42]);
  assert.deepEqual(plan.renumbered.map((e) => e.args.name), ["Warga 45", "Warga 46", "Warga 47"]);
  assert.equal(plan.nextMutationId, 43);
});

test("409 with some entries already covered drops them first", () => {
  const plan = recoverFromGap([reg(38), reg(39), reg(45)], 39);
  assert.deepEqual(plan.acknowledged.map((e) => e.id), [38, 39]);
  assert.deepEqual(plan.renumbered.map((e) => e.id), [40]);
  assert.equal(plan.nextMutationId, 41);
});

test("409 when nothing is left continues right after the server", () => {
  const plan = recoverFromGap([reg(3)], 10);
  assert.deepEqual(plan.renumbered, []);
  assert.equal(plan.nextMutationId, 11);
});

test("409 leaves an already contiguous outbox alone", () => {
  const plan = recoverFromGap([reg(40), reg(41)], 39);
  assert.deepEqual(plan.renumbered.map((e) => e.id), [40, 41]);
  assert.equal(plan.nextMutationId, 42);
});

test("results: applied and duplicate leave, rejected go to perlu perbaikan with the message", () => {
  const acked = [reg(1), reg(2), reg(3), reg(4)];
  const results = [
    { id: 1, status: "applied" },
    { id: 2, status: "duplicate" },
    { id: 3, status: "rejected", code: "validation_error", message: "Tanggal lahir tidak masuk akal.", fields: { birth_date: "Tanggal lahir tidak masuk akal." } },
  ];
  const out = classifyResults(acked, results, "2026-11-28T01:00:00Z");
  assert.deepEqual(out.applied, [1]);
  assert.deepEqual(out.duplicate, [2]);
  assert.deepEqual(out.unknown, [4]);
  assert.equal(out.rejected.length, 1);
  const r = out.rejected[0];
  assert.equal(r.mutation_id, 3);
  assert.equal(r.name, "register_resident");
  assert.equal(r.resident_id, rid(3));
  assert.equal(r.code, "validation_error");
  assert.equal(r.message, "Tanggal lahir tidak masuk akal.");
  assert.deepEqual(r.fields, { birth_date: "Tanggal lahir tidak masuk akal." });
  assert.deepEqual(r.args, acked[2].args, "the officer's input is kept to be fixed");
  assert.equal(r.rejected_at, "2026-11-28T01:00:00Z");
});

test("a duplicate that carries its first rejection still goes to perlu perbaikan", () => {
  const acked = [reg(5), reg(6)];
  const results = [
    { id: 5, status: "duplicate" },
    { id: 6, status: "duplicate", code: "desa_not_assigned", message: "Desa ini bukan tugas Anda.", fields: { desa_code: "Desa ini bukan tugas Anda." } },
  ];
  const out = classifyResults(acked, results, "2026-11-28T02:00:00Z");
  assert.deepEqual(out.duplicate, [5]);
  assert.deepEqual(out.rejected.map((r) => [r.mutation_id, r.code]), [[6, "desa_not_assigned"]]);
});

test("summary: count, oldest, age, stale flag", () => {
  const now = Date.parse("2026-11-29T12:00:00Z");
  const entries = [reg(1, 1, "2026-11-28T09:00:00+08:00"), reg(2, 2, "2026-11-29T19:00:00+08:00")];
  const s = summarize(entries, now);
  assert.equal(s.count, 2);
  assert.equal(s.oldestAt, "2026-11-28T01:00:00.000Z");
  assert.equal(s.ageMs, 35 * 3600 * 1000);
  assert.equal(s.stale, true);
  assert.ok(s.bytes > 100);
  const fresh = summarize([reg(1, 1, new Date(now - STALE_AFTER_MS + 1000).toISOString())], now);
  assert.equal(fresh.stale, false);
  assert.deepEqual(summarize([], now), { count: 0, oldestAt: null, ageMs: 0, stale: false, bytes: 0 });
});

test("overlay: pending edits lie over the server copy; server wins otherwise", () => {
  const server = { resident_id: rid(1), version: 3, stage: "verified", name: "Siti", phone: "0811", notes: "lama" };
  const upd = (id, fields) => makeEntry(id, "update_resident", { resident_id: rid(1), base_version: 3, fields }, "t");
  const view = overlayPending(server, [upd(9, { notes: "baru" }), upd(8, { phone: "0812", notes: "tengah" })]);
  assert.equal(view.phone, "0812");
  assert.equal(view.notes, "baru", "later mutation ids win");
  assert.equal(view.stage, "verified");
  assert.equal(view.version, 3);
  assert.equal(view.pending, 2);
  assert.deepEqual(overlayPending(server, []), { ...server, pending: 0 });
});

test("overlay: a pending registration shows as Terdata; nothing at all gives null", () => {
  const view = overlayPending(null, [reg(1)]);
  assert.equal(view.stage, "found");
  assert.equal(view.name, "Warga 1");
  assert.equal(overlayPending(null, []), null);
  const upd = makeEntry(2, "update_resident", { resident_id: rid(1), base_version: 1, fields: { phone: "1" } }, "t");
  assert.equal(overlayPending(null, [upd]), null, "an update alone does not invent a resident");
});

test("base_version: the server's version, 1 for a registration not yet synced", () => {
  assert.equal(baseVersionOf({ server: { version: 4 } }), 4);
  assert.equal(baseVersionOf({ server: null }), 1);
});
