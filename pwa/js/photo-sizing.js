/**
 * Pure rules for photos and their upload (no DOM, no IndexedDB): the downscaled size, the
 * chunk plan of a resumable upload (PUT /api/attachments/<sha256> with Content-Range) and how
 * its answers are read. photo.js does the canvas work; attachment-upload.js sends the chunks.
 */

/** Longest side of a stored photo (docs/interfaces-pipeline.md). */
export const MAX_SIDE = 1280;
/** JPEG quality of the stored photo. */
export const JPEG_QUALITY = 0.7;
/** Bytes per PUT. */
export const CHUNK_SIZE = 64 * 1024;
/** The server's default ATTACHMENT_MAX_BYTES; a photo above it is refused on the phone. */
export const MAX_BYTES = 3 * 1024 * 1024;

/** Integer size that fits width × height within maxSide on the longest side (never enlarges). */
export function fitWithin(width, height, maxSide = MAX_SIDE) {
  if (!(width > 0) || !(height > 0)) throw new RangeError("image size must be positive");
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
    scale,
  };
}

/** The next chunk from `offset` of a `total`-byte file: {start, end (exclusive), header}. */
export function nextChunk(offset, total, chunkSize = CHUNK_SIZE) {
  if (!Number.isInteger(offset) || offset < 0 || offset >= total) throw new RangeError("offset outside the file");
  const end = Math.min(total, offset + chunkSize);
  return { start: offset, end, header: `bytes ${offset}-${end - 1}/${total}` };
}

/** Read a HEAD answer: {offset, complete} (404 = nothing on the server yet). */
export function readHead(status, headers) {
  if (status === 404) return { offset: 0, complete: false };
  if (status !== 200) return null;
  const offset = Number.parseInt(headers.get("Upload-Offset") ?? "0", 10);
  return { offset: Number.isFinite(offset) && offset >= 0 ? offset : 0, complete: headers.get("Upload-Complete") === "1" };
}

/**
 * What to do after a PUT answer. Returns one of
 *   {action: "done"}                       201/200 complete: delete the local copy
 *   {action: "continue", offset}           202 partial, or 409 with the server's Upload-Offset
 *   {action: "fail", code, message}        413/415/422: this file can never be accepted as is
 *   {action: "retry", message}             anything else (5xx, 401 …): try again at the next sync
 */
export function readPut(status, headers, body, sentEnd) {
  if ((status === 200 || status === 201) && body?.complete !== false) return { action: "done" };
  if (status === 202) {
    const received = Number(body?.received);
    return { action: "continue", offset: Number.isFinite(received) ? received : sentEnd };
  }
  if (status === 409) {
    const offset = Number.parseInt(headers.get("Upload-Offset") ?? "", 10);
    if (Number.isFinite(offset) && offset >= 0) return { action: "continue", offset };
    return { action: "retry", message: "Server menolak potongan foto; dicoba lagi nanti." };
  }
  if (status === 413) return { action: "fail", code: body?.code || "payload_too_large", message: body?.message || "Foto terlalu besar untuk server." };
  if (status === 415) return { action: "fail", code: body?.code || "unsupported_media_type", message: body?.message || "Jenis berkas foto tidak diterima server." };
  if (status === 422) return { action: "fail", code: body?.code || "hash_mismatch", message: body?.message || "Isi foto tidak cocok dengan sidik (hash)-nya." };
  // This photo waits (the server's bound on photos not yet used by any record), the others
  // behind it need not: they go on, and this one is tried again at the next sync.
  if (status === 429) return { action: "skip", message: body?.message || "Server menunda foto ini; dicoba lagi nanti." };
  return { action: "retry", message: body?.message || `Unggah foto gagal (kode ${status}); dicoba lagi nanti.` };
}

/** Bytes as Indonesian text: "850 B", "12,5 KB", "1,2 MB". */
export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const [value, unit] = n < 1024 * 1024 ? [n / 1024, "KB"] : [n / (1024 * 1024), "MB"];
  return `${value.toFixed(1).replace(".", ",").replace(/,0$/, "")} ${unit}`;
}
