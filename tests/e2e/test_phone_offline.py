"""The walking skeleton end to end in a real headless Chromium: offline registration reaches
the camat's screen, exactly once."""
import gzip
import re

from playwright.sync_api import expect

from e2e_kit import launch_persistent, login_phone, office_login, register, server_rows

RESIDENTS = (
    # name, NIK, sex, birth date, desa code
    ("Sari Uji Satu", "6311045506080001", "female", "2008-06-15", "6311042005"),
    ("Rudi Uji Dua", None, "male", "2009-01-20", "6311042001"),
    ("Wati Uji Tiga", "6311044101070002", "female", "2007-01-01", "6311042005"),
)


def test_offline_registrations_reach_the_camat_exactly_once(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    sync_requests = []
    # Requests that reached the server and were answered: a fetch that failed while the
    # emulated network was still coming back never left the phone.
    page.on("requestfinished", lambda r: sync_requests.append(r)
            if r.url.endswith("/api/sync") and r.method == "POST" else None)

    login_phone(page, live_server)
    context.set_offline(True)
    page.reload()  # served by the service worker
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    expect(page.locator("#net-status")).to_have_text("Tanpa sinyal")
    for name, nik, sex, birth_date, desa in RESIDENTS:
        register(page, name, nik=nik, sex=sex, birth_date=birth_date, desa=desa,
                 kk_number="6311040101200001", rt="3", rw="1",
                 vulnerable_category="remote_community", notes="Data uji otomatis.")
    page.reload()
    cases = page.locator("#case-list li")
    expect(cases).to_have_count(3)
    for name, *_ in RESIDENTS:
        expect(cases.filter(has_text=name)).to_contain_text("Terdata")
    expect(page.locator("#outbox-count")).to_have_text("3")
    assert server_rows(live_server, "select count(*) from residents")[0][0] == 0

    context.set_offline(False)
    sync_requests.clear()
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=15000)
    expect(page.locator("#case-list li").first).not_to_contain_text("Belum terkirim")
    pushes = [r for r in sync_requests if b"register_resident" in _body(r)]
    assert len(pushes) == 1, "an outbox that fits one batch goes in one request"

    names = sorted(n for (n,) in server_rows(live_server, "select name from residents"))
    assert names == sorted(r[0] for r in RESIDENTS)
    assert server_rows(live_server, "select count(*) from resident_events")[0][0] == 3

    # The very same request sent again (a retry after a lost answer) changes nothing.
    push = pushes[0]
    replay = context.request.post(push.url, data=push.post_data_buffer, headers={
        k: v for k, v in push.headers.items()
        if k.lower() in ("authorization", "content-type", "content-encoding")})
    assert replay.status == 200
    assert {r["status"] for r in replay.json()["results"]} == {"duplicate"}
    assert server_rows(live_server, "select count(*) from residents")[0][0] == 3
    assert server_rows(live_server, "select count(*) from resident_events")[0][0] == 3

    # The camat sees all three in the office view, NIKs masked.
    office = office_login(browser, live_server)
    office.goto(live_server.url + "/residents")
    table = office.locator("table.residents")
    for name, nik, *_ in RESIDENTS:
        expect(table).to_contain_text(name)
        if nik:
            expect(table).not_to_contain_text(nik)
    office.get_by_role("link", name="Sari Uji Satu").click()
    expect(office.locator(".timeline")).to_contain_text("Didaftarkan")
    expect(office.locator(".timeline")).to_contain_text("Waktu di HP")
    context.close()


def _body(request):
    data = request.post_data_buffer or b""
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def test_saved_record_survives_closing_the_browser(pw, live_server, tmp_path):
    profile = tmp_path / "profile"
    context = launch_persistent(pw, profile)
    page = context.pages[0] if context.pages else context.new_page()
    login_phone(page, live_server)
    context.set_offline(True)
    register(page, "Tetap Ada Uji", sex="male", birth_date="2008-02-02")
    context.close()  # the officer closes the browser; nothing was sent

    context = launch_persistent(pw, profile, offline=True)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(live_server.url + "/app/")
    expect(page.locator("#case-list li").filter(has_text="Tetap Ada Uji")).to_have_count(1)
    expect(page.locator("#outbox-count")).to_have_text("1")
    context.set_offline(False)
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=15000)
    assert server_rows(live_server, "select name from residents")[0][0] == "Tetap Ada Uji"
    context.close()


def test_app_is_installable(pw, live_server, tmp_path):
    # A persistent profile: Chromium never offers installation in an incognito context.
    context = launch_persistent(pw, tmp_path / "profile")
    page = context.pages[0] if context.pages else context.new_page()
    login_phone(page, live_server)
    cdp = context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], errors
    manifest = context.request.get(live_server.url + "/app/manifest.webmanifest").json()
    assert manifest["start_url"] == "/app/" and re.search("CAH", manifest["name"])
    context.close()


def test_officer_edits_free_fields_offline(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    login_phone(page, live_server)
    register(page, "Ubah Uji", birth_date="2008-03-03")
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=15000)

    context.set_offline(True)
    page.get_by_role("button", name="Ubah data Ubah Uji").click()
    page.get_by_label("Nomor HP").fill("081211112222")
    page.get_by_role("button", name="Simpan perubahan").click()
    expect(page.locator("#outbox-count")).to_have_text("1")
    context.set_offline(False)
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=15000)
    rows = server_rows(live_server, "select phone, version from residents")
    assert rows == [("081211112222", 2)]
    kinds = [k for (k,) in server_rows(live_server, "select kind from resident_events order by id")]
    assert kinds == ["registered", "updated"]
    context.close()
