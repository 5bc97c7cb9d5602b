import { test } from "node:test";
import assert from "node:assert/strict";
import { makeEntry } from "../../pwa/js/outbox-rules.js";
import { SyncClient, gzipText } from "../../pwa/js/sync-client.js";
import { MemoryStore, fakeServer, registration, rid } from "./fake-server.mjs";

const AT = "2026-11-28T09:15:03+08:00";
const regs = (count, from = 1) => Array.from({ length: count }, (_, i) =>
  makeEntry(from + i, "register_resident", registration(from + i), AT));
const client = (store, server, extra = {}) =>
  new SyncClient({ store, fetchImpl: server.fetch, now: () => new Date("2026-11-28T01:15:00Z"), appVersion: "test", ...extra });

test("an outbox that fits one batch is sent in ONE request, gzipped, with the bearer token", async () => {
  const store = new MemoryStore({ outbox: regs(3) });
  const server = fakeServer();
  const result = await client(store, server).flush();
  assert.equal(result.status, "ok");
  assert.equal(server.requests.length, 1);
  const { init, body } = server.requests[0];
  assert.equal(init.method, "POST");
  assert.equal(init.headers.Authorization, "Bearer tok");
  assert.equal(init.headers["Content-Encoding"], "gzip");
  assert.equal(init.headers["Content-Type"], "application/json");
  assert.equal(body.protocol, 1);
  assert.equal(body.client_id, "c1");
  assert.equal(body.cursor, null);
  assert.match(body.sent_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
  assert.deepEqual(body.mutations.map((m) => m.id), [1, 2, 3]);
  assert.deepEqual(Object.keys(body.mutations[0]), ["id", "name", "at", "args"]);
  assert.equal(store.outbox.length, 0, "acknowledged entries left the outbox");
  assert.equal(store.residents.length, 3);
  assert.ok(store.residents.every((r) => r.pending === 0 && r.server.version === 1));
  assert.equal(store.session.cursor, "3");
  assert.equal(store.session.next_mutation_id, 4);
  assert.equal(store.session.last_sync_at, "2026-11-28T01:15:00.000Z");
});

test("one registration costs at most 400 B gzipped in a batch (DESIGN §8)", async () => {
  const store = new MemoryStore({ outbox: regs(100) });
  const server = fakeServer();
  await client(store, server).flush();
  assert.equal(server.requests.length, 1);
  const perRecord = server.requests[0].wireBytes / 100;
  assert.ok(perRecord <= 400, `${perRecord} B per registration`);
});

test("a large outbox goes in batches of 500 with progress n of m", async () => {
  const store = new MemoryStore({ outbox: regs(1200) });
  const server = fakeServer({ pageSize: 5000 });
  const c = client(store, server);
  const progress = [];
  c.addEventListener("progress", (e) => progress.push(e.detail));
  const result = await c.flush();
  assert.equal(result.status, "ok");
  assert.deepEqual(server.requests.map((r) => r.body.mutations.length), [500, 500, 200]);
  assert.deepEqual(progress.map((p) => [p.done, p.total]), [[0, 1200], [500, 1200], [1000, 1200], [1200, 1200]]);
  assert.equal(store.outbox.length, 0);
});

test("pull loops while the server says more", async () => {
  const serverResidents = Array.from({ length: 450 }, (_, i) => ({ ...registration(1000 + i), version: 2, stage: "verified", seq: i + 1 }));
  const store = new MemoryStore();
  const server = fakeServer({ residents: serverResidents, pageSize: 200 });
  const result = await client(store, server).flush();
  assert.equal(result.status, "ok");
  assert.equal(server.requests.length, 3);
  assert.deepEqual(server.requests.map((r) => r.body.cursor), [null, "200", "400"]);
  assert.equal(store.residents.length, 450);
  assert.equal(result.received, 450);
});

test("401: the officer must log in again, the outbox is kept", async () => {
  const store = new MemoryStore({ outbox: regs(2) });
  const server = fakeServer({ script: [{ status: 401, body: { code: "token_revoked", message: "Perangkat ini sudah dicabut aksesnya.", fields: {} } }] });
  const c = client(store, server);
  let signedOut = null;
  c.addEventListener("signed-out", (e) => { signedOut = e.detail; });
  const result = await c.flush();
  assert.equal(result.status, "signed_out");
  assert.equal(signedOut.code, "token_revoked");
  assert.equal(store.outbox.length, 2);
  assert.equal(store.session.token, null);
  assert.deepEqual(store.signedOut, { keepData: true, reason: "token_revoked", message: "Perangkat ini sudah dicabut aksesnya." });
  assert.equal((await c.flush()).status, "signed_out", "no request without a token");
  assert.equal(server.requests.length, 1);
});

test("409 mutation_gap: resend renumbered from last + 1", async () => {
  const store = new MemoryStore({ outbox: regs(3, 45), session: { next_mutation_id: 48 } });
  const server = fakeServer({ last: 39 });
  const result = await client(store, server).flush();
  assert.equal(result.status, "ok");
  assert.equal(server.requests.length, 2);
  assert.deepEqual(server.requests[1].body.mutations.map((m) => m.id), [40, 41, 42]);
  assert.deepEqual(server.requests[1].body.mutations.map((m) => m.args.resident_id), [rid(45), rid(46), rid(47)]);
  assert.equal(store.outbox.length, 0);
  assert.equal(store.session.next_mutation_id, 43);
});

test("duplicates (a lost answer) are acknowledged, not sent again", async () => {
  const store = new MemoryStore({ outbox: regs(3) });
  const server = fakeServer({ last: 2 });
  await client(store, server).flush();
  assert.equal(store.outbox.length, 0);
  assert.equal(server.state.applied.length, 1);
});

test("rejected mutations move to perlu perbaikan with the server's message", async () => {
  const outbox = [...regs(1), makeEntry(2, "register_resident", registration(2, { name: "TOLAK" }), AT)];
  const store = new MemoryStore({ outbox });
  const result = await client(store, fakeServer()).flush();
  assert.equal(result.rejected, 1);
  assert.equal(store.rejected.length, 1);
  assert.equal(store.rejected[0].message, "Nama tidak boleh TOLAK.");
  assert.equal(store.rejected[0].args.name, "TOLAK");
  assert.equal(store.outbox.length, 0);
  assert.deepEqual(store.residents.map((r) => r.resident_id), [rid(1)], "the rejected registration is not shown as a case");
});

test("network failure: stays queued, the error is remembered", async () => {
  const store = new MemoryStore({ outbox: regs(2) });
  const server = fakeServer({ script: [new TypeError("Failed to fetch")] });
  const result = await client(store, server).flush();
  assert.equal(result.status, "offline");
  assert.equal(store.outbox.length, 2);
  assert.equal(store.session.last_sync_error.code, "network");
});

test("server error 500: stays queued", async () => {
  const store = new MemoryStore({ outbox: regs(1) });
  const server = fakeServer({ script: [{ status: 500, body: { code: "server_error", message: "x", fields: {} } }] });
  assert.equal((await client(store, server).flush()).status, "error");
  assert.equal(store.outbox.length, 1);
});

test("413: the batch is halved and sent again", async () => {
  const store = new MemoryStore({ outbox: regs(8) });
  const server = fakeServer({ script: [{ status: 413, body: { code: "payload_too_large", message: "besar", fields: {} } }] });
  const result = await client(store, server).flush();
  assert.equal(result.status, "ok");
  // (a smaller batch asks for smaller pull pages too: pure pulls may follow)
  assert.deepEqual(server.requests.map((r) => r.body.mutations.length).filter(Boolean), [8, 4, 4]);
});

test("one flusher at a time: a second call joins the running one", async () => {
  const store = new MemoryStore({ outbox: regs(2) });
  const server = fakeServer();
  const c = client(store, server);
  const a = c.flush("manual");
  const b = c.flush("online");
  assert.equal(a, b);
  assert.ok(c.running);
  await a;
  assert.equal(server.requests.length, 1);
  assert.equal(c.running, false);
});

test("pause waits for the running sync and blocks new ones (app updates)", async () => {
  const store = new MemoryStore({ outbox: regs(1) });
  const server = fakeServer();
  const c = client(store, server);
  const running = c.flush();
  await c.pause();
  assert.equal(c.running, false);
  assert.equal((await running).status, "ok");
  assert.equal((await c.flush()).status, "paused");
  c.resume();
  assert.equal((await c.flush()).status, "ok");
});

test("local edits made while the request is in flight are kept over the server copy", async () => {
  const store = new MemoryStore({ outbox: regs(1) });
  const server = fakeServer();
  const inner = server.fetch;
  server.fetch = async (url, init) => {
    // The officer edits the phone number while the registration is on its way.
    store.outbox.push(makeEntry(2, "update_resident", { resident_id: rid(1), base_version: 1, fields: { phone: "0899" } }, AT));
    store.session.next_mutation_id = 3;
    return inner(url, init);
  };
  const c = new SyncClient({ store, fetchImpl: (...a) => server.fetch(...a), appVersion: "t", now: () => new Date() });
  let afterFirst = null;
  c.addEventListener("changed", () => {
    afterFirst ??= structuredClone(store.residents.find((r) => r.resident_id === rid(1)));
    server.fetch = inner;
  });
  await c.flush();
  assert.equal(afterFirst.server.phone, "081234567890");
  assert.equal(afterFirst.view.phone, "0899", "the pending edit wins until the server has it");
  assert.equal(afterFirst.pending, 1);
  assert.equal(server.requests.length, 2, "the edit saved during the sync is pushed in the same flush");
  assert.deepEqual(server.requests[1].body.mutations.map((m) => m.name), ["update_resident"]);
  assert.equal(store.outbox.length, 0);
});

test("gzipText produces real gzip", async () => {
  const bytes = await gzipText("halo halo halo");
  assert.equal(bytes[0], 0x1f);
  assert.equal(bytes[1], 0x8b);
});
