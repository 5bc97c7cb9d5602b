import { test } from "node:test";
import assert from "node:assert/strict";
import { CHUNK_SIZE, JPEG_QUALITY, MAX_SIDE, fitWithin, formatBytes, nextChunk, readHead, readPut } from "../../pwa/js/photo-sizing.js";

test("the contract's numbers: 1280 px, JPEG 0.7, 64 KiB chunks", () => {
  assert.equal(MAX_SIDE, 1280);
  assert.equal(JPEG_QUALITY, 0.7);
  assert.equal(CHUNK_SIZE, 65536);
});

test("fitWithin: longest side 1280, aspect kept, never enlarged", () => {
  assert.deepEqual(fitWithin(4000, 3000), { width: 1280, height: 960, scale: 0.32 });
  assert.deepEqual(fitWithin(3000, 4000), { width: 960, height: 1280, scale: 0.32 });
  assert.deepEqual(fitWithin(800, 600), { width: 800, height: 600, scale: 1 });
  assert.deepEqual(fitWithin(1280, 1280), { width: 1280, height: 1280, scale: 1 });
  assert.equal(fitWithin(4032, 1).height, 1, "a sliver keeps one pixel");
  const odd = fitWithin(4031, 3023);
  assert.equal(odd.width, 1280);
  assert.equal(odd.height, Math.round(3023 * 1280 / 4031));
  assert.throws(() => fitWithin(0, 10), RangeError);
});

test("nextChunk: Content-Range of 64 KiB pieces, the last one shorter", () => {
  assert.deepEqual(nextChunk(0, 150000), { start: 0, end: 65536, header: "bytes 0-65535/150000" });
  assert.deepEqual(nextChunk(131072, 150000), { start: 131072, end: 150000, header: "bytes 131072-149999/150000" });
  assert.deepEqual(nextChunk(0, 10), { start: 0, end: 10, header: "bytes 0-9/10" });
  assert.throws(() => nextChunk(150000, 150000), RangeError);
  assert.throws(() => nextChunk(-1, 10), RangeError);
});

const H = (o) => new Headers(o);

test("readHead: 404 = start at 0; 200 = Upload-Offset and Upload-Complete", () => {
  assert.deepEqual(readHead(404, H({})), { offset: 0, complete: false });
  assert.deepEqual(readHead(200, H({ "Upload-Offset": "65536", "Upload-Complete": "0" })), { offset: 65536, complete: false });
  assert.deepEqual(readHead(200, H({ "Upload-Offset": "9", "Upload-Complete": "1" })), { offset: 9, complete: true });
  assert.equal(readHead(500, H({})), null);
});

test("readPut: done, continue, fail for good, or retry later", () => {
  assert.deepEqual(readPut(201, H({}), { complete: true }, 10), { action: "done" });
  assert.deepEqual(readPut(200, H({}), { complete: true }, 10), { action: "done" });
  assert.deepEqual(readPut(202, H({}), { received: 65536, complete: false }, 65536), { action: "continue", offset: 65536 });
  assert.deepEqual(readPut(409, H({ "Upload-Offset": "131072" }), {}, 65536), { action: "continue", offset: 131072 });
  assert.equal(readPut(409, H({}), {}, 1).action, "retry");
  for (const status of [413, 415, 422]) assert.equal(readPut(status, H({}), { code: "x", message: "m" }, 1).action, "fail");
  assert.equal(readPut(500, H({}), null, 1).action, "retry");
  assert.equal(readPut(401, H({}), null, 1).action, "retry");
  assert.deepEqual(readPut(429, H({}), { code: "upload_quota_exceeded", message: "m" }, 1), { action: "skip", message: "m" });
});

test("formatBytes in Indonesian", () => {
  assert.equal(formatBytes(850), "850 B");
  assert.equal(formatBytes(12800), "12,5 KB");
  assert.equal(formatBytes(2048), "2 KB");
  assert.equal(formatBytes(1258291), "1,2 MB");
});
