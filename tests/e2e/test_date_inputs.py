"""Dates and times on an English-language Chrome (issue #11 §3): the phone's own inputs read
dd/mm/yyyy and 24-hour WITA, whatever the browser's locale and time zone, and echo the date in
words. A KK's 12062005 is 12 June 2005 (a Sunday), never 6 December."""
import gzip
import json
import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from e2e_kit import login_phone, office_login, server_rows
from sync.models import WITA

NAME = "Rina Tanggal"


def _wait_synced(page):
    expect(page.get_by_role("button", name="Sinkronkan sekarang")).to_be_enabled(timeout=20000)
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=20000)
    expect(page.locator("#sync-status")).to_contain_text("Sinkron berhasil", timeout=20000)


def _sync(page):
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    _wait_synced(page)


def _open_case(page, name):
    page.get_by_role("navigation", name="Daftar kerja").get_by_role(
        "button", name=re.compile("^Semua")).click()
    page.get_by_role("button", name=f"Buka {name}").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def test_english_chrome_types_a_kk_date_and_a_wita_time(browser, live_server):
    # An English Chrome on a phone whose zone is not WITA: the browser's own controls would
    # read mm/dd/yyyy and AM/PM here.
    context = browser.new_context(locale="en-US", timezone_id="America/New_York",
                                  viewport={"width": 400, "height": 860})
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    bodies = []
    page.on("request", lambda r: bodies.append(r.post_data_buffer or b"")
            if r.url.endswith("/api/sync") and r.method == "POST" else None)
    login_phone(page, live_server)
    _wait_synced(page)

    page.get_by_role("button", name="Daftarkan warga baru").click()
    page.get_by_label("Desa", exact=True).select_option("6311042005")
    page.get_by_label("Nama lengkap").fill(NAME)
    page.get_by_label("Jenis kelamin").select_option("female")
    page.get_by_label("Tempat lahir").fill("Paringin")
    page.get_by_label("Status perkawinan").select_option("single")
    page.get_by_label("Alamat").fill("Jalan Tanggal No. 12")
    birth = page.get_by_label("Tanggal lahir")
    expect(birth).to_have_attribute("placeholder", "hh/bb/tttt")
    expect(birth).to_have_attribute("inputmode", "numeric")
    # An impossible date is named as such, and refused on save.
    birth.fill("31022005")
    expect(page.locator("#e-f-birth_date")).to_contain_text("Tanggal 31 Februari 2005 tidak ada")
    page.get_by_role("button", name="Simpan", exact=True).click()
    expect(page.locator("#m-birth_date")).to_have_text("Tanggal tidak valid.")
    # The KK's 12062005, typed as it is printed: 12 June, and a Sunday.
    birth.fill("12062005")
    expect(page.get_by_text("Minggu, 12 Juni 2005")).to_be_visible()
    expect(page.locator("#age-note")).to_contain_text("Umur")
    page.get_by_role("button", name="Simpan", exact=True).click()
    expect(page.locator("#notice")).to_have_text(f"Tersimpan di HP: {NAME}.")
    _sync(page)
    assert server_rows(live_server, "select birth_date from residents where name = :n",
                       n=NAME)[0][0] in ("2005-06-12", datetime(2005, 6, 12).date())

    _open_case(page, NAME)
    page.locator("#case-actions").get_by_role("button", name="Verifikasi").click()
    page.get_by_label("Fotokopi KK sudah diperiksa").check()
    page.get_by_label(re.compile("^Umur memenuhi syarat")).check()
    page.get_by_role("button", name="Simpan verifikasi").click()
    expect(page.locator("#notice")).to_have_text(f"Tersimpan di HP: Verifikasi {NAME}.")

    # The pick-up: yesterday (in WITA) at 14:30 WITA, typed 24-hour.
    _open_case(page, NAME)
    page.get_by_role("button", name="Jemput").click()
    day = (datetime.now(WITA) - timedelta(days=1)).date()
    page.get_by_label("Tanggal penjemputan").fill(day.strftime("%d/%m/%Y"))
    clock = page.get_by_label("Jam penjemputan (WITA, 24 jam)")
    expect(clock).to_have_attribute("placeholder", "jj:mm")
    clock.fill("24:00")
    expect(page.locator("#e-pk-picked_up_at")).to_contain_text("Jam tidak valid")
    clock.fill("1430")
    expect(page.locator("#e-pk-picked_up_at")).to_contain_text(", pukul 14.30 WITA")
    page.get_by_label("Titik jemput").fill("Balai Desa")
    page.get_by_label("Kendaraan").fill("Mobil dinas")
    page.get_by_role("button", name="Simpan penjemputan").click()
    expect(page.locator("#notice")).to_have_text(f"Tersimpan di HP: Penjemputan {NAME}.")
    _sync(page)

    sent = [m["args"] for b in bodies if b for m in json.loads(
        gzip.decompress(b) if b[:2] == b"\x1f\x8b" else b).get("mutations", [])
            if m["name"] == "pick_up"]
    assert sent and sent[0]["picked_up_at"] == f"{day.isoformat()}T14:30:00+08:00"
    pickup = server_rows(live_server, "select pickup from residents where name = :n", n=NAME)[0][0]
    pickup = json.loads(pickup) if isinstance(pickup, str) else pickup
    assert pickup["at"] == f"{day.isoformat()}T06:30:00Z"  # 14:30 WITA
    context.close()


def test_the_office_echoes_a_typed_date_in_words_while_typing(browser, live_server):
    page = office_login(browser, live_server)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + "/audit")
    field = page.locator("#a-from")
    field.press_sequentially("12062005")
    expect(page.locator("#a-from-words")).to_have_text("Minggu, 12 Juni 2005")
    field.fill("")
    field.press_sequentially("31/02/2005")
    expect(page.locator("#a-from-words")).to_have_text(
        "Tanggal tidak sah. Tulis hari/bulan/tahun, seperti 28/11/2026.")
    assert problems == []  # the script loads under the office CSP
    page.context.close()
