import { test } from "node:test";
import assert from "node:assert/strict";
import { makeEntry } from "../../pwa/js/outbox-rules.js";
import { BACKOFF_MAX_MS, MAX_CHUNK, MIN_CHUNK, backoffMs, chunkSizeFor, grow, pageSizeFor, shrink } from "../../pwa/js/sync-pacing.js";
import { SyncClient } from "../../pwa/js/sync-client.js";
import { MemoryStore, fakeServer, registration } from "./fake-server.mjs";

const AT = "2026-11-28T09:15:03+08:00";
const regs = (count) => Array.from({ length: count }, (_, i) => makeEntry(i + 1, "register_resident", registration(i + 1), AT));
const cut = () => new TypeError("Failed to fetch");

test("a cut halves the batch down to one record, a success doubles it up to the protocol max", () => {
  assert.equal(shrink(500, 300), 150, "half of what the cut request carried");
  assert.equal(shrink(8, 3), 2);
  assert.equal(shrink(1, 1), 1);
  assert.equal(shrink(40, 0), 20, "a cut pull or photo halves the estimate itself");
  assert.equal(grow(10, 10), 20);
  assert.equal(grow(10, 2), 10, "a small last batch never lowers the estimate");
  assert.equal(grow(400, 400), 500);
});

test("pull pages and photo chunks follow the same estimate", () => {
  assert.equal(pageSizeFor(500), 200);
  assert.equal(pageSizeFor(150), 75);
  assert.equal(pageSizeFor(1), 1);
  assert.equal(chunkSizeFor(500), MAX_CHUNK);
  assert.equal(chunkSizeFor(250), 32 * 1024);
  assert.equal(chunkSizeFor(3), MIN_CHUNK);
});

test("backoff: 2 s doubling per failure, capped at a minute, equal jitter", () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffMs(n, () => 0)), [1000, 2000, 4000, 8000]);
  assert.deepEqual([1, 2, 3].map((n) => backoffMs(n, () => 0.999999)), [2000, 4000, 8000]);
  assert.equal(backoffMs(9, () => 0.999999), BACKOFF_MAX_MS);
  assert.equal(backoffMs(50, () => 0), BACKOFF_MAX_MS / 2);
});

test("cut requests shrink the batch and the pull page; what was acknowledged is never resent", async () => {
  const store = new MemoryStore({ outbox: regs(40) });
  const server = fakeServer({ script: [cut(), cut(), cut()] });
  const c = new SyncClient({ store, fetchImpl: server.fetch, appVersion: "t" });
  const sent = [];
  for (let i = 0; i < 4; i += 1) {
    const before = server.requests.length;
    const result = await c.flush();
    sent.push(...server.requests.slice(before).map((r) => [r.body?.mutations.length, r.body?.page_size]));
    if (i < 3) assert.equal(result.status, "offline");
  }
  // the fake records scripted cuts too: 40 → 20 → 10 → 5 records, then growing back
  assert.deepEqual(sent.slice(0, 4), [[40, undefined], [20, 10], [10, 5], [5, 3]]);
  assert.deepEqual(sent.slice(4).map(([n]) => n).filter(Boolean), [10, 20, 5], "doubling after each success");
  const ids = server.state.applied.map((m) => m.id);
  assert.deepEqual(ids, Array.from({ length: 40 }, (_, i) => i + 1), "each record applied once");
  assert.equal(store.outbox.length, 0);
});

test("a body cut on the way back is a network failure, not a server problem", async () => {
  const store = new MemoryStore({ outbox: regs(2) });
  const server = fakeServer();
  const inner = server.fetch;
  let first = true;
  const fetchImpl = async (url, init) => {
    const response = await inner(url, init);
    if (!first) return response;
    first = false;
    return { status: 200, json: () => Promise.reject(cut()) };
  };
  const c = new SyncClient({ store, fetchImpl, appVersion: "t" });
  const result = await c.flush();
  assert.equal(result.status, "offline");
  assert.equal(store.session.last_sync_error.message, "Sinyal terputus. Data tetap di HP dan dikirim lagi otomatis.");
  assert.equal((await c.flush()).status, "ok");
  assert.equal(store.outbox.length, 0);
});

test("a started client retries a cut by itself after a short backoff; one flusher", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  const store = new MemoryStore({ outbox: regs(3) });
  const server = fakeServer({ script: [cut()] });
  const c = new SyncClient({ store, fetchImpl: server.fetch, appVersion: "t" });
  const finished = [];
  c.addEventListener("finished", (e) => finished.push(e.detail));
  c.start({ intervalMs: 60000 });
  await c.current;
  assert.equal(finished[0].status, "offline");
  const wait = finished[0].retryInMs;
  assert.ok(wait >= 1000 && wait <= 2000, `${wait} ms`);
  assert.ok(c.retryTimer, "a retry is scheduled");
  t.mock.timers.tick(wait);
  assert.ok(c.running, "the retry started");
  await c.current;
  assert.equal(finished[1].status, "ok");
  assert.equal(finished[1].retryInMs, undefined);
  assert.equal(c.retryTimer, null);
  assert.equal(store.outbox.length, 0);
  // the cut, then 2 records (half of the 3 it carried), then the last one in a grown batch
  assert.deepEqual(server.requests.map((r) => r.body.mutations.length), [3, 2, 1]);
  c.stop();
});

test("photo chunks follow the link estimate: full size on a good link, smaller after cuts", async () => {
  const store = new MemoryStore({ outbox: regs(40) });
  const server = fakeServer({ script: [cut(), cut(), cut()] });
  const chunks = [];
  const uploader = { run: async (_token, _progress, { chunkSize }) => { chunks.push(chunkSize); return { status: "ok", uploaded: 0, failed: 0 }; } };
  const c = new SyncClient({ store, fetchImpl: server.fetch, appVersion: "t", uploader });
  await c.flush(); await c.flush(); await c.flush(); // three cuts: 40 → 20 → 10 → 5 records
  assert.deepEqual(chunks, [], "no photo goes up after a failed sync");
  assert.equal((await c.flush()).status, "ok");
  assert.ok(chunks[0] < MAX_CHUNK && chunks[0] >= MIN_CHUNK, `${chunks[0]} B`);
  const fresh = new SyncClient({ store: new MemoryStore({ outbox: regs(1) }), fetchImpl: fakeServer().fetch, appVersion: "t", uploader });
  await fresh.flush();
  assert.equal(chunks.at(-1), MAX_CHUNK);
});

test("a real 5xx is a server problem: no quick retry, the timer tries again", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  const store = new MemoryStore({ outbox: regs(2) });
  const server = fakeServer({ script: [{ status: 503, body: { code: "database_unavailable", message: "x", fields: {} } }] });
  const c = new SyncClient({ store, fetchImpl: server.fetch, appVersion: "t" });
  c.start({ intervalMs: 60000 });
  const result = await c.current;
  assert.equal(result.status, "error");
  assert.equal(result.retryInMs, undefined);
  assert.equal(c.retryTimer, null);
  assert.equal(store.session.last_sync_error.message, "Server sedang bermasalah. Data tetap di HP dan dikirim nanti.");
  c.stop();
});
