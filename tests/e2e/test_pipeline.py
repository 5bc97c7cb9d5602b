"""The whole SOP pipeline on real phones (headless Chromium contexts) against a real server.

One resident's life across two phones, offline between syncs: phone A registers and verifies
(with a photo of the KK copy), phone B picks up, records, hands the batch to Disdukcapil and
records the collection, phone A delivers the card with a signature drawn by pointer events, a
photo and GPS. Then a verify-vs-reject conflict between two offline phones, resolved by the
camat in the office view. Also: the app still opens offline with the new modules, and the
shell stays within its gzip budget.
"""
import gzip
import json
import re
import urllib.request
from datetime import date, datetime, timezone
from pathlib import Path

from playwright.sync_api import expect

from e2e_kit import login_phone, office_login, register as register_form, server_rows as rows
from server import create_app
from server.extensions import db
from server.models import User
from server.operations import Operation, OperationDesa
from sync.office import OfficeActor, import_listed_residents

FIXTURES = Path(__file__).resolve().parent / "fixtures"
KK_PHOTO = FIXTURES / "kk_copy.jpg"
DELIVERY_PHOTO = FIXTURES / "delivery.jpg"
DESA = "6311042005"
GPS = {"latitude": -2.4412, "longitude": 115.4398, "accuracy": 15}


def phone(browser, server, username, password):
    """A phone: its own browser context (own IndexedDB), logged in and ready for offline use."""
    context = browser.new_context(permissions=["geolocation"], geolocation=GPS, viewport={"width": 400, "height": 860})
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    login_phone(page, server, username, password)
    wait_synced(page)
    return context, page


def sync(page):
    """Tap "Sinkronkan sekarang" and wait until nothing is left to send (records and photos)."""
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    wait_synced(page)


def wait_synced(page):
    expect(page.get_by_role("button", name="Sinkronkan sekarang")).to_be_enabled(timeout=20000)
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=20000)
    expect(page.locator("#photo-queue")).to_be_hidden(timeout=20000)
    # "selesai" when the sync brought a conflict notice (a change of this phone lost)
    expect(page.locator("#sync-status")).to_contain_text(re.compile("Sinkron (berhasil|selesai)"), timeout=20000)


def register(page, name, birth_date="2004-06-15", nik=None):
    register_form(page, name, birth_date=birth_date, nik=nik, desa=DESA,
                  address="Jalan Pipeline No. 3")


def open_case(page, name):
    """From the home screen's whole list ("Semua"), open the case screen of one resident."""
    page.get_by_role("navigation", name="Daftar kerja").get_by_role("button", name=re.compile("^Semua")).click()
    page.get_by_role("button", name=f"Buka {name}").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def case_item(page, name):
    return page.locator("#case-list li").filter(has_text=name)


def resident_id(server, name):
    return rows(server, "select resident_id from residents where name = :n", n=name)[0][0]


def stage(server, name):
    return rows(server, "select stage from residents where name = :n", n=name)[0][0]


def draw_signature(page):
    """Sign on the canvas with real pointer events (mouse down, moves, up): two strokes."""
    box = page.locator("#signature-pad").bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    strokes = [
        [(0.08 + 0.6 * t / 30, 0.55 - 0.25 * ((t % 10) / 10) + 0.1 * (t % 3)) for t in range(31)],
        [(0.2 + 0.6 * t / 12, 0.8 - 0.05 * (t % 2)) for t in range(13)],
    ]
    for stroke in strokes:
        page.mouse.move(x0 + stroke[0][0] * w, y0 + stroke[0][1] * h)
        page.mouse.down()
        for fx, fy in stroke[1:]:
            page.mouse.move(x0 + fx * w, y0 + fy * h, steps=3)
        page.mouse.up()


def test_one_resident_whole_life_across_two_phones(browser, live_server):
    name = "Sari Pipeline"
    ctx_a, a = phone(browser, live_server, "petugas", "rahasia-petugas")

    # Phone A, no signal: register and verify with a photo of the KK copy.
    ctx_a.set_offline(True)
    register(a, name)
    open_case(a, name)
    a.locator("#case-actions").get_by_role("button", name="Verifikasi").click()
    expect(a.locator("#verify-age")).to_contain_text("wajib KTP-el")
    a.get_by_role("button", name="Simpan verifikasi").click()
    expect(a.locator("#m-v-kk_copy_seen")).to_contain_text("Fotokopi KK")
    a.get_by_label("Umur memenuhi syarat").check()
    a.get_by_label("Foto fotokopi KK (boleh dilewati)").set_input_files(str(KK_PHOTO))
    expect(a.locator("#v-photo-status")).to_contain_text("Foto siap: 1280×907 piksel", timeout=15000)
    a.get_by_role("button", name="Simpan verifikasi").click()
    expect(a.locator("#notice")).to_have_text(f"Tersimpan di HP: Verifikasi {name}.")
    a.reload()  # offline: the new modules come from the service worker's cache
    expect(case_item(a, name)).to_contain_text("Terverifikasi")
    expect(case_item(a, name)).to_contain_text("Belum terkirim")
    expect(a.locator("#outbox-count")).to_have_text("2")
    expect(a.locator("#photo-count")).to_have_text("1")
    assert rows(live_server, "select count(*) from residents")[0][0] == 0

    # Back online: the records go in one sync, then the photo in 64 KiB chunks.
    ctx_a.set_offline(False)
    uploads = []
    a.on("request", lambda r: uploads.append(r.headers.get("content-range"))
         if "/api/attachments/" in r.url and r.method == "PUT" else None)
    sync(a)
    assert stage(live_server, name) == "verified"
    rid = resident_id(live_server, name)
    kk_sha = rows(live_server, "select kk_photo from residents where resident_id = :r", r=rid)[0][0]
    assert re.fullmatch(r"[0-9a-f]{64}", kk_sha)
    assert rows(live_server, "select count(*) from attachments where sha256 = :s", s=kk_sha)[0][0] == 1
    assert len(uploads) >= 2 and uploads[0].startswith("bytes 0-65535/"), uploads

    # Phone B (same desa) gets the case, then with no signal picks up and records.
    ctx_b, b = phone(browser, live_server, "petugas2", "rahasia-petugas2")
    expect(case_item(b, name)).to_contain_text("Terverifikasi")
    ctx_b.set_offline(True)
    b.get_by_role("button", name=re.compile("^Siap dijemput")).click()
    expect(b.locator("#case-list li")).to_have_count(1)
    open_case(b, name)
    b.get_by_role("button", name="Jemput").click()
    expect(b.get_by_role("checkbox", name=re.compile(f"^{name}"))).to_be_checked()
    b.get_by_label("Titik jemput").fill("Balai Desa")
    b.get_by_label("Kendaraan").fill("Mobil dinas DA 1234 XY")
    b.get_by_role("button", name="Simpan penjemputan").click()
    expect(b.locator("#notice")).to_have_text(f"Tersimpan di HP: Penjemputan {name}.")
    open_case(b, name)
    expect(b.locator("#case-stage")).to_contain_text("Dijemput")
    b.get_by_role("button", name="Catat hasil rekam").click()
    expect(b.get_by_label("Sudah rekam")).to_be_checked()
    b.get_by_role("button", name="Simpan hasil rekam").click()
    expect(b.locator("#notice")).to_have_text(f"Tersimpan di HP: Perekaman selesai {name}.")
    ctx_b.set_offline(False)
    sync(b)
    assert stage(live_server, name) == "recorded"

    # The batch to Disdukcapil and the collection of the printed card, recorded on phone B.
    b.get_by_role("button", name="Serahkan berkas ke Disdukcapil").click()
    expect(b.get_by_role("checkbox", name=re.compile(f"^{name}"))).to_be_checked()
    b.get_by_label("Nomor berita acara").fill("BA-UJI-001")
    b.get_by_role("button", name="Simpan penyerahan berkas").click()
    expect(b.locator("#notice")).to_have_text("Tersimpan di HP: Penyerahan ke Disdukcapil berkas BA-UJI-001 (1 warga).")
    sync(b)
    assert stage(live_server, name) == "sent_to_registry"
    open_case(b, name)
    expect(b.locator("#case-details")).to_contain_text("Berita acara BA-UJI-001")
    b.get_by_role("button", name="Catat pengambilan KTP").click()
    b.get_by_label(f"KTP {name}").select_option("collected")
    b.get_by_role("button", name="Simpan pengambilan KTP").click()
    expect(b.locator("#notice")).to_have_text("Tersimpan di HP: Pengambilan KTP 1 KTP.")
    sync(b)
    assert stage(live_server, name) == "card_collected"

    # Phone A syncs, then delivers with no signal: signature, photo, GPS.
    sync(a)
    expect(case_item(a, name)).to_contain_text("KTP Diambil")
    a.get_by_role("button", name=re.compile("^KTP siap diserahkan")).click()
    ctx_a.set_offline(True)
    open_case(a, name)
    a.get_by_role("button", name="Serahkan KTP").click()
    expect(a.get_by_label("Pemilik", exact=True)).to_be_checked()
    a.get_by_role("button", name="Simpan penyerahan KTP").click()
    expect(a.locator("#m-d-signature")).to_have_text(
        "Tanda tangan masih kosong. Minta penerima menandatangani di dalam kotak.")
    draw_signature(a)
    expect(a.locator("#signature-status")).to_contain_text("2 goresan")
    a.get_by_role("button", name="Urungkan goresan").click()
    expect(a.locator("#signature-status")).to_contain_text("1 goresan")
    a.get_by_role("button", name="Hapus tanda tangan").click()
    expect(a.locator("#signature-status")).to_have_text("Belum ada tanda tangan.")
    draw_signature(a)
    a.get_by_label("Foto penyerahan KTP").set_input_files(str(DELIVERY_PHOTO))
    expect(a.locator("#d-photo-status")).to_contain_text("Foto siap", timeout=15000)
    a.get_by_role("button", name="Ambil lokasi GPS").click()
    expect(a.locator("#d-gps-status")).to_contain_text("Lokasi: -2.4412, 115.4398")
    a.get_by_role("button", name="Simpan penyerahan KTP").click()
    expect(a.locator("#notice")).to_have_text(f"Tersimpan di HP: Penyerahan KTP {name}.")
    expect(case_item(a, name)).to_contain_text("KTP Diserahkan")

    # The signed delivery as it travels (DESIGN §8: ≤ 1.5 KB gzipped).
    bodies = []
    a.on("request", lambda r: bodies.append(r.post_data_buffer)
         if r.url.endswith("/api/sync") and r.method == "POST" else None)
    ctx_a.set_offline(False)
    sync(a)
    pushed = [gzip.decompress(x) for x in bodies if x and b"deliver_card" in gzip.decompress(x)]
    assert len(pushed) == 1
    envelope = json.loads(pushed[0])
    mutation = envelope["mutations"][0]
    sig_bytes = len(__import__("base64").b64decode(mutation["args"]["signature"]["data"]))
    request_gz = len(gzip.compress(pushed[0]))
    mutation_gz = len(gzip.compress(json.dumps(mutation, separators=(",", ":")).encode()))
    print(f"\nsigned delivery from Chromium: signature {sig_bytes} B raw, mutation {mutation_gz} B gzipped,"
          f" whole sync request {request_gz} B gzipped")
    assert mutation_gz <= 1536 and request_gz <= 1536
    assert mutation["args"]["gps"] == {"lat": -2.4412, "lon": 115.4398, "accuracy_m": 15}

    assert stage(live_server, name) == "delivered"
    delivery_photo = rows(live_server, "select delivery from residents where resident_id = :r", r=rid)[0][0]
    delivery = json.loads(delivery_photo) if isinstance(delivery_photo, str) else delivery_photo
    assert rows(live_server, "select count(*) from attachments where sha256 = :s", s=delivery["photo"])[0][0] == 1
    kinds = [k for (k,) in rows(live_server, "select kind from resident_events where resident_id = :r order by id", r=rid)]
    assert kinds == ["registered", "verified", "picked_up", "recorded", "batch_handed_over", "card_collected", "delivered"], kinds

    # The office sees "KTP Diserahkan" and the signature as SVG.
    office = office_login(browser, live_server)
    office.goto(f"{live_server.url}/residents/{rid}")
    expect(office.get_by_text("KTP Diserahkan").first).to_be_visible()
    expect(office.locator("svg path").first).to_be_attached()
    ctx_a.close()
    ctx_b.close()


def test_verify_and_reject_on_two_offline_phones_raise_a_conflict(browser, live_server):
    name = "Konflik Pipeline"
    ctx_a, a = phone(browser, live_server, "petugas", "rahasia-petugas")
    register(a, name, birth_date="2003-02-02")
    sync(a)
    ctx_b, b = phone(browser, live_server, "petugas2", "rahasia-petugas2")
    expect(case_item(b, name)).to_contain_text("Terdata")

    ctx_a.set_offline(True)
    ctx_b.set_offline(True)
    open_case(a, name)
    a.locator("#case-actions").get_by_role("button", name="Verifikasi").click()
    a.get_by_label("Fotokopi KK sudah diperiksa").check()
    a.get_by_label("Umur memenuhi syarat").check()
    a.get_by_role("button", name="Simpan verifikasi").click()
    expect(a.locator("#notice")).to_contain_text("Tersimpan di HP")
    open_case(b, name)
    b.get_by_role("button", name="Tolak").click()
    b.get_by_label("Alasan penolakan").select_option("other")
    b.get_by_role("button", name="Simpan penolakan").click()
    expect(b.locator("#m-r-reason_text")).to_have_text("Wajib diisi.")
    b.get_by_label("Keterangan penolakan").fill("Menurut tetangga sudah pindah ke Banjarmasin.")
    b.get_by_role("button", name="Simpan penolakan").click()
    expect(b.locator("#notice")).to_have_text(f"Tersimpan di HP: Penolakan {name}.")
    expect(case_item(b, name)).to_contain_text("Ditolak")

    ctx_a.set_offline(False)
    sync(a)
    ctx_b.set_offline(False)
    sync(b)
    rid = resident_id(live_server, name)
    conflicts = rows(live_server, "select id, kind, status from conflicts where resident_id = :r", r=rid)
    assert [(k, s) for _, k, s in conflicts] == [("verify_vs_reject", "open")], conflicts
    assert stage(live_server, name) == "verified", "the first accepted event wins until the camat decides"
    kinds = sorted(k for (k,) in rows(live_server, "select kind from resident_events where resident_id = :r", r=rid))
    assert kinds == ["registered", "rejected", "verified"], "both events are kept"

    # The camat decides in the office view: the rejection stands.
    office = office_login(browser, live_server)
    office.goto(f"{live_server.url}/conflicts")
    office.get_by_role("link", name="Putuskan konflik ini").first.click()
    office.get_by_role("button", name="Tetap ditolak").click()
    expect(office.get_by_text("Konflik diselesaikan")).to_be_visible()
    assert rows(live_server, "select status from conflicts where id = :i", i=conflicts[0][0])[0][0] == "resolved"
    assert stage(live_server, name) == "rejected"
    sync(a)
    expect(case_item(a, name)).to_contain_text("Ditolak")
    ctx_a.close()
    ctx_b.close()


def test_rejected_pickup_is_fixed_and_resent(browser, live_server):
    """A pick-up of a resident who is not verified yet is refused; fixed in its own form."""
    ctx_a, a = phone(browser, live_server, "petugas", "rahasia-petugas")
    register(a, "Jemput Ulang", birth_date="2001-01-01")
    sync(a)
    rid = resident_id(live_server, "Jemput Ulang")
    # Another officer verified nothing yet; this phone tries a pick-up through the URL.
    a.goto(f"{live_server.url}/app/#/jemput/{rid}")
    expect(a.get_by_role("heading", name="Penjemputan warga")).to_be_visible()
    expect(a.get_by_role("checkbox", name=re.compile("^Jemput Ulang"))).to_be_checked()
    a.get_by_label("Titik jemput").fill("Rumah warga")
    a.get_by_label("Kendaraan").fill("Motor")
    a.get_by_role("button", name="Simpan penjemputan").click()
    a.get_by_role("button", name="Sinkronkan sekarang").click()
    expect(a.locator("#rejected-count")).to_have_text("1", timeout=20000)
    a.get_by_role("button", name=re.compile("^Perlu perbaikan")).click()
    expect(a.locator("#rejected-list")).to_contain_text("Penjemputan")
    a.get_by_role("button", name="Perbaiki data Jemput Ulang").click()
    expect(a.get_by_role("heading", name="Penjemputan warga")).to_be_visible()
    expect(a.locator("#pickup-server-errors")).to_contain_text("Ditolak server")
    expect(a.get_by_label("Titik jemput")).to_have_value("Rumah warga")
    # Verify first, then resend the fixed pick-up as a new mutation.
    a.get_by_role("button", name="Batal").click()
    a.goto(f"{live_server.url}/app/#/warga/{rid}/verifikasi")
    a.get_by_label("Fotokopi KK sudah diperiksa").check()
    a.get_by_label("Umur memenuhi syarat").check()
    a.get_by_role("button", name="Simpan verifikasi").click()
    a.get_by_role("button", name=re.compile("^Perlu perbaikan")).click()
    a.get_by_role("button", name="Perbaiki data Jemput Ulang").click()
    a.get_by_role("button", name="Simpan penjemputan").click()
    expect(a.locator("#rejected-count")).to_have_text("0")
    sync(a)
    assert stage(live_server, "Jemput Ulang") == "picked_up"
    ctx_a.close()


def test_shell_budget_and_offline_start_with_the_new_modules(browser, live_server):
    """Every precached file, gzipped as served: ≤ 100 KB (DESIGN §8); printed for the report."""
    sw = urllib.request.urlopen(live_server.url + "/app/sw.js").read().decode()
    files = json.loads("[" + re.search(r"const SHELL_FILES = \[(.*?)\];", sw, re.S).group(1) + "]")
    for module in ("js/case-views.js", "js/signature-pad.js", "js/signature-codec.js", "js/photo.js",
                   "js/attachment-upload.js", "js/work-lists.js", "js/pipeline.js", "js/case-forms.js",
                   "js/photo-sizing.js"):
        assert module in files, module
    total = 0
    for rel in files + ["sw.js"]:
        req = urllib.request.Request(f"{live_server.url}/app/{rel}", headers={"Accept-Encoding": "gzip"})
        total += len(urllib.request.urlopen(req).read())
    print(f"\nshell: {len(files) + 1} files, {total} B gzipped on the wire")
    assert total <= 100 * 1024, total

    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login_phone(page, live_server)
    context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    expect(page.get_by_role("navigation", name="Daftar kerja").get_by_role("button")).to_have_count(7)
    page.get_by_role("button", name="Daftarkan warga baru").click()
    expect(page.get_by_role("heading", name="Daftarkan warga baru")).to_be_visible()
    assert errors == []
    context.close()


def _office_setup_listed(server, name):
    """The office's part, done in-process on the server's database: an operation for desa
    6311042005 (target 25) and one imported "Belum Ditemukan" resident. Returns its id."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": server.env["CAH_DATABASE_URL"], "SECRET_KEY": "e2e-pipeline-key-4Wc9Hn2Bq7Xt5Lr1Mz8Kd3Vf6"})
    with app.app_context():
        camat = db.session.execute(db.select(User).filter_by(username="camat")).scalar_one()
        op = Operation(kecamatan_code="631104", name="Aksi Uji Desember", start_date=date(2026, 12, 1),
                       end_date=date(2026, 12, 31), step_minutes={"1": 180, "2": 60}, created_by=camat.id)
        op.desa.append(OperationDesa(desa_code=DESA, target=25))
        db.session.add(op)
        db.session.flush()
        ids = import_listed_residents(
            db.session, OfficeActor(user_id=camat.id, role="camat", kecamatan_code="631104"),
            operation_id=op.id, now=datetime.now(timezone.utc),
            rows=[{"desa_code": DESA, "name": name, "nik": "", "kk_number": "", "sex": "male",
                   "birth_date": "2002-03-04", "birth_place": "", "address": "", "rt": "", "rw": "",
                   "phone": ""}])
        db.session.commit()
        return ids[0]


def test_listed_resident_is_found_and_registered_with_the_same_id(browser, live_server):
    name = "Budi Belum Ditemukan"
    rid = _office_setup_listed(live_server, name)
    ctx, page = phone(browser, live_server, "petugas", "rahasia-petugas")
    # The officer's operation and desa target are on the home screen.
    expect(page.locator("#operations")).to_contain_text("Aksi Uji Desember")
    expect(page.locator("#operations")).to_contain_text("target 25 warga")
    find = page.get_by_role("navigation", name="Daftar kerja").get_by_role("button", name=re.compile("^Belum ditemukan"))
    expect(find).to_have_text(re.compile("Belum ditemukan 1"))
    find.click()
    expect(case_item(page, name)).to_contain_text("Belum Ditemukan")
    ctx.set_offline(True)
    page.get_by_role("button", name=f"Buka {name}").click()
    page.get_by_role("button", name="Daftarkan warga ini").click()
    expect(page.get_by_label("Nama lengkap")).to_have_value(name)
    expect(page.get_by_label("Tanggal lahir")).to_have_value("04/03/2002")
    page.get_by_label("Tempat lahir").fill("Batumandi")
    page.get_by_label("Status perkawinan").select_option("single")
    page.get_by_label("Alamat").fill("Jalan Desa No. 1")
    page.get_by_role("button", name="Simpan", exact=True).click()
    expect(page.locator("#notice")).to_have_text(f"Tersimpan di HP: {name}.")
    open_case(page, name)
    expect(page.locator("#case-stage")).to_contain_text("Terdata")
    page.get_by_role("button", name="Kembali ke daftar warga").click()
    ctx.set_offline(False)
    sync(page)
    assert rows(live_server, "select stage, birth_place from residents where resident_id = :r", r=rid) == [("found", "Batumandi")]
    assert rows(live_server, "select count(*) from residents where name = :n", n=name)[0][0] == 1
    ctx.close()


V1_DATABASE = """async () => {
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open('cah', 1);
    r.onupgradeneeded = () => {
      const d = r.result;
      d.createObjectStore('session', { keyPath: 'key' });
      d.createObjectStore('residents', { keyPath: 'resident_id' }).createIndex('by_desa', 'desa_code');
      d.createObjectStore('outbox', { keyPath: 'id' }).createIndex('by_resident', 'resident_id');
      d.createObjectStore('rejected', { keyPath: 'rid', autoIncrement: true }).createIndex('by_resident', 'resident_id');
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const tx = db.transaction(['outbox'], 'readwrite');
  tx.objectStore('outbox').add({ id: 1, name: 'update_resident', at: '2026-11-28T09:00:00+08:00',
    args: { resident_id: '00000000-0000-4000-8000-000000000001', base_version: 1, fields: { phone: '0812345678' } },
    resident_id: '00000000-0000-4000-8000-000000000001' });
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  db.close();
}"""

READ_DATABASE = """async () => {
  const db = await new Promise((resolve) => { const r = indexedDB.open('cah'); r.onsuccess = () => resolve(r.result); });
  const tx = db.transaction(['outbox'], 'readonly');
  const entry = await new Promise((resolve) => { tx.objectStore('outbox').get(1).onsuccess = (e) => resolve(e.target.result); });
  const out = { version: db.version, stores: [...db.objectStoreNames], indexes: [...tx.objectStore('outbox').indexNames], entry };
  db.close();
  return out;
}"""


def test_a_v1_phone_database_upgrades_in_place(browser, live_server):
    """A phone with the previous app's IndexedDB (v1, an unsent edit) opens the new app: the
    outbox entry is kept and indexed per resident, and the photo store exists."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + "/app/manifest.webmanifest")  # same origin, no app code running
    page.evaluate(V1_DATABASE)
    page.goto(live_server.url + "/app/")
    expect(page.get_by_role("heading", name="Masuk")).to_be_visible()
    state = page.evaluate(READ_DATABASE)
    assert state["version"] == 4
    assert {"attachments", "acked", "kept_photos", "drafts"} <= set(state["stores"])
    assert set(state["indexes"]) == {"by_resident", "by_residents"}
    assert state["entry"]["resident_ids"] == ["00000000-0000-4000-8000-000000000001"]
    assert state["entry"]["args"]["fields"] == {"phone": "0812345678"}
    context.close()
