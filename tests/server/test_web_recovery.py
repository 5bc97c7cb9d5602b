"""The office's "Pulihkan data HP" (issue #11 §6): a phone's unsent-data file uploaded in the office is
applied exactly once (photos included), only for a phone of the office's kecamatan, and a bad
file changes nothing."""
import base64
import hashlib
import io
import json
import re

import pytest
from sqlalchemy import func, select

from attachment_kit import CLEAN_JPEG
from cah_testkit import forge_office_session, registration
from server.attachments import Attachment
from server.extensions import db
from server.models import AuditEntry, User
from sync.models import Client, Resident, ResidentEvent

SHA = hashlib.sha256(CLEAN_JPEG).hexdigest()


def verify(mutation_id, rid, kk_photo=SHA):
    return {"id": mutation_id, "name": "verify_resident", "at": "2026-11-28T09:20:00+08:00",
            "args": {"resident_id": rid, "checks": {"kk_copy_seen": False, "age_eligible": True,
                                                     "marital_eligible": True},
                     "kk_photo": kk_photo, "notes": None}}


def unsent(session, mutations, photos=(CLEAN_JPEG,), **extra):
    """The file the phone's "Unduh data yang belum terkirim" makes (format version 2)."""
    body = {"format": "cah-belum-terkirim", "format_version": 2,
            "exported_at": "2026-11-28T10:00:00+08:00", "app_version": "test",
            "client_id": session["client_id"], "user": "petugas", "kecamatan": None,
            "outbox": [{**m, "resident_id": m["args"].get("resident_id"), "resident_ids": []}
                       for m in mutations],
            "perlu_perbaikan": [],
            "foto_belum_terkirim": [
                {"sha256": hashlib.sha256(p).hexdigest(), "mime": "image/jpeg", "size": len(p),
                 "kind": "kk", "ready": False, "data": base64.b64encode(p).decode()}
                for p in photos]}
    body.update(extra)
    return json.dumps(body).encode()


def upload(client, raw, name="cah-belum-terkirim.json", **form):
    return client.post("/pemulihan", data={"file": (io.BytesIO(raw), name), **form},
                       content_type="multipart/form-data")


def result_page(client, res):
    """The result page a successful upload redirects to (303)."""
    assert res.status_code == 303, res.get_data(as_text=True)
    assert res.headers["Location"].endswith("/pemulihan/hasil")
    return client.get(res.headers["Location"]).get_data(as_text=True)


def counts(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Resident, ResidentEvent, Attachment))


def client_row(app, client_id):
    with app.app_context():
        return db.session.get(Client, client_id)


def offline_work():
    first = registration(1, name="Warga Pulih")
    return first["args"]["resident_id"], [first, verify(2, first["args"]["resident_id"])]


def test_upload_applies_once_with_photo(app, client, auth, device):
    phone = device.login()
    rid, mutations = offline_work()
    auth.login("operator")
    res = upload(client, unsent(phone, mutations))
    page = result_page(client, res)
    assert "2 perubahan diterapkan" in page and "Pendaftaran warga" in page
    with app.app_context():
        resident = db.session.get(Resident, rid)
        assert resident.stage == "verified" and resident.kk_photo == SHA
        photo = db.session.scalars(select(Attachment)).one()
        petugas = db.session.scalar(select(User.id).where(User.username == "petugas"))
        assert (photo.sha256, photo.kecamatan_code, photo.user_id) == (SHA, "631104", petugas)
        events = db.session.scalars(select(ResidentEvent).where(ResidentEvent.resident_id == rid))
        assert {(e.client_id, e.mutation_id) for e in events} == {
            (phone["client_id"], 1), (phone["client_id"], 2)}
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "recover_phone_data")).one()
        assert entry.details["applied"] == 2 and entry.target == f"client:{phone['client_id']}"
    row = client_row(app, phone["client_id"])
    assert row.last_mutation_id == 2
    assert row.app_version is None and row.last_sync_at is None  # the phone's, untouched
    before = counts(app)

    # The same file again: every change is a duplicate, nothing doubles.
    again = result_page(client, upload(client, unsent(phone, mutations)))
    assert "0 perubahan diterapkan, 2 sudah pernah diterima" in again
    assert counts(app) == before

    # The phone itself syncs later (e.g. it was found): its outbox answers duplicate.
    res = device.sync(phone, mutations)
    assert [r["status"] for r in res.get_json()["results"]] == ["duplicate", "duplicate"]
    assert counts(app) == before


def test_rejected_change_is_reported_in_indonesian(app, client, auth, device):
    phone = device.login()
    bad = registration(1, desa="6311042002")  # a desa petugas is not assigned to
    auth.login()
    page = result_page(client, upload(client, unsent(phone, [bad], photos=())))
    assert "0 perubahan diterapkan, 0 sudah pernah diterima, 1 ditolak" in page
    assert "Desa ini tidak ditugaskan kepada Anda" in page
    assert client_row(app, phone["client_id"]).last_mutation_id == 1


def test_other_kecamatan_is_refused(app, client, auth, device):
    phone = device.login()
    _rid, mutations = offline_work()
    auth.login("camat_juai")
    res = upload(client, unsent(phone, mutations))
    assert res.status_code == 403
    assert "kecamatan lain" in res.get_data(as_text=True)
    assert counts(app) == (0, 0, 0)
    assert client_row(app, phone["client_id"]).last_mutation_id == 0


def _not_unsent(phone):
    return json.dumps({"nama": "bukan berkas HP"}).encode()


def _bad_base64(phone):
    raw = json.loads(unsent(phone, offline_work()[1]))
    raw["foto_belum_terkirim"][0]["data"] = "@@@"
    return json.dumps(raw).encode()


def _wrong_sha(phone):
    raw = json.loads(unsent(phone, offline_work()[1]))
    raw["foto_belum_terkirim"][0]["sha256"] = "0" * 64
    return json.dumps(raw).encode()


MALFORMED = {
    "not_json": (lambda phone: b"\xff\x00 bukan json", 422, "bukan JSON"),
    "not_unsent": (_not_unsent, 422, "bukan hasil"),
    "unknown_version": (lambda phone: unsent(phone, offline_work()[1], format_version=9), 422,
                        "Versi berkas 9"),
    "bad_base64": (_bad_base64, 422, "base64"),
    "wrong_sha": (_wrong_sha, 422, "tidak cocok dengan sha256"),
    "unknown_device": (lambda phone: unsent(phone, offline_work()[1],
                                            client_id="00000000-0000-4000-8000-000000000000"),
                       422, "tidak dikenal"),
    "other_officer": (lambda phone: unsent(phone, offline_work()[1], user="petugas2"), 422,
                      "tidak cocok dengan pemilik"),
    "gap": (lambda phone: unsent(phone, [{**m, "id": m["id"] + 4} for m in offline_work()[1]]),
            422, "tidak lengkap"),
    "bad_mutation": (lambda phone: unsent(phone, [{"id": 1, "name": "hapus_semua", "at": "x",
                                                   "args": {}}], photos=()), 422,
                     "tidak dapat diproses"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_bad_file_is_refused_and_changes_nothing(app, client, auth, device, case):
    phone = device.login()
    make, status, text = MALFORMED[case]
    auth.login("operator")
    res = upload(client, make(phone))
    page = res.get_data(as_text=True)
    assert res.status_code == status, page
    assert text in page and "flash-error" in page
    assert counts(app) == (0, 0, 0)
    assert client_row(app, phone["client_id"]).last_mutation_id == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "recover_phone_data")) == 0
        refused = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "recovery_rejected")).one()
        assert refused.details == {"status": status} and refused.target is None


def test_missing_file_and_size_limit(app, client, auth, device):
    phone = device.login()
    auth.login()
    # Larger than the app's MAX_CONTENT_LENGTH (2 MB): photos make such files; allowed here.
    big = unsent(phone, offline_work()[1]) + b" " * (3 * 1024 * 1024)
    # A body made by hand: the test client would spool its own to a file it never closes.
    boundary = "grenz-pemulihan"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.json"'
            f'\r\nContent-Type: application/json\r\n\r\n').encode() + big \
        + f"\r\n--{boundary}--\r\n".encode()
    res = client.post("/pemulihan", data=body,
                      content_type=f"multipart/form-data; boundary={boundary}")
    assert res.status_code == 303
    assert counts(app) == (1, 2, 1)
    res = client.post("/pemulihan", data={}, content_type="multipart/form-data")
    assert res.status_code == 400 and "Pilih berkas data HP" in res.get_data(as_text=True)
    app.config["RECOVERY_MAX_BYTES"] = 1000
    res = upload(client, unsent(phone, offline_work()[1]))
    assert res.status_code == 413
    assert counts(app) == (1, 2, 1)


@pytest.mark.parametrize("who, get_status, post_status", [
    ("anonim", 302, 302), ("petugas", 403, 403), ("operator", 200, 303), ("camat", 200, 303),
    ("camat_juai", 200, 403)])
def test_permissions(app, client, auth, device, who, get_status, post_status):
    phone = device.login()
    if who == "petugas":
        forge_office_session(app, client, "petugas")
    elif who != "anonim":
        auth.login(who)
    assert client.get("/pemulihan").status_code == get_status
    res = upload(client, unsent(phone, offline_work()[1]))
    assert res.status_code == post_status
    assert counts(app)[0] == (1 if post_status == 303 else 0)


def recoveries(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "recover_phone_data"))


def test_a_refresh_does_not_post_the_file_again(app, client, auth, device):
    phone = device.login()
    _rid, mutations = offline_work()
    auth.login("operator")
    page = client.get("/pemulihan").get_data(as_text=True)
    token = re.search(r'name="submission_id" value="([^"]+)"', page).group(1)
    res = upload(client, unsent(phone, mutations), submission_id=token)
    first = result_page(client, res)
    assert "2 perubahan diterapkan" in first
    # Reloading the result page is a GET: the same summary, nothing applied or audited again.
    again = client.get("/pemulihan/hasil").get_data(as_text=True)
    assert 'id="count-applied">2<' in again and "Petugas" in again
    # The browser re-posting the same form (Back, resubmit) is a replay of the token.
    replay = upload(client, unsent(phone, mutations), submission_id=token)
    assert replay.status_code == 303 and replay.headers["Location"].endswith("/pemulihan/hasil")
    assert recoveries(app) == 1


def test_a_long_summary_keeps_the_refused_rows(app, client, auth, device):
    phone = device.login()
    good = [registration(i, name=f"Warga Pulih {i}") for i in range(1, 30)]
    bad = registration(30, desa="6311042002")  # a desa petugas is not assigned to
    auth.login()
    page = result_page(client, upload(client, unsent(phone, [*good, bad], photos=())))
    assert "29 perubahan diterapkan, 0 sudah pernah diterima, 1 ditolak" in page
    assert "Desa ini tidak ditugaskan kepada Anda" in page
    assert "29 baris lain tidak ditampilkan" in page


def test_the_result_page_without_a_result(client, auth):
    auth.login()
    res = client.get("/pemulihan/hasil")
    assert res.status_code == 302 and res.headers["Location"].endswith("/pemulihan")


def test_an_empty_client_id_is_named(app, client, auth, device):
    phone = device.login()
    auth.login()
    res = upload(client, unsent(phone, offline_work()[1], client_id=""))
    assert res.status_code == 422
    assert "tidak memuat kode perangkat HP" in res.get_data(as_text=True)


def test_a_correction_is_named_in_the_summary(app, client, auth, device):
    phone = device.login()
    first = registration(1, name="Warga Salah Ketik")
    rid = first["args"]["resident_id"]
    fix = {"id": 2, "name": "correct_identity", "at": "2026-11-28T09:20:00+08:00",
           "args": {"resident_id": rid, "base_version": 1, "fields": {"name": "Warga Benar"}}}
    auth.login()
    page = result_page(client, upload(client, unsent(phone, [first, fix], photos=())))
    assert "2 perubahan diterapkan" in page
    assert "<td>Koreksi data identitas</td>" in page
