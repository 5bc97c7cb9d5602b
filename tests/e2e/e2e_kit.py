"""Helpers shared by the end-to-end tests (a unique module name: every conftest is imported
as "conftest"). Labels and ids are those of docs/phone-app.md, "For end-to-end tests"."""
import os
import uuid
from datetime import datetime, timezone

from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from server.extensions import db
from server.models import User
from sync.context import SyncActor
from sync.engine import process_sync
from sync.models import Client

CHROMIUM = os.environ.get("CAH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic",
                 "--no-first-run"]


def launch_persistent(pw, user_data_dir, **kwargs):
    """A Chromium profile on disk, so a closed browser can be reopened with its storage."""
    return pw.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **kwargs)


def login_phone(page, server, username="petugas", password="rahasia-petugas"):
    """Open /app/ online, log the device in, wait until the shell works offline."""
    page.goto(server.url + "/app/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "true", timeout=15000)


def typed_date(iso):
    """An ISO date as the phone and office date inputs take it: "2004-06-15" → "15/06/2004"."""
    return "/".join(reversed(iso.split("-")))


def register(page, name, *, sex="female", birth_date="2004-06-15", desa="6311042005",
             nik=None, kk_number=None, address="Jalan Uji No. 7", **optional):
    """Fill and save the phone's registration form; returns when "Tersimpan" shows.

    optional: rt, rw, vulnerable_category, notes — filled only when given.
    """
    page.get_by_role("button", name="Daftarkan warga baru").click()
    page.get_by_label("Desa", exact=True).select_option(desa)
    page.get_by_label("Nama lengkap").fill(name)
    if nik:
        page.get_by_label("NIK", exact=True).fill(nik)
    if kk_number:
        page.get_by_label("Nomor KK").fill(kk_number)
    page.get_by_label("Jenis kelamin").select_option(sex)
    page.get_by_label("Tempat lahir").fill("Paringin")
    page.get_by_label("Tanggal lahir").fill(typed_date(birth_date))
    page.get_by_label("Status perkawinan").select_option("single")
    page.get_by_label("Alamat").fill(address)
    for key, label in (("rt", "RT"), ("rw", "RW")):
        if key in optional:
            page.get_by_label(label, exact=True).fill(optional[key])
    if "vulnerable_category" in optional:
        page.get_by_label("Kategori rentan").select_option(optional["vulnerable_category"])
    if "notes" in optional:
        page.get_by_label("Catatan").fill(optional["notes"])
    page.get_by_role("button", name="Simpan", exact=True).click()
    expect(page.locator("#notice")).to_have_text(f"Tersimpan di HP: {name}.")


def server_rows(server, sql, **params):
    """Query the server's database directly."""
    engine = create_engine(server.env["CAH_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    engine.dispose()
    return rows


def office_login(browser, server, username="camat", password="rahasia-camat"):
    """A new browser context logged in to the office view; returns its page."""
    page = browser.new_context().new_page()
    page.goto(server.url + "/login")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()
    return page


def apply_as_phone(app, steps, *, username="petugas", desa=("6311042005",), operations=None,
                   at="2026-12-01T07:00:00+08:00"):
    """Apply [(mutation name, args)] through the real sync engine as a new phone of
    `username` would send them (one request), inside `app` (an app on the live server's
    database). All must be applied; returns the results."""
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one()
        now = datetime.now(timezone.utc)
        client = Client(client_id=str(uuid.uuid4()), user_id=user.id, device_label="seed",
                        token_hash=uuid.uuid4().hex * 2, created_at=now)
        db.session.add(client)
        db.session.flush()
        actor = SyncActor(user_id=user.id, username=username, role=user.role,
                          kecamatan_code=user.kecamatan_code, desa_codes=frozenset(desa),
                          operations=operations or {})
        body = {"protocol": 1, "client_id": client.client_id, "app_version": "seed",
                "sent_at": now.isoformat(), "cursor": None,
                "mutations": [{"id": i, "name": name, "at": at, "args": args}
                              for i, (name, args) in enumerate(steps, 1)]}
        results = process_sync(db.session, actor=actor, client=client, body=body, now=now,
                               page_size=1)["results"]
        assert {r["status"] for r in results} == {"applied"}, results
        db.session.commit()
    return results
