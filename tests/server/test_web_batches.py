"""Office view: batches to Disdukcapil (create, card collection, printable berita acara).

`Phone`, the pipeline helper of the office-view tests, is in office_kit.py.
"""
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from cah_testkit import forge_office_session
from office_kit import Phone, audits, count, create_batch_form, csrf_token, make_batch
from server import create_app
from server.extensions import db
from server.formatting import terbilang
from sync.models import Batch, BatchItem, Resident, ResidentEvent

# ---------------------------------------------------------------- permissions

@pytest.mark.parametrize("username, status", [
    ("camat", 200), ("operator", 200), ("camat_juai", 200), (None, 302)])
def test_batches_page_permissions(client, auth, username, status):
    if username:
        auth.login(username)
    res = client.get("/batches")
    assert res.status_code == status
    if status == 302:
        assert "/login" in res.headers["Location"]


def test_petugas_cannot_reach_the_office_pages(client, auth, app):
    # petugas cannot log in to the office; a forged session of a petugas is refused too
    assert auth.login("petugas").status_code == 403
    forge_office_session(app, client, "petugas")
    for path in ("/batches", "/conflicts"):
        assert client.get(path).status_code == 403
    assert client.post("/batches", data=create_batch_form([])).status_code == 403


@pytest.mark.parametrize("username, status", [
    ("camat", 200), ("operator", 200), ("camat_juai", 404), (None, 302)])
def test_batch_pages_scoped_to_the_kecamatan(client, auth, device, username, status):
    phone = Phone(device)
    rids = phone.recorded(1)
    auth.login("operator")
    batch_id = make_batch(client, rids)
    auth.logout()
    if username:
        auth.login(username)
    for path in (f"/batches/{batch_id}", f"/batches/{batch_id}/manifest"):
        assert client.get(path).status_code == status
    res = client.post(f"/batches/{batch_id}", data={
        "day": "2026-11-27", f"outcome-{rids[0]}": "collected"})
    assert res.status_code == (302 if status == 200 else status)
    if username == "camat_juai":
        page = client.get("/batches").get_data(as_text=True)
        assert "Warga Rekam" not in page and "BA/631104/2026/001" not in page


# ---------------------------------------------------------------- create

def test_create_batch_end_to_end(client, auth, app, device):
    phone = Phone(device)
    a = phone.recorded(2, desa="6311042005", names=["Siti Rekam", "Ahmad Rekam"])
    b = phone.recorded(1, desa="6311042001", names=["Budi Rekam"])
    not_yet = phone.register(name="Belum Rekam Uji")
    auth.login("operator")
    page = client.get("/batches").get_data(as_text=True)
    for name in ("Siti Rekam", "Ahmad Rekam", "Budi Rekam"):
        assert name in page
    assert "Belum Rekam Uji" not in page  # only recorded residents can be chosen
    filtered = client.get("/batches?desa=6311042001").get_data(as_text=True)
    assert "Budi Rekam" in filtered and "Siti Rekam" not in filtered

    batch_id = make_batch(client, a + b)
    page = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert "BA/631104/2026/001" in page and "Siti Rekam" in page
    with app.app_context():
        batch = db.session.get(Batch, batch_id)
        assert batch.created_via == "office" and batch.kecamatan_code == "631104"
        stages = {r.stage for r in db.session.execute(
            select(Resident).where(Resident.resident_id.in_(a + b))).scalars()}
        assert stages == {"sent_to_registry"}
        assert db.session.get(Resident, not_yet).stage == "found"
        kinds = db.session.execute(select(ResidentEvent.kind, ResidentEvent.client_id).where(
            ResidentEvent.resident_id == a[0]).order_by(ResidentEvent.id)).all()
        assert kinds[-1] == ("batch_handed_over", "office")
    assert audits(app, "create_batch") == 1
    # the phone receives the new stage at its next sync
    res = device.sync(phone.session, cursor=None)
    pulled = {r["resident_id"]: r for r in res.get_json()["changes"]["residents"]}
    assert pulled[a[0]]["stage"] == "sent_to_registry"
    # the list shows the batch with its count
    listing = client.get("/batches").get_data(as_text=True)
    assert "BA/631104/2026/001" in listing
    # recorded residents already handed over are no longer offered
    assert 'value="%s"' % a[0] not in listing


BAD_CREATE = [
    ({"number": ""}, "Nomor berita acara wajib diisi."),
    ({"number": "x" * 51}, "Nomor paling banyak 50 karakter."),
    ({"day": ""}, "Tanggal wajib diisi"),
    ({"day": "31/02/2026"}, "Tanggal tidak sah"),
    ({"day": "kemarin"}, "Tanggal tidak sah"),
    ({"day": "2099-01-01"}, "tidak boleh di masa depan"),
    ({"hour": "25:99"}, "Jam tidak valid"),
    ({"resident_ids": []}, "Pilih minimal satu warga"),
    ({"resident_ids": ["bukan-uuid"]}, "tidak dapat diserahkan"),
    ({"notes": "x" * 1001}, "Catatan paling banyak 1000 karakter."),
]


@pytest.mark.parametrize("change, message", BAD_CREATE)
def test_bad_create_input_is_400_and_changes_nothing(client, auth, app, device, change,
                                                     message):
    phone = Phone(device)
    rids = phone.recorded(1)
    auth.login("operator")
    form = create_batch_form(rids)
    form.update(change)
    res = client.post("/batches", data=form)
    assert res.status_code == 400
    assert message in res.get_data(as_text=True)
    assert count(app, Batch) == 0
    with app.app_context():
        assert db.session.get(Resident, rids[0]).stage == "recorded"


def test_resident_not_recorded_or_of_another_kecamatan_is_refused(client, auth, app, device):
    phone = Phone(device)
    rids = phone.recorded(1)
    found = phone.register(name="Baru Terdata")
    juai = Phone(device, "petugas_juai")
    other = juai.recorded(1, desa="6311012001")
    auth.login("operator")
    for bad in ([found], [other[0]], rids + [found]):
        res = client.post("/batches", data=create_batch_form(bad))
        assert res.status_code == 400
        assert "tidak dapat diserahkan" in res.get_data(as_text=True)
    assert count(app, Batch) == 0


def test_batch_number_must_be_unique_in_the_kecamatan(client, auth, app, device):
    phone = Phone(device)
    first, second = phone.recorded(2)
    auth.login("operator")
    make_batch(client, [first])
    res = client.post("/batches", data=create_batch_form([second]))
    assert res.status_code == 400 and "sudah dipakai" in res.get_data(as_text=True)
    assert count(app, Batch) == 1


def test_resident_handed_over_meanwhile_gives_409(client, auth, app, device):
    """Two office users choose the same resident: the second one gets a clear 409."""
    phone = Phone(device)
    rids = phone.recorded(1)
    auth.login("operator")
    make_batch(client, rids)
    # the resident is no longer offered, but a stale form still posts it
    res = client.post("/batches", data=create_batch_form(rids, number="BA/2"))
    assert res.status_code == 400
    assert count(app, Batch) == 1


# ---------------------------------------------------------------- collection

def test_collection_with_exceptions(client, auth, app, device):
    phone = Phone(device)
    a, b, c = phone.recorded(3, names=["Ani Ambil", "Badu Blanko", "Cici Tunggu"])
    auth.login("camat")
    batch_id = make_batch(client, [a, b, c])
    res = client.post(f"/batches/{batch_id}", data={
        "day": "2026-11-27", "hour": "10:00",
        f"outcome-{a}": "collected",
        f"outcome-{b}": "not_printed", f"reason-{b}": "blanko_habis",
        f"reason_text-{b}": "Menunggu kiriman blanko",
        f"outcome-{c}": ""})
    assert res.status_code == 302, res.get_data(as_text=True)
    page = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert "Pengecualian: KTP belum dicetak (1)" in page
    assert "Blanko habis" in page and "Menunggu kiriman blanko" in page
    with app.app_context():
        assert db.session.get(Resident, a).stage == "card_collected"
        rb = db.session.get(Resident, b)
        assert rb.stage == "sent_to_registry"
        assert rb.card_issue["reason"] == "blanko_habis"
        assert db.session.get(Resident, c).stage == "sent_to_registry"
        outcomes = dict(db.session.execute(select(BatchItem.resident_id, BatchItem.outcome)
                                           .where(BatchItem.batch_id == batch_id)).all())
        assert outcomes == {a: "collected", b: "not_printed", c: None}
    # later the card is printed after all: the exception disappears
    res = client.post(f"/batches/{batch_id}", data={"day": "2026-11-28",
                                                    f"outcome-{b}": "collected"})
    assert res.status_code == 302
    page = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert "Pengecualian" not in page
    with app.app_context():
        assert db.session.get(Resident, b).card_issue is None
    # the batch list counts them
    listing = client.get("/batches").get_data(as_text=True)
    assert re.search(r"<td class=\"num\">3</td>\s*<td class=\"num\">2</td>", listing)
    assert audits(app, "record_collection") == 2


BAD_COLLECTION = [
    ({}, "Pilih hasil pengambilan minimal untuk satu KTP."),
    ({"outcome-A": "lost"}, "Pilihan hasil pengambilan tidak valid."),
    ({"outcome-A": "not_printed"}, "Pilih alasan mengapa KTP"),
    ({"outcome-A": "not_printed", "reason-A": "hilang"}, "Pilihan alasan tidak valid."),
    ({"outcome-A": "not_printed", "reason-A": "other"}, "Jelaskan alasan"),
    ({"outcome-A": "not_printed", "reason-A": "other", "reason_text-A": "x" * 501},
     "Keterangan paling banyak 500 karakter."),
    ({"outcome-A": "collected", "day": ""}, "Tanggal wajib diisi"),
    ({"outcome-A": "collected", "day": "2099-12-01"}, "tidak boleh di masa depan"),
    ({"outcome-A": "collected", "outcome-00000000-0000-0000-0000-000000000000": "collected"},
     "tidak tercantum dalam berita acara"),
]


@pytest.mark.parametrize("change, message", BAD_COLLECTION)
def test_bad_collection_input_is_400_and_changes_nothing(client, auth, app, device, change,
                                                         message):
    phone = Phone(device)
    rids = phone.recorded(1)
    auth.login("operator")
    batch_id = make_batch(client, rids)
    form = {"day": "2026-11-27"}
    form.update({key.replace("-A", "-" + rids[0]): value for key, value in change.items()})
    events = count(app, ResidentEvent)
    res = client.post(f"/batches/{batch_id}", data=form)
    assert res.status_code == 400
    assert message in res.get_data(as_text=True)
    assert count(app, ResidentEvent) == events
    with app.app_context():
        assert db.session.get(Resident, rids[0]).stage == "sent_to_registry"
        assert db.session.get(BatchItem, (batch_id, rids[0])).outcome is None


def test_unknown_batch_is_404(client, auth):
    auth.login()
    assert client.get("/batches/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/batches/tidak-ada/manifest").status_code == 404
    assert client.post("/batches/tidak-ada", data={"day": "2026-11-27"}).status_code == 404


# ---------------------------------------------------------------- the berita acara

def test_manifest_content(client, auth, app, device):
    phone = Phone(device)
    rid = phone.register(name="Siti Manifest", nik="6311045403080001", birth_date="2008-03-14",
                         kk_number="6311040101200001", birth_place="Paringin")
    phone.verify(rid)
    phone.record(rid)
    other = phone.recorded(1, desa="6311042001", names=["Budi Tanpa NIK"])
    auth.login("operator")
    batch_id = make_batch(client, [rid] + other, number="474/015/BTM/2026")
    res = client.get(f"/batches/{batch_id}/manifest")
    assert res.status_code == 200
    page = res.get_data(as_text=True)
    assert "BERITA ACARA SERAH TERIMA" in page
    assert "474/015/BTM/2026" in page
    assert "Jumat, 20 November 2026" in page and "09.30 WITA" in page
    assert "6311045403080001" in page  # the full NIK: Disdukcapil needs it
    assert "Siti Manifest" in page and "Budi Tanpa NIK" in page and "Belum ada NIK" in page
    assert "Paringin, 14/03/2008" in page
    assert "2 (dua) orang" in page
    assert "Yang Menyerahkan" in page and "Tim Pak Kedes Pokja I" in page
    assert "Yang Menerima" in page
    assert "Dinas Kependudukan dan Pencatatan Sipil" in page and "Kabupaten Balangan" in page
    assert "KECAMATAN BATUMANDI" in page
    assert audits(app, "view_batch_manifest") == 1
    # the batch page itself masks the NIK
    assert "6311045403080001" not in client.get(f"/batches/{batch_id}").get_data(as_text=True)


def test_manifest_print_css_is_a4():
    css = (Path(__file__).parents[2] / "server/static/office.css").read_text()
    assert "@page { size: A4" in css
    assert ".ba-signatures" in css


@pytest.mark.parametrize("n, words", [(1, "satu"), (11, "sebelas"), (15, "lima belas"),
                                      (20, "dua puluh"), (47, "empat puluh tujuh"),
                                      (100, "seratus"), (118, "seratus delapan belas"),
                                      (250, "dua ratus lima puluh"), (500, "lima ratus")])
def test_terbilang(n, words):
    assert terbilang(n) == words


def test_batch_forms_need_csrf(db_url, app):
    """With CSRF on (production), a POST without the token changes nothing."""
    real = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "batches-csrf-key-5Tg8Hk2Wq9Zx3Lp7Nb4Vc1Md6",
                       "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    web = real.test_client()
    page = web.get("/login").get_data(as_text=True)
    web.post("/login", data={"username": "operator", "password": "rahasia-operator",
                             "csrf_token": csrf_token(page)})
    page = web.get("/batches").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    res = web.post("/batches", data=create_batch_form(["x"]))
    assert res.status_code == 400 and "Formulir kedaluwarsa" in res.get_data(as_text=True)
    assert count(app, Batch) == 0
    with real.app_context():
        db.engine.dispose()  # this app's own pool: unclosed connections warn (= fail)
