// A synthetic but realistic hand signature: what a finger on a ~340×170 pad produces at about
// 60 pointer events per second with a little jitter, thinned and simplified like the real pad.
import { addPoint, simplifyStroke } from "../../pwa/js/signature-pad.js";

export const PAD = { width: 340, height: 170 };

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Raw pointer samples of one stroke along f(t), t in [0, 1], `n` samples. */
function samples(f, n, rand) {
  return Array.from({ length: n }, (_, i) => {
    const [x, y] = f(i / (n - 1));
    return [Math.round(x + (rand() - 0.5) * 1.2), Math.round(y + (rand() - 0.5) * 1.2)];
  });
}

const clampPoint = ([x, y]) => [Math.min(PAD.width - 1, Math.max(0, x)), Math.min(PAD.height - 1, Math.max(0, y))];

/** Strokes as the pad stores them (thinned while drawing, then simplified). */
export function typicalSignature(seed = 7) {
  const rand = rng(seed);
  const raw = [
    // a looping first name with a long tail
    samples((t) => [20 + 220 * t + 18 * Math.sin(t * 26), 95 - 38 * Math.sin(t * 13) * (1 - 0.4 * t)], 150, rand),
    // a second word
    samples((t) => [120 + 150 * t, 120 + 14 * Math.sin(t * 20) - 20 * t], 90, rand),
    // an underline flourish
    samples((t) => [30 + 280 * t, 150 - 10 * Math.sin(t * Math.PI)], 45, rand),
    // a dot
    [[250, 40], [251, 41]],
  ];
  const strokes = raw.map((stroke) => {
    const kept = [];
    for (const p of stroke) addPoint(kept, clampPoint(p));
    return simplifyStroke(kept);
  });
  return { ...PAD, strokes, rawPoints: raw.reduce((n, s) => n + s.length, 0) };
}
