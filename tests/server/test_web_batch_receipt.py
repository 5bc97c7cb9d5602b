"""Office view, issue #13: the kecamatan's side of Disdukcapil's receipt and print marks.

The receipt and the marks are made by calling sync/registry.py directly, as a Disdukcapil
user of kabupaten 6311 (a User row made here); the pages read are the camat's and operator's:
the "KTP siap diambil" banner, the batch list and its filters, the batch page with the
prefilled collection form and the differences, the berita acara, the dashboard, the report
and the case's timeline.
"""
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, update

from office_kit import A, Phone, create, make_batch, tables
from server.extensions import db
from server.models import User
from sync.models import WITA, Batch, BatchItem, Resident, utcnow
from sync.registry import RegistryActor, confirm_receipt, mark_cards

RECEIVED_AT = datetime(2026, 11, 21, 2, 15, tzinfo=timezone.utc)  # 21/11/2026 10.15 WITA
JUAI_DESA = "6311012001"


def today():
    """Today in WITA, as typed in the collection form (no hour: now), so that the collection
    comes after the marks made at test time (a mark after a collection is not a difference)."""
    return utcnow().astimezone(WITA).strftime("%d/%m/%Y")


def disdukcapil_user(app):
    """A Disdukcapil user of kabupaten Balangan (6311); returns its id."""
    with app.app_context():
        user = User(username="dukcapil", full_name="Dewi Disdukcapil", role="disdukcapil",
                    kecamatan_code=None, kabupaten_code="6311", active=True)
        user.set_password("rahasia-dukcapil")
        db.session.add(user)
        db.session.commit()
        return user.id


def receive(app, user_id, batch_id, missing=()):
    with app.app_context():
        confirm_receipt(db.session, RegistryActor(user_id, "6311"), batch_id,
                        received_at=RECEIVED_AT, missing=list(missing), now=utcnow())
        db.session.commit()


def mark(app, user_id, batch_id, marks):
    with app.app_context():
        changed = mark_cards(db.session, RegistryActor(user_id, "6311"), batch_id, marks=marks,
                             now=utcnow())
        db.session.commit()
        return changed


@pytest.fixture
def world(app, client, auth, device):
    """Batumandi's batch of three (Ani marked ready, Budi not printed, Cici missing) and a
    second, unconfirmed batch (Dodi); the Disdukcapil user."""
    phone = Phone(device)
    ani, budi, cici, dodi = phone.recorded(
        4, names=["Ani Siap", "Budi Belum", "Cici Hilang", "Dodi Tunggu"])
    auth.login("operator")
    batch_id = make_batch(client, [ani, budi, cici])
    other_id = make_batch(client, [dodi], number="BA/631104/2026/002")
    auth.logout()
    uid = disdukcapil_user(app)
    receive(app, uid, batch_id, missing=[cici])
    assert mark(app, uid, batch_id, [
        {"resident_id": ani, "status": "ready"},
        {"resident_id": budi, "status": "not_printed", "reason": "blanko_habis"}]) == 2
    return {"batch": batch_id, "other": other_id, "uid": uid, "ani": ani, "budi": budi,
            "cici": cici, "dodi": dodi}


def banner(html):
    match = re.search(r'<p[^>]*id="ktp-ready".*?</p>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", match.group(0)).split()) if match else None


def code_of(app, batch_id):
    with app.app_context():
        return db.session.get(Batch, batch_id).verification_code


# ---------------------------------------------------------------- "KTP siap diambil: n"

def test_banner_counts_the_own_kecamatan_only(app, client, auth, device):
    phone = Phone(device)
    ani, budi = phone.recorded(2, names=["Ani Siap", "Budi Siap"])
    juai = Phone(device, "petugas_juai", label="HP Juai").recorded(
        3, desa=JUAI_DESA, names=["Juai Satu", "Juai Dua", "Juai Tiga"])
    auth.login("operator")
    batch_id = make_batch(client, [ani, budi])
    for path in ("/dashboard", "/residents", f"/batches/{batch_id}"):
        assert banner(client.get(path).get_data(as_text=True)) is None  # 0: hidden
    auth.logout()
    auth.login("camat_juai")
    juai_batch = make_batch(client, juai, number="BA/631101/2026/001")
    auth.logout()
    uid = disdukcapil_user(app)
    for bid, rids in ((batch_id, [ani]), (juai_batch, juai)):
        receive(app, uid, bid)
        mark(app, uid, bid, [{"resident_id": r, "status": "ready"} for r in rids])

    for user, expected in (("operator", 1), ("camat", 1), ("camat_juai", 3)):
        auth.login(user)
        for path in ("/dashboard", "/residents", "/batches", "/audit"):
            html = client.get(path).get_data(as_text=True)
            assert banner(html).startswith(f"KTP siap diambil: {expected} "), (user, path)
            assert 'href="/batches?tampil=siap"' in html
        auth.logout()
    assert banner(client.get("/login").get_data(as_text=True)) is None

    # collected: no longer waiting for pick-up
    auth.login("operator")
    assert client.post(f"/batches/{batch_id}", data={
        "day": today(), f"outcome-{ani}": "collected"}).status_code == 302
    assert banner(client.get("/dashboard").get_data(as_text=True)) is None


# ---------------------------------------------------------------- the batch list

def test_batch_list_shows_disdukcapil_status_and_filters(client, auth, world):
    auth.login("camat")
    page = tables(client.get("/batches").get_data(as_text=True))
    rows = page.keys["batch-list"]
    assert rows[world["batch"]][6] == "Diterima 21/11 10.15 (1 warga tidak ada) " \
                                      "Siap diambil 1 Belum dicetak 1"
    assert rows[world["other"]][6] == "Menunggu diterima"
    ready = tables(client.get("/batches?tampil=siap").get_data(as_text=True)).keys["batch-list"]
    assert list(ready) == [world["batch"]]
    html = client.get("/batches?tampil=siap").get_data(as_text=True)
    assert 'value="siap" selected' in html and "Ada KTP siap diambil" in html
    # an unknown filter is no filter
    everything = tables(client.get("/batches?tampil=xyz").get_data(as_text=True))
    assert set(everything.keys["batch-list"]) == {world["batch"], world["other"]}


def test_list_without_receipt_nor_marks(client, auth, device):
    rids = Phone(device).recorded(1)
    auth.login("operator")
    batch_id = make_batch(client, rids)
    page = tables(client.get("/batches").get_data(as_text=True))
    assert page.keys["batch-list"][batch_id][6] == "Menunggu diterima"
    empty = client.get("/batches?tampil=siap").get_data(as_text=True)
    assert batch_id not in empty and "Tidak ada berita acara: ada ktp siap diambil." in empty


# ---------------------------------------------------------------- one batch

def test_batch_detail_shows_receipt_missing_and_marks(app, client, auth, world):
    auth.login("operator")
    html = client.get(f"/batches/{world['batch']}").get_data(as_text=True)
    receipt = html[html.index('id="receipt"'):html.index('id="receipt"') + 2500]
    assert "Dewi Disdukcapil (Disdukcapil)" in receipt
    assert "Sabtu, 21 November 2026, pukul 10.15 WITA" in receipt
    code = code_of(app, world["batch"])
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}", code)
    assert f'id="verification-code">{code}<' in receipt
    assert "Cici Hilang" in receipt and "kembali ke tahap Sudah Rekam" in receipt
    page = tables(html)
    assert list(page.tables) == ["table0"]  # the collection form: no differences yet
    marks = {r[0]: r[4] for r in page.tables["table0"][1:]}
    assert marks["Ani Siap"].startswith("Siap diambil sejak ")
    assert marks["Budi Belum"] == "Belum dicetak: Blanko habis"
    assert marks["Cici Hilang"] == "Tidak ada dalam berkas"
    assert "Selisih dengan tanda Disdukcapil" not in html

    other = client.get(f"/batches/{world['other']}").get_data(as_text=True)
    assert "Menunggu diterima: Disdukcapil belum mengonfirmasi" in other


def _selected(html, rid):
    """(outcome, reason, reason text) preselected for a resident in the collection form."""
    def chosen(name):
        select_html = re.search(rf'<select id="{name}-{rid}".*?</select>', html, re.S)
        if select_html is None:
            return None
        match = re.search(r'<option value="([^"]*)" selected', select_html.group(0))
        return match.group(1) if match else ""
    text = re.search(rf'name="reason_text-{rid}" maxlength="500" value="([^"]*)"', html)
    return chosen("outcome"), chosen("reason"), text.group(1) if text else None


def test_collection_form_prefilled_from_the_marks(app, client, auth, world):
    mark(app, world["uid"], world["batch"], [{"resident_id": world["budi"],
                                              "status": "not_printed", "reason": "other",
                                              "reason_text": "Foto buram"}])
    auth.login("operator")
    html = client.get(f"/batches/{world['batch']}").get_data(as_text=True)
    assert _selected(html, world["ani"]) == ("collected", "", "")
    assert _selected(html, world["budi"]) == ("not_printed", "other", "Foto buram")
    assert _selected(html, world["cici"]) == (None, None, None)  # missing: nothing to collect
    assert "sudah diisi dari tanda Disdukcapil" in html
    # without marks: as before (nothing chosen)
    other = client.get(f"/batches/{world['other']}").get_data(as_text=True)
    assert _selected(other, world["dodi"]) == ("", "", "")
    assert "sudah diisi dari tanda Disdukcapil" not in other

    # the prefilled form as sent: Ani collected, Budi not printed; no differences
    res = client.post(f"/batches/{world['batch']}", data={
        "day": today(), f"outcome-{world['ani']}": "collected",
        f"outcome-{world['budi']}": "not_printed", f"reason-{world['budi']}": "other",
        f"reason_text-{world['budi']}": "Foto buram"})
    assert res.status_code == 302
    assert "Selisih dengan tanda Disdukcapil" not in client.get(
        f"/batches/{world['batch']}").get_data(as_text=True)


def test_missing_resident_cannot_be_collected_with_this_batch(app, client, auth, world):
    auth.login("operator")
    res = client.post(f"/batches/{world['batch']}", data={
        "day": today(), f"outcome-{world['cici']}": "collected"})
    assert res.status_code == 400
    assert "tidak tercantum dalam berita acara" in res.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Resident, world["cici"]).stage == "recorded"
        assert db.session.get(BatchItem, (world["batch"], world["cici"])).outcome is None


def test_collection_that_disagrees_shows_the_differences(app, client, auth, world):
    auth.login("operator")
    # Ani (ready) is not collected, Budi (not printed) is collected
    res = client.post(f"/batches/{world['batch']}", data={
        "day": today(), f"outcome-{world['budi']}": "collected"})
    assert res.status_code == 302
    html = client.get(f"/batches/{world['batch']}").get_data(as_text=True)
    assert "Selisih dengan tanda Disdukcapil (2)" in html
    section = html[html.index('id="differences"'):]
    section = section[:section.index("</section>")]
    rows = tables(section).tables["table0"][1:]
    assert sorted(rows) == [
        ["Ani Siap", "Batumandi", "Ditandai siap oleh Disdukcapil, tetapi tidak diambil"],
        ["Budi Belum", "Batumandi", "Diambil, padahal tidak ditandai siap oleh Disdukcapil"]]
    selisih = tables(client.get("/batches?tampil=selisih").get_data(as_text=True))
    assert list(selisih.keys["batch-list"]) == [world["batch"]]


# ---------------------------------------------------------------- berita acara

def test_berita_acara_shows_both_parties_and_the_code(app, client, auth, world):
    auth.login("camat")
    html = client.get(f"/batches/{world['batch']}/manifest").get_data(as_text=True)
    code = code_of(app, world["batch"])
    assert f'id="verification-code">{code}<' in html and f"kode {code}" in html
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert ("Pada hari Jumat, 20 November 2026, pukul 09.30 WITA, Tim Pak Kedes Pokja I "
            "Kecamatan Batumandi") in text
    assert ("Pada hari Sabtu, 21 November 2026, pukul 10.15 WITA, Dinas Kependudukan dan "
            "Pencatatan Sipil Kabupaten Balangan (Dewi Disdukcapil) menerima berkas tersebut: "
            "2 (dua) orang diterima, 1 (satu) orang tidak ada dalam berkas fisik") in text
    assert "Paringin, 21 November 2026" in text
    assert "Sabtu, 21 November 2026, 10.15 WITA" in text  # the receiving signature block
    remarks = {row[1]: row[6] for row in tables(html).tables["table0"][1:]}
    assert remarks == {"Ani Siap": "Diterima", "Budi Belum": "Diterima",
                       "Cici Hilang": "Tidak ada dalam berkas fisik"}
    missing = re.search(r'<p id="ba-missing">(.*?)</p>', html, re.S).group(1)
    assert "Cici Hilang" in missing and "Ani Siap" not in missing

    other = client.get(f"/batches/{world['other']}/manifest").get_data(as_text=True)
    other_text = " ".join(re.sub(r"<[^>]+>", " ", other).split())
    assert "belum dikonfirmasi" in other_text and "Penerimaan belum dikonfirmasi" in other_text
    assert 'id="verification-code">—<' in other and "Dewi Disdukcapil" not in other
    assert "Keterangan" not in other and "Batumandi, 20 November 2026" in other_text


# ---------------------------------------------------------------- another kecamatan

def test_another_kecamatan_sees_none_of_it(client, auth, world):
    auth.login("camat_juai")
    for path in (f"/batches/{world['batch']}", f"/batches/{world['batch']}/manifest"):
        assert client.get(path).status_code == 404
    for path in ("/batches", "/batches?tampil=siap", "/batches?tampil=selisih", "/dashboard"):
        html = client.get(path).get_data(as_text=True)
        assert "BA/631104" not in html and "Ani Siap" not in html
        assert banner(html) is None


# ---------------------------------------------------------------- dashboard and report

def test_dashboard_shows_differences_and_batches_waiting_for_receipt(app, client, auth, world):
    auth.login("camat")
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'id="kpi-differences">0<' in html
    assert 'id="kpi-waiting-receipt">1<' in html  # the other batch, handed over on 20/11
    assert 'href="/batches?tampil=menunggu"' in html
    waiting = tables(client.get("/batches?tampil=menunggu").get_data(as_text=True))
    assert list(waiting.keys["batch-list"]) == [world["other"]]
    # a batch handed over yesterday does not wait "more than 7 days" (UTC: SQLite drops offsets)
    with app.app_context():
        db.session.execute(update(Batch).where(Batch.batch_id == world["other"]).values(
            handed_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    assert 'id="kpi-waiting-receipt">0<' in client.get("/dashboard").get_data(as_text=True)

    assert client.post(f"/batches/{world['batch']}", data={
        "day": today(), f"outcome-{world['budi']}": "collected"}).status_code == 302
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'id="kpi-differences">2<' in html and 'href="/batches?tampil=selisih"' in html


def test_report_lists_the_differences(app, client, auth, world):
    auth.login("camat")
    op_id = create(client, app, name="Aksi Desember")
    with app.app_context():  # the cases belong to the operation, whenever they were registered
        db.session.execute(update(Resident).where(Resident.desa_code == A)
                           .values(operation_id=op_id))
        db.session.commit()
    empty = tables(client.get(f"/reports/{op_id}").get_data(as_text=True))
    assert empty.tables["report-differences"][1:] == [["Tidak ada."]]
    assert client.post(f"/batches/{world['batch']}", data={
        "day": today(), f"outcome-{world['budi']}": "collected"}).status_code == 302
    html = client.get(f"/reports/{op_id}").get_data(as_text=True)
    assert "C. Selisih pengambilan KTP-el dengan tanda Disdukcapil (2)" in html
    rows = tables(html).tables["report-differences"][1:]
    assert [r[1:] for r in rows] == [
        ["BA/631104/2026/001", "Ani Siap", "Batumandi",
         "Ditandai siap oleh Disdukcapil, tetapi tidak diambil"],
        ["BA/631104/2026/001", "Budi Belum", "Batumandi",
         "Diambil, padahal tidak ditandai siap oleh Disdukcapil"]]
    assert "<td>" + world["budi"] not in html  # names only, as the report's other lists
    book = load_workbook(io.BytesIO(client.get(f"/reports/{op_id}.xlsx").data))
    assert [list(r[1:]) for r in book["Selisih Pengambilan"].iter_rows(min_row=2, values_only=True)
            ] == [r[1:] for r in rows]


# ---------------------------------------------------------------- timeline

def test_timeline_shows_the_disdukcapil_events(client, auth, world):
    auth.login("camat")
    ani = client.get(f"/residents/{world['ani']}").get_data(as_text=True)
    for text in ("Berkas diterima Disdukcapil", "KTP siap diambil (ditandai Disdukcapil)",
                 "oleh Dewi Disdukcapil", "(Disdukcapil)", "diterima 21/11/2026 10.15",
                 'id="card-ready">KTP siap diambil sejak'):
        assert text in ani, text
    budi = client.get(f"/residents/{world['budi']}").get_data(as_text=True)
    assert "Alasan: Blanko habis (ditandai Disdukcapil)" in budi
    assert "(ditandai Disdukcapil)</p>" in budi  # the card issue in the Disdukcapil block
    cici = client.get(f"/residents/{world['cici']}").get_data(as_text=True)
    assert "Tidak ada dalam berkas yang diterima Disdukcapil (perlu diserahkan ulang)" in cici
    assert "kembali ke Sudah Rekam" in cici


def test_banner_costs_one_query_per_page(app, client, auth, world):
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    auth.login("operator")
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        html = client.get("/audit").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert banner(html).startswith("KTP siap diambil: 1 ")
    assert len([s for s in statements if "card_ready_at IS NOT NULL" in s]) == 1
