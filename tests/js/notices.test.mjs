import { test } from "node:test";
import assert from "node:assert/strict";
import { casesWithNik, mergeNotices, withoutNotice } from "../../pwa/js/notices.js";
import { planLogin, planSyncApply } from "../../pwa/js/sync-merge.js";
import { defaultDay, waLink, waMessage, waNumber } from "../../pwa/js/wa-link.js";

const R1 = "00000000-0000-4000-8000-000000000001";
const notice = (id, rid = R1) => ({ id, kind: "double_delivery", resident_id: rid, created_at: "2026-12-05T02:00:00Z", message: `Penyerahan Anda kalah ${id}` });

test("notices are kept once per id, never after dismissal, and not for a resident that left", () => {
  const first = mergeNotices([], [notice(1)], []);
  assert.equal(first.added, 1);
  const again = mergeNotices(first.notices, [notice(1)], []);
  assert.deepEqual([again.added, again.notices.length], [0, 1], "a repeated pull adds nothing");
  const session = withoutNotice({ notices: again.notices, dismissed_notices: [] }, 1);
  assert.deepEqual([session.notices, session.dismissed_notices], [[], [1]]);
  assert.deepEqual(mergeNotices(session.notices, [notice(1)], session.dismissed_notices), { notices: [], added: 0 });
  assert.deepEqual(mergeNotices([notice(2)], [notice(3, "other")], [], [R1, "other"]).notices, []);
  assert.deepEqual(mergeNotices(undefined, undefined, undefined), { notices: [], added: 0 }, "an older server sends none");
});

test("a sync answer's notices land in the session and are counted; a new login of the same officer keeps them", () => {
  const session = { key: "current", client_id: "c", next_mutation_id: 1, user: { username: "petugas" } };
  const plan = planSyncApply({ session, outbox: [], residents: [] },
    { last_mutation_id: 0, results: [], cursor: "5", changes: { residents: [], removed: [], notices: [notice(7)] } }, "2026-12-05T10:00:00+08:00");
  assert.deepEqual(plan.session.notices, [notice(7)]);
  assert.equal(plan.addedNotices, 1);
  const second = planSyncApply({ session: plan.session, outbox: [], residents: [] },
    { last_mutation_id: 0, results: [], cursor: "6", changes: { residents: [], removed: [], notices: [notice(7)] } }, "2026-12-05T10:01:00+08:00");
  assert.equal(second.addedNotices, 0);
  const login = { token: "t", client_id: "d", user: { username: "petugas" }, desa: [] };
  assert.deepEqual(planLogin({ ...second.session, dismissed_notices: [4] }, [], login).session.dismissed_notices, [4]);
  assert.deepEqual(planLogin(second.session, [], { ...login, user: { username: "lain" } }).session.notices, []);
});

test("ids dismissed before a clean logout (kept per username) stay dismissed at the next login", () => {
  const login = { token: "t", client_id: "d", user: { username: "petugas" }, desa: [] };
  const fresh = planLogin(null, [], login, [7, 9]).session;
  assert.deepEqual(fresh.dismissed_notices, [7, 9]);
  assert.deepEqual(mergeNotices(fresh.notices, [notice(7), notice(8)], fresh.dismissed_notices).notices.map((n) => n.id), [8]);
  const same = planLogin({ ...fresh, dismissed_notices: [9, 11] }, [], login, [7, 9]).session;
  assert.deepEqual(same.dismissed_notices, [7, 9, 11], "both lists, once each");
  assert.equal(planLogin(null, [], login, Array.from({ length: 600 }, (_, i) => i)).session.dismissed_notices.length, 500);
  assert.deepEqual(planLogin(null, [], login).session.dismissed_notices, []);
});

test("a NIK already on the phone is found, the case being registered aside", () => {
  const records = [{ resident_id: "a", view: { nik: "6311041203990001" } }, { resident_id: "b", view: { nik: null } }];
  assert.deepEqual(casesWithNik(records, "6311041203990001").map((r) => r.resident_id), ["a"]);
  assert.deepEqual(casesWithNik(records, "6311041203990001", "a"), []);
  assert.deepEqual(casesWithNik(records, "631104120399"), [], "only a complete NIK");
});

test("wa.me numbers: 08… becomes 628…; no mobile number, no link", () => {
  assert.equal(waNumber("0812-3456-789"), "628123456789");
  assert.equal(waNumber("+62 812 3456 7890"), "6281234567890");
  assert.equal(waNumber("81234567890"), "6281234567890");
  assert.equal(waNumber("6281234567890"), "6281234567890");
  for (const bad of ["", null, "0526-123456", "08123", "0812abc45678", "08123456789012345"]) assert.equal(waNumber(bad), null, String(bad));
  assert.equal(waLink("", "x"), null);
});

test("wa.me numbers written with a country code and a trunk 0, or the 00 prefix, are normalised", () => {
  assert.equal(waNumber("+62 0812-3456-7890"), "6281234567890");
  assert.equal(waNumber("+620812 3456 789"), "628123456789");
  assert.equal(waNumber("0062812 3456 7890"), "6281234567890");
  assert.equal(waNumber("0062 0812-3456-7890"), "6281234567890");
  assert.equal(waNumber("62 0812 3456 7890"), "6281234567890");
  for (const bad of ["+61 812 3456 7890", "0061812345678", "+62 00812345678", "+62 0526 123456"]) assert.equal(waNumber(bad), null, bad);
});

test("the message names when and where, and the link carries it", () => {
  const m = waMessage({ name: "Sari Uji", date: "07/12/2026", time: "9.30", place: "Kantor Desa Batumandi", officer: "Petugas Satu", kecamatan: "Batumandi" });
  assert.equal(m.text, "Yth. Bapak/Ibu Sari Uji, KTP-el atas nama Sari Uji sudah jadi dan akan diserahkan pada " +
    "Senin, 7 Desember 2026 pukul 09.30 WITA di Kantor Desa Batumandi. Mohon hadir membawa Kartu Keluarga; " +
    "bila berhalangan, KTP-el dapat diterima wakil keluarga. Terima kasih. (Petugas Satu, petugas Kecamatan Batumandi)");
  const href = waLink("0812-3456-789", m.text);
  assert.ok(href.startsWith("https://wa.me/628123456789?text=Yth.%20Bapak%2FIbu%20Sari%20Uji"));
  assert.equal(decodeURIComponent(href.split("?text=")[1]), m.text);
  assert.match(waMessage({ name: "X", date: "31/02/2026", time: "09:00", place: "" }).error, /^Tanggal: /);
  assert.ok(waMessage({ name: "X", date: "07/12/2026", time: "25:00", place: "" }).error);
  assert.equal(defaultDay(new Date("2026-12-06T20:00:00Z")), "08/12/2026", "tomorrow in WITA");
});
