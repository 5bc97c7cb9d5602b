"""Issue #11 §1 in a real headless Chromium: the officer corrects identity data ("Ubah data")
offline until the case is verified; afterwards the form says the office corrects them."""
import json
import re

from playwright.sync_api import expect

from e2e_kit import login_phone, register, server_rows

# Birth date 15-06-2004 coded as a woman's (15 + 40): registered as a man, a NIK/sex warning.
NIK_FEMALE = "6311045506040001"
KK = "6311040101200002"


def case_item(page, name):
    return page.locator("#case-list li").filter(has_text=name)


def sync(page):
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=15000)
    expect(page.locator("#sync-status")).to_contain_text("Sinkron berhasil", timeout=15000)


def test_misspelt_name_and_missing_kk_are_corrected_offline(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    login_phone(page, live_server)
    context.set_offline(True)
    register(page, "Salah Ketik Namaa", nik=NIK_FEMALE, sex="male")

    page.get_by_role("button", name="Ubah data Salah Ketik Namaa").click()
    expect(page.locator("#form-identity-note")).to_be_hidden()
    for label in ("Nama lengkap", "Nomor KK", "Jenis kelamin", "Tanggal lahir"):
        expect(page.get_by_label(label)).to_be_enabled()
    page.get_by_label("Nama lengkap").fill("Salah Ketik Nama")
    page.get_by_label("Nomor KK").fill(KK)
    page.get_by_label("Jenis kelamin").select_option("female")
    page.get_by_role("button", name="Simpan perubahan").click()
    expect(page.locator("#notice")).to_have_text("Tersimpan di HP: Salah Ketik Nama.")

    page.reload()  # still offline: the service worker and IndexedDB keep both saves
    expect(case_item(page, "Salah Ketik Nama")).to_have_count(1)
    expect(page.locator("#case-list li").filter(has_text="Namaa")).to_have_count(0)
    expect(page.locator("#outbox-count")).to_have_text("2")
    assert server_rows(live_server, "select count(*) from residents")[0][0] == 0

    context.set_offline(False)
    sync(page)
    rows = server_rows(live_server, "select name, kk_number, sex, version, warnings from residents")
    assert [(n, kk, sex, v) for n, kk, sex, v, _ in rows] == [
        ("Salah Ketik Nama", KK, "female", 2)]
    warnings = rows[0][4] if isinstance(rows[0][4], list) else json.loads(rows[0][4])
    assert "nik_sex" not in warnings
    kinds = [k for (k,) in server_rows(live_server, "select kind from resident_events order by id")]
    assert kinds == ["registered", "identity_corrected"]
    expect(case_item(page, "Salah Ketik Nama")).not_to_contain_text("Perlu dicek")
    context.close()


def test_warning_cleared_offline_and_identity_locked_after_verification(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    login_phone(page, live_server)
    register(page, "Kelamin Tertukar", nik=NIK_FEMALE, sex="male")
    sync(page)
    expect(case_item(page, "Kelamin Tertukar")).to_contain_text("Perlu dicek")

    context.set_offline(True)
    page.get_by_role("button", name="Ubah data Kelamin Tertukar").click()
    page.get_by_label("Jenis kelamin").select_option("female")
    page.get_by_role("button", name="Simpan perubahan").click()
    expect(page.locator("#notice")).to_have_text("Tersimpan di HP: Kelamin Tertukar.")
    # The unsent correction already shows the case without the NIK/sex warning.
    expect(case_item(page, "Kelamin Tertukar")).not_to_contain_text("Perlu dicek")

    page.get_by_role("navigation", name="Daftar kerja").get_by_role(
        "button", name=re.compile("^Semua")).click()
    page.get_by_role("button", name="Buka Kelamin Tertukar").click()
    expect(page.get_by_role("heading", name="Kelamin Tertukar")).to_be_visible()
    page.locator("#case-actions").get_by_role("button", name="Verifikasi").click()
    page.get_by_label("Fotokopi KK sudah diperiksa").check()
    page.get_by_label("Umur memenuhi syarat").check()
    page.get_by_role("button", name="Simpan verifikasi").click()
    expect(page.locator("#notice")).to_contain_text("Tersimpan di HP")

    page.get_by_role("button", name="Ubah data Kelamin Tertukar").click()
    expect(page.locator("#form-identity-note")).to_be_visible()
    expect(page.locator("#form-identity-note")).to_contain_text("camat atau operator")
    for label in ("Nama lengkap", "NIK", "Nomor KK", "Jenis kelamin"):
        expect(page.get_by_label(label, exact=True)).to_be_disabled()
    expect(page.get_by_label("Nomor HP")).to_be_enabled()

    context.set_offline(False)
    page.get_by_role("button", name="Batal").click()
    sync(page)
    assert server_rows(live_server, "select sex, stage from residents") == [("female", "verified")]
    context.close()
