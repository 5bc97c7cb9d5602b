import { test } from "node:test";
import assert from "node:assert/strict";
import { WORK_LISTS, countLists, filterRecords, inList, operationProgress } from "../../pwa/js/work-lists.js";
import { rankOf } from "../../pwa/js/pipeline.js";

const rec = (name, stage, desa = "6311042005", extra = {}) => ({
  resident_id: name, desa_code: desa, view: { name, stage, desa_code: desa, nik: null }, pending: 0, changed_at: null, ...extra,
});
const records = [
  rec("Ani", "listed"), rec("Budi", "found"), rec("Cici", "found", "6311042001"), rec("Dedi", "verified"),
  rec("Eka", "picked_up"), rec("Fajar", "recorded"), rec("Gita", "card_collected"), rec("Hadi", "delivered"),
  rec("Iwan", "rejected"), rec("Joko", "found", "6311042005", { pending: 1, changed_at: "2026-11-28T10:00:00+08:00" }),
];

test("the lists the officer works from, in order", () => {
  assert.deepEqual(WORK_LISTS.map((l) => l.code), ["all", "find", "verify", "pickup", "record", "handover", "deliver"]);
  assert.ok(inList(rec("x", "listed"), "find"));
  assert.ok(inList(rec("x", "rejected"), "all"));
  assert.ok(!inList(rec("x", "rejected"), "verify"));
});

test("counts per desa", () => {
  assert.deepEqual(countLists(records), { all: 10, find: 1, verify: 3, pickup: 1, record: 1, handover: 1, deliver: 1 });
  assert.deepEqual(countLists(records, "6311042001"), { all: 1, find: 0, verify: 1, pickup: 0, record: 0, handover: 0, deliver: 0 });
});

test("filter by list, desa and search; unsent first, then by name", () => {
  assert.deepEqual(filterRecords(records, { list: "verify" }).map((r) => r.view.name), ["Joko", "Budi", "Cici"]);
  assert.deepEqual(filterRecords(records, { list: "verify", desa: "6311042005" }).map((r) => r.view.name), ["Joko", "Budi"]);
  assert.deepEqual(filterRecords(records, { query: "gi" }).map((r) => r.view.name), ["Gita"]);
  const names = { "6311042001": "Kasai" };
  assert.deepEqual(filterRecords(records, { query: "kasai", desaName: (c) => names[c] || "" }).map((r) => r.view.name), ["Cici"]);
});

test("operation progress counts delivered cases per desa target", () => {
  const ops = [{ id: 1, name: "Operasi Desember", start_date: "2026-12-01", end_date: "2026-12-31",
    desa: [{ code: "6311042005", name: "Batumandi", target: 40 }, { code: "6311042001", name: "Kasai", target: 10 }] }];
  const p = operationProgress(ops, records, rankOf);
  assert.equal(p[0].desa[0].done, 1);
  assert.equal(p[0].desa[1].done, 0);
  assert.deepEqual(operationProgress(undefined, records, rankOf), []);
});
