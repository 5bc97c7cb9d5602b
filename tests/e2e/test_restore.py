"""A server restored from last night's backup loses nothing the phones still hold (issue #9).

Two phones — the real app in headless Chromium and an API client that follows the same rules
(pwa/js/heal-rules.js) — sync; `pakkedes backup`; they sync more registrations, pipeline steps
and a signed delivery with a photo; `pakkedes restore`; the phones sync. The server then holds
every record exactly once, each phone's view equals the server's, and nothing was rejected.
On SQLite and on PostgreSQL.
"""
import hashlib
import json
import os
import re
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from e2e_kit import login_phone, register, server_rows

DESA = "6311042005"  # assigned to both officers, so both phones see every case
WITA = timezone(timedelta(hours=8))
ROOT = Path(__file__).resolve().parent
PHOTO = (ROOT / "fixtures" / "delivery.jpg").read_bytes()
SIGNATURES = json.loads((ROOT.parent / "vectors" / "signatures.json").read_text("utf-8"))
PG_ADMIN_URL = os.environ.get("CAH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SIGNED = next(v for v in SIGNATURES["valid"] if v["case"].startswith("three strokes"))


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, make_live_server):
    """A live server on a fresh SQLite file or a fresh PostgreSQL database of its own."""
    url, admin, name = None, None, None
    if request.param == "postgresql":
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"cah_e2e_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield make_live_server(url)
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _now(minutes=0):
    return (datetime.now(WITA) - timedelta(minutes=minutes)).isoformat(timespec="seconds")


class ApiPhone:
    """A second phone over the API. It keeps an outbox, the acknowledged log and its photos,
    and heals a restored server as the app does: same client → its entries above
    last_mutation_id again; unknown token → log in again and resend the whole log with origins."""

    def __init__(self, base, username, password):
        self.base, self.username, self.password = base, username, password
        self.outbox, self.log, self.photos, self.residents, self.rejected = [], [], {}, {}, []
        self._login()
        self.database_id = self.login_answer["database_id"]

    def _login(self):
        status, answer = self._call("POST", "/api/auth/device", {
            "username": self.username, "password": self.password, "device_label": "HP API"})
        assert status == 201, answer
        self.login_answer, self.token = answer, answer["token"]
        self.client_id, self.next_id, self.acked_through, self.cursor = answer["client_id"], 1, 0, None

    def _call(self, method, path, body=None, data=None, headers=None):
        headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as res:
                raw = res.read()
                return res.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, json.loads(raw) if raw else None

    def queue(self, name, args):
        self.outbox.append({"id": self.next_id, "name": name, "at": _now(), "args": args})
        self.next_id += 1

    def _renumber(self, entries, first):
        self.outbox = [{**e, "id": first + i} for i, e in enumerate(entries)]
        self.next_id = first + len(self.outbox)

    def _heal(self, last):
        missing = [e for e in self.log if e["client_id"] == self.client_id and e["id"] > last]
        self.log = [e for e in self.log if e not in missing]
        self._renumber([{k: v for k, v in e.items() if k != "client_id"} for e in missing]
                       + self.outbox, last + 1)
        self.cursor, self.acked_through = None, last
        for photo in self.photos.values():
            photo["check"] = True

    def _relogin_and_resend(self):
        old_identity = self.database_id
        self._login()
        entries = []
        if self.login_answer["database_id"] != old_identity:
            entries = [{**{k: v for k, v in e.items() if k != "client_id"},
                        "origin": e.get("origin") or {"client_id": e["client_id"], "id": e["id"]}}
                       for e in self.log]
            self.log = []
            for photo in self.photos.values():
                photo["check"] = True
        self.database_id = self.login_answer["database_id"]
        self._renumber(entries + self.outbox, 1)

    def sync(self):
        for _ in range(50):
            wire = [{k: e[k] for k in ("id", "name", "at", "args", "origin") if k in e}
                    for e in self.outbox]
            status, answer = self._call("POST", "/api/sync", {
                "protocol": 1, "client_id": self.client_id, "app_version": "api-phone",
                "sent_at": _now(), "cursor": self.cursor, "mutations": wire})
            if status == 401:
                self._relogin_and_resend()
                continue
            if status == 409:
                last = answer["last_mutation_id"]
                if last < self.acked_through or answer["database_id"] != self.database_id:
                    self.database_id = answer["database_id"]
                    self._heal(last)
                else:
                    self._renumber([e for e in self.outbox if e["id"] > last], last + 1)
                continue
            assert status == 200, answer
            last = answer["last_mutation_id"]
            results = {r["id"]: r for r in answer["results"]}
            for e in [e for e in self.outbox if e["id"] <= last]:
                result = results.get(e["id"], {"status": "duplicate"})
                if result["status"] == "rejected" or result.get("code"):
                    self.rejected.append(result)
                else:
                    self.log.append({**e, "client_id": self.client_id})
            self.outbox = [e for e in self.outbox if e["id"] > last]
            for r in answer["changes"]["residents"]:
                self.residents[r["resident_id"]] = r
            for rid in answer["changes"]["removed"]:
                self.residents.pop(rid, None)
            healed = (answer["database_id"] != self.database_id or last < self.acked_through)
            if healed:
                self.database_id = answer["database_id"]
                self._heal(last)
            else:
                self.cursor, self.acked_through = answer["cursor"], last
            if not answer["more"] and not self.outbox and not healed:
                break
        self._upload_photos()

    def _upload_photos(self):
        # A PUT of a photo the server holds is answered 200 at once without the body being
        # read, so after a heal every kept photo is simply put again.
        for sha, photo in self.photos.items():
            if photo.get("done") and not photo.get("check"):
                continue
            status, answer = self._call("PUT", f"/api/attachments/{sha}", data=photo["bytes"],
                                        headers={"Content-Type": "image/jpeg"})
            assert status in (200, 201), answer
            photo.update(done=True, check=False)


def _pipeline_to_delivery(phone, rid):
    """Verify, pick up, record, hand over, collect and deliver (signed, with a photo)."""
    batch = str(uuid.uuid4())
    phone.queue("verify_resident", {"resident_id": rid, "notes": "", "kk_photo": None,
                                    "checks": {"kk_copy_seen": True, "age_eligible": True,
                                               "marital_eligible": False}})
    phone.queue("pick_up", {"pickup_id": str(uuid.uuid4()), "resident_ids": [rid],
                            "picked_up_at": _now(50), "pickup_point": "Balai Desa",
                            "vehicle": "Mobil kecamatan"})
    phone.queue("record_done", {"resident_id": rid, "recorded_at": _now(40)})
    phone.queue("handover_batch", {"batch_id": batch, "number": "BA/009/2026",
                                   "handed_at": _now(30), "resident_ids": [rid], "notes": None})
    phone.queue("record_collection", {"batch_id": batch, "collected_at": _now(20), "items": [
        {"resident_id": rid, "outcome": "collected", "reason": None, "reason_text": None}]})
    sha = hashlib.sha256(PHOTO).hexdigest()
    phone.photos[sha] = {"bytes": PHOTO}
    phone.queue("deliver_card", {
        "delivery_id": str(uuid.uuid4()), "resident_id": rid, "delivered_at": _now(10),
        "recipient": "owner", "proxy_name": None, "proxy_relation": None,
        "signature": {"data": SIGNED["base64"], "sha256": SIGNED["sha256"]},
        "photo": sha, "gps": {"lat": -2.4412, "lon": 115.4398, "accuracy_m": 15}})


def _registration(name, birth_date="2001-03-04"):
    return {"resident_id": str(uuid.uuid4()), "desa_code": DESA, "name": name, "nik": None,
            "kk_number": None, "sex": "male", "birth_place": "Paringin",
            "birth_date": birth_date, "marital_status": "single", "address": "Jalan Pulih 1",
            "rt": "001", "rw": "001", "phone": None, "vulnerable_category": None,
            "disability": None, "notes": None}


def _sync_app(page):
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    expect(page.get_by_role("button", name="Sinkronkan sekarang")).to_be_enabled(timeout=30000)
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=30000)
    expect(page.locator("#photo-queue")).to_be_hidden(timeout=30000)
    expect(page.locator("#sync-status")).to_contain_text("Sinkron berhasil", timeout=30000)


def _open_case(page, name):
    # A background sync landing re-renders the list; a tap on a row that is being replaced
    # can be lost (seen once in CI), so the open is tried once more before failing.
    for attempt in range(2):
        page.get_by_role("navigation", name="Daftar kerja").get_by_role(
            "button", name=re.compile("^Semua")).click()
        page.get_by_role("button", name=f"Buka {name}").click()
        try:
            expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=10000)
            return
        except AssertionError:
            if attempt:
                raise


def _verify_in_app(page, name):
    _open_case(page, name)
    page.locator("#case-actions").get_by_role("button", name="Verifikasi", exact=True).click()
    page.get_by_label("Fotokopi KK sudah diperiksa").check()
    page.get_by_label("Umur memenuhi syarat").check()
    page.get_by_role("button", name="Simpan verifikasi").click()
    expect(page.locator("#notice")).to_contain_text("Tersimpan di HP")


APP_RESIDENTS = """async () => {
  const db = await new Promise((resolve) => { const r = indexedDB.open('cah'); r.onsuccess = () => resolve(r.result); });
  const all = await new Promise((resolve) => {
    db.transaction(['residents'], 'readonly').objectStore('residents').getAll().onsuccess = (e) => resolve(e.target.result); });
  db.close();
  return all.map((r) => [r.resident_id, r.view.version, r.view.stage, r.pending]);
}"""


def _server_view(server):
    rows = server_rows(server, "select resident_id, version, stage from residents "
                               "where desa_code = :d", d=DESA)
    return {rid: (version, stage) for rid, version, stage in rows}


def _server_records(server):
    """What must exist exactly once: each case's history, the batches and the photos."""
    events = server_rows(server, "select r.name, e.kind from resident_events e join residents r "
                                 "on r.resident_id = e.resident_id order by r.name, e.id")
    return {
        "residents": sorted(n for (n,) in server_rows(server, "select name from residents")),
        "events": sorted(tuple(e) for e in events),
        "batches": server_rows(server, "select count(*) from batches")[0][0],
        "photos": sorted(s for (s,) in server_rows(server, "select sha256 from attachments")),
        "stages": sorted(tuple(r) for r in server_rows(
            server, "select name, stage from residents")),
    }


def test_phones_give_a_restored_server_back_everything(browser, server, tmp_path):
    context = browser.new_context(viewport={"width": 400, "height": 860})
    app = context.new_page()
    app.on("dialog", lambda d: d.accept())
    login_phone(app, server)
    api = ApiPhone(server.url, "petugas2", "rahasia-petugas2")

    register(app, "Warga Sebelum Cadangan", desa=DESA)
    _sync_app(app)
    before = _registration("Warga API Sebelum")
    api.queue("register_resident", before)
    api.sync()

    backup = tmp_path / "cadangan" / "cah.backup"
    assert "Cadangan ditulis" in server.pakkedes("backup", str(backup))  # while it runs

    # After the backup: more registrations, a verification, a whole pipeline with a signed
    # delivery and its photo.
    register(app, "Warga Sesudah Cadangan", desa=DESA)
    _verify_in_app(app, "Warga Sesudah Cadangan")
    _sync_app(app)
    after = _registration("Warga API Sesudah")
    api.queue("register_resident", after)
    api.sync()
    _pipeline_to_delivery(api, after["resident_id"])
    api.sync()
    truth = _server_records(server)
    assert truth["stages"] == sorted([("Warga API Sebelum", "found"),
                                      ("Warga API Sesudah", "delivered"),
                                      ("Warga Sebelum Cadangan", "found"),
                                      ("Warga Sesudah Cadangan", "verified")])
    assert len(truth["photos"]) == 1

    server.stop(close_log=False)
    assert "identitas baru" in server.pakkedes("restore", "--yes", str(backup))
    server.start()
    assert _server_records(server)["residents"] == ["Warga API Sebelum", "Warga Sebelum Cadangan"]

    api.sync()
    app.reload()
    expect(app.get_by_role("heading", name="Daftar warga")).to_be_visible()
    _sync_app(app)
    api.sync()  # picks up what the app resent

    assert _server_records(server) == truth  # every record, exactly once
    assert server_rows(server, "select count(*) from rejected_mutations")[0][0] == 0
    assert api.rejected == []
    expect(app.locator("#rejected-count")).to_have_text("0")

    expected = _server_view(server)
    assert {rid: (r["version"], r["stage"]) for rid, r in api.residents.items()} == expected
    in_app = app.evaluate(APP_RESIDENTS)
    assert {rid: (version, stage) for rid, version, stage, _ in in_app} == expected
    assert {pending for *_, pending in in_app} == {0}
    context.close()
