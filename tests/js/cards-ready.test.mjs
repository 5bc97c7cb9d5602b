// Issue #13 on the phone: the cards Disdukcapil marked printed ("KTP siap diambil"), counted,
// grouped by berita acara, told on the case, and the collection form's default.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  READY_LIST, WORK_LISTS, cardIssueText, cardReady, collectionDefault, countLists, filterRecords, readyByBatch, readyText,
} from "../../pwa/js/work-lists.js";

const READY_AT = "2026-12-05T01:30:00Z"; // 09.30 WITA
const rec = (name, stage, extra = {}, desa = "6311042005") => ({
  resident_id: name, desa_code: desa, pending: 0, changed_at: null,
  view: { name, stage, desa_code: desa, batch_id: null, batch_number: null, card_ready_at: null, card_issue: null, ...extra },
});
const B1 = { batch_id: "b1", batch_number: "BA/002/2026" };
const B2 = { batch_id: "b2", batch_number: "BA/010/2026" };
const records = [
  rec("Wati", "sent_to_registry", { ...B2, card_ready_at: READY_AT }),
  rec("Ani", "sent_to_registry", { ...B1, card_ready_at: READY_AT }),
  rec("Budi", "sent_to_registry", { ...B1, card_ready_at: READY_AT }, "6311042001"),
  rec("Cici", "sent_to_registry", { ...B1 }), // in the batch, not printed yet
  rec("Dedi", "card_collected", { ...B1, card_ready_at: READY_AT }), // already collected
  rec("Eka", "sent_to_registry", { batch_id: "b3", batch_number: null, card_ready_at: READY_AT }),
  rec("Fajar", "recorded", { card_ready_at: READY_AT }), // back from a missing receipt: not waiting
  rec("Gita", "sent_to_registry", { batch_id: "b4", batch_number: null, card_ready_at: READY_AT }),
  rec("Hadi", "sent_to_registry", { batch_id: "b4", batch_number: "BA/001/2026" }), // names b4
];

test("a card is ready while it waits at Disdukcapil marked printed (as the office counts)", () => {
  assert.deepEqual(records.filter(cardReady).map((r) => r.view.name), ["Wati", "Ani", "Budi", "Eka", "Gita"]);
  assert.equal(cardReady(records[1].view), true); // a view works too
  assert.equal(cardReady(null), false);
  assert.equal(cardReady(rec("x", "sent_to_registry", { card_ready_at: "" })), false);
});

test("the ready list is no nav button but a list of its own, across desa and search", () => {
  assert.ok(!WORK_LISTS.some((l) => l.code === READY_LIST));
  assert.equal(countLists(records).all, records.length); // the nav counts are unchanged
  assert.deepEqual(filterRecords(records, { list: READY_LIST }).map((r) => r.view.name), ["Ani", "Budi", "Eka", "Gita", "Wati"]);
  assert.deepEqual(filterRecords(records, { list: READY_LIST, desa: "6311042001" }).map((r) => r.view.name), ["Budi"]);
});

test("grouped by berita acara number, the number from any case of the batch, unnumbered last", () => {
  const groups = readyByBatch(records);
  assert.deepEqual(groups.map((g) => [g.batch_id, g.number, g.records.map((r) => r.view.name)]), [
    ["b4", "BA/001/2026", ["Gita"]],
    ["b1", "BA/002/2026", ["Ani", "Budi"]],
    ["b2", "BA/010/2026", ["Wati"]],
    ["b3", null, ["Eka"]],
  ]);
  assert.deepEqual(readyByBatch([]), []);
  assert.deepEqual(readyByBatch([rec("Cici", "sent_to_registry", B1)]), []);
});

test("the case says since when, in WITA; nothing when not ready", () => {
  assert.equal(readyText(records[1].view), "KTP siap diambil di Disdukcapil sejak 05/12/2026 09.30 WITA");
  assert.equal(readyText(records[3].view), null);
  assert.equal(readyText(records[4].view), null);
});

test("a card not printed says who marked it", () => {
  const issue = { reason: "blanko_habis", reason_text: null, batch_id: "b1", at: READY_AT };
  assert.equal(cardIssueText(issue), "KTP belum dicetak: Blanko habis");
  assert.equal(cardIssueText({ ...issue, by: "disdukcapil" }), "KTP belum dicetak: Blanko habis (ditandai Disdukcapil)");
  assert.equal(cardIssueText({ ...issue, reason: "other", reason_text: "Chip rusak", by: "disdukcapil" }),
    "KTP belum dicetak: Lainnya (Chip rusak) (ditandai Disdukcapil)");
  assert.equal(cardIssueText(null), null);
});

test("the collection form defaults a ready card to collected, keeps a fixed item's outcome", () => {
  assert.equal(collectionDefault(records[1]), "collected");
  assert.equal(collectionDefault(records[3]), "");
  assert.equal(collectionDefault(records[1], { outcome: "not_printed" }), "not_printed");
  assert.equal(collectionDefault(records[3], { outcome: "collected" }), "collected");
});
