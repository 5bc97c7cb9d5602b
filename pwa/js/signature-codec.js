/**
 * Signature strokes, format 1 (docs/interfaces-pipeline.md; vectors in
 * tests/vectors/signatures.json). Pure: no DOM. All integers are LEB128 varints, signed ones
 * zigzag-coded first:
 *   version (=1) · width · height · stroke count ·
 *   per stroke: point count · x0 · y0 (absolute) · then dx · dy for every further point.
 * Coordinates are integer pad pixels, 0 <= x < width, 0 <= y < height. On the wire: standard
 * base64 of the bytes; sha256 is the hex digest of the bytes (not of the base64).
 */

export const FORMAT_VERSION = 1;
export const MAX_SIDE = 2000;
export const MAX_POINTS = 4000;
export const MAX_BYTES = 16384;

/** Raised for anything that is not a valid format-1 signature (message in Indonesian). */
export class SignatureError extends Error {
  constructor(message) {
    super(message);
    this.name = "SignatureError";
  }
}

const zigzag = (n) => (n >= 0 ? n * 2 : -n * 2 - 1);
const unzigzag = (n) => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

function pushVarint(out, n) {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function checkSize(width, height) {
  for (const [name, v] of [["lebar", width], ["tinggi", height]]) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_SIDE) throw new SignatureError(`Ukuran kotak tanda tangan (${name}) tidak valid.`);
  }
}

function checkPoint(x, y, width, height) {
  if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= width || y >= height) {
    throw new SignatureError("Titik tanda tangan di luar kotak.");
  }
}

/** The raw format-1 bytes of {width, height, strokes: [[[x, y], …], …]} (validated). */
export function encodeSignatureBytes({ width, height, strokes }) {
  checkSize(width, height);
  if (!Array.isArray(strokes) || strokes.length === 0) throw new SignatureError("Tanda tangan masih kosong.");
  const out = [];
  pushVarint(out, FORMAT_VERSION);
  pushVarint(out, width);
  pushVarint(out, height);
  pushVarint(out, strokes.length);
  let points = 0;
  for (const stroke of strokes) {
    if (!Array.isArray(stroke) || stroke.length === 0) throw new SignatureError("Ada goresan tanpa titik.");
    pushVarint(out, stroke.length);
    let px = 0;
    let py = 0;
    stroke.forEach(([x, y], i) => {
      checkPoint(x, y, width, height);
      pushVarint(out, zigzag(i === 0 ? x : x - px));
      pushVarint(out, zigzag(i === 0 ? y : y - py));
      px = x;
      py = y;
    });
    points += stroke.length;
  }
  if (points > MAX_POINTS) throw new SignatureError("Tanda tangan terlalu panjang.");
  if (out.length > MAX_BYTES) throw new SignatureError("Tanda tangan terlalu besar.");
  return Uint8Array.from(out);
}

/** Parse format-1 bytes; throws SignatureError unless they are exactly one valid signature. */
export function decodeSignatureBytes(bytes) {
  if (!bytes.length) throw new SignatureError("Data tanda tangan kosong.");
  if (bytes.length > MAX_BYTES) throw new SignatureError("Tanda tangan terlalu besar.");
  let pos = 0;
  const next = () => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i += 1) {
      if (pos >= bytes.length) throw new SignatureError("Data tanda tangan terpotong.");
      const b = bytes[pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
    }
    throw new SignatureError("Data tanda tangan rusak.");
  };
  if (next() !== FORMAT_VERSION) throw new SignatureError("Versi tanda tangan tidak dikenal.");
  const width = next();
  const height = next();
  checkSize(width, height);
  const count = next();
  if (count < 1) throw new SignatureError("Tanda tangan masih kosong.");
  const strokes = [];
  let points = 0;
  for (let s = 0; s < count; s += 1) {
    const n = next();
    if (n < 1) throw new SignatureError("Ada goresan tanpa titik.");
    points += n;
    if (points > MAX_POINTS) throw new SignatureError("Tanda tangan terlalu panjang.");
    const stroke = [];
    let x = 0;
    let y = 0;
    for (let i = 0; i < n; i += 1) {
      const dx = unzigzag(next());
      const dy = unzigzag(next());
      x = i === 0 ? dx : x + dx;
      y = i === 0 ? dy : y + dy;
      checkPoint(x, y, width, height);
      stroke.push([x, y]);
    }
    strokes.push(stroke);
  }
  if (pos !== bytes.length) throw new SignatureError("Ada data berlebih setelah tanda tangan.");
  return { width, height, strokes };
}

/** Standard base64 of bytes (btoa exists in browsers and in Node ≥ 16). */
export function toBase64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Bytes of strict standard base64 (padding required); SignatureError otherwise. */
export function fromBase64(text) {
  if (typeof text !== "string" || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new SignatureError("Data tanda tangan bukan base64.");
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) out[i] = binary.charCodeAt(i);
  return out;
}

/** Hex SHA-256 of bytes via WebCrypto (crypto.subtle: browsers on https/localhost, Node ≥ 19). */
export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** {width, height, strokes} → {data: base64, sha256: hex of the bytes, bytes: byte count}. */
export async function encodeSignature(signature) {
  const raw = encodeSignatureBytes(signature);
  return { data: toBase64(raw), sha256: await sha256Hex(raw), bytes: raw.length };
}

/** base64 → {width, height, strokes}; throws SignatureError for anything invalid. */
export function decodeSignature(data) {
  return decodeSignatureBytes(fromBase64(data));
}

/** Total number of points (the server refuses fewer than 5 as signature_empty). */
export function pointCount(strokes) {
  return (strokes || []).reduce((n, s) => n + s.length, 0);
}
