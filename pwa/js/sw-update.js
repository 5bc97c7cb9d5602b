/**
 * Service-worker registration and the update flow. A new version installs in the background
 * and then waits; it only takes over when the officer taps "Perbarui" (never a blind
 * skipWaiting), and the page reloads once it has.
 */

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
    /** Ask the server whether a newer sw.js exists. */
    check() {
      return registration.update().catch(() => {});
    },
  };
}

/** The shell version from the precache name (cah-shell-<version>), or "" before install. */
export async function shellVersion() {
  if (!("caches" in globalThis)) return "";
  const names = (await caches.keys()).filter((n) => n.startsWith("cah-shell-"));
  return names.length ? names[names.length - 1].slice("cah-shell-".length) : "";
}
