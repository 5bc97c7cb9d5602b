"""The camat's office view in a real headless Chromium: create an operation, assign an
officer, the officer's phone receives it at the next sync, and the report printed to PDF
shows the right numbers."""
import re
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from e2e_kit import login_phone, office_login as _office_login, register, server_rows

LOK_BATU, BATUMANDI = "6311042002", "6311042005"


def office_login(browser, server, username="camat", password="rahasia-camat"):
    """The office view, landing on the dashboard."""
    page = _office_login(browser, server, username, password)
    expect(page.get_by_role("heading", name=re.compile("^Dasbor"))).to_be_visible()
    return page


def verify_by_api(context, server, resident_id):
    """A second phone of the same officer verifies one case (the real sync API)."""
    login = context.request.post(server.url + "/api/auth/device", data={
        "username": "petugas", "password": "rahasia-petugas", "device_label": "HP kedua"})
    assert login.status == 201
    session = login.json()
    res = context.request.post(server.url + "/api/sync", headers={
        "Authorization": f"Bearer {session['token']}"}, data={
        "protocol": 1, "client_id": session["client_id"], "app_version": "e2e",
        "sent_at": "2026-12-02T09:00:00+08:00", "cursor": None, "mutations": [{
            "id": 1, "name": "verify_resident", "at": "2026-12-02T09:00:00+08:00",
            "args": {"resident_id": resident_id, "kk_photo": None, "notes": "",
                     "checks": {"kk_copy_seen": True, "age_eligible": True,
                                "marital_eligible": True}}}]})
    assert res.status == 200 and res.json()["results"][0]["status"] == "applied", res.json()


def squash(text):
    return " ".join(text.split())


def test_camat_assigns_the_phone_receives_and_the_report_prints(browser, live_server, tmp_path):
    # The officer's phone is logged in before the operation exists (desa Batumandi, Tariwin).
    phone_context = browser.new_context()
    phone = phone_context.new_page()
    login_phone(phone, live_server)
    expect(phone.locator("#officer")).to_contain_text("2 desa")

    # The camat creates the operation: Batumandi (target 4) and Lok Batu (target 8).
    office = office_login(browser, live_server)
    office.get_by_role("link", name="Aksi & Penugasan").click()
    office.get_by_role("link", name="Buat aksi baru").click()
    office.get_by_label("Nama aksi").fill("Aksi Uji E2E")
    office.get_by_label("Tanggal mulai").fill("01/12/2026")
    office.get_by_label("Tanggal selesai").fill("31/12/2026")
    office.get_by_label("Batumandi", exact=True).check()
    office.get_by_label("Target Desa Batumandi").fill("4")
    office.get_by_label("Lok Batu", exact=True).check()
    office.get_by_label("Target Desa Lok Batu").fill("8")
    expect(office.locator("#step_1")).to_have_value("180")
    expect(office.locator("#step_4")).to_have_value("")
    office.get_by_role("button", name="Simpan aksi").click()
    expect(office.get_by_role("heading", name=re.compile("Aksi Uji E2E"))).to_be_visible()
    op_id = int(office.url.rstrip("/").rsplit("/", 1)[1])

    # ... and assigns the officer to Lok Batu.
    office.get_by_label("Petugas", exact=True).select_option(label="petugas")
    office.get_by_label("Desa", exact=True).select_option(label="Lok Batu")
    office.get_by_role("button", name="Tugaskan").click()
    expect(office.get_by_role("alert")).to_contain_text("ditugaskan di Desa Lok Batu")
    expect(office.locator("#assignments")).to_contain_text("petugas")

    # The phone receives the assignment at its next sync and shows it.
    phone.get_by_role("button", name="Sinkronkan sekarang").click()
    expect(phone.locator("#officer")).to_contain_text("3 desa", timeout=15000)
    ops = phone.locator("#operations-list")
    expect(ops).to_contain_text("Aksi Uji E2E")
    expect(ops).to_contain_text("Desa Lok Batu: target 8 warga")
    expect(ops).to_contain_text("Desa Batumandi: target 4 warga")

    # Field work: two residents found in Lok Batu, one in Batumandi, one of them verified.
    register(phone, "Sari Lok Batu", sex="female", birth_date="2008-06-15", desa=LOK_BATU)
    register(phone, "Rudi Lok Batu", sex="male", birth_date="2009-01-20", desa=LOK_BATU)
    register(phone, "Wati Batumandi", sex="female", birth_date="2007-01-01", desa=BATUMANDI)
    phone.get_by_role("button", name="Sinkronkan sekarang").click()
    expect(phone.locator("#outbox-count")).to_have_text("0", timeout=15000)
    rows = server_rows(live_server, "select name, operation_id from residents order by name")
    assert rows == [("Rudi Lok Batu", op_id), ("Sari Lok Batu", op_id), ("Wati Batumandi", op_id)]
    (sari,) = server_rows(live_server, "select resident_id from residents where name = 'Sari Lok Batu'")
    verify_by_api(phone_context, live_server, sari[0])

    # The dashboard counts them.
    office.goto(f"{live_server.url}/dashboard?operation={op_id}")
    expect(office.locator("#kpi-target")).to_have_text("12")
    expect(office.locator("#kpi-found")).to_have_text("3")
    expect(office.locator("#recap-desa tr[data-desa='6311042002']")).to_contain_text("Lok Batu")

    # The report: check the page, then print it to PDF with Chromium and read the PDF back.
    office.goto(f"{live_server.url}/reports/{op_id}")
    indicators = office.locator("#indicators tbody tr")
    expect(indicators.nth(0)).to_contain_text("12")
    expect(indicators.nth(0)).to_contain_text("25,0%")   # 3 terdata of 12
    expect(indicators.nth(1)).to_contain_text("8,3%")    # 1 terverifikasi of 12
    pdf = tmp_path / "laporan.pdf"
    office.emulate_media(media="print")
    office.pdf(path=str(pdf), format="A4", print_background=True)
    assert pdf.stat().st_size > 10_000
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext (poppler-utils) is required: scripts/test.sh installs it")
    text = squash(subprocess.run([pdftotext, "-layout", str(pdf), "-"], check=True,
                                 capture_output=True, text=True).stdout)
    assert "LAPORAN HASIL AKSI PELAYANAN" in text and "Aksi Uji E2E" in text
    assert "01/12/2026 – 31/12/2026" in text
    assert "Warga belum ber-KTP-el yang terdata 12 3 25,0%" in text
    assert "Data warga terverifikasi 12 1 8,3%" in text
    assert "KTP-el diserahkan ke warga 12 0 0,0%" in text
    assert re.search(r"Batumandi 4 1 0 0 0 0 0 0,0%", text)
    assert re.search(r"Lok Batu 8 2 1 0 0 0 0 0,0%", text)
    assert re.search(r"Jumlah 12 3 1 0 0 0 0 0,0%", text)
    assert "Mengetahui," in text and "Camat Batumandi" in text
    assert "Dasbor" not in text  # the navigation is not printed
    phone_context.close()
    office.context.close()
