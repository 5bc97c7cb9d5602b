/**
 * The signature pad: a <canvas> the recipient signs on with a finger (pointer events cover
 * touch, pen and mouse). Points are integer pad pixels (the canvas's CSS size when the pad
 * was cleared or last resized), thinned while drawing and simplified per stroke so a typical signature
 * stays a few hundred bytes in format 1 (signature-codec.js). The geometry helpers are pure
 * and exported for node tests; only the SignaturePad class touches the DOM.
 */
import { pointCount } from "./signature-codec.js";

/** Skip a move closer than this to the last kept point (pad px). */
export const MIN_STEP = 2;
/** Ramer–Douglas–Peucker tolerance per stroke (pad px). */
export const TOLERANCE = 1;
/** The server refuses signatures with fewer points (signature_empty). */
export const MIN_POINTS = 5;

export const MSG_EMPTY = "Tanda tangan masih kosong. Minta penerima menandatangani di dalam kotak.";
export const MSG_SHORT = "Tanda tangan terlalu pendek. Hapus lalu minta penerima menandatangani lagi.";

/** A pointer position (client px) → integer pad point inside [0, width) × [0, height). */
export function toPadPoint(clientX, clientY, rect, width, height) {
  const sx = rect.width > 0 ? width / rect.width : 1;
  const sy = rect.height > 0 ? height / rect.height : 1;
  const x = Math.round((clientX - rect.left) * sx);
  const y = Math.round((clientY - rect.top) * sy);
  return [Math.min(width - 1, Math.max(0, x)), Math.min(height - 1, Math.max(0, y))];
}

function distanceToSegment([px, py], [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  if (len2 === 0) return Math.hypot(px - ax, py - ay);
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/**
 * Simplify one stroke: drop repeated points, then Ramer–Douglas–Peucker with `tolerance`.
 * A stroke of three or more distinct points keeps at least three (its farthest point from the
 * chord), so a mark like "X" still has enough points to count as a signature.
 */
export function simplifyStroke(points, tolerance = TOLERANCE) {
  const pts = [];
  for (const p of points) {
    const last = pts[pts.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) pts.push([p[0], p[1]]);
  }
  if (pts.length <= 2) return pts;
  const keep = new Uint8Array(pts.length);
  keep[0] = 1;
  keep[pts.length - 1] = 1;
  const stack = [[0, pts.length - 1]];
  let farthest = -1;
  let farthestDist = -1;
  while (stack.length) {
    const [a, b] = stack.pop();
    let index = -1;
    let max = 0;
    for (let i = a + 1; i < b; i += 1) {
      const d = distanceToSegment(pts[i], pts[a], pts[b]);
      if (d > max) {
        max = d;
        index = i;
      }
    }
    if (a === 0 && b === pts.length - 1) {
      farthest = index === -1 ? Math.floor(pts.length / 2) : index;
      farthestDist = max;
    }
    if (index !== -1 && max > tolerance) {
      keep[index] = 1;
      stack.push([a, index], [index, b]);
    }
  }
  if (farthestDist >= 0) keep[farthest] = 1;
  return pts.filter((_, i) => keep[i]);
}

/** Add a point to a stroke being drawn unless it is closer than minStep to the last one. */
export function addPoint(stroke, point, minStep = MIN_STEP) {
  const last = stroke[stroke.length - 1];
  if (last && Math.hypot(point[0] - last[0], point[1] - last[1]) < minStep) return false;
  stroke.push(point);
  return true;
}

/** Why these strokes cannot be saved (Indonesian), or "" when they can. */
export function signatureProblem(strokes) {
  const n = pointCount(strokes);
  if (n === 0) return MSG_EMPTY;
  if (n < MIN_POINTS) return MSG_SHORT;
  return "";
}

/**
 * Fit strokes drawn on one pad size into another with ONE scale factor, so the signature keeps
 * its proportions (a saved signature shown again; the pad resized when the phone is rotated).
 */
export function scaleStrokes(strokes, from, to) {
  const k = Math.min(to.width / from.width, to.height / from.height);
  const at = (v, max) => Math.min(max - 1, Math.max(0, Math.round(v * k)));
  return strokes.map((s) => s.map(([x, y]) => [at(x, to.width), at(y, to.height)]));
}

/** The pad widget bound to a canvas. onChange() runs after every stroke, undo and clear. */
export class SignaturePad {
  constructor(canvas, { onChange = () => {} } = {}) {
    this.canvas = canvas;
    this.onChange = onChange;
    this.strokes = [];
    this.current = null;
    this.pointerId = null;
    this.width = 0;
    this.height = 0;
    canvas.addEventListener("pointerdown", (e) => this.#down(e));
    canvas.addEventListener("pointermove", (e) => this.#move(e));
    canvas.addEventListener("pointerup", (e) => this.#up(e));
    canvas.addEventListener("pointercancel", (e) => this.#up(e));
    canvas.addEventListener("lostpointercapture", (e) => this.#up(e));
    // Rotating the phone resizes the pad, also in the middle of a signature.
    if (typeof ResizeObserver === "function") new ResizeObserver(() => this.#fit()).observe(canvas);
  }

  /** Measure the canvas (call when it becomes visible) and start empty. */
  reset() {
    const rect = this.canvas.getBoundingClientRect();
    this.#size(Math.max(1, Math.round(rect.width)), Math.max(1, Math.round(rect.height)));
    this.strokes = [];
    this.current = null;
    this.#draw();
    this.onChange();
  }

  /** Show a saved signature again (e.g. fixing a rejected delivery). */
  load({ width, height, strokes }) {
    if (!this.width) this.reset();
    this.strokes = scaleStrokes(strokes, { width, height }, { width: this.width, height: this.height });
    this.#draw();
    this.onChange();
  }

  clear() {
    this.strokes = [];
    this.current = null;
    this.#draw();
    this.onChange();
  }

  undo() {
    this.strokes.pop();
    this.#draw();
    this.onChange();
  }

  get points() {
    return pointCount(this.strokes);
  }

  /** {width, height, strokes} ready for encodeSignature. */
  toSignature() {
    return { width: this.width, height: this.height, strokes: this.strokes.map((s) => s.map((p) => [...p])) };
  }

  #size(width, height) {
    this.width = width;
    this.height = height;
    const dpr = globalThis.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
  }

  /** The pad changed size (rotation): from now on one pad px is one CSS px again, and what was
   * drawn is scaled into the new size keeping its proportions. */
  #fit(rect = this.canvas.getBoundingClientRect()) {
    const to = { width: Math.round(rect.width), height: Math.round(rect.height) };
    if (!this.width || !to.width || !to.height || (to.width === this.width && to.height === this.height)) return;
    const from = { width: this.width, height: this.height };
    this.strokes = scaleStrokes(this.strokes, from, to);
    if (this.current) [this.current] = scaleStrokes([this.current], from, to);
    this.#size(to.width, to.height);
    this.#draw();
  }

  #point(e) {
    const rect = this.canvas.getBoundingClientRect();
    this.#fit(rect);
    return toPadPoint(e.clientX, e.clientY, rect, this.width, this.height);
  }

  #down(e) {
    if (this.pointerId !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
    if (!this.width) this.reset();
    e.preventDefault();
    this.pointerId = e.pointerId;
    try { this.canvas.setPointerCapture(e.pointerId); } catch { /* synthetic events */ }
    this.current = [this.#point(e)];
    this.#draw();
  }

  #move(e) {
    if (e.pointerId !== this.pointerId || !this.current) return;
    e.preventDefault();
    const events = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) addPoint(this.current, this.#point(ev));
    this.#draw();
  }

  #up(e) {
    if (e.pointerId !== this.pointerId || !this.current) return;
    const last = this.#point(e);
    const tail = this.current[this.current.length - 1];
    if (tail[0] !== last[0] || tail[1] !== last[1]) this.current.push(last);
    this.strokes.push(simplifyStroke(this.current));
    this.current = null;
    this.pointerId = null;
    this.#draw();
    this.onChange();
  }

  #draw() {
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    const dpr = this.width ? this.canvas.width / this.width : 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#102a43";
    ctx.fillStyle = "#102a43";
    for (const stroke of this.current ? [...this.strokes, this.current] : this.strokes) {
      if (stroke.length === 1) {
        ctx.beginPath();
        ctx.arc(stroke[0][0], stroke[0][1], 1.5, 0, Math.PI * 2);
        ctx.fill();
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(stroke[0][0], stroke[0][1]);
      for (let i = 1; i < stroke.length; i += 1) ctx.lineTo(stroke[i][0], stroke[i][1]);
      ctx.stroke();
    }
  }
}
