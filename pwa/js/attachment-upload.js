/**
 * Uploads the photos whose mutation the server has accepted: PUT /api/attachments/<sha256> in
 * chunks of at most 64 KiB (smaller on a link that keeps dropping) with Content-Range, resuming from the server's Upload-Offset after a cut. The
 * local copy goes only when the server says the upload is complete. Run by the sync flusher
 * right after a successful sync (one flusher: never two uploads at once). The store (db.js or
 * a fake) and fetch are injected, so this file has no IndexedDB code and runs under node.
 */
import { CHUNK_SIZE, nextChunk, readHead, readPut } from "./photo-sizing.js";

const MAX_STALLS = 3; // answers that do not move the offset before giving up until the next sync

export class AttachmentUploader {
  constructor({ store, fetchImpl, endpoint = "/api/attachments/", chunkSize = CHUNK_SIZE, timeoutMs = 60000 }) {
    this.store = store;
    this.fetch = fetchImpl ?? ((...a) => globalThis.fetch(...a));
    this.endpoint = endpoint;
    this.chunkSize = chunkSize;
    this.timeoutMs = timeoutMs;
  }

  async #request(url, init) {
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), this.timeoutMs) : null;
    try {
      return await this.fetch(url, { ...init, signal: controller?.signal, cache: "no-store", credentials: "omit" });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Upload every queued photo. onProgress({phase: "upload", bytesDone, bytesTotal, files,
   * filesDone}) after each chunk; `chunkSize` (bytes) lowers the chunk for this run (the
   * sync's link estimate). Resolves {status: "ok" | "offline" | "error", uploaded, failed,
   * message}; never throws for network trouble.
   */
  async run(token, onProgress = () => {}, { chunkSize = this.chunkSize } = {}) {
    const size = Math.min(this.chunkSize, chunkSize);
    const queue = await this.store.getUploadQueue();
    const bytesTotal = queue.reduce((n, a) => n + a.size, 0);
    let bytesDone = queue.reduce((n, a) => n + Math.min(a.offset || 0, a.size), 0);
    let uploaded = 0;
    let failed = 0;
    let waiting = null; // the message of a photo the server asked to wait (429), if any
    const report = (filesDone) => onProgress({ phase: "upload", bytesDone, bytesTotal, files: queue.length, filesDone });
    if (queue.length) report(0);
    const auth = { Authorization: `Bearer ${token}` };
    for (const [index, a] of queue.entries()) {
      const url = this.endpoint + a.sha256;
      let offset = a.offset || 0;
      let outcome;
      try {
        outcome = await this.#upload(a, url, auth, offset, size, (newOffset) => {
          bytesDone += newOffset - offset; // may go back when the server holds less
          offset = newOffset;
          report(index);
        });
      } catch {
        return { status: "offline", uploaded, failed, message: "Tidak ada sambungan; unggah foto dilanjutkan nanti." };
      }
      if (outcome.action === "done") {
        bytesDone += Math.max(0, a.size - offset);
        uploaded += 1;
        await this.store.finishAttachment(a.sha256);
        report(index + 1);
      } else if (outcome.action === "fail") {
        failed += 1;
        await this.store.failAttachment(a.sha256, { code: outcome.code, message: outcome.message });
      } else if (outcome.action === "skip") {
        waiting = outcome.message; // stays queued; the photos behind it still go up
      } else {
        return { status: "error", uploaded, failed, message: outcome.message };
      }
    }
    if (waiting) return { status: "error", uploaded, failed, message: waiting };
    return { status: "ok", uploaded, failed };
  }

  /**
   * One photo. Resuming (part of it was sent before): HEAD first, and the server's
   * Upload-Offset wins. A first attempt starts at 0 without HEAD (one round trip less on 2G):
   * should the server already hold bytes, its 409 carries the offset to continue from, and an
   * already complete hash answers 200 at once (docs/interfaces-pipeline.md). A kept photo
   * put back after a server restore (`verify`) asks HEAD first too: most are still there.
   */
  async #upload(a, url, auth, startOffset, chunkSize, onOffset) {
    let offset = startOffset;
    if (offset > 0 || a.verify) {
      const res = await this.#request(url, { method: "HEAD", headers: auth });
      const head = readHead(res.status, res.headers);
      if (!head) return { action: "retry", message: `Server tidak bisa ditanya soal foto (kode ${res.status}).` };
      if (head.complete) return { action: "done" };
      if (head.offset !== offset) {
        onOffset(head.offset);
        offset = head.offset;
        await this.store.noteUploadOffset(a.sha256, offset);
      }
    }
    let stalls = 0;
    for (;;) {
      if (offset >= a.size) offset = 0; // the server holds all bytes but not "complete": start over
      const chunk = nextChunk(offset, a.size, chunkSize);
      const res = await this.#request(url, {
        method: "PUT",
        headers: { ...auth, "Content-Type": a.mime || "image/jpeg", "Content-Range": chunk.header },
        body: a.blob.slice(chunk.start, chunk.end, a.mime || "image/jpeg"),
      });
      const body = await res.json().catch(() => null);
      const next = readPut(res.status, res.headers, body, chunk.end);
      if (next.action !== "continue") return next;
      stalls = next.offset === offset ? stalls + 1 : 0;
      if (stalls >= MAX_STALLS) return { action: "retry", message: "Unggah foto tidak maju; dicoba lagi nanti." };
      await this.store.noteUploadOffset(a.sha256, next.offset);
      onOffset(next.offset);
      offset = next.offset;
    }
  }
}
