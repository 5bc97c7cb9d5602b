import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MIN_POINTS, MSG_EMPTY, MSG_SHORT, addPoint, scaleStrokes, signatureProblem, simplifyStroke, toPadPoint,
} from "../../pwa/js/signature-pad.js";

test("toPadPoint: client px → integer pad px, scaled and clamped into the pad", () => {
  const rect = { left: 10, top: 20, width: 340, height: 170 };
  assert.deepEqual(toPadPoint(10, 20, rect, 340, 170), [0, 0]);
  assert.deepEqual(toPadPoint(110.4, 70.6, rect, 340, 170), [100, 51]);
  assert.deepEqual(toPadPoint(500, 500, rect, 340, 170), [339, 169]);
  assert.deepEqual(toPadPoint(0, 0, rect, 340, 170), [0, 0]);
  // The canvas was made narrower (rotation) after the pad size was fixed: still pad pixels.
  assert.deepEqual(toPadPoint(10 + 85, 20 + 42.5, { left: 10, top: 20, width: 170, height: 85 }, 340, 170), [170, 85]);
});

test("addPoint thins points closer than the minimum step", () => {
  const s = [];
  assert.equal(addPoint(s, [0, 0]), true);
  assert.equal(addPoint(s, [1, 1]), false);
  assert.equal(addPoint(s, [2, 0]), true);
  assert.deepEqual(s, [[0, 0], [2, 0]]);
});

test("simplifyStroke drops points on a straight line but keeps corners", () => {
  const line = Array.from({ length: 50 }, (_, i) => [i, i]);
  const simple = simplifyStroke(line);
  assert.deepEqual(simple[0], [0, 0]);
  assert.deepEqual(simple[simple.length - 1], [49, 49]);
  assert.equal(simple.length, 3, "a straight stroke keeps three points (enough for a mark)");
  const vee = [...Array.from({ length: 20 }, (_, i) => [i, i]), ...Array.from({ length: 20 }, (_, i) => [20 + i, 19 - i])];
  assert.ok(simplifyStroke(vee).some(([x, y]) => x === 19 && y === 19) || simplifyStroke(vee).some(([x]) => x === 20), "the corner stays");
  assert.deepEqual(simplifyStroke([[5, 5], [5, 5], [5, 5]]), [[5, 5]], "repeated points collapse");
  assert.deepEqual(simplifyStroke([[1, 1], [2, 2]]), [[1, 1], [2, 2]]);
});

test("simplifyStroke stays within the tolerance of the original", () => {
  const wave = Array.from({ length: 200 }, (_, i) => [i, Math.round(40 + 30 * Math.sin(i / 10))]);
  const simple = simplifyStroke(wave, 1);
  assert.ok(simple.length < wave.length / 3, `${simple.length} points`);
  // Every original point is within ~1.5 px of the simplified polyline.
  const dist = ([px, py], [ax, ay], [bx, by]) => {
    const dx = bx - ax; const dy = by - ay; const l = dx * dx + dy * dy;
    const t = l ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / l)) : 0;
    return Math.hypot(px - ax - t * dx, py - ay - t * dy);
  };
  for (const p of wave) {
    const d = Math.min(...simple.slice(1).map((q, i) => dist(p, simple[i], q)));
    assert.ok(d <= 1.5, `point ${p} is ${d} px away`);
  }
});

test("an empty or too short signature cannot be saved (Indonesian messages)", () => {
  assert.equal(signatureProblem([]), MSG_EMPTY);
  assert.equal(signatureProblem([[[1, 1]]]), MSG_SHORT);
  assert.equal(signatureProblem([[[1, 1], [2, 2]], [[3, 3], [4, 4], [5, 5]]]), "");
  assert.equal(MIN_POINTS, 5);
  assert.match(MSG_EMPTY, /Tanda tangan masih kosong/);
});

test("scaleStrokes maps a saved signature onto another pad size", () => {
  assert.deepEqual(scaleStrokes([[[0, 0], [339, 169]]], { width: 340, height: 170 }, { width: 170, height: 85 }), [[[0, 0], [169, 84]]]);
});

test("scaleStrokes keeps proportions when the pad changes shape (the phone is rotated)", () => {
  // A 60×60 square drawn on a 340×176 pad; the pad becomes 187×176 (portrait → narrower).
  const square = [[[10, 10], [70, 10], [70, 70], [10, 70]]];
  const [out] = scaleStrokes(square, { width: 340, height: 176 }, { width: 187, height: 176 });
  const w = out[1][0] - out[0][0];
  const h = out[2][1] - out[1][1];
  assert.equal(w, h);
  assert.ok(w >= 32 && w <= 34, String(w));
  // Wider again: fits the height, never beyond the pad.
  const [back] = scaleStrokes([[[0, 0], [186, 175]]], { width: 187, height: 176 }, { width: 340, height: 176 });
  assert.deepEqual(back, [[0, 0], [186, 175]]);
});
