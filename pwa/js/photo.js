/**
 * Photos taken on the phone (KK copy, card delivery): decode, downscale on a canvas to the
 * longest side of 1280 px, JPEG 0.7, hash with crypto.subtle. The sizing rules are pure
 * (photo-sizing.js); this file does the browser work.
 */
import { JPEG_QUALITY, MAX_BYTES, fitWithin, formatBytes } from "./photo-sizing.js";
import { sha256Hex } from "./signature-codec.js";

async function decode(file) {
  if (typeof createImageBitmap === "function") {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch { /* fall back to an <img> below (older WebViews, some HEIC files) */ }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.decoding = "async";
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function toJpeg(canvas) {
  if (typeof canvas.convertToBlob === "function") return canvas.convertToBlob({ type: "image/jpeg", quality: JPEG_QUALITY });
  return new Promise((resolve, reject) => canvas.toBlob(
    (blob) => (blob ? resolve(blob) : reject(new Error("Foto tidak bisa diproses."))), "image/jpeg", JPEG_QUALITY));
}

/**
 * A photo file from <input type="file"> → {blob, sha256, mime, size, width, height, originalSize}.
 * Throws an Error with an Indonesian message when the file is no readable image.
 */
export async function preparePhoto(file) {
  let image;
  try {
    image = await decode(file);
  } catch {
    throw new Error("Berkas ini bukan foto yang bisa dibaca. Ambil foto lagi.");
  }
  const srcWidth = image.width || image.naturalWidth;
  const srcHeight = image.height || image.naturalHeight;
  const { width, height } = fitWithin(srcWidth, srcHeight);
  const canvas = typeof OffscreenCanvas === "function" ? new OffscreenCanvas(width, height) : Object.assign(document.createElement("canvas"), { width, height });
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff"; // transparent PNGs become white, not black, as JPEG
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(image, 0, 0, width, height);
  image.close?.();
  const blob = await toJpeg(canvas);
  if (blob.size > MAX_BYTES) throw new Error(`Foto terlalu besar (${formatBytes(blob.size)}). Ambil foto lagi.`);
  const sha256 = await sha256Hex(new Uint8Array(await blob.arrayBuffer()));
  return { blob, sha256, mime: "image/jpeg", size: blob.size, width, height, originalSize: file.size };
}
