"""Office view: a resident's pipeline evidence (checks, photos, pickup, recording, batch, card
issue, delivery with signature SVG, GPS and proof hash), the labelled timeline, and the
camat's reopen of a rejected case."""
import hashlib
import re

import pytest
from sqlalchemy import select

from attachment_kit import CLEAN_PNG, EXIF_JPEG
from office_kit import Phone, audits, count, make_batch
from server.extensions import db
from sync.models import Resident, ResidentEvent


def _upload(client, phone, data, mime):
    res = client.put(f"/api/attachments/{hashlib.sha256(data).hexdigest()}", data=data,
                     headers={"Authorization": f"Bearer {phone.session['token']}",
                              "Content-Type": mime})
    assert res.status_code == 201, res.get_json()
    return hashlib.sha256(data).hexdigest()


def _stage(app, rid):
    with app.app_context():
        return db.session.get(Resident, rid).stage


def delivered_case(client, auth, device, *, upload=True):
    """A resident taken through every step; returns (phone, rid, kk sha, delivery photo sha)."""
    phone = Phone(device, label="HP Samsung A")
    kk_sha = hashlib.sha256(EXIF_JPEG).hexdigest()
    photo_sha = hashlib.sha256(CLEAN_PNG).hexdigest()
    rid = phone.register(name="Nur Lengkap", nik="6311045403080001", birth_date="2008-03-14")
    phone.verify(rid, kk_photo=kk_sha, notes="KK asli dilihat")
    phone.pick_up(rid)
    phone.record(rid)
    if upload:
        _upload(client, phone, EXIF_JPEG, "image/jpeg")
        _upload(client, phone, CLEAN_PNG, "image/png")
    auth.login("operator")
    batch_id = make_batch(client, [rid], number="BA/UJI/7")
    assert client.post(f"/batches/{batch_id}", data={
        "day": "2026-11-27", f"outcome-{rid}": "not_printed", f"reason-{rid}": "blanko_habis",
        f"reason_text-{rid}": "Tunggu minggu depan"}).status_code == 302
    assert client.post(f"/batches/{batch_id}", data={
        "day": "2026-11-28", "hour": "08:00", f"outcome-{rid}": "collected"}).status_code == 302
    auth.logout()
    phone.deliver(rid, recipient="proxy", proxy_name="Ibu Nur", proxy_relation="Ibu kandung",
                  photo=photo_sha, gps={"lat": -2.345678, "lon": 115.432101, "accuracy_m": 8.4})
    return phone, rid, kk_sha, photo_sha


def test_detail_shows_the_whole_pipeline(client, auth, app, device):
    _phone, rid, kk_sha, photo_sha = delivered_case(client, auth, device)
    auth.login("camat")
    res = client.get(f"/residents/{rid}")
    assert res.status_code == 200
    page = res.get_data(as_text=True)
    # verification: checks with labels, notes, the KK photo
    assert "Fotokopi KK sudah diperiksa" in page and "KK asli dilihat" in page
    assert f'src="/attachments/{kk_sha}"' in page
    # pickup and recording
    assert "Balai Desa" in page and "Ambulans desa" in page
    assert "Sudah rekam, 28/11/2026 11.00 WITA" in page
    # batch and the (cleared) card issue
    assert "BA/UJI/7" in page and "KTP sudah diambil" in page
    assert "KTP belum dicetak:" not in page
    # delivery: proxy, time in WITA, plain GPS text without a map link, photo, signature
    assert "Diwakilkan kepada Ibu Nur (Ibu kandung)" in page
    assert "28/11/2026 13.30 WITA" in page
    assert "-2.34568, 115.43210 (akurasi ± 8 m)" in page
    assert not re.search(r"maps\.|openstreetmap|geo:", page)
    assert f'src="/attachments/{photo_sha}"' in page
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S).group(0)
    assert svg.count("<path") == 2 and "<script" not in svg and 'aria-label="Tanda tangan' in svg
    with app.app_context():
        delivery = db.session.get(Resident, rid).delivery
    assert delivery["proof_hash"] in page
    assert delivery["signature_data"] not in page  # the raw strokes are not echoed
    # timeline with the event-kind labels of sync.stages
    for label in ("Didaftarkan", "Diverifikasi", "Dijemput", "Sudah direkam",
                  "Diserahkan ke Disdukcapil", "KTP belum dicetak", "Blanko habis",
                  "KTP diambil", "KTP diserahkan", "(tampilan kantor)"):
        assert label in page, label
    assert audits(app, "view_resident") == 1
    # the photos themselves are served to the same kecamatan
    assert client.get(f"/attachments/{kk_sha}").status_code == 200


def test_photo_not_uploaded_yet_is_said_so(client, auth, app, device):
    _phone, rid, _kk, _photo = delivered_case(client, auth, device, upload=False)
    auth.login("operator")
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert "Foto KK belum terunggah dari HP" in page
    assert "Foto penyerahan belum terunggah dari HP" in page
    assert "<img" not in page


def test_card_issue_is_shown(client, auth, app, device):
    phone = Phone(device)
    rid = phone.recorded(1, names=["Tono Tunggu"])[0]
    auth.login("operator")
    batch_id = make_batch(client, [rid])
    client.post(f"/batches/{batch_id}", data={
        "day": "2026-11-27", f"outcome-{rid}": "not_printed", f"reason-{rid}": "other",
        f"reason_text-{rid}": "Foto wajah buram"})
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert "KTP belum dicetak:" in page and "Lainnya" in page and "Foto wajah buram" in page
    assert "Belum diserahkan." in page


def test_detail_of_another_kecamatan_is_404(client, auth, device):
    _phone, rid, kk_sha, _ = delivered_case(client, auth, device)
    auth.login("camat_juai")
    assert client.get(f"/residents/{rid}").status_code == 404
    assert client.get(f"/attachments/{kk_sha}").status_code == 404


# ---------------------------------------------------------------- reopen

def rejected_case(device):
    phone = Phone(device)
    rid = phone.register(name="Rudi Ditolak")
    phone.reject(rid, reason="moved_away")
    return phone, rid


def test_rejection_shown_and_camat_reopens(client, auth, app, device):
    phone, rid = rejected_case(device)
    auth.login("camat")
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert "Pindah domisili" in page and "Buka kembali kasus ini" in page
    assert 'for="reopen-note"' in page
    res = client.post(f"/residents/{rid}/reopen", data={"note": "Ternyata masih tinggal di desa"})
    assert res.status_code == 302
    assert _stage(app, rid) == "found"
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert "Kasus dibuka kembali" in page
    assert "Dibuka kembali" in page and "Ternyata masih tinggal di desa" in page
    assert "Buka kembali kasus ini" not in page
    with app.app_context():
        event = db.session.execute(select(ResidentEvent).where(
            ResidentEvent.resident_id == rid).order_by(ResidentEvent.id.desc())).scalars().first()
        assert (event.kind, event.client_id) == ("reopened", "office")
    assert audits(app, "reopen_case") == 1
    # the phone gets the case back at its next sync
    res = phone.device.sync(phone.session, cursor=None)
    pulled = {r["resident_id"]: r for r in res.get_json()["changes"]["residents"]}
    assert pulled[rid]["stage"] == "found"


@pytest.mark.parametrize("username, status", [
    ("operator", 403), ("camat_juai", 404), (None, 302)])
def test_only_the_camat_of_the_kecamatan_reopens(client, auth, app, device, username, status):
    _phone, rid = rejected_case(device)
    if username:
        auth.login(username)
        if username == "operator":
            page = client.get(f"/residents/{rid}").get_data(as_text=True)
            assert "Buka kembali kasus ini" not in page and "Hanya camat" in page
    res = client.post(f"/residents/{rid}/reopen", data={"note": ""})
    assert res.status_code == status
    assert _stage(app, rid) == "rejected"


def test_reopen_bad_input_changes_nothing(client, auth, app, device):
    _phone, rid = rejected_case(device)
    auth.login("camat")
    events = count(app, ResidentEvent)
    res = client.post(f"/residents/{rid}/reopen", data={"note": "x" * 1001})
    assert res.status_code == 400 and "paling banyak 1000 karakter" in res.get_data(as_text=True)
    assert _stage(app, rid) == "rejected" and count(app, ResidentEvent) == events
    # a case that is not rejected cannot be reopened
    other = Phone(device, "petugas2").register(name="Tidak Ditolak")
    res = client.post(f"/residents/{other}/reopen", data={})
    assert res.status_code == 409 and "Ditolak" in res.get_data(as_text=True)
    assert _stage(app, other) == "found"
    assert client.post("/residents/00000000-0000-0000-0000-000000000000/reopen",
                       data={}).status_code == 404
