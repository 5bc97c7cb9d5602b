"""Phones for the benchmarks and the fault-injection tests: a raw sync client (the sync
protocol without the app) and the phone app itself in headless Chromium.

Everything connects to 127.0.0.1 only. Chromium is required: a missing one is an error,
never a skip.
"""
from __future__ import annotations

import gzip
import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from . import data
from .harness import PASSWORDS

CHROMIUM = os.environ.get("CAH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic",
                 "--no-first-run"]


def chromium_path() -> str:
    """Chromium's path; raises when it is missing."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"Chromium is required and was not found at {CHROMIUM} "
                                "(set CAH_CHROMIUM)")
    return CHROMIUM


# ---------------------------------------------------------------- a raw sync client
class RawHttpError(Exception):
    """The connection failed before a whole response arrived."""


def build_request(port: int, method: str, path: str, body: bytes = b"", headers=None) -> bytes:
    """The exact bytes of one HTTP/1.1 request (Connection: close)."""
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
            f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def raw_request(port: int, method: str, path: str, body: bytes = b"", headers=None,
                timeout: float = 60) -> tuple[int, dict, bytes, int]:
    """One HTTP/1.1 request on a fresh connection, bytes exactly as build_request makes them.

    Returns (status, headers, body, request_bytes). Raises RawHttpError when the connection
    breaks before the whole response is read.
    """
    data = build_request(port, method, path, body, headers)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(data)
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
    except OSError as exc:
        raise RawHttpError(f"{type(exc).__name__}: {exc}") from None
    raw = b"".join(chunks)
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        raise RawHttpError(f"incomplete response head ({len(raw)} bytes)")
    lines = raw[:head_end].decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ")[1])
    except (IndexError, ValueError):
        raise RawHttpError(f"bad status line {lines[0]!r}") from None
    resp_headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        resp_headers[k.strip().lower()] = v.strip()
    payload = raw[head_end + 4:]
    length = resp_headers.get("content-length")
    if length is not None and len(payload) < int(length):
        raise RawHttpError(f"response body cut at {len(payload)} of {length} bytes")
    if resp_headers.get("content-encoding", "").lower() == "gzip":
        try:
            payload = gzip.decompress(payload)
        except (OSError, EOFError) as exc:
            raise RawHttpError(f"gzip body cut: {exc}") from None
    return status, resp_headers, payload, len(data)


@dataclass
class SyncOutcome:
    """What one sync attempt gave: status (None = connection failed), the JSON answer."""

    status: int | None
    data: dict | None = None
    error: str = ""
    request_bytes: int = 0


@dataclass
class RawPhone:
    """A phone reduced to its protocol (docs/sync-protocol.md): an outbox numbered from 1, an
    entry leaves it only when last_mutation_id covers it, 409 renumbers nothing (ids here are
    never lost, so a gap means the server is behind: resend from last + 1)."""

    port: int
    token: str
    client_id: str
    outbox: list[dict] = field(default_factory=list)
    next_id: int = 1
    acknowledged: dict[int, dict] = field(default_factory=dict)  # id → mutation
    results: dict[int, dict] = field(default_factory=dict)       # id → last result seen
    last_mutation_id: int = 0
    cursor: str | None = None
    gzip: bool = True
    failures: list[str] = field(default_factory=list)  # connection errors met

    @classmethod
    def login(cls, port: int, username: str = "petugas", password: str | None = None,
              label: str = "HP uji", **kwargs) -> "RawPhone":
        body = json.dumps({"username": username, "password": password or PASSWORDS[username],
                           "device_label": label}).encode()
        status, _h, payload, _n = raw_request(port, "POST", "/api/auth/device", body,
                                              {"Content-Type": "application/json"})
        if status != 201:
            raise RuntimeError(f"device login failed: {status} {payload[:300]!r}")
        data = json.loads(payload)
        return cls(port=port, token=data["token"], client_id=data["client_id"], **kwargs)

    def queue(self, name: str, args: dict, at: str = "2026-11-28T09:15:03+08:00") -> dict:
        """Save a mutation in the outbox (numbered)."""
        m = {"id": self.next_id, "name": name, "at": at, "args": args}
        self.next_id += 1
        self.outbox.append(m)
        return m

    def envelope(self, mutations) -> dict:
        return {"protocol": 1, "client_id": self.client_id, "app_version": "raw-client",
                "sent_at": datetime.now(timezone.utc).isoformat(), "cursor": self.cursor,
                "mutations": list(mutations)}

    def body_and_headers(self, envelope: dict) -> tuple[bytes, dict]:
        """The request body (gzipped like the phone's) and headers of a sync envelope."""
        raw = json.dumps(envelope, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}",
                   "Accept-Encoding": "gzip"}
        if self.gzip:
            raw = gzip.compress(raw, mtime=0)
            headers["Content-Encoding"] = "gzip"
        return raw, headers

    def request_size(self, envelope: dict, port: int | None = None) -> int:
        """Bytes on the wire of POST /api/sync with this envelope (head + body)."""
        raw, headers = self.body_and_headers(envelope)
        return len(build_request(port or self.port, "POST", "/api/sync", raw, headers))

    def post(self, mutations, *, port: int | None = None, timeout: float = 60,
             envelope: dict | None = None) -> SyncOutcome:
        """POST /api/sync with these mutations (or this exact envelope); the outbox is not
        touched (absorb() does that)."""
        raw, headers = self.body_and_headers(envelope or self.envelope(mutations))
        try:
            status, _h, payload, n = raw_request(port or self.port, "POST", "/api/sync", raw,
                                                 headers, timeout)
        except RawHttpError as exc:
            return SyncOutcome(None, error=str(exc))
        try:
            data = json.loads(payload)
        except ValueError:
            data = None
        return SyncOutcome(status, data, request_bytes=n)

    def absorb(self, outcome: SyncOutcome) -> None:
        """Apply an answer like the phone does: drop covered entries, remember results."""
        data = outcome.data or {}
        if outcome.status is None:
            self.failures.append(outcome.error)
        if outcome.status == 200:
            last = data["last_mutation_id"]
            assert last >= self.last_mutation_id, (
                f"last_mutation_id went back: {self.last_mutation_id} → {last}")
            self.last_mutation_id = last
            for r in data["results"]:
                self.results[r["id"]] = r
            for m in [m for m in self.outbox if m["id"] <= last]:
                self.acknowledged[m["id"]] = m
            self.outbox = [m for m in self.outbox if m["id"] > last]
            self.cursor = data.get("cursor", self.cursor)
        elif outcome.status == 409:
            last = data["last_mutation_id"]
            for m in [m for m in self.outbox if m["id"] <= last]:
                self.acknowledged[m["id"]] = m
            self.outbox = [m for m in self.outbox if m["id"] > last]
            self.last_mutation_id = max(self.last_mutation_id, last)

    def sync_once(self, batch: int = 500, **kwargs) -> SyncOutcome:
        """Send the first `batch` outbox entries and absorb the answer."""
        outcome = self.post(self.outbox[:batch], **kwargs)
        self.absorb(outcome)
        return outcome

    def sync_until_empty(self, deadline: float, batch: int = 500, pause: float = 0.2,
                         **kwargs) -> list[SyncOutcome]:
        """Retry (network errors, 5xx, 409) until the outbox is empty or the deadline passes."""
        outcomes = []
        while self.outbox:
            if time.monotonic() > deadline:
                raise TimeoutError(f"outbox still holds {len(self.outbox)} entries; "
                                   f"last outcomes: {[(o.status, o.error) for o in outcomes[-5:]]}")
            outcome = self.sync_once(batch, **kwargs)
            outcomes.append(outcome)
            if outcome.status in (400, 401, 403, 413):
                raise AssertionError(f"sync refused: {outcome.status} {outcome.data}")
            if outcome.status != 200:
                time.sleep(pause)
        return outcomes


# ---------------------------------------------------------------- the phone app in Chromium
def launch_chromium(pw, **kwargs):
    """Headless Chromium at CHROMIUM (fails loudly when missing)."""
    return pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS,
                              headless=True, **kwargs)


def run_with_chromium(body, *, timeout: float | None = None):
    """Run body(pw, browser) in a new thread with its own Playwright and headless Chromium;
    returns body's result, re-raises its exception, and fails after `timeout` seconds.

    Playwright's sync API allows one instance per thread: a thread of our own works even
    where the caller's thread already holds one (pytest's tests/e2e session fixture).
    """
    outcome: dict = {}

    def target():
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                try:
                    outcome["value"] = body(pw, browser)
                finally:
                    browser.close()
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="chromium", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"the Chromium part did not finish within {timeout} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def launch_persistent(pw, profile: Path, **kwargs):
    """A Chromium profile on disk: a closed browser can be reopened with its storage."""
    return pw.chromium.launch_persistent_context(
        str(profile), executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True,
        **kwargs)


def login_phone(page, base_url: str, username: str = "petugas", password: str | None = None,
                timeout: float = 30000) -> None:
    """Open /app/ online, log the device in, wait until the shell works offline."""
    page.goto(base_url + "/app/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password or PASSWORDS[username])
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible(timeout=timeout)
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "true", timeout=timeout)


def register_via_form(page, args: dict) -> None:
    """Fill and save the registration form like an officer; returns after "Tersimpan"."""
    page.get_by_role("button", name="Daftarkan warga baru").click()
    page.get_by_label("Desa", exact=True).select_option(args["desa_code"])
    page.get_by_label("Nama lengkap").fill(args["name"])
    if args.get("nik"):
        page.get_by_label("NIK", exact=True).fill(args["nik"])
    if args.get("kk_number"):
        page.get_by_label("Nomor KK").fill(args["kk_number"])
    page.get_by_label("Jenis kelamin").select_option(args["sex"])
    page.get_by_label("Tempat lahir").fill(args.get("birth_place") or "Paringin")
    # the input reads hh/bb/tttt (docs/phone-app.md), the wire ISO
    page.get_by_label("Tanggal lahir").fill("/".join(reversed(args["birth_date"].split("-"))))
    page.get_by_label("Status perkawinan").select_option(args["marital_status"])
    page.get_by_label("Alamat").fill(args.get("address") or "Jalan Uji")
    if args.get("rt"):
        page.get_by_label("RT", exact=True).fill(args["rt"])
    if args.get("rw"):
        page.get_by_label("RW", exact=True).fill(args["rw"])
    if args.get("phone"):
        page.get_by_label("Nomor HP").fill(args["phone"])
    if args.get("notes"):
        page.get_by_label("Catatan").fill(args["notes"])
    page.get_by_role("button", name="Simpan", exact=True).click()
    expect(page.locator("#notice")).to_have_text(f"Tersimpan di HP: {args['name']}.")


# The app's own storage module saves a mutation exactly as its form does after validation
# (one strict IndexedDB transaction: outbox entry + resident view + counter). Used to fill an
# outbox with many records quickly; the form itself is exercised by register_via_form.
_QUEUE_JS = """async (items) => {
  const db = await import('/app/js/db.js');
  const fmt = await import('/app/js/format.js');
  for (const [name, args] of items) {
    await db.saveMutation(name, args, fmt.isoWithOffset(new Date()));
  }
  return (await db.getOutbox()).length;
}"""


def queue_in_app(page, items: list[tuple[str, dict]]) -> int:
    """Save mutations through the app's db.js; returns the outbox size."""
    return page.evaluate(_QUEUE_JS, [[name, args] for name, args in items])


def queue_registrations_offline(context, page, link, count: int,
                                seed: int) -> tuple[list[dict], int]:
    """The phone offline and the link down (a fault test's start): `count` synthetic
    registrations (bench.data, `seed`) saved in the app's outbox. Returns (their args, the
    outbox size after)."""
    context.set_offline(True)
    link.stop()
    made = data.registrations(count, seed=seed)
    return made, queue_in_app(page, [("register_resident", a) for a in made])


def outbox_size(page) -> int:
    """Entries in the phone's IndexedDB outbox."""
    return page.evaluate("""async () => {
      const db = await import('/app/js/db.js');
      return (await db.getOutbox()).length;
    }""")


_WATCH_JS = """() => {
  if (window.__cahSyncLog) return window.__cahSyncLog.length;
  window.__cahSyncLog = [];
  const box = document.getElementById('sync-status');
  new MutationObserver(() => window.__cahSyncLog.push(box.textContent))
    .observe(box, {childList: true, characterData: true, subtree: true});
  return 0;
}"""
RUNNING = ("Menyinkronkan", "Mengambil", "Pembaruan menunggu")


def watch_sync(page) -> int:
    """Start recording #sync-status texts (idempotent per page); returns the log length."""
    return page.evaluate(_WATCH_JS)


def sync_now(page, timeout: float = 60000) -> str:
    """Tap "Sinkronkan sekarang" and wait until that sync run ended; returns the status text."""
    mark = watch_sync(page)
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    return wait_sync_end(page, mark, timeout)


def wait_sync_end(page, mark: int, timeout: float = 60000) -> str:
    """Wait until #sync-status went through a running text (after log entry `mark`) and then
    to a final one; returns the final text."""
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        log = page.evaluate("(m) => window.__cahSyncLog.slice(m)", mark)
        started = [i for i, t in enumerate(log) if t.startswith(RUNNING)]
        if started and not log[-1].startswith(RUNNING):
            return log[-1]
        time.sleep(0.05)
    raise TimeoutError("the phone's sync did not end in time")
