/**
 * The one sync flusher: POST /api/sync with the outbox, store what comes back, repeat while the
 * server has more. Runs on demand, on `online`, at start and on a timer; never two at once.
 * On a flaky link it paces itself (sync-pacing.js): a cut request shrinks the next batch, pull
 * page and photo chunk, a success grows them back, and a cut retries after a short backoff
 * while work waits and the phone believes it is online.
 * The store (db.js, or a fake in tests) is injected so this file has no IndexedDB code.
 */
import { isoWithOffset } from "./format.js";
import { MAX_BATCH, nextBatch, wireMutation } from "./outbox-rules.js";
import { MAX_PAGE, backoffMs, chunkSizeFor, grow, pageSizeFor, shrink } from "./sync-pacing.js";

export const PROTOCOL = 1;
const MAX_ROUNDS = 500; // pull pages of 200 residents: far beyond one officer's caseload
const MAX_GAPS = 3;
const PULL_EVERY_MS = 10 * 60 * 1000;

/** gzip a string with CompressionStream; null where the browser lacks it. */
export async function gzipText(text) {
  if (typeof CompressionStream !== "function") return null;
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const CUT = Symbol("cut"); // the answer's body broke off on the way: the link, not the server
const NETWORK = "Sinyal terputus. Data tetap di HP dan dikirim lagi otomatis.";

async function readJson(response) {
  try {
    return await response.json();
  } catch (err) {
    return err instanceof SyntaxError ? null : CUT;
  }
}

/**
 * Push/pull client; emits "progress", "changed", "signed-out" and "finished" events. With an
 * `uploader` (attachment-upload.js) a successful sync goes on to upload the photos of the
 * mutations it carried, inside the same flush (so there is still one flusher).
 */
export class SyncClient extends EventTarget {
  constructor({ store, fetchImpl, now = () => new Date(), appVersion = "cah-pwa", endpoint = "/api/sync", timeoutMs = 120000, gzip = true, uploader = null }) {
    super();
    this.store = store;
    this.uploader = uploader;
    this.fetch = fetchImpl ?? ((...a) => globalThis.fetch(...a));
    this.now = now;
    this.appVersion = String(appVersion).slice(0, 40);
    this.endpoint = endpoint;
    this.timeoutMs = timeoutMs;
    this.gzip = gzip;
    this.current = null; // the running flush promise: the lock
    this.paused = false;
    this.timer = null;
    this.retryTimer = null;
    this.size = MAX_BATCH; // the link estimate: records per request (sync-pacing.js)
    this.failures = 0; // network failures since the last answer
  }

  /** True while a flush is running. */
  get running() {
    return this.current !== null;
  }

  /** Run one sync, or join the one already running. Resolves with {status, …}. */
  flush(reason = "manual") {
    if (this.current) return this.current;
    if (this.paused) return Promise.resolve({ status: "paused" });
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.current = this.#run(reason)
      .catch((err) => ({ status: "error", message: err?.message || String(err) }))
      .then((result) => {
        this.current = null;
        if (result.retryInMs) this.#retryLater(result.retryInMs);
        this.dispatchEvent(new CustomEvent("finished", { detail: result }));
        return result;
      });
    return this.current;
  }

  /** Stop starting new syncs (before an app update); resolves once the running one ended. */
  async pause() {
    this.paused = true;
    if (this.current) await this.current;
  }

  /** Allow syncs again. */
  resume() {
    this.paused = false;
  }

  /** Sync at start, whenever the phone comes online, and on a timer. */
  start({ intervalMs = 60000 } = {}) {
    if (this.timer) return;
    this.onOnline = () => this.flush("online");
    globalThis.addEventListener?.("online", this.onOnline);
    this.timer = setInterval(() => this.#tick(), intervalMs);
    if (globalThis.navigator?.onLine !== false) this.flush("start");
  }

  /** Undo start(). */
  stop() {
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    this.timer = this.retryTimer = null;
    globalThis.removeEventListener?.("online", this.onOnline);
  }

  /** A cut with work waiting: try again soon (started clients only; `online` covers offline). */
  #retryLater(ms) {
    if (!this.timer || this.paused) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (globalThis.navigator?.onLine !== false) this.flush("retry");
    }, ms);
  }

  /** A network failure: shrink the estimate and count it; the retry delay when work waits. */
  #cut(sent, waiting) {
    const size = shrink(this.size, sent);
    // A cut that made the next request smaller is retried soon; only the smallest backs off.
    this.failures = size < this.size ? 1 : this.failures + 1;
    this.size = size;
    return waiting && this.timer && globalThis.navigator?.onLine !== false ? backoffMs(this.failures) : 0;
  }

  async #tick() {
    if (this.current || this.retryTimer || this.paused || globalThis.navigator?.onLine === false) return;
    const [session, outbox] = [await this.store.getSession(), await this.store.getOutbox()];
    if (!session?.token) return;
    const lastSync = Date.parse(session.last_sync_at || "") || 0;
    const uploads = this.uploader ? (await this.store.getUploadQueue()).length : 0;
    // Pushing is urgent; pulling only now and then, to spare the officer's data plan.
    if (outbox.length || uploads || this.now().getTime() - lastSync > PULL_EVERY_MS) this.flush("timer");
  }

  #progress(detail) {
    this.dispatchEvent(new CustomEvent("progress", { detail }));
  }

  async #post(token, body) {
    const json = JSON.stringify(body);
    const headers = { "Content-Type": "application/json", Authorization: `Bearer ${token}`, Accept: "application/json" };
    let payload = json;
    if (this.gzip) {
      const zipped = await gzipText(json);
      if (zipped) {
        payload = zipped;
        headers["Content-Encoding"] = "gzip";
      }
    }
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), this.timeoutMs) : null;
    try {
      const response = await this.fetch(this.endpoint, {
        method: "POST", headers, body: payload, signal: controller?.signal, cache: "no-store", credentials: "omit",
      });
      return { response, data: await readJson(response) }; // the timeout covers the body too
    } finally {
      clearTimeout(timer);
    }
  }

  async #fail(status, code, message) {
    await this.store.noteSyncError({ code, message, at: this.now().toISOString() });
    return { status, code, message };
  }

  async #run(reason) {
    const result = await this.#sync(reason);
    if (result.status !== "ok" || !this.uploader) return result;
    // Photos go up only after the sync that carried the mutations referencing them.
    const session = await this.store.getSession();
    if (!session?.token) return result;
    const uploads = await this.uploader.run(session.token, (detail) => this.#progress(detail), { chunkSize: chunkSizeFor(this.size) });
    if (uploads.uploaded || uploads.failed) this.dispatchEvent(new CustomEvent("changed", { detail: { uploads } }));
    if (uploads.status !== "ok") await this.store.noteSyncError({ code: "upload", message: uploads.message, at: this.now().toISOString() });
    const retryInMs = uploads.status === "offline" ? this.#cut(0, true) : 0;
    return { ...result, uploads, retryInMs };
  }

  async #sync(reason) {
    const startOutbox = await this.store.getOutbox();
    let total = startOutbox.length;
    let done = 0;
    let received = 0;
    let rejected = 0;
    let gaps = 0;
    this.#progress({ phase: "push", done, total, reason });
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const session = await this.store.getSession();
      if (!session?.token) return { status: "signed_out" };
      const outbox = await this.store.getOutbox();
      const batch = nextBatch(outbox, this.size);
      total = Math.max(total, done + outbox.length);
      const body = {
        protocol: PROTOCOL,
        client_id: session.client_id,
        app_version: this.appVersion,
        sent_at: isoWithOffset(this.now()),
        cursor: session.cursor ?? null,
        mutations: outbox.length ? batch.map(wireMutation) : [],
        echo: "compact", // own rows: only what the server added (sync-merge.js)
      };
      const pageSize = pageSizeFor(this.size);
      if (pageSize < MAX_PAGE) body.page_size = pageSize; // omitted at full speed: the server's default
      let response;
      let data;
      try {
        ({ response, data } = await this.#post(session.token, body));
      } catch {
        data = CUT;
      }
      // An unreadable 200 is a body that broke off too (Chromium may hand over its first half).
      if (data === CUT || (!data && response.status === 200)) {
        // A cut push or pull: what the server acknowledged has left the outbox, the cursor of
        // the last page received is kept, so the next try carries only the rest.
        const retryInMs = this.#cut(body.mutations.length, outbox.length > 0 || round > 0);
        return { ...(await this.#fail("offline", "network", NETWORK)), retryInMs };
      }
      this.failures = 0;
      const code = data?.code;
      if (response.status === 200 && data) {
        this.size = grow(this.size, body.mutations.length || this.size);
        const plan = await this.store.applySyncResponse(data, this.now().toISOString());
        done += plan.counts.acknowledged;
        rejected += plan.counts.rejected;
        received += data.changes?.residents?.length ?? 0;
        this.#progress({ phase: data.more ? "pull" : "push", done, total, received });
        this.dispatchEvent(new CustomEvent("changed", { detail: plan.counts }));
        if (body.mutations.length && plan.counts.acknowledged === 0) {
          return this.#fail("error", "not_acknowledged", "Server tidak mengakui data yang dikirim. Coba lagi nanti.");
        }
        // Entries beyond this batch, or saved while the request was in flight, go out now too;
        // a healed server (db.js cleared the cursor) is pulled again from the start.
        const moreToPush = (await this.store.getOutbox()).length > 0;
        if (!data.more && !moreToPush && !plan.healed) return { status: "ok", done, total, received, rejected, clockSkew: Boolean(data.clock_skew_flagged) };
        continue;
      }
      if (response.status === 409 && code === "mutation_gap") {
        gaps += 1;
        if (gaps > MAX_GAPS) return this.#fail("error", code, "Nomor data tidak cocok dengan server. Hubungi operator.");
        await this.store.applyGap(Number(data.last_mutation_id ?? 0), data.database_id ?? null);
        continue;
      }
      if (response.status === 413 && this.size > 1) {
        this.size = shrink(this.size, batch.length); // smaller requests, same order
        continue;
      }
      if (response.status === 401 || (response.status === 403 && (code === "client_mismatch" || code === "wrong_role"))) {
        const message = data?.message || "Sesi perangkat tidak berlaku lagi. Silakan masuk lagi.";
        // Keep the outbox: the officer logs in again and the same records are sent.
        await this.store.signOut({ keepData: true, reason: code || "unauthorized", message });
        this.dispatchEvent(new CustomEvent("signed-out", { detail: { code, message } }));
        return { status: "signed_out", code, message };
      }
      if (response.status >= 500) {
        return this.#fail("error", code || `http_${response.status}`, "Server sedang bermasalah. Data tetap di HP dan dikirim nanti.");
      }
      if (!data) return this.#fail("error", `http_${response.status}`, "Jawaban server tidak terbaca. Data tetap di HP dan dikirim nanti.");
      return this.#fail("error", code || `http_${response.status}`, data.message || "Sinkronisasi gagal.");
    }
    return this.#fail("error", "too_many_rounds", "Sinkronisasi belum selesai; akan dilanjutkan nanti.");
  }
}
