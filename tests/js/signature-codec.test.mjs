import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import {
  MAX_BYTES, MAX_POINTS, MAX_SIDE, SignatureError, decodeSignature, encodeSignature, encodeSignatureBytes, pointCount,
} from "../../pwa/js/signature-codec.js";
import { typicalSignature } from "./signature-fixture.mjs";

const vectors = JSON.parse(readFileSync(new URL("../vectors/signatures.json", import.meta.url), "utf8"));

test("limits equal the shared vectors'", () => {
  assert.equal(MAX_SIDE, vectors.max_width);
  assert.equal(MAX_SIDE, vectors.max_height);
  assert.equal(MAX_POINTS, vectors.max_points);
  assert.equal(MAX_BYTES, vectors.max_bytes);
});

for (const v of vectors.valid) {
  test(`valid vector "${v.case}": encode gives its base64 and sha256, decode gives it back exactly`, async () => {
    const encoded = await encodeSignature({ width: v.width, height: v.height, strokes: v.strokes });
    assert.equal(encoded.data, v.base64);
    assert.equal(encoded.sha256, v.sha256);
    assert.equal(encoded.bytes, v.bytes);
    assert.deepEqual(decodeSignature(v.base64), { width: v.width, height: v.height, strokes: v.strokes });
  });
}

for (const v of vectors.invalid) {
  test(`invalid vector "${v.case}" is refused`, () => {
    assert.throws(() => decodeSignature(v.base64), SignatureError);
  });
}

test("encode refuses what decode would refuse", () => {
  assert.throws(() => encodeSignatureBytes({ width: 10, height: 10, strokes: [] }), SignatureError);
  assert.throws(() => encodeSignatureBytes({ width: 10, height: 10, strokes: [[]] }), SignatureError);
  assert.throws(() => encodeSignatureBytes({ width: 10, height: 10, strokes: [[[10, 0]]] }), SignatureError);
  assert.throws(() => encodeSignatureBytes({ width: 10, height: 10, strokes: [[[-1, 0]]] }), SignatureError);
  assert.throws(() => encodeSignatureBytes({ width: 10, height: 10, strokes: [[[1.5, 0]]] }), SignatureError);
  assert.throws(() => encodeSignatureBytes({ width: 0, height: 10, strokes: [[[0, 0]]] }), SignatureError);
  assert.throws(() => encodeSignatureBytes({ width: 2001, height: 10, strokes: [[[0, 0]]] }), SignatureError);
  const tooMany = [Array.from({ length: MAX_POINTS + 1 }, (_, i) => [i % 10, 0])];
  assert.throws(() => encodeSignatureBytes({ width: 10, height: 10, strokes: tooMany }), SignatureError);
  assert.match(new SignatureError("x").name, /SignatureError/);
});

test("a typical signature from the pad is a few hundred bytes (printed)", async () => {
  const sig = typicalSignature();
  const encoded = await encodeSignature(sig);
  const roundTrip = decodeSignature(encoded.data);
  assert.deepEqual(roundTrip.strokes, sig.strokes);
  const gz = gzipSync(Buffer.from(encoded.data)).length;
  console.log(`typical signature: ${sig.rawPoints} pointer samples → ${pointCount(sig.strokes)} points → ` +
    `${encoded.bytes} B raw, ${encoded.data.length} B base64 (${gz} B gzipped)`);
  assert.ok(encoded.bytes >= 100 && encoded.bytes <= 700, `${encoded.bytes} B`);
});
