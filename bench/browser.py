"""Measurements of the real phone app in headless Chromium (through CDP and the link emulator).

* shell_bytes: bytes on the wire at first load (page and service-worker requests, CDP
  Network.loadingFinished encodedDataLength), cross-checked by linkproxy's byte counter;
* cold_start: a browser relaunched offline on an installed profile, CPU throttled 4×
  (Emulation.setCPUThrottlingRate), navigates to the registration form; time from navigation
  start until the form is usable (visible, desa list filled, fields enabled);
* link_sync: the phone syncing N records through linkproxy (50 kbit/s, 800 ms RTT): time,
  bytes up/down, HTTP requests; and the gzipped request bodies (bytes per record).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from playwright.sync_api import expect

from . import data, harness, phone

USABLE_FORM_JS = """(() => {
  const check = () => {
    const view = document.getElementById('view-form');
    const desa = document.getElementById('f-desa_code');
    const name = document.getElementById('f-name');
    if (view && !view.hidden && desa && desa.options.length > 1 && name && !name.disabled
        && document.getElementById('form-title')?.textContent === 'Daftarkan warga baru') {
      window.__cahUsableAt = performance.now();
      return true;
    }
    return false;
  };
  const observer = new MutationObserver(() => { if (check()) observer.disconnect(); });
  observer.observe(document, {subtree: true, childList: true, attributes: true,
                              characterData: true});
})();"""


# ---------------------------------------------------------------- shell bytes
def shell_bytes(browser, url: str) -> dict:
    """First load of /app/ in a fresh context until the service worker is ready: bytes
    received per request, from the page's and the service worker's CDP sessions."""
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    finished, responses, failed = [], {}, []
    ids = iter(range(1000, 10**9))

    def on_child(event):
        sid = event["sessionId"]
        for method in ("Network.enable", "Runtime.runIfWaitingForDebugger"):
            cdp.send("Target.sendMessageToTarget", {"sessionId": sid, "message": json.dumps(
                {"id": next(ids), "method": method, "params": {}})})

    def on_child_message(event):
        message = json.loads(event["message"])
        _network_event("sw", message.get("method"), message.get("params") or {})

    def _network_event(origin, method, params):
        if method == "Network.responseReceived":
            response = params["response"]
            # encodedDataLength here: the bytes of the response head received so far
            responses[(origin, params["requestId"])] = (
                response["url"], response["status"], int(response.get("encodedDataLength") or 0))
        elif method == "Network.loadingFinished":
            finished.append((origin, params["requestId"], params["encodedDataLength"]))
        elif method == "Network.loadingFailed":
            failed.append((origin, params.get("errorText")))

    cdp.on("Network.responseReceived", lambda e: _network_event("page", "Network.responseReceived", e))
    cdp.on("Network.loadingFinished", lambda e: _network_event("page", "Network.loadingFinished", e))
    cdp.on("Network.loadingFailed", lambda e: _network_event("page", "Network.loadingFailed", e))
    cdp.on("Target.attachedToTarget", on_child)
    cdp.on("Target.receivedMessageFromTarget", on_child_message)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    # Non-flat auto-attach: the service worker's session talks through this page session.
    cdp.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True,
                                      "flatten": False})
    page.goto(url + "/app/")
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "true", timeout=60000)
    page.wait_for_timeout(1500)  # late responses (icons, manifest) settle
    context.close()
    rows = []
    for origin, request_id, size in finished:
        address, status, head = responses.get((origin, request_id), ("(sw script)", None, 0))
        rows.append({"by": origin, "url": address.split("/app/", 1)[-1] or "/app/",
                     "status": status, "bytes": int(size), "head_bytes": min(head, int(size))})
    return {"total": sum(r["bytes"] for r in rows),
            "head_bytes": sum(r["head_bytes"] for r in rows),
            "page": sum(r["bytes"] for r in rows if r["by"] == "page"),
            "service_worker": sum(r["bytes"] for r in rows if r["by"] == "sw"),
            "requests": len(rows), "failed": failed, "by_request": rows}


# ---------------------------------------------------------------- cold start
def install_profile(pw, server_url: str, profile: Path) -> None:
    """Log the phone in once (online) so that the profile holds the installed app."""
    context = phone.launch_persistent(pw, profile)
    page = context.pages[0] if context.pages else context.new_page()
    phone.login_phone(page, server_url)
    context.close()


def cold_start(pw, server_url: str, profile: Path, throttle: float = 4.0) -> dict:
    """Relaunch the browser offline and open the registration form; ms from navigation."""
    context = phone.launch_persistent(pw, profile, offline=True)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        context.add_init_script(USABLE_FORM_JS)
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        page.goto(server_url + "/app/#/daftar", wait_until="commit")
        deadline = time.monotonic() + 30
        usable = None
        while usable is None and time.monotonic() < deadline:
            usable = page.evaluate("window.__cahUsableAt ?? null")
            if usable is None:
                time.sleep(0.05)
        if usable is None:
            raise RuntimeError("the registration form never became usable")
        timing = page.evaluate("""() => {
          const n = performance.getEntriesByType('navigation')[0];
          return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd,
                  from_sw: n.workerStart > 0, transfer: n.transferSize};
        }""")
        controlled = page.evaluate("Boolean(navigator.serviceWorker.controller)")
        return {"usable_ms": usable, "dom_content_loaded_ms": timing["dcl"],
                "load_ms": timing["load"], "served_by_service_worker": controlled,
                "cpu_throttle": throttle}
    finally:
        context.close()


# ---------------------------------------------------------------- the phone on a 2G link
def _sync_requests(page):
    """Collect POST /api/sync requests of a page: (request, sizes, timing) after finishing."""
    seen = []

    def done(request):
        if request.url.endswith("/api/sync") and request.method == "POST":
            seen.append(request)

    page.on("requestfinished", done)
    page.on("requestfailed", done)
    return seen


def _summarise(requests):
    out = []
    for r in requests:
        body = r.post_data_buffer or b""
        try:
            sizes = r.sizes()
        except Exception:  # a failed request has no sizes
            sizes = {}
        t = r.timing
        out.append({"body_bytes": len(body), "gzip": body[:2] == b"\x1f\x8b",
                    "request_head_bytes": sizes.get("requestHeadersSize"),
                    "response_body_bytes": sizes.get("responseBodySize"),
                    "response_head_bytes": sizes.get("responseHeadersSize"),
                    "ms": (t["responseEnd"] - t["requestStart"])
                    if t.get("responseEnd", -1) > 0 else None})
    return out


def link_sync(browser, server: harness.ServerProcess, workdir: Path, queue, count: int, *,
              kbps: float = 50, rtt_ms: float = 800, prepare=None, timeout: float = 180) -> dict:
    """The phone logs in over a clean link, saves `count` records offline (queue(page)), then
    comes back online over the 2G link; measured until its outbox is empty and the sync
    ended."""
    link = harness.LinkProxy(server.port, workdir, kbps=0, rtt_ms=0).start()
    context = browser.new_context()
    try:
        page = context.new_page()
        phone.login_phone(page, link.url)
        if prepare:
            prepare(page)
        phone.watch_sync(page)
        context.set_offline(True)
        link.stop()
        queued = queue(page)
        assert queued == count, queued
        requests = _sync_requests(page)
        link.start(kbps=kbps, rtt_ms=rtt_ms)
        mark = page.evaluate("window.__cahSyncLog.length")
        t0 = time.monotonic()
        context.set_offline(False)  # the app syncs on "online", as in the field
        status = phone.wait_sync_end(page, mark, timeout=timeout * 1000)
        seconds = time.monotonic() - t0
        left = phone.outbox_size(page)
        page.wait_for_timeout(200)
        stats = link.stop()
        return {"seconds": seconds, "status": status, "outbox_left": left,
                "bytes_up": stats["bytes_up"], "bytes_down": stats["bytes_down"],
                "http_requests": stats["http_requests"],
                "requests_by_route": stats["requests_by_route"],
                "tcp_connections": stats["tcp_connections"],
                "sync_requests": _summarise(requests)}
    finally:
        context.close()
        link.stop()


def empty_sync_body(browser, server: harness.ServerProcess) -> int:
    """Gzipped bytes of the phone's sync body with no mutation (its envelope)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        requests = _sync_requests(page)
        phone.login_phone(page, server.url)
        phone.sync_now(page)
        bodies = [len(r.post_data_buffer or b"") for r in requests]
        return min(bodies)
    finally:
        context.close()


def registrations(n: int, seed: int):
    return [("register_resident", args) for args in data.registrations(n, seed=seed)]


def registration_queue(n: int, seed: int):
    """(queue function, count) saving n registrations through the app's db.js."""
    items = registrations(n, seed)
    return (lambda page: phone.queue_in_app(page, items)), n
