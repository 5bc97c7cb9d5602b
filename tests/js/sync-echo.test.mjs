// Compact echoes (docs/sync-protocol.md): the phone rebuilds its own rows from what it sent
// plus what the server added, and ends with exactly the record a full pull would give.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeEntry } from "../../pwa/js/outbox-rules.js";
import { SyncClient } from "../../pwa/js/sync-client.js";
import { echoedRecord, planSyncApply } from "../../pwa/js/sync-merge.js";
import { MemoryStore, fakeServer, registration, rid } from "./fake-server.mjs";

const AT = "2026-11-28T09:15:03+08:00";
const NOW = "2026-11-28T01:15:00Z";
const regs = (count) => Array.from({ length: count }, (_, i) => makeEntry(i + 1, "register_resident", registration(i + 1), AT));
const flush = (store, server) =>
  new SyncClient({ store, fetchImpl: server.fetch, now: () => new Date(NOW), appVersion: "test" }).flush();

test("the phone asks for compact echoes and holds the same server copy as a full pull", async () => {
  const store = new MemoryStore({ outbox: regs(3) });
  const server = fakeServer();
  assert.equal((await flush(store, server)).status, "ok");
  assert.equal(server.requests[0].body.echo, "compact");
  const full = new Map(server.state.residents.map(({ seq, ...r }) => [r.resident_id, r]));
  assert.equal(store.residents.length, 3);
  for (const r of store.residents) {
    assert.deepEqual(r.server, full.get(r.resident_id));
    assert.equal(r.view.stage, "found");
  }
  assert.equal(store.session.cursor, "3");
});

test("an echo is the base of its mutation overlaid with the entry", () => {
  const sent = makeEntry(4, "register_resident", registration(1, { rt: "2" }), AT);
  const entry = { resident_id: rid(1), echo_of: 4, version: 1, stage: "found", rt: "002", warnings: ["nik_region"] };
  assert.deepEqual(echoedRecord(entry, sent), { ...registration(1), version: 1, stage: "found", warnings: ["nik_region"] });
  const update = makeEntry(5, "update_resident", { resident_id: rid(1), base_version: 1, fields: { notes: "Baru" } }, AT);
  assert.deepEqual(echoedRecord({ resident_id: rid(1), echo_of: 5, version: 2 }, update), { resident_id: rid(1), notes: "Baru", version: 2 });
  assert.equal(echoedRecord(entry, undefined), null);
  assert.equal(echoedRecord({ ...entry, resident_id: rid(2) }, sent), null, "another resident's mutation");
  assert.equal(echoedRecord(entry, makeEntry(4, "verify_resident", { resident_id: rid(1) }, AT)), null);
});

test("an echo the phone cannot rebuild keeps the old cursor: the rows come again in full", () => {
  const outbox = regs(1);
  const response = {
    last_mutation_id: 1, results: [{ id: 1, status: "applied" }], cursor: "9", more: false,
    changes: { residents: [], removed: [], echoes: [
      { resident_id: rid(1), echo_of: 1, version: 1, stage: "found" },
      { resident_id: rid(7), echo_of: 3, version: 1, stage: "found" },
    ] },
  };
  const plan = planSyncApply({ session: { cursor: "2" }, outbox, residents: [] }, response, NOW);
  assert.equal(plan.session.cursor, "2");
  assert.deepEqual(plan.putResidents.map((r) => r.resident_id), [rid(1)]);
  assert.deepEqual(plan.putResidents[0].server, { ...registration(1), version: 1, stage: "found" });
  const fine = planSyncApply({ session: { cursor: "2" }, outbox, residents: [] },
    { ...response, changes: { ...response.changes, echoes: response.changes.echoes.slice(0, 1) } }, NOW);
  assert.equal(fine.session.cursor, "9");
  // After a scope reset the old cursor is the old scope's: start over rather than skip rows.
  const reset = planSyncApply({ session: { cursor: "2" }, outbox, residents: [] },
    { ...response, scope_reset: true }, NOW);
  assert.equal(reset.session.cursor, null);
});
