"""Disdukcapil's web area (issue #13): the kabupaten's batches, the receipt, the print marks,
the berita acara of the receipt; its walls (kabupaten scope, no office page, no contact data or
delivery proof) and the login, nav and device refusal of the role."""
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

import server.registry.batches as registry_batches
from cah_testkit import forge_office_session
from office_kit import Phone, audits, make_batch
from server import create_app
from server.cli import create_user
from server.extensions import db
from server.models import AuditEntry, Wilayah
from sync.models import Batch, BatchItem, Resident, as_utc
from sync.registry import verification_code

DUKCAPIL, DUKCAPIL_PW = "dukcapil", "rahasia-dukcapil-balangan-7"
OTHER_KAB_BATCH = "BA/LAIN/2026/001"
JUAI_BATCH = "BA/631101/2026/009"
NAMES = ["Ani Cetak", "Budi Cetak", "Citra Cetak"]
NIKS = ["6311045705080001", "6311041705080002", "6311045705080003"]
KKS = ["6311040101080011", "6311040101080012", "6311040101080013"]
SECRET_PHONE, SECRET_ADDRESS = "081298765432", "Jalan Rahasia Nomor 77"


@pytest.fixture
def world(app, client, auth, device):
    """A Batumandi batch of three residents (with NIK, KK, phone, address), a Juai batch and a
    batch of a kecamatan of another kabupaten; the Disdukcapil user of Balangan."""
    phone = Phone(device)
    rids = []
    for name, nik, kk in zip(NAMES, NIKS, KKS):
        rid = phone.register(name=name, nik=nik, kk_number=kk, phone=SECRET_PHONE,
                             address=SECRET_ADDRESS, notes="Catatan rahasia petugas")
        phone.verify(rid)
        rids.append(rid)
    phone.pick_up(*rids)
    for rid in rids:
        phone.record(rid)
    auth.login("operator")
    batch_id = make_batch(client, rids)
    auth.logout()
    with app.app_context():
        create_user(DUKCAPIL, DUKCAPIL_PW, "disdukcapil", None, kabupaten="63.11",
                    full_name="Petugas Disdukcapil Uji")
        db.session.add_all([
            Wilayah(code="6312", name="Kabupaten Lain Uji", level="kabupaten", parent_code="63"),
            Wilayah(code="631201", name="Kecamatan Lain Uji", level="kecamatan",
                    parent_code="6312")])
        db.session.flush()
        other, juai = str(uuid.uuid4()), str(uuid.uuid4())
        for bid, number, code in ((other, OTHER_KAB_BATCH, "631201"),
                                  (juai, JUAI_BATCH, "631101")):
            db.session.add(Batch(batch_id=bid, number=number, kecamatan_code=code,
                                 handed_at=datetime(2026, 11, 19, 2, tzinfo=timezone.utc),
                                 created_by_user_id=1, created_via="office"))
        db.session.commit()
    return {"batch": batch_id, "rids": rids, "other": other, "juai": juai}


def login(client):
    res = client.post("/login", data={"username": DUKCAPIL, "password": DUKCAPIL_PW})
    assert res.status_code == 302, res.get_data(as_text=True)
    return res


def receipt(client, batch_id, missing=(), day="21/11/2026", hour="10:15", **extra):
    return client.post(f"/disdukcapil/berkas/{batch_id}", data={
        "action": "receipt", "day": day, "hour": hour, "missing": list(missing), **extra})


def marks(client, batch_id, **fields):
    data = {"action": "marks"}
    for key, value in fields.items():
        data[key.replace("__", "-")] = value
    return client.post(f"/disdukcapil/berkas/{batch_id}", data=data)


def state(app, batch_id):
    """Everything the receipt and marks may change, to prove a refusal changed nothing."""
    with app.app_context():
        batch = db.session.get(Batch, batch_id)
        items = db.session.execute(select(
            BatchItem.resident_id, BatchItem.received, BatchItem.print_status,
            BatchItem.print_reason, BatchItem.print_reason_text).where(
            BatchItem.batch_id == batch_id).order_by(BatchItem.resident_id)).all()
        residents = db.session.execute(select(
            Resident.resident_id, Resident.stage, Resident.batch_id, Resident.card_ready_at,
            Resident.card_issue, Resident.change_seq).order_by(Resident.resident_id)).all()
        entries = db.session.execute(select(AuditEntry.action).where(
            AuditEntry.action.in_(("registry_receipt", "registry_marks")))).all()
        return (batch.received_at, batch.verification_code, items, residents, entries)


def page(client, url):
    res = client.get(url)
    assert res.status_code == 200, (url, res.status_code)
    return res.get_data(as_text=True)


# ---------------------------------------------------------------- scope and list

def test_list_shows_every_kecamatan_of_the_kabupaten_and_nothing_else(app, client, world):
    login(client)
    html = page(client, "/disdukcapil/berkas")
    assert "BA/631104/2026/001" in html and JUAI_BATCH in html
    assert OTHER_KAB_BATCH not in html
    assert "Batumandi" in html and "Juai" in html and "Menunggu diterima" in html
    juai = page(client, "/disdukcapil/berkas?kecamatan=631101")
    assert JUAI_BATCH in juai and "BA/631104/2026/001" not in juai
    # another kabupaten's kecamatan is no filter value: ignored, never its batches
    assert OTHER_KAB_BATCH not in page(client, "/disdukcapil/berkas?kecamatan=631201")
    assert "BA/631104/2026/001" not in page(client, "/disdukcapil/berkas?status=printing")
    assert "BA/631104/2026/001" in page(client, "/disdukcapil/berkas?status=waiting")
    before = state(app, world["other"])
    for url in (f"/disdukcapil/berkas/{world['other']}",
                f"/disdukcapil/berkas/{world['other']}/berita-acara"):
        assert client.get(url).status_code == 404, url
    assert receipt(client, world["other"]).status_code == 404
    assert state(app, world["other"]) == before


def test_login_nav_and_home_of_the_role(client, auth, device, world):
    res = login(client)
    assert res.headers["Location"] == "/disdukcapil/"
    html = page(client, "/disdukcapil/berkas")
    assert "Rekap Kabupaten" in html and "Berkas dari Kecamatan" in html
    assert "Data Penduduk" not in html and "Serah Terima Disdukcapil" not in html
    assert client.get("/").headers["Location"] == "/disdukcapil/"
    client.post("/logout")
    res = client.post("/login?next=/disdukcapil/berkas",
                      data={"username": DUKCAPIL, "password": DUKCAPIL_PW})
    assert res.headers["Location"] == "/disdukcapil/berkas"
    client.post("/logout")
    auth.login("camat")
    assert "Berkas dari Kecamatan" not in page(client, "/dashboard")
    # the phone app stays closed to the role
    res = client.post("/api/auth/device", json={"username": DUKCAPIL, "password": DUKCAPIL_PW,
                                                "device_label": "HP"})
    assert res.status_code == 403


OFFICE_URLS = ["/dashboard", "/residents", "/residents/{rid}", "/batches", "/batches/{batch}",
               "/batches/{batch}/manifest", "/attachments/" + "a" * 64, "/audit", "/users",
               "/reports", "/operations", "/conflicts", "/perekaman", "/pemulihan"]


def test_disdukcapil_opens_no_office_page(client, world):
    login(client)
    wrong = []
    for url in OFFICE_URLS:
        url = url.format(rid=world["rids"][0], batch=world["batch"])
        if client.get(url).status_code != 403:
            wrong.append(url)
    for url in ("/batches", f"/batches/{world['batch']}"):
        if client.post(url, data={"day": "21/11/2026"}).status_code != 403:
            wrong.append("POST " + url)
    assert wrong == []


@pytest.mark.parametrize("role", ["camat", "operator", "petugas"])
def test_kecamatan_roles_open_nothing_of_disdukcapil(app, client, auth, world, role):
    if role == "petugas":
        forge_office_session(app, client, "petugas")
    else:
        auth.login(role)
    before = state(app, world["batch"])
    batch = world["batch"]
    for url in ("/disdukcapil/", "/disdukcapil/berkas", f"/disdukcapil/berkas/{batch}",
                f"/disdukcapil/berkas/{batch}/berita-acara", "/disdukcapil/rekap.xlsx"):
        assert client.get(url).status_code == 403, url
    assert receipt(client, batch).status_code == 403
    assert marks(client, batch, **{f"mark__{world['rids'][0]}": "ready"}).status_code == 403
    assert state(app, batch) == before


def test_anonymous_is_sent_to_login(client, world):
    res = client.get(f"/disdukcapil/berkas/{world['batch']}")
    assert res.status_code == 302 and "/login" in res.headers["Location"]


# ---------------------------------------------------------------- receipt and marks

def test_receipt_with_a_missing_resident(app, client, auth, world):
    login(client)
    ani, budi, citra = world["rids"]
    res = receipt(client, world["batch"], missing=[citra])
    assert res.status_code == 302, res.get_data(as_text=True)
    with app.app_context():
        batch = db.session.get(Batch, world["batch"])
        assert as_utc(batch.received_at) == datetime(2026, 11, 21, 2, 15, tzinfo=timezone.utc)
        code = verification_code(batch, [ani, budi], [citra])
        assert batch.verification_code == code
        back = db.session.get(Resident, citra)
        assert (back.stage, back.batch_id) == ("recorded", None)
        assert db.session.get(Resident, ani).stage == "sent_to_registry"
        entry = db.session.execute(select(AuditEntry).where(
            AuditEntry.action == "registry_receipt")).scalar_one()
        assert entry.kecamatan_code == "631104"
        assert entry.target == f"batch:{world['batch']}"
        assert entry.details == {"received": 2, "missing": 1}
    html = page(client, f"/disdukcapil/berkas/{world['batch']}")
    assert code in html and "Diterima — menunggu tanda cetak (2)" in html
    assert "Tidak ada dalam berkas fisik" in html
    manifest = page(client, f"/disdukcapil/berkas/{world['batch']}/berita-acara")
    for text in (code, "Citra Cetak", "Petugas Disdukcapil Uji", "Sabtu, 21 November 2026",
                 "10.15 WITA", "Jumat, 20 November 2026", "09.30 WITA", NIKS[0], KKS[0]):
        assert text in manifest, text
    assert "2 (dua) orang</strong> diterima" in manifest and "3 (tiga) orang" in manifest
    # the camat sees Disdukcapil's receipt in the kecamatan's audit log, by name of action
    client.post("/logout")
    auth.login("camat")
    audit_html = page(client, "/audit")
    assert "Menerima berkas (Disdukcapil)" in audit_html
    assert "Petugas Disdukcapil Uji" in audit_html
    assert "Citra Cetak" not in audit_html


def test_marks_each_card_and_bulk_ready(app, client, auth, world):
    login(client)
    ani, budi, citra = world["rids"]
    assert receipt(client, world["batch"]).status_code == 302
    res = marks(client, world["batch"], **{f"mark__{ani}": "ready",
                                           f"mark__{budi}": "not_printed",
                                           f"reason__{budi}": "other",
                                           f"reason_text__{budi}": "Sidik jari  tidak terbaca",
                                           f"mark__{citra}": ""})
    assert res.status_code == 302, res.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Resident, ani).card_ready_at is not None
        issue = db.session.get(Resident, budi).card_issue
        assert issue["reason"] == "other" and issue["by"] == "disdukcapil"
        assert issue["reason_text"] == "Sidik jari tidak terbaca"
        assert db.session.get(BatchItem, (world["batch"], citra)).print_status is None
        entry = db.session.execute(select(AuditEntry).where(
            AuditEntry.action == "registry_marks")).scalar_one()
        assert entry.kecamatan_code == "631104" and entry.target == f"batch:{world['batch']}"
        assert entry.details == {"changed": 2, "ready": 1, "not_printed": 1}
    html = page(client, f"/disdukcapil/berkas/{world['batch']}")
    assert "Diterima — menunggu tanda cetak (1)" in html
    number = "BA/631104/2026/001"
    assert number in page(client, "/disdukcapil/berkas?status=printing")
    assert number not in page(client, "/disdukcapil/berkas?status=marked")
    res = client.post(f"/disdukcapil/berkas/{world['batch']}", data={"action": "all_ready"})
    assert res.status_code == 302
    with app.app_context():
        assert db.session.get(Resident, citra).card_ready_at is not None
        assert db.session.get(Resident, budi).card_ready_at is None  # not overwritten
    assert "Tanda cetak lengkap" in page(client, "/disdukcapil/berkas")
    assert number in page(client, "/disdukcapil/berkas?status=marked")
    assert number not in page(client, "/disdukcapil/berkas?status=printing")
    assert audits(app, "registry_marks") == 2
    # nothing left to mark in bulk: refused, nothing changes
    before = state(app, world["batch"])
    assert client.post(f"/disdukcapil/berkas/{world['batch']}",
                       data={"action": "all_ready"}).status_code == 409
    assert state(app, world["batch"]) == before
    # the kecamatan collects the ready cards: the batch is "Sudah diambil" for Disdukcapil
    client.post("/logout")
    auth.login("operator")
    assert client.post(f"/batches/{world['batch']}", data={
        "day": "2026-11-27", f"outcome-{ani}": "collected",
        f"outcome-{citra}": "collected"}).status_code == 302
    client.post("/logout")
    login(client)
    assert number in page(client, "/disdukcapil/berkas?status=collected")
    html = page(client, f"/disdukcapil/berkas/{world['batch']}")
    assert "Sudah diambil" in html and "KTP sudah tidak menunggu di Disdukcapil" in html


def test_bad_inputs_are_refused_and_change_nothing(app, client, world):
    login(client)
    ani, budi, citra = world["rids"]
    batch = world["batch"]
    cases_before_receipt = [
        (marks(client, batch, **{f"mark__{ani}": "ready"}), 409),
        (receipt(client, batch, day=""), 400),
        (receipt(client, batch, day="31/02/2026"), 400),
        (receipt(client, batch, day="01/01/2099"), 400),  # in the future
        (receipt(client, batch, day="19/11/2026"), 400),  # before the handover
        (receipt(client, batch, hour="25:00"), 400),
        (receipt(client, batch, missing=[str(uuid.uuid4())]), 400),
        (client.post(f"/disdukcapil/berkas/{batch}", data={"action": "hapus"}), 400),
    ]
    before = state(app, batch)
    assert [res.status_code for res, _ in cases_before_receipt] == [
        status for _, status in cases_before_receipt]
    assert state(app, batch) == before
    assert receipt(client, batch, missing=[citra]).status_code == 302
    before = state(app, batch)
    refused = [
        (receipt(client, batch, missing=[]), 409),  # a different receipt
        (receipt(client, batch, missing=[citra], hour="11:00"), 409),
        (marks(client, batch, **{f"mark__{ani}": "not_printed"}), 400),  # no reason
        (marks(client, batch, **{f"mark__{ani}": "not_printed", f"reason__{ani}": "other"}),
         400),
        (marks(client, batch, **{f"mark__{ani}": "not_printed", f"reason__{ani}": "bosan"}),
         400),
        (marks(client, batch, **{f"mark__{ani}": "dicetak"}), 400),
        (marks(client, batch, **{f"mark__{ani}": "not_printed", f"reason__{ani}": "other",
                                 f"reason_text__{ani}": "x" * 501}), 400),
        (marks(client, batch, **{f"mark__{ani}": "not_printed", f"reason__{ani}": "other",
                                 f"reason_text__{ani}": "bel\x07l"}), 400),
        (marks(client, batch, **{f"mark__{uuid.uuid4()}": "ready"}), 400),
        (marks(client, batch, **{f"mark__{ani}": "ready", f"mark__{citra}": "ready"}), 400),
        (marks(client, batch, **{f"mark__{ani}": ""}), 400),
    ]
    assert [res.status_code for res, _ in refused] == [status for _, status in refused]
    assert state(app, batch) == before
    html = refused[2][0].get_data(as_text=True)
    assert "Pilih alasan mengapa KTP Ani Cetak belum dicetak." in html


def test_the_same_receipt_again_is_a_no_op(app, client, world):
    login(client)
    citra = world["rids"][2]
    assert receipt(client, world["batch"], missing=[citra]).status_code == 302
    before = state(app, world["batch"])
    res = receipt(client, world["batch"], missing=[citra])
    assert res.status_code == 302
    assert state(app, world["batch"]) == before
    assert audits(app, "registry_receipt") == 1


def test_a_replayed_form_is_applied_once(app, client, world):
    login(client)
    token = "tok-" + uuid.uuid4().hex
    first = receipt(client, world["batch"], hour="", submission_id=token)
    assert first.status_code == 302
    second = receipt(client, world["batch"], hour="", submission_id=token)
    assert second.status_code == 303 and second.headers["Location"] == first.headers["Location"]
    assert "tidak disimpan dua kali" in page(client, second.headers["Location"])
    assert audits(app, "registry_receipt") == 1
    ani = world["rids"][0]
    token = "tok-" + uuid.uuid4().hex
    for _ in range(2):
        assert marks(client, world["batch"], **{f"mark__{ani}": "ready",
                                                "submission_id": token}).status_code in (302, 303)
    assert audits(app, "registry_marks") == 1


def test_the_detail_shows_identity_data_only(app, client, world):
    ani = world["rids"][0]
    with app.app_context():
        resident = db.session.get(Resident, ani)
        resident.kk_photo = "b" * 64
        resident.delivery = {"photo": "c" * 64, "signature_data": "U0lHTkFUVVJFREFUQQ==",
                             "gps": {"lat": -2.34567, "lon": 115.43219, "accuracy_m": 9}}
        # the operator's free text on the handover: the kecamatan's copy only
        db.session.get(Batch, world["batch"]).notes = "Catatan rahasia operator: HP 0812"
        db.session.commit()
    login(client)
    urls = [f"/disdukcapil/berkas/{world['batch']}"]
    html = page(client, urls[0])
    for value in NAMES + NIKS + KKS + ["Perempuan", "Balangan", "17/05/2008", "Batumandi"]:
        assert value in html, value
    assert receipt(client, world["batch"]).status_code == 302
    urls += [f"/disdukcapil/berkas/{world['batch']}",
             f"/disdukcapil/berkas/{world['batch']}/berita-acara"]
    for url in urls:
        html = page(client, url)
        for secret in (SECRET_PHONE, SECRET_ADDRESS, "Catatan rahasia", "b" * 64, "c" * 64,
                       "U0lHTkFUVVJF", "115.43219", "-2.34567", "/attachments/", "<svg"):
            assert secret not in html, (url, secret)
    assert NIKS[0] in html


def test_manifest_before_the_receipt_is_refused(client, world):
    login(client)
    assert client.get(f"/disdukcapil/berkas/{world['batch']}/berita-acara").status_code == 409


# ---------------------------------------------------------------- CSRF

@pytest.fixture
def csrf_client(app, db_url, world):
    strict = create_app({"SQLALCHEMY_DATABASE_URI": db_url,
                         "SECRET_KEY": "registry-csrf-key-9Qm2Lx7Vb4Nc8Zp1Kd6Hs3",
                         "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    client = strict.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    res = client.post("/login", data={"username": DUKCAPIL, "password": DUKCAPIL_PW,
                                      "csrf_token": token})
    assert res.status_code == 302
    yield client
    with strict.app_context():
        db.session.remove()
        db.engine.dispose()


def test_every_registry_form_needs_the_csrf_token(app, csrf_client, world):
    client = csrf_client
    batch = world["batch"]
    before = state(app, batch)
    for data in ({"action": "receipt", "day": "21/11/2026"},
                 {"action": "marks", f"mark-{world['rids'][0]}": "ready"},
                 {"action": "all_ready"}):
        res = client.post(f"/disdukcapil/berkas/{batch}", data=data)
        assert res.status_code == 400 and "Formulir kedaluwarsa" in res.get_data(as_text=True)
    assert state(app, batch) == before
    html = client.get(f"/disdukcapil/berkas/{batch}").get_data(as_text=True)
    assert html.count('name="csrf_token"') >= html.count("<form")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    res = client.post(f"/disdukcapil/berkas/{batch}", data={
        "action": "receipt", "day": "21/11/2026", "csrf_token": token})
    assert res.status_code == 302
    html = client.get(f"/disdukcapil/berkas/{batch}").get_data(as_text=True)
    assert html.count('name="csrf_token"') >= html.count("<form")


def test_pages_work_under_the_strict_csp(client, world):
    login(client)
    for url in ("/disdukcapil/berkas", f"/disdukcapil/berkas/{world['batch']}"):
        res = client.get(url)
        html = res.get_data(as_text=True)
        assert "style=" not in html and "<style" not in html and " onclick" not in html, url
        assert html.count("<script") == html.count(
            '<script type="module" src="/static/date-words.js"></script>'), url


# ---------------------------------------------------------------- newcomer review (F2)

def test_collected_batch_with_cards_still_waiting_is_partly_collected(app, client, auth, world):
    """A collection that found a ready card missing: "Sudah diambil sebagian (1 menunggu)",
    and Disdukcapil's page says what the kecamatan's team reported for that card."""
    login(client)
    ani, budi, citra = world["rids"]
    batch = world["batch"]
    assert receipt(client, batch).status_code == 302
    assert client.post(f"/disdukcapil/berkas/{batch}", data={"action": "all_ready"}
                       ).status_code == 302
    client.post("/logout")
    auth.login("operator")
    today = (datetime.now(timezone.utc) + timedelta(hours=8)).strftime("%d/%m/%Y")
    assert client.post(f"/batches/{batch}", data={  # today, no hour: now, after the marks
        "day": today, f"outcome-{ani}": "collected", f"outcome-{citra}": "collected",
        f"outcome-{budi}": "not_printed", f"reason-{budi}": "blanko_habis"}).status_code == 302
    client.post("/logout")
    login(client)
    html = page(client, f"/disdukcapil/berkas/{batch}")
    assert "Sudah diambil sebagian (1 menunggu)" in html
    row = re.search(rf'<tr data-resident="{budi}".*?</tr>', html, re.S).group(0)
    assert f"Tim kecamatan melaporkan KTP ini belum ada saat pengambilan {today}" in row
    assert "row-warn" in row
    assert "Sudah diambil sebagian (1 menunggu)" in page(client, "/disdukcapil/berkas")
    # ready again: the card waits for the next trip, the report is gone
    assert marks(client, batch, **{f"mark__{budi}": "ready"}).status_code == 302
    html = page(client, f"/disdukcapil/berkas/{batch}")
    assert "Tim kecamatan melaporkan" not in html
    assert "Sudah diambil sebagian (1 menunggu)" in html
    # everything collected: plain "Sudah diambil"
    client.post("/logout")
    auth.login("operator")
    assert client.post(f"/batches/{batch}", data={
        "day": today, f"outcome-{budi}": "collected"}).status_code == 302
    client.post("/logout")
    login(client)
    html = page(client, f"/disdukcapil/berkas/{batch}")
    assert "Sudah diambil sebagian" not in html and "Sudah diambil" in html


def test_receipt_without_an_hour_posted_again_is_the_same_receipt(app, client, world,
                                                                  monkeypatch):
    """No hour typed: the time is cut to the minute, and a stale tab's form posted again that
    day is the same receipt (a no-op), not a refused "different" one."""
    clock = [datetime(2026, 11, 21, 2, 15, 31, tzinfo=timezone.utc)]
    monkeypatch.setattr(registry_batches, "utcnow", lambda: clock[0])
    login(client)
    citra = world["rids"][2]
    assert receipt(client, world["batch"], missing=[citra], hour="").status_code == 302
    with app.app_context():
        received = as_utc(db.session.get(Batch, world["batch"]).received_at)
    assert received == datetime(2026, 11, 21, 2, 15, tzinfo=timezone.utc)
    before = state(app, world["batch"])
    for later in (datetime(2026, 11, 21, 2, 15, 52, tzinfo=timezone.utc),
                  datetime(2026, 11, 21, 5, 40, 7, tzinfo=timezone.utc)):
        clock[0] = later
        res = receipt(client, world["batch"], missing=[citra], hour="")
        assert res.status_code == 302, res.get_data(as_text=True)
        assert "sudah dicatat sebelumnya" in page(client, res.headers["Location"])
    assert state(app, world["batch"]) == before
    assert audits(app, "registry_receipt") == 1
    # a different receipt is refused with the recorded time in WITA, not an ISO timestamp
    res = receipt(client, world["batch"], missing=[], hour="")
    assert res.status_code == 409
    html = res.get_data(as_text=True)
    assert ("Berkas ini sudah diterima pada 21/11/2026 10.15 WITA; penerimaan tidak dapat "
            "diubah.") in html
    assert "isi yang berbeda" not in html
    assert state(app, world["batch"]) == before


def test_both_batch_tables_scroll_inside_a_table_wrap(client, world):
    login(client)
    wrapped = re.compile(r'<div class="table-wrap">\s*<table class="data[^"]*" id="residents">')
    assert wrapped.search(page(client, f"/disdukcapil/berkas/{world['batch']}"))
    assert receipt(client, world["batch"]).status_code == 302
    assert wrapped.search(page(client, f"/disdukcapil/berkas/{world['batch']}"))


def test_timeline_says_waiting_time_recorded_for_office_and_disdukcapil_events(
        client, auth, world):
    login(client)
    assert receipt(client, world["batch"]).status_code == 302
    client.post("/logout")
    auth.login("camat")
    html = page(client, f"/residents/{world['rids'][0]}")
    items = re.findall(r"<li>\s*<strong>(.*?)</strong>(.*?)</li>", html, re.S)
    whens = {label: re.search(r'<div class="when">([^:<]+):', body).group(1)
             for label, body in items}
    assert whens["Berkas diterima Disdukcapil"] == "Waktu dicatat"
    assert whens["Diserahkan ke Disdukcapil"] == "Waktu dicatat"  # made in the office
    assert whens["Didaftarkan"] == "Waktu di HP"


def test_a_partly_collected_batch_stays_in_the_work_of_disdukcapil(app, client, auth, world):
    """The team collected the ready card and reported another not there; the unmarked cards
    still wait for their print mark: the batch is "printing", not "collected"."""
    ani, budi, _citra = world["rids"]
    login(client)
    assert receipt(client, world["batch"]).status_code == 302
    assert marks(client, world["batch"], **{f"mark__{ani}": "ready"}).status_code == 302
    auth.logout()
    auth.login("operator")
    assert client.post(f"/batches/{world['batch']}", data={
        "day": "22/11/2026", f"outcome-{ani}": "collected", f"outcome-{budi}": "not_printed",
        f"reason-{budi}": "blanko_habis"}).status_code == 302
    auth.logout()
    login(client)
    link = f"/disdukcapil/berkas/{world['batch']}"
    assert link in page(client, "/disdukcapil/berkas?status=printing")
    assert link not in page(client, "/disdukcapil/berkas?status=collected")
    assert "Diterima — menunggu tanda cetak (2)" in page(client, link)


def test_a_merged_case_does_not_block_marking_all_ready(app, client, world):
    ani, budi, citra = world["rids"]
    login(client)
    assert receipt(client, world["batch"]).status_code == 302
    with app.app_context():
        db.session.get(Resident, citra).merged_into = ani  # the camat merged a duplicate
        db.session.commit()
    assert "Diterima — menunggu tanda cetak (2)" in page(
        client, f"/disdukcapil/berkas/{world['batch']}")
    res = client.post(f"/disdukcapil/berkas/{world['batch']}", data={"action": "all_ready"})
    assert res.status_code == 302
    with app.app_context():
        marked = dict(db.session.execute(select(BatchItem.resident_id, BatchItem.print_status)
                                          .where(BatchItem.batch_id == world["batch"])).all())
    assert marked == {ani: "ready", budi: "ready", citra: None}
