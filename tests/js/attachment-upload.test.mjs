// The photo uploader against a fake PUT/HEAD /api/attachments/<sha256> that follows
// docs/interfaces-pipeline.md, and its place in the sync flusher (after the sync).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { AttachmentUploader } from "../../pwa/js/attachment-upload.js";
import { SyncClient } from "../../pwa/js/sync-client.js";
import { makeEntry } from "../../pwa/js/outbox-rules.js";
import { encodeSignature } from "../../pwa/js/signature-codec.js";
import { uploadQueue } from "../../pwa/js/pipeline.js";
import { MemoryStore, fakeServer, rid } from "./fake-server.mjs";
import { typicalSignature } from "./signature-fixture.mjs";

const AT = "2026-11-28T09:15:03+08:00";

function photo(size, seed = 1) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + seed * 7) & 0xff;
  bytes[0] = 0xff; bytes[1] = 0xd8; bytes[2] = 0xff; // JPEG magic
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  return { sha256, blob: new Blob([bytes], { type: "image/jpeg" }), mime: "image/jpeg", size, bytes };
}

/** A store with the attachment part of db.js's interface. */
class PhotoStore extends MemoryStore {
  constructor(opts = {}, attachments = []) {
    super(opts);
    this.attachments = new Map(attachments.map((a) => [a.sha256, { offset: 0, failed: null, ready: true, created_at: AT, ...a }]));
  }
  async getUploadQueue() { return uploadQueue([...this.attachments.values()]); }
  async noteUploadOffset(sha, offset) { this.attachments.get(sha).offset = offset; }
  async finishAttachment(sha) { this.attachments.delete(sha); }
  async failAttachment(sha, error) { this.attachments.get(sha).failed = error; }
  async applySyncResponse(response, nowIso) {
    const plan = await super.applySyncResponse(response, nowIso);
    for (const sha of plan.readyAttachments) if (this.attachments.has(sha)) this.attachments.get(sha).ready = true;
    return plan;
  }
}

/** Fake attachment endpoint: partial data per hash, 409 on a wrong start, hash check at the end. */
function attachmentServer({ cutAfter = Infinity, corrupt = false, waitFor = new Set() } = {}) {
  const partial = new Map();
  const complete = new Map();
  const requests = [];
  let count = 0;
  async function fetchImpl(url, init) {
    const sha = url.split("/").pop();
    requests.push({ method: init.method, url, range: init.headers["Content-Range"] ?? null });
    count += 1;
    if (count > cutAfter) throw new TypeError("Failed to fetch"); // the 2G link dropped
    if (init.method === "HEAD") {
      if (complete.has(sha)) return new Response(null, { status: 200, headers: { "Upload-Offset": String(complete.get(sha).length), "Upload-Complete": "1" } });
      if (partial.has(sha)) return new Response(null, { status: 200, headers: { "Upload-Offset": String(partial.get(sha).length), "Upload-Complete": "0" } });
      return new Response(null, { status: 404 });
    }
    if (complete.has(sha)) return Response.json({ sha256: sha, size: complete.get(sha).length, complete: true }, { status: 200 });
    if (waitFor.has(sha)) return Response.json({ code: "upload_quota_exceeded", message: "Tunggu dulu." }, { status: 429 });
    const body = Buffer.from(await init.body.arrayBuffer());
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(init.headers["Content-Range"]);
    const held = partial.get(sha) ?? Buffer.alloc(0);
    const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (start !== held.length) return new Response(JSON.stringify({ code: "offset_mismatch" }), { status: 409, headers: { "Upload-Offset": String(held.length) } });
    assert.equal(body.length, end - start + 1);
    const now = Buffer.concat([held, corrupt ? Buffer.alloc(body.length) : body]);
    if (now.length < total) {
      partial.set(sha, now);
      return Response.json({ sha256: sha, received: now.length, complete: false }, { status: 202 });
    }
    partial.delete(sha);
    if (createHash("sha256").update(now).digest("hex") !== sha) return Response.json({ code: "hash_mismatch", message: "Isi foto tidak cocok." }, { status: 422 });
    complete.set(sha, now);
    return Response.json({ sha256: sha, size: now.length, complete: true }, { status: 201 });
  }
  return { fetch: fetchImpl, requests, complete, partial };
}

test("a photo goes up in 64 KiB chunks with Content-Range; the local copy goes only when complete", async () => {
  const p = photo(150000);
  const store = new PhotoStore({}, [p]);
  const server = attachmentServer();
  const progress = [];
  const result = await new AttachmentUploader({ store, fetchImpl: server.fetch }).run("tok", (d) => progress.push(d));
  assert.equal(result.status, "ok");
  assert.equal(result.uploaded, 1);
  assert.deepEqual(server.requests.map((r) => `${r.method} ${r.range}`), [
    "PUT bytes 0-65535/150000", "PUT bytes 65536-131071/150000", "PUT bytes 131072-149999/150000"]);
  assert.ok(server.complete.get(p.sha256).equals(Buffer.from(p.bytes)));
  assert.equal(store.attachments.size, 0);
  assert.deepEqual(progress.map((d) => d.bytesDone), [0, 65536, 131072, 150000]);
  assert.ok(progress.every((d) => d.bytesTotal === 150000 && d.phase === "upload"));
});

test("a cut mid-upload resumes from the server's Upload-Offset (HEAD), not from the start", async () => {
  const p = photo(200000, 2);
  const store = new PhotoStore({}, [p]);
  const server = attachmentServer({ cutAfter: 2 });
  const first = await new AttachmentUploader({ store, fetchImpl: server.fetch }).run("tok");
  assert.equal(first.status, "offline");
  assert.equal(store.attachments.get(p.sha256).offset, 131072, "two chunks arrived before the cut");
  // Same server state, link back: a new uploader run.
  const resumed = attachmentServer();
  resumed.partial.set(p.sha256, server.partial.get(p.sha256));
  const second = await new AttachmentUploader({ store, fetchImpl: resumed.fetch }).run("tok");
  assert.equal(second.status, "ok");
  assert.deepEqual(resumed.requests.map((r) => `${r.method} ${r.range}`), ["HEAD null", "PUT bytes 131072-196607/200000", "PUT bytes 196608-199999/200000"]);
  assert.ok(resumed.complete.get(p.sha256).equals(Buffer.from(p.bytes)));
  assert.equal(store.attachments.size, 0);
});

test("the server knowing more than the phone (409 + Upload-Offset) continues from there", async () => {
  const p = photo(140000, 3);
  const store = new PhotoStore({}, [p]);
  const server = attachmentServer();
  server.partial.set(p.sha256, Buffer.from(p.bytes.subarray(0, 65536)));
  const result = await new AttachmentUploader({ store, fetchImpl: server.fetch }).run("tok");
  assert.equal(result.status, "ok");
  assert.deepEqual(server.requests.map((r) => r.range), ["bytes 0-65535/140000", "bytes 65536-131071/140000", "bytes 131072-139999/140000"]);
});

test("an already complete hash is not sent again; a hash mismatch is kept and not retried", async () => {
  const done = photo(1000, 4);
  const bad = photo(1000, 5);
  const store = new PhotoStore({}, [done, bad]);
  const server = attachmentServer();
  server.complete.set(done.sha256, Buffer.from(done.bytes));
  const corrupt = attachmentServer({ corrupt: true });
  const fetchImpl = (url, init) => (url.endsWith(done.sha256) ? server.fetch(url, init) : corrupt.fetch(url, init));
  const result = await new AttachmentUploader({ store, fetchImpl }).run("tok");
  assert.equal(result.uploaded, 1);
  assert.equal(result.failed, 1);
  assert.equal(store.attachments.has(done.sha256), false);
  assert.equal(store.attachments.get(bad.sha256).failed.code, "hash_mismatch");
  assert.equal((await store.getUploadQueue()).length, 0, "not retried at every sync");
});

test("the flusher uploads a photo only after the sync that carried its mutation", async () => {
  const p = photo(70000, 6);
  const entry = makeEntry(1, "verify_resident", {
    resident_id: rid(1), checks: { kk_copy_seen: true, age_eligible: true, marital_eligible: false }, kk_photo: p.sha256, notes: null }, AT);
  const store = new PhotoStore({ outbox: [entry] }, [{ ...p, ready: false }]);
  const order = [];
  const sync = fakeServer();
  const photos = attachmentServer();
  const fetchImpl = (url, init) => {
    order.push(`${init.method} ${url.startsWith("/api/attachments/") ? "attachment" : url}`);
    return url.startsWith("/api/attachments/") ? photos.fetch(url, init) : sync.fetch(url, init);
  };
  assert.equal((await store.getUploadQueue()).length, 0, "not before the mutation is accepted");
  const client = new SyncClient({ store, fetchImpl, appVersion: "t", uploader: new AttachmentUploader({ store, fetchImpl }) });
  const result = await client.flush();
  assert.equal(result.status, "ok");
  assert.deepEqual(order, ["POST /api/sync", "PUT attachment", "PUT attachment"]);
  assert.equal(result.uploads.uploaded, 1);
  assert.equal(store.attachments.size, 0);
});

test("a rejected mutation's photo is not uploaded (it waits in perlu perbaikan)", async () => {
  const p = photo(1000, 7);
  const entry = makeEntry(1, "deliver_card", { resident_id: rid(1), name: "TOLAK", photo: p.sha256 }, AT);
  const store = new PhotoStore({ outbox: [entry] }, [{ ...p, ready: false }]);
  const sync = fakeServer();
  const photos = attachmentServer();
  const fetchImpl = (url, init) => (url.startsWith("/api/attachments/") ? photos.fetch(url, init) : sync.fetch(url, init));
  const client = new SyncClient({ store, fetchImpl, appVersion: "t", uploader: new AttachmentUploader({ store, fetchImpl }) });
  await client.flush();
  assert.equal(store.rejected.length, 1);
  assert.equal(photos.requests.length, 0);
  assert.equal(store.attachments.get(p.sha256).ready, false);
});

test("one signed delivery in a sync batch stays under 1.5 KB gzipped (DESIGN §8; printed)", async () => {
  // Every delivery has its own signature (gzip must not win by repeating one).
  const sigs = await Promise.all(Array.from({ length: 101 }, (_, i) => encodeSignature(typicalSignature(i + 1))));
  const sig = sigs[0];
  const delivery = (n) => makeEntry(n, "deliver_card", {
    resident_id: rid(n), delivery_id: `5f0c${String(n).padStart(4, "0")}-8a3b-4c1d-9e2f-a1b2c3d4e5f6`,
    delivered_at: AT, recipient: "owner", proxy_name: null, proxy_relation: null,
    signature: { data: sigs[n].data, sha256: sigs[n].sha256 }, photo: createHash("sha256").update(String(n)).digest("hex"),
    gps: { lat: -2.512346, lon: 115.400001, accuracy_m: 12 } }, AT);
  const single = new MemoryStore({ outbox: [delivery(1)] });
  const s1 = fakeServer();
  await new SyncClient({ store: single, fetchImpl: s1.fetch, appVersion: "1.0.0+0123456789ab" }).flush();
  const hundred = new MemoryStore({ outbox: Array.from({ length: 100 }, (_, i) => delivery(i + 1)) });
  const s100 = fakeServer();
  await new SyncClient({ store: hundred, fetchImpl: s100.fetch, appVersion: "1.0.0+0123456789ab" }).flush();
  const one = s1.requests[0].wireBytes;
  const per = s100.requests[0].wireBytes / 100;
  const mutationOnly = gzipSync(JSON.stringify(s1.requests[0].body.mutations[0])).length;
  console.log(`signed delivery: ${sig.bytes} B signature; one delivery alone in a request ${one} B gzipped ` +
    `(mutation alone ${mutationOnly} B); ${per.toFixed(0)} B each in a batch of 100`);
  assert.ok(one <= 1536, `${one} B`);
  assert.ok(per <= 1536, `${per} B`);
});

test("a photo the server asks to wait (429) does not hold up the photos behind it", async () => {
  const [first, second] = [photo(1000, 1), photo(1000, 2)];
  const store = new PhotoStore({}, [first, second]);
  const server = attachmentServer({ waitFor: new Set([first.sha256]) });
  const uploader = new AttachmentUploader({ store, fetchImpl: server.fetch });
  const result = await uploader.run("tok");
  assert.equal(result.status, "error");
  assert.equal(result.message, "Tunggu dulu.");
  assert.equal(result.uploaded, 1);
  assert.ok(server.complete.has(second.sha256));
  assert.ok(store.attachments.has(first.sha256) && !store.attachments.get(first.sha256).failed);
  const again = await new AttachmentUploader({ store, fetchImpl: attachmentServer().fetch }).run("tok");
  assert.deepEqual([again.status, again.uploaded], ["ok", 1]); // tried again at the next sync
});

test("a run's chunkSize (the sync's link estimate after cuts) lowers the chunks", async () => {
  const p = photo(10000, 3);
  const store = new PhotoStore({}, [p]);
  const server = attachmentServer();
  const result = await new AttachmentUploader({ store, fetchImpl: server.fetch }).run("tok", () => {}, { chunkSize: 4096 });
  assert.equal(result.status, "ok");
  assert.deepEqual(server.requests.map((r) => r.range), ["bytes 0-4095/10000", "bytes 4096-8191/10000", "bytes 8192-9999/10000"]);
  assert.ok(server.complete.get(p.sha256).equals(Buffer.from(p.bytes)));
});
