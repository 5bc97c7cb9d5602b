// The shell as a whole: files referenced exist, modules are preloaded, manifest is complete,
// and the service worker behaves as DESIGN §5 says (run in a simulated worker global).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import vm from "node:vm";

const pwa = new URL("../../pwa/", import.meta.url);
const read = (rel) => readFileSync(new URL(rel, pwa), "utf8");
const html = read("index.html");
const modules = readdirSync(new URL("js/", pwa)).filter((f) => f.endsWith(".js"));

test("every file index.html references exists", () => {
  for (const [, ref] of html.matchAll(/(?:href|src)="([^"#:]+)"/g)) assert.ok(existsSync(new URL(ref, pwa)), ref);
});

test("every module is preloaded, so a cold start has no import waterfall", () => {
  for (const m of modules.filter((f) => f !== "app.js")) assert.match(html, new RegExp(`rel="modulepreload" href="js/${m}"`), m);
});

test("modules import only relative files (no CDN, no bare packages)", () => {
  for (const m of modules) {
    for (const [, spec] of read(`js/${m}`).matchAll(/\bfrom\s+"([^"]+)"/g)) assert.match(spec, /^\.\/[a-z-]+\.js$/, `${m}: ${spec}`);
  }
});

test("module file names are kebab-case", () => {
  for (const m of modules) assert.match(m, /^[a-z]+(-[a-z]+)*\.js$/);
});

test("manifest: names, scope, standalone, icons 192/512 and a maskable one", () => {
  const mf = JSON.parse(read("manifest.webmanifest"));
  assert.equal(mf.name, "CAH — Pak Kedes Batumandi");
  assert.equal(mf.short_name, "CAH");
  assert.equal(mf.start_url, "/app/");
  assert.equal(mf.scope, "/app/");
  assert.equal(mf.display, "standalone");
  assert.ok(mf.theme_color);
  const sizes = mf.icons.map((i) => `${i.sizes} ${i.purpose}`);
  assert.ok(sizes.includes("192x192 any") && sizes.includes("512x512 any") && sizes.includes("512x512 maskable"));
  for (const icon of mf.icons) {
    const bytes = readFileSync(new URL(icon.src, pwa));
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${icon.src} is a PNG`);
    const [w, h] = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
    assert.equal(`${w}x${h}`, icon.sizes, icon.src);
  }
});

// ---------------------------------------------------------------- service worker
const SHELL = ["index.html", "css/app.css", "js/app.js"];

// httpCache: url → ETag of the copy the browser's HTTP cache holds (absent: nothing cached).
function loadWorker({ existingCaches = [], httpCache = {} } = {}) {
  const source = read("sw.js")
    .replace('"__SHELL_VERSION__"', '"v2"')
    .replace("/*__SHELL_FILES__*/", SHELL.map((f) => JSON.stringify(f)).join(", "));
  const handlers = {};
  const store = new Map(existingCaches.map((n) => [n, new Map()]));
  const calls = { skipWaiting: 0, claim: 0, fetched: [], added: [] };
  const cacheFor = (name) => {
    if (!store.has(name)) store.set(name, new Map());
    const entries = store.get(name);
    return {
      async put(url, response) { entries.set(url, response.body); },
      async match(url) { return entries.get(typeof url === "string" ? url : url.url); },
    };
  };
  const self = {
    registration: { scope: "https://cah.example/app/" },
    location: new URL("https://cah.example/app/sw.js"),
    addEventListener: (type, fn) => { handlers[type] = fn; },
    skipWaiting: () => { calls.skipWaiting += 1; },
    clients: { claim: async () => { calls.claim += 1; } },
  };
  const caches = {
    open: async (name) => cacheFor(name),
    keys: async () => [...store.keys()],
    delete: async (name) => store.delete(name),
  };
  const fetch = async (request) => {
    if (request.cache === "force-cache" || request.cache === "no-cache") {
      calls.added.push({ url: request.url, cache: request.cache });
      const fromHttpCache = request.cache === "force-cache" && request.url in httpCache;
      const etag = fromHttpCache ? httpCache[request.url] : '"abc-v2"';
      const body = `${fromHttpCache ? "cached" : "body"} of ${request.url}`;
      return { ok: true, status: 200, body, headers: { get: (h) => (h === "ETag" ? etag : null) } };
    }
    calls.fetched.push(request.url ?? request);
    return "network";
  };
  vm.runInNewContext(source, { self, caches, fetch, URL, Request, Set, Promise });
  return { handlers, store, calls };
}

async function dispatch(handler, event) {
  const waits = [];
  let responded = null;
  handler({ ...event, waitUntil: (p) => waits.push(p), respondWith: (p) => { responded = p; } });
  await Promise.all(waits);
  return responded === null ? null : await responded;
}

test("install precaches every shell file under cah-shell-<version> without skipWaiting", async () => {
  const w = loadWorker();
  await dispatch(w.handlers.install, {});
  assert.ok(w.store.has("cah-shell-v2"));
  // index.html is kept under the scope ("./"): the address the browser has just loaded, so
  // the install finds it in the HTTP cache instead of downloading the page a second time.
  const expected = SHELL.map((f) => `https://cah.example/app/${f === "index.html" ? "" : f}`);
  const stored = [...w.store.get("cah-shell-v2").keys()];
  assert.deepEqual(stored.sort(), expected.sort());
  assert.equal(w.calls.skipWaiting, 0);
});

test("install takes this version's copies from the HTTP cache and revalidates any other", async () => {
  const fresh = "https://cah.example/app/js/app.js";
  const stale = "https://cah.example/app/css/app.css";
  const w = loadWorker({ httpCache: { [fresh]: '"f00-v2-gz"', [stale]: '"f00-v1-gz"' } });
  await dispatch(w.handlers.install, {});
  const modes = (url) => w.calls.added.filter((a) => a.url === url).map((a) => a.cache);
  assert.deepEqual(modes(fresh), ["force-cache"], "this version's copy: no request to the server");
  assert.deepEqual(modes(stale), ["force-cache", "no-cache"], "an older version's copy is refetched");
  // Nothing in the HTTP cache: force-cache goes to the network, whose answer is this version's.
  assert.deepEqual(modes("https://cah.example/app/"), ["force-cache"]);
  const entries = w.store.get("cah-shell-v2");
  assert.equal(entries.get(fresh), `cached of ${fresh}`);
  assert.equal(entries.get(stale), `body of ${stale}`, "never the stale copy");
});

test("activate deletes only its own stale shells", async () => {
  const w = loadWorker({ existingCaches: ["cah-shell-v1", "cah-shell-v2", "someone-else", "cah-photos"] });
  await dispatch(w.handlers.activate, {});
  assert.deepEqual([...w.store.keys()].sort(), ["cah-photos", "cah-shell-v2", "someone-else"]);
  assert.equal(w.calls.claim, 1);
});

test("skipWaiting only on the page's message", async () => {
  const w = loadWorker();
  w.handlers.message({ data: { type: "hello" } });
  assert.equal(w.calls.skipWaiting, 0);
  w.handlers.message({ data: { type: "SKIP_WAITING" } });
  assert.equal(w.calls.skipWaiting, 1);
});

test("fetch: navigations come from the cached page; POST and /api/ are never touched", async () => {
  const w = loadWorker();
  await dispatch(w.handlers.install, {});
  const req = (url, extra = {}) => ({ request: { url, method: "GET", mode: "cors", ...extra } });
  const nav = await dispatch(w.handlers.fetch, req("https://cah.example/app/?x=1", { mode: "navigate" }));
  assert.equal(nav, "body of https://cah.example/app/");
  assert.equal(await dispatch(w.handlers.fetch, req("https://cah.example/app/js/app.js?v=3")), "body of https://cah.example/app/js/app.js");
  assert.equal(await dispatch(w.handlers.fetch, req("https://cah.example/api/sync", { method: "POST" })), null);
  assert.equal(await dispatch(w.handlers.fetch, req("https://cah.example/api/openapi.json")), null);
  assert.equal(await dispatch(w.handlers.fetch, req("https://cah.example/app/other.txt")), null);
  assert.equal(await dispatch(w.handlers.fetch, req("https://elsewhere.example/app/js/app.js")), null);
  assert.equal(await dispatch(w.handlers.fetch, req("https://cah.example/camat", { mode: "navigate" })), null, "office pages are not ours");
  assert.deepEqual(w.calls.fetched, []);
});

test("served raw, sw.js still parses (empty shell list)", () => {
  assert.doesNotThrow(() => new vm.Script(read("sw.js")));
});
