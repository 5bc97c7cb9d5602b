/**
 * The phone's own state around the data: the download of unsent data, persistent storage and
 * free space, the network and app status lines, and updates: the service worker's registration
 * and the update banner. A new version installs in the background and then waits; it only takes
 * over when the officer taps "Perbarui" (never a blind skipWaiting), and the page reloads once
 * it has.
 */
import * as db from "./db.js";
import { formatNumber, isoWithOffset } from "./format.js";
import { $, APP_VERSION, el, endDraft, setNotice, state, sync } from "./app-shell.js";
import { renderWarnings } from "./home-view.js";

const LOW_SPACE_BYTES = 30 * 1024 * 1024;
const BIG_EXPORT_BYTES = 25 * 1024 * 1024;

/** Download the unsent and rejected records as a JSON file; photos over 25 MB in all ask first
 * (the file holds them in base64, built in memory), and a failure is said, never swallowed. */
export async function downloadUnsent() {
  let blob;
  try {
    const photos = (await db.listAttachments()).reduce((n, a) => n + (a.blob?.size ?? a.size ?? 0), 0);
    if (photos > BIG_EXPORT_BYTES && !window.confirm(`File akan besar (${formatNumber(Math.ceil((photos * 4) / 3 / 1048576))} MB). Lanjutkan?`)) return;
    const data = await db.exportUnsent();
    if (!data.outbox.length && !data.perlu_perbaikan.length && !data.foto_belum_terkirim.length) {
      setNotice("Tidak ada data yang belum terkirim.");
      return;
    }
    const payload = { exported_at: isoWithOffset(new Date()), app_version: `${APP_VERSION}+${state.version}`, ...data };
    blob = new Blob([JSON.stringify(payload, null, 1)], { type: "application/json" });
  } catch (err) {
    // Home shows #notice; the login screen (another officer's data) shows #login-message.
    setNotice($("login-message").textContent = `File tidak bisa dibuat: ${err?.message || err}`);
    return;
  }
  const stamp = isoWithOffset(new Date()).slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
  const a = el("a", { href: URL.createObjectURL(blob), download: `cah-belum-terkirim-${stamp}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

/** Ask the browser for persistent storage and show the answer. */
export async function requestPersistence() {
  try {
    if (!navigator.storage?.persist) return;
    state.storage.persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  } catch { /* not offered by this browser */ }
  renderAppStatus();
}

/** Estimate free space; warn when less than 30 MB or 10 % of the quota is left. */
export async function checkStorage() {
  try {
    if (!navigator.storage?.estimate) return;
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    state.storage.free = quota - usage;
    state.storage.lowSpace = quota > 0 && (quota - usage < LOW_SPACE_BYTES || usage / quota > 0.9);
    if (state.storage.persisted === null && navigator.storage.persisted) state.storage.persisted = await navigator.storage.persisted();
  } catch { /* estimates are best effort */ }
  renderWarnings();
  renderAppStatus();
}

/** The status line at the bottom: offline readiness, storage, version. */
export function renderAppStatus() {
  const parts = [state.offlineReady ? "Siap dipakai tanpa sinyal" : "Menyiapkan mode tanpa sinyal…"];
  if (state.storage.persisted === true) parts.push("penyimpanan permanen aktif");
  if (state.storage.persisted === false) parts.push("penyimpanan permanen belum diizinkan browser");
  parts.push(`versi ${APP_VERSION}${state.version ? `+${state.version.slice(0, 8)}` : ""}`);
  $("app-status").textContent = parts.join(" · ");
}

/** "Ada sinyal" / "Tanpa sinyal". */
export function renderNet() {
  const online = navigator.onLine;
  const net = $("net-status");
  net.textContent = online ? "Ada sinyal" : "Tanpa sinyal";
  net.classList.toggle("offline", !online);
}

/** A new version is installed and waiting: show the banner. */
export function onUpdateWaiting(worker) {
  state.waitingWorker = worker;
  $("update-banner").hidden = false;
}

/** "Perbarui": wait for the sync, keep an open form's input as a draft (offered after the
 * reload), then swap. */
export async function applyUpdate() {
  if (!state.waitingWorker || !state.updater) return;
  if (sync.running) {
    $("sync-status").textContent = "Pembaruan menunggu sinkronisasi selesai…";
    $("update-button").disabled = true;
  }
  await sync.pause(); // never swap the app in the middle of a sync
  await endDraft();
  state.updater.apply(state.waitingWorker);
}

// ---------------------------------------------------------------- service worker
/** Register sw.js (scope: this folder) and report readiness and waiting updates. */
export async function setupServiceWorker({ onReady, onUpdateWaiting }) {
  if (!("serviceWorker" in navigator)) return null;
  let reloadOnChange = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // The first install also changes the controller (clients.claim): no reload for that one.
    if (reloadOnChange) window.location.reload();
  });
  const registration = await navigator.serviceWorker.register("sw.js", { scope: "./", updateViaCache: "none" });
  const watch = (worker) => {
    if (!worker) return;
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) onUpdateWaiting(worker);
    });
  };
  if (registration.waiting && navigator.serviceWorker.controller) onUpdateWaiting(registration.waiting);
  watch(registration.installing);
  registration.addEventListener("updatefound", () => watch(registration.installing));
  navigator.serviceWorker.ready.then(() => onReady?.());
  return {
    registration,
    /** Let the waiting worker take over; the page reloads when it does. */
    apply(worker) {
      reloadOnChange = true;
      worker.postMessage({ type: "SKIP_WAITING" });
    },
    /** Ask the server whether a newer sw.js exists: after the sync that `online` starts
     * (one connection at a time on a weak link), at once when no sync can run. */
    check() {
      const update = () => registration.update().catch(() => {});
      if (!state.session?.token || sync.paused) return update();
      sync.addEventListener("finished", update, { once: true });
    },
  };
}

/** The shell version from the precache name (cah-shell-<version>), or "" before install. */
export async function shellVersion() {
  if (!("caches" in globalThis)) return "";
  const names = (await caches.keys()).filter((n) => n.startsWith("cah-shell-"));
  return names.length ? names[names.length - 1].slice("cah-shell-".length) : "";
}
