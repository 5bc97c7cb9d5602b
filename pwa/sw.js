/*
 * CAH service worker. The server fills in SHELL_VERSION (a sha256 over the shell files) and
 * SHELL_FILES when it serves this file, so each shell version gets its own cache with no build
 * step. Served raw, the file still parses (empty list, placeholder version).
 */
const SHELL_VERSION = "__SHELL_VERSION__";
const SHELL_FILES = [/*__SHELL_FILES__*/];
const CACHE_PREFIX = "cah-shell-";
const CACHE_NAME = CACHE_PREFIX + SHELL_VERSION;
const SCOPE = new URL(self.registration.scope);
// The page is cached under the address the officer opened (the scope, "./"), not
// index.html: the install then revalidates the copy the browser already holds (a small 304)
// instead of downloading the page a second time over 2G.
const INDEX_URL = SCOPE.href;
const SHELL_URLS = new Set(SHELL_FILES.map((f) => new URL(f === "index.html" ? "./" : f, SCOPE).href));

// The server's ETags end in this version's tag (server/pwa.py), so a copy can be told apart.
const VERSION_TAG = "-" + SHELL_VERSION.slice(0, 8);

async function precache(cache, url) {
  // The page loaded these files moments ago: take the HTTP cache's copy without asking the
  // server (one round trip and ~230 B saved per file over 2G) when its ETag shows it is this
  // version; anything else is revalidated, so a stale file is never stored under this name.
  let response = await fetch(new Request(url, { cache: "force-cache" }));
  if (!response.ok || !(response.headers.get("ETag") || "").includes(VERSION_TAG)) {
    response = await fetch(new Request(url, { cache: "no-cache" }));
  }
  if (!response.ok) throw new Error(`precache ${url}: ${response.status}`);
  await cache.put(url, response);
}

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE_NAME).then((cache) =>
    Promise.all([...SHELL_URLS].map((url) => precache(cache, url)))));
  // No skipWaiting() here: an update waits until the officer taps "Perbarui".
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    // Only our own stale shells: other caches on this origin are not ours to delete.
    await Promise.all(names
      .filter((n) => n.startsWith(CACHE_PREFIX) && n !== CACHE_NAME)
      .map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "SKIP_WAITING") self.skipWaiting();
});

async function fromShell(request, url) {
  const cache = await caches.open(CACHE_NAME);
  const hit = await cache.match(url, { ignoreSearch: true });
  return hit || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // POST/PUT (sync, login, uploads) go straight out
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) return; // never cached: always the network's answer
  if (request.mode === "navigate" && url.href.startsWith(SCOPE.href)) {
    // Any page of the app opens from the cached shell: no signal needed after install.
    event.respondWith(fromShell(request, INDEX_URL));
    return;
  }
  const key = url.origin + url.pathname;
  if (SHELL_URLS.has(key)) event.respondWith(fromShell(request, key));
});
