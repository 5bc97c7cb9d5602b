// The acknowledged log and the healing of a restored server (issue #9): pure rules, and the
// sync client against a fake server that is "restored from a backup" between two syncs.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  KEEP_DAYS, KEEP_MAX_ENTRIES, KEEP_MAX_PHOTO_BYTES, expired, healTrigger, logEntry, photoToCheck,
  photosOf, planHeal, planLoginHeal,
} from "../../pwa/js/heal-rules.js";
import { makeEntry, wireMutation } from "../../pwa/js/outbox-rules.js";
import { planLogin } from "../../pwa/js/sync-merge.js";
import { SyncClient } from "../../pwa/js/sync-client.js";
import { MemoryStore, fakeServer, registration, rid } from "./fake-server.mjs";

const reg = (id, n = id) => makeEntry(id, "register_resident", registration(n), "2026-11-28T09:00:00+08:00");
const logged = (client, id, seq, n = seq, origin = null) =>
  ({ ...logEntry({ ...reg(id, n), origin }, client, "2026-11-28T01:00:00Z"), seq });

test("an acknowledged entry is logged with its client and travels again with an origin", () => {
  const entry = logEntry(reg(4), "c1", "2026-11-28T01:00:00Z");
  assert.equal(entry.client_id, "c1");
  assert.equal(entry.id, 4);
  assert.equal(entry.origin, null);
  assert.deepEqual(Object.keys(wireMutation(reg(1))), ["id", "name", "at", "args"]);
  assert.deepEqual(wireMutation({ ...reg(1), origin: { client_id: "c0", id: 9 } }).origin, { client_id: "c0", id: 9 });
});

test("a new database identity or a lower last_mutation_id calls for healing; a first answer never", () => {
  assert.equal(healTrigger({ acked_through: 0, database_id: null }, 0, "db-1"), null);
  assert.equal(healTrigger({ acked_through: 5, database_id: "db-1" }, 5, "db-1"), null);
  assert.equal(healTrigger({ acked_through: 5, database_id: "db-1" }, 7, "db-1"), null);
  assert.deepEqual(healTrigger({ acked_through: 5, database_id: "db-1" }, 5, "db-2"), { identityChanged: true, lowered: false });
  assert.deepEqual(healTrigger({ acked_through: 5, database_id: "db-1" }, 3, "db-1"), { identityChanged: false, lowered: true });
  assert.deepEqual(healTrigger({ acked_through: 5, database_id: "db-1" }, 3, null), { identityChanged: false, lowered: true });
});

test("the server still knows the client: its entries above last go first, all numbered from last + 1", () => {
  const log = [logged("c1", 1, 1), logged("c1", 2, 2), logged("c2", 1, 3), logged("c2", 2, 4), logged("c2", 3, 5, 5, { client_id: "c1", id: 7 }), logged("c2", 5, 6)];
  const plan = planHeal(log, [reg(7, 70), reg(6, 60)], "c2", 1);
  assert.deepEqual(plan.resend.map((e) => [e.id, e.args.name, e.origin ?? null]), [
    [2, "Siti Aminah 4", null], [3, "Siti Aminah 5", { client_id: "c1", id: 7 }], [4, "Siti Aminah 6", null],
    [5, "Siti Aminah 60", null], [6, "Siti Aminah 70", null],
  ]);
  assert.deepEqual(plan.dropSeqs, [4, 5, 6]);
  assert.equal(plan.nextMutationId, 7);
});

test("logged in again on a restored server: the whole log goes first, each with where it came from", () => {
  const log = [logged("c2", 1, 3), logged("c1", 1, 1), logged("c1", 2, 2, 2, { client_id: "c0", id: 4 })];
  const login = planLogin({ user: { username: "rina" }, client_id: "c2" }, [reg(2, 9)], { token: "t", client_id: "c3", user: { username: "rina" } });
  assert.deepEqual(login.renumbered.map((e) => [e.id, e.origin]), [[1, { client_id: "c2", id: 2 }]]);
  const plan = planLoginHeal(log, login.renumbered);
  assert.deepEqual(plan.resend.map((e) => [e.id, e.args.name, e.origin]), [
    [1, "Siti Aminah 1", { client_id: "c1", id: 1 }], [2, "Siti Aminah 2", { client_id: "c0", id: 4 }],
    [3, "Siti Aminah 3", { client_id: "c2", id: 1 }], [4, "Siti Aminah 9", { client_id: "c2", id: 2 }],
  ]);
  assert.deepEqual(plan.dropSeqs, [1, 2, 3]);
  assert.equal(plan.nextMutationId, 5);
});

test("kept photos come back to be checked with HEAD; those of resent entries wait for them", () => {
  const sha = "a".repeat(64);
  const verify = makeEntry(1, "verify_resident", { resident_id: rid(1), checks: {}, kk_photo: sha }, "x");
  assert.deepEqual([...photosOf([verify])], [sha]);
  const kept = { sha256: sha, blob: null, size: 10, ready: true, offset: 10, kept_at: "x" };
  // kept_at travels along: kept again after the check, the photo's 30 days go on, not over
  assert.deepEqual(photoToCheck(kept, true), { sha256: sha, blob: null, size: 10, ready: false, offset: 0, failed: null, verify: true, kept_at: "x" });
  assert.equal(photoToCheck(kept, false).ready, true);
});

test("retention: 30 days, then the count and byte caps, oldest dropped first", () => {
  assert.equal(KEEP_DAYS, 30);
  assert.ok(KEEP_MAX_ENTRIES >= 1000 && KEEP_MAX_PHOTO_BYTES >= 50 * 1024 * 1024);
  const now = Date.parse("2026-12-31T00:00:00Z");
  const items = [
    { key: "old", at: "2026-11-30T00:00:00Z", size: 1 },
    { key: "a", at: "2026-12-02T00:00:00Z", size: 5 },
    { key: "b", at: "2026-12-20T00:00:00Z", size: 5 },
    { key: "c", at: "2026-12-30T00:00:00Z", size: 5 },
  ];
  assert.deepEqual(expired(items, now), ["old"]);
  assert.deepEqual(expired(items, now, { maxCount: 2 }), ["a", "old"]);
  assert.deepEqual(expired(items, now, { maxBytes: 12 }), ["a", "old"]);
  // One answer acknowledges several entries at one time: the lowest seqs are the oldest.
  const log = [1, 2, 3].map((seq) => ({ key: seq, at: "2026-12-20T00:00:00Z" }))
    .concat([{ key: 4, at: "2026-12-21T00:00:00Z" }]);
  assert.deepEqual(expired(log, now, { maxCount: 2 }).sort(), [1, 2]);
});

test("a resent entry keeps the time it was first acknowledged", () => {
  const first = logEntry(makeEntry(3, "verify_resident", { resident_id: rid(1), checks: {} }, "x"), "c1", "2026-12-01T00:00:00Z");
  const [resent] = planLoginHeal([{ ...first, seq: 9 }], []).resend;
  assert.equal(logEntry(resent, "c2", "2026-12-20T00:00:00Z").acked_at, "2026-12-01T00:00:00Z");
});

test("a restored server gets back every acknowledged record exactly once, in order", async () => {
  const server = fakeServer({ databaseId: "db-1" });
  const store = new MemoryStore({ outbox: [1, 2, 3, 4, 5].map((n) => reg(n)) });
  const client = new SyncClient({ store, fetchImpl: server.fetch, gzip: false });
  assert.equal((await client.flush()).status, "ok");
  assert.equal(store.session.database_id, "db-1");
  assert.equal(store.acked.length, 5);

  // Restored from a backup taken after the second registration.
  server.state.last = 2;
  server.state.residents = server.state.residents.slice(0, 2);
  server.state.databaseId = "db-2";
  store.outbox.push(reg(6), reg(7));
  store.session.next_mutation_id = 8;
  server.requests.length = 0;
  assert.equal((await client.flush()).status, "ok");

  assert.deepEqual(server.state.residents.map((r) => r.name), [1, 2, 3, 4, 5, 6, 7].map((n) => `Siti Aminah ${n}`));
  assert.equal(server.state.last, 7);
  assert.equal(store.session.database_id, "db-2");
  assert.equal(store.outbox.length, 0);
  assert.deepEqual(store.rejected, []);
  assert.ok(server.requests.some((r) => r.body.cursor === null), "the scope is pulled again from the start");
  assert.deepEqual(store.residents.map((r) => r.resident_id).sort(), [1, 2, 3, 4, 5, 6, 7].map(rid).sort());
});

test("a new identity with nothing lost still pulls the scope again from the start", async () => {
  const server = fakeServer({ databaseId: "db-1" });
  const store = new MemoryStore({ outbox: [reg(1)] });
  const client = new SyncClient({ store, fetchImpl: server.fetch, gzip: false });
  await client.flush();
  server.state.databaseId = "db-2";
  server.requests.length = 0;
  assert.equal((await client.flush()).status, "ok");
  assert.deepEqual(server.requests.map((r) => [r.body.cursor, r.body.mutations.length]), [["1", 0], [null, 0]]);
  assert.equal(server.state.residents.length, 1);
});
