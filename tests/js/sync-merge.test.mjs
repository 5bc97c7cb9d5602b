import { test } from "node:test";
import assert from "node:assert/strict";
import { makeEntry } from "../../pwa/js/outbox-rules.js";
import { assignedCodesFrom, holdsForeignWork, planLogin, planSyncApply, residentRecord } from "../../pwa/js/sync-merge.js";
import { registration, rid } from "./fake-server.mjs";

const AT = "2026-11-28T09:00:00+08:00";
const session = { key: "current", token: "t", client_id: "c", cursor: "10", next_mutation_id: 5, assigned_codes: ["6311042005"] };
const serverCopy = (n, extra = {}) => ({ ...registration(n), version: 2, stage: "verified", ...extra });
const rec = (n, server, pending = []) => residentRecord(rid(n), server, pending);
const answer = (extra = {}) => ({
  last_mutation_id: 4, results: [], cursor: "20", more: false,
  changes: { residents: [], removed: [] }, clock_skew_flagged: false, ...extra,
});

test("residentRecord: merged view, pending count, latest local time", () => {
  const e1 = makeEntry(1, "register_resident", registration(1), "2026-11-28T09:00:00+08:00");
  const e2 = makeEntry(2, "update_resident", { resident_id: rid(1), base_version: 1, fields: { phone: "0812" } }, "2026-11-28T10:00:00+08:00");
  const r = residentRecord(rid(1), null, [e2, e1]);
  assert.equal(r.desa_code, "6311042005");
  assert.equal(r.view.phone, "0812");
  assert.equal(r.pending, 2);
  assert.equal(r.changed_at, "2026-11-28T10:00:00+08:00");
  assert.equal(residentRecord(rid(1), null, []), null);
});

test("server copy replaces a resident the outbox no longer covers", () => {
  const local = rec(1, serverCopy(1, { phone: "0811" }));
  const plan = planSyncApply({ session, outbox: [], residents: [local] },
    answer({ changes: { residents: [serverCopy(1, { phone: "0822", version: 3 })], removed: [] } }), "now");
  assert.equal(plan.putResidents.length, 1);
  assert.equal(plan.putResidents[0].view.phone, "0822");
  assert.equal(plan.putResidents[0].view.version, 3);
  assert.equal(plan.session.cursor, "20");
  assert.equal(plan.session.last_sync_at, "now");
});

test("pending local edits stay on top of a newer server copy", () => {
  const edit = makeEntry(7, "update_resident", { resident_id: rid(1), base_version: 2, fields: { notes: "lokal" } }, AT);
  const plan = planSyncApply({ session, outbox: [edit], residents: [rec(1, serverCopy(1), [edit])] },
    answer({ changes: { residents: [serverCopy(1, { notes: "server", version: 3, stage: "picked_up" })], removed: [] } }), "now");
  const r = plan.putResidents[0];
  assert.equal(r.view.notes, "lokal");
  assert.equal(r.view.stage, "picked_up", "fields not edited locally come from the server");
  assert.equal(r.server.notes, "server");
  assert.equal(r.pending, 1);
  assert.deepEqual(plan.deleteOutbox, []);
});

test("acknowledged entries leave; next id never falls behind the server", () => {
  const outbox = [1, 2, 3].map((i) => makeEntry(i, "register_resident", registration(i), AT));
  const plan = planSyncApply({ session: { ...session, next_mutation_id: 4 }, outbox, residents: outbox.map((e) => rec(e.id, null, [e])) },
    answer({ last_mutation_id: 9, results: [{ id: 1, status: "applied" }, { id: 2, status: "applied" }, { id: 3, status: "rejected", code: "x", message: "Ditolak.", fields: {} }] }), "now");
  assert.deepEqual(plan.deleteOutbox, [1, 2, 3]);
  assert.equal(plan.session.next_mutation_id, 10);
  assert.equal(plan.rejected.length, 1);
  // Nothing came back from the server in this page: registrations 1–2 wait for their pull,
  // the rejected one disappears from the case list (it is in "perlu perbaikan").
  assert.deepEqual(plan.deleteResidents.sort(), [rid(1), rid(2), rid(3)].sort());
  assert.deepEqual(plan.counts, { acknowledged: 3, applied: 2, duplicate: 0, rejected: 1, remaining: 0 });
});

test("removed residents are dropped; a pending update alone has nothing left to show", () => {
  const edit = makeEntry(5, "update_resident", { resident_id: rid(2), base_version: 2, fields: { phone: "1" } }, AT);
  const plan = planSyncApply({ session, outbox: [edit], residents: [rec(1, serverCopy(1)), rec(2, serverCopy(2), [edit])] },
    answer({ changes: { residents: [], removed: [rid(1), { resident_id: rid(2) }] } }), "now");
  assert.deepEqual(plan.deleteResidents.sort(), [rid(1), rid(2)]);
  assert.equal(plan.putResidents.length, 0);
  assert.deepEqual(plan.deleteOutbox, [], "the update still goes out; its answer lands in perlu perbaikan");
});

test("residents of a desa no longer assigned are dropped, unless work is pending", () => {
  const other = (n) => serverCopy(n, { desa_code: "6311042010" });
  const edit = makeEntry(5, "update_resident", { resident_id: rid(2), base_version: 2, fields: { phone: "1" } }, AT);
  const plan = planSyncApply({ session, outbox: [edit], residents: [rec(1, other(1)), rec(2, other(2), [edit]), rec(3, serverCopy(3))] },
    answer({ changes: { residents: [], removed: [], desa: [{ code: "6311042005", name: "Batumandi" }],
      assignments: { kecamatan: { code: "631104", name: "Batu Mandi" }, desa_codes: ["6311042005"] } } }), "now");
  assert.deepEqual(plan.deleteResidents, [rid(1)]);
  assert.deepEqual(plan.session.assigned_codes, ["6311042005"]);
  assert.deepEqual(plan.session.desa, [{ code: "6311042005", name: "Batumandi" }]);
  assert.deepEqual(plan.session.kecamatan, { code: "631104", name: "Batu Mandi" });
});

test("assignments in other shapes", () => {
  assert.deepEqual(assignedCodesFrom({ assignments: { desa_codes: ["1"] } }), ["1"]);
  assert.deepEqual(assignedCodesFrom({ assignments: [{ desa_code: "2" }, "3"] }), ["2", "3"]);
  assert.deepEqual(assignedCodesFrom({ desa: [{ code: "4", name: "x" }] }), ["4"]);
  assert.equal(assignedCodesFrom({}), null);
});

test("login: same officer keeps the outbox, renumbered from 1 for the new client", () => {
  const previous = { ...session, user: { username: "rina" }, token: null, last_sync_at: "x" };
  const outbox = [makeEntry(41, "register_resident", registration(1), AT), makeEntry(43, "register_resident", registration(2), AT)];
  const login = { token: "new", client_id: "c2", user: { username: "rina" }, kecamatan: { code: "631104" }, desa: [{ code: "6311042005", name: "B" }] };
  const plan = planLogin(previous, outbox, login);
  assert.deepEqual(plan.renumbered.map((e) => [e.id, e.resident_id]), [[1, rid(1)], [2, rid(2)]]);
  assert.equal(plan.session.next_mutation_id, 3);
  assert.equal(plan.session.cursor, null);
  assert.equal(plan.session.client_id, "c2");
  assert.deepEqual(plan.session.assigned_codes, ["6311042005"]);
  assert.equal(plan.clearLocal, false);
});

test("login: another officer starts clean", () => {
  const plan = planLogin({ user: { username: "rina" } }, [], { token: "t", client_id: "c", user: { username: "budi" }, desa: [] });
  assert.equal(plan.clearLocal, true);
  assert.equal(plan.session.next_mutation_id, 1);
  assert.equal(planLogin(null, [], { token: "t", client_id: "c", user: { username: "budi" }, desa: [] }).clearLocal, true);
});

test("unsent work of another officer blocks a different login", () => {
  const prev = { user: { username: "rina" } };
  assert.equal(holdsForeignWork(prev, "budi", 2, 0), true);
  assert.equal(holdsForeignWork(prev, "budi", 0, 1), true);
  assert.equal(holdsForeignWork(prev, "rina", 2, 0), false);
  assert.equal(holdsForeignWork(prev, "budi", 0, 0), false);
  assert.equal(holdsForeignWork(null, "budi", 3, 0), false);
});
