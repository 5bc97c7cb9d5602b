"""A phone's unsent work rescued through the office (issue #11 §6), in headless Chromium against
a real server: the phone, offline, registers a resident and verifies them with a photo of the
KK copy, downloads "Unduh data yang belum terkirim" (photo included); the camat uploads the file
in "Pulihkan data HP"; the resident and the photo are on the server. Then the phone comes back
online and syncs: nothing is doubled."""
import base64
import hashlib
import json
import re
from pathlib import Path

from playwright.sync_api import expect

from e2e_kit import login_phone, office_login, register, server_rows as rows

KK_PHOTO = Path(__file__).resolve().parent / "fixtures" / "kk_copy.jpg"
NAME = "Rina Pemulihan"


def wait_synced(page):
    expect(page.get_by_role("button", name="Sinkronkan sekarang")).to_be_enabled(timeout=20000)
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=20000)
    expect(page.locator("#photo-queue")).to_be_hidden(timeout=20000)
    expect(page.locator("#sync-status")).to_contain_text("Sinkron berhasil", timeout=20000)


def counts(server):
    return tuple(rows(server, f"select count(*) from {table}")[0][0]
                 for table in ("residents", "resident_events", "attachments"))


def test_unsent_file_uploaded_in_the_office_counts_once(browser, live_server, tmp_path):
    context = browser.new_context(viewport={"width": 400, "height": 860})
    phone = context.new_page()
    phone.on("dialog", lambda d: d.accept())
    login_phone(phone, live_server)
    wait_synced(phone)

    # No signal: register, then verify with a photo of the KK copy.
    context.set_offline(True)
    register(phone, NAME, desa="6311042005")
    phone.get_by_role("navigation", name="Daftar kerja").get_by_role(
        "button", name=re.compile("^Semua")).click()
    phone.get_by_role("button", name=f"Buka {NAME}").click()
    phone.locator("#case-actions").get_by_role("button", name="Verifikasi").click()
    phone.get_by_label("Umur memenuhi syarat").check()
    phone.get_by_label("Foto fotokopi KK (boleh dilewati)").set_input_files(str(KK_PHOTO))
    expect(phone.locator("#v-photo-status")).to_contain_text("Foto siap", timeout=15000)
    phone.get_by_role("button", name="Simpan verifikasi").click()
    expect(phone.locator("#notice")).to_have_text(f"Tersimpan di HP: Verifikasi {NAME}.")
    expect(phone.locator("#outbox-count")).to_have_text("2")

    # The phone's download carries the outbox and the photo's bytes.
    with phone.expect_download() as info:
        phone.get_by_role("button", name="Unduh data yang belum terkirim").first.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert (data["format"], data["format_version"]) == ("cah-belum-terkirim", 2)
    assert [m["name"] for m in data["outbox"]] == ["register_resident", "verify_resident"]
    [photo] = data["foto_belum_terkirim"]
    kk_sha = data["outbox"][1]["args"]["kk_photo"]
    assert photo["sha256"] == kk_sha == hashlib.sha256(base64.b64decode(photo["data"])).hexdigest()
    assert counts(live_server) == (0, 0, 0)

    # The office applies the file.
    office = office_login(browser, live_server)
    office.get_by_role("link", name="Pulihkan Data HP").click()
    office.get_by_label("Berkas data HP (.json)").set_input_files(str(saved))
    office.get_by_role("button", name="Pulihkan").click()
    expect(office.locator("#count-applied")).to_have_text("2")
    expect(office.locator("#count-photos")).to_contain_text("1 disimpan")
    assert rows(live_server, "select stage, kk_photo from residents where name = :n",
                n=NAME) == [("verified", kk_sha)]
    assert rows(live_server, "select count(*) from attachments where sha256 = :s",
                s=kk_sha)[0][0] == 1
    after_office = counts(live_server)
    assert after_office == (1, 2, 1)

    # The phone comes back and syncs: its changes are duplicates, its photo is already there.
    context.set_offline(False)
    phone.get_by_role("button", name="Sinkronkan sekarang").click()
    wait_synced(phone)
    assert counts(live_server) == after_office
    expect(phone.locator("#case-list li").filter(has_text=NAME)).to_contain_text("Terverifikasi")
    context.close()
