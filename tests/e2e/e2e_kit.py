"""Helpers shared by the end-to-end tests (a unique module name: every conftest is imported
as "conftest"). Labels and ids are those of docs/phone-app.md, "For end-to-end tests"."""
import os

from playwright.sync_api import expect
from sqlalchemy import create_engine, text

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
