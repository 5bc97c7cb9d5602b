"""Photo uploads across users and kecamatans (issue #8): another kecamatan's photo or another
user's partial upload answers exactly as if absent and cannot be discarded; a resident's photo
reference never resolves to another kecamatan's photo; the office photo is never cached; and
unfinished uploads are bounded by a per-user quota and a retention period."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from attachment_kit import (
    CLEAN_JPEG,
    CLEAN_PNG,
    EXIF_JPEG,
    _assert_error,
    _chunk_put,
    _head,
    _partial_rows,
    _put,
    _stored,
    sha,
)
from office_kit import Phone
from server.attachments import (
    DEFAULT_PARTIAL_QUOTA_BYTES,
    Attachment,
    AttachmentUpload,
    purge_unfinished_uploads,
)
from server.extensions import db
from server.models import User
from sync.models import utcnow

# ---------------------------------------------------------------- tenant isolation (issue #8)

def _as_seen(res):
    """What a client can observe of an answer: status, headers, body."""
    return res.status_code, sorted(res.headers.items()), res.get_data()


def test_head_of_another_kecamatans_photo_or_partial_answers_as_absent(client, app, device,
                                                                       phone):
    juai = device.login("petugas_juai")
    assert _put(client, phone, CLEAN_JPEG).status_code == 201          # Batumandi, complete
    assert _chunk_put(client, phone, EXIF_JPEG, 0, 100).status_code == 202   # Batumandi, partial
    assert _put(client, juai, CLEAN_PNG[:20], digest=sha(CLEAN_PNG), content_type="image/png",
                content_range=f"bytes 0-19/{len(CLEAN_PNG)}").status_code == 202  # Juai, partial
    nobody = sha(b"a hash nobody has")
    assert _head(client, juai, sha(CLEAN_JPEG)).status_code == 404
    assert _as_seen(_head(client, juai, sha(CLEAN_JPEG))) == _as_seen(_head(client, juai, nobody))
    assert _as_seen(_head(client, juai, sha(EXIF_JPEG))) == _as_seen(_head(client, juai, nobody))
    assert _as_seen(_head(client, phone, sha(CLEAN_PNG))) == _as_seen(_head(client, phone, nobody))
    # each still sees its own
    assert _head(client, phone, sha(CLEAN_JPEG)).headers["Upload-Complete"] == "1"
    assert _head(client, phone, sha(EXIF_JPEG)).headers["Upload-Offset"] == "100"
    assert _head(client, juai, sha(CLEAN_PNG)).headers["Upload-Offset"] == "20"


def test_put_of_another_kecamatans_hash_learns_nothing_and_keeps_its_own_copy(client, app,
                                                                              device, phone):
    juai = device.login("petugas_juai")
    assert _put(client, phone, EXIF_JPEG).status_code == 201
    assert _chunk_put(client, phone, CLEAN_PNG, 0, 30, content_type="image/png").status_code == 202
    # The same bytes from Juai are a new upload there (201, not "already complete" 200) ...
    res = _put(client, juai, EXIF_JPEG)
    assert res.status_code == 201, res.get_json()
    with app.app_context():
        kept = db.session.execute(select(Attachment.kecamatan_code).where(
            Attachment.sha256 == sha(EXIF_JPEG)).order_by(Attachment.kecamatan_code)).scalars()
        assert list(kept) == ["631101", "631104"]
    # ... and a chunk past 0 of a hash Batumandi holds partly is told to start at 0, exactly as
    # for a hash nobody has.
    late = _chunk_put(client, juai, CLEAN_PNG, 30, 60, content_type="image/png")
    other = sha(b"nobody")
    fresh = _put(client, juai, CLEAN_PNG[30:60], digest=other, content_type="image/png",
                 content_range=f"bytes 30-59/{len(CLEAN_PNG)}")
    assert late.status_code == fresh.status_code == 409
    assert late.headers["Upload-Offset"] == fresh.headers["Upload-Offset"] == "0"
    assert _head(client, phone, sha(CLEAN_PNG)).headers["Upload-Offset"] == "30"


@pytest.mark.parametrize("intruder", ["petugas2", "petugas_juai"])
def test_another_users_put_cannot_discard_a_partial_upload(client, app, device, phone, intruder):
    other = device.login(intruder)
    data, digest = EXIF_JPEG, sha(EXIF_JPEG)
    assert _chunk_put(client, phone, data, 0, 100).status_code == 202
    # a whole-file PUT of other bytes under this hash (422), a chunk with another total, and a
    # whole-file PUT of the right bytes: none of them touches the first user's partial
    _assert_error(_put(client, other, CLEAN_JPEG, digest=digest), 422, "hash_mismatch")
    res = _put(client, other, data[:50], digest=digest, content_range=f"bytes 0-49/{len(data) + 7}")
    assert res.status_code == 202
    assert _head(client, phone, digest).headers["Upload-Offset"] == "100"
    assert _chunk_put(client, phone, data, 100, len(data)).status_code == 201
    assert _stored(app, digest)[2] == CLEAN_JPEG


def test_two_users_uploading_the_same_bytes_both_finish(client, app, device, phone):
    second = device.login("petugas2")
    data, digest = EXIF_JPEG, sha(EXIF_JPEG)
    assert _chunk_put(client, phone, data, 0, 100).status_code == 202
    assert _chunk_put(client, second, data, 0, 200).status_code == 202
    assert _head(client, phone, digest).headers["Upload-Offset"] == "100"
    assert _head(client, second, digest).headers["Upload-Offset"] == "200"
    assert _chunk_put(client, second, data, 200, len(data)).status_code == 201
    # the first phone resumes: the kecamatan holds the photo now, its own partial goes
    assert _head(client, phone, digest).headers["Upload-Complete"] == "1"
    res = _chunk_put(client, phone, data, 100, 300)
    assert res.status_code == 200 and res.get_json()["complete"] is True
    assert _partial_rows(app) == 0


def test_a_photo_reference_never_resolves_to_another_kecamatans_photo(client, app, auth, device,
                                                                     phone):
    assert _put(client, phone, EXIF_JPEG).status_code == 201  # only Batumandi holds it
    juai = Phone(device, "petugas_juai")
    rid = juai.register(name="Warga Juai Foto", desa="6311012001")
    juai.verify(rid, kk_photo=sha(EXIF_JPEG))
    auth.login("camat_juai")
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert f"/attachments/{sha(EXIF_JPEG)}" not in page
    assert "belum" in page.lower()  # said to be not uploaded yet
    assert client.get(f"/attachments/{sha(EXIF_JPEG)}").status_code == 404


def test_office_photo_is_never_cached(client, app, auth, phone):
    assert _put(client, phone, CLEAN_JPEG).status_code == 201
    auth.login("operator")
    res = client.get(f"/attachments/{sha(CLEAN_JPEG)}")
    assert res.status_code == 200 and res.headers["Cache-Control"] == "no-store"


# ---------------------------------------------------------------- storage bounds (issue #8)

MiB = 1024 * 1024


def _never_finished(client, phone, number, size=3 * MiB):
    """A first chunk of everything but the last byte of a `size`-byte JPEG, never finished."""
    data = b"\xff\xd8\xff" + number.to_bytes(4, "big") + b"\x00" * (size - 7)
    return _put(client, phone, data[:-1], digest=sha(data),
                content_range=f"bytes 0-{size - 2}/{size}")


def _partial_bytes(app, username=None):
    with app.app_context():
        query = select(func.coalesce(func.sum(AttachmentUpload.length), 0))
        if username:
            user_id = db.session.execute(select(User.id).where(User.username == username)
                                         ).scalar_one()
            query = query.where(AttachmentUpload.user_id == user_id)
        return db.session.execute(query).scalar_one()


def test_unfinished_uploads_are_bounded_by_a_per_user_quota(client, app, device, phone):
    # The example: 15 never-finished 3 MiB uploads added 45 MiB in 1.7 s.
    answers = [_never_finished(client, phone, n).status_code for n in range(15)]
    fits = DEFAULT_PARTIAL_QUOTA_BYTES // (3 * MiB - 1)
    assert answers == [202] * fits + [429] * (15 - fits)
    assert _partial_bytes(app) <= DEFAULT_PARTIAL_QUOTA_BYTES
    body = _assert_error(_never_finished(client, phone, 99), 429, "upload_quota_exceeded")
    assert "belum selesai" in body["message"]
    # the quota is per user: a colleague still uploads, and a complete upload needs no quota
    colleague = device.login("petugas2")
    assert _never_finished(client, colleague, 1).status_code == 202
    assert _put(client, phone, CLEAN_JPEG).status_code == 201


def test_partial_quota_is_configurable_and_counts_the_upload_in_progress(client, app, phone):
    app.config["ATTACHMENT_PARTIAL_QUOTA_BYTES"] = 5 * MiB
    assert _never_finished(client, phone, 1).status_code == 202
    assert _never_finished(client, phone, 2).status_code == 429
    assert _partial_bytes(app) == 3 * MiB - 1  # the refused chunk was not kept


def test_quota_never_blocks_a_single_photo_of_the_allowed_size(client, app, phone):
    app.config["ATTACHMENT_PARTIAL_QUOTA_BYTES"] = 10  # misconfigured below one photo
    assert _chunk_put(client, phone, EXIF_JPEG, 0, 100).status_code == 202
    assert _chunk_put(client, phone, EXIF_JPEG, 100, len(EXIF_JPEG)).status_code == 201


def test_purge_unfinished_uploads_keeps_the_retention_period(client, app, device, phone):
    second = device.login("petugas2")
    assert _chunk_put(client, phone, EXIF_JPEG, 0, 100).status_code == 202
    assert _chunk_put(client, phone, EXIF_JPEG, 100, 200).status_code == 202
    assert _chunk_put(client, second, EXIF_JPEG, 0, 50).status_code == 202
    assert _chunk_put(client, phone, CLEAN_PNG, 0, 40, content_type="image/png").status_code == 202
    app.config["ATTACHMENT_PARTIAL_RETENTION_DAYS"] = 3
    now = utcnow()
    with app.app_context():
        assert purge_unfinished_uploads(now) == 0  # nothing is older than three days yet
        db.session.rollback()
    with app.app_context():
        first_id = db.session.execute(select(User.id).where(User.username == "petugas")
                                      ).scalar_one()
        # the first user's EXIF upload was last touched four days ago, its PNG just now
        for row in db.session.execute(select(AttachmentUpload)).scalars():
            if row.user_id == first_id and row.sha256 == sha(EXIF_JPEG):
                row.created_at = now - timedelta(days=4)
        db.session.commit()
        assert purge_unfinished_uploads(now) == 2  # both chunks of that upload, nothing else
        db.session.commit()
    assert _head(client, phone, sha(EXIF_JPEG)).status_code == 404
    assert _head(client, second, sha(EXIF_JPEG)).headers["Upload-Offset"] == "50"
    assert _head(client, phone, sha(CLEAN_PNG)).headers["Upload-Offset"] == "40"


def test_purge_does_not_commit(client, app, phone):
    assert _chunk_put(client, phone, EXIF_JPEG, 0, 100).status_code == 202
    with app.app_context():
        assert purge_unfinished_uploads(utcnow() + timedelta(days=400)) == 1
        db.session.rollback()  # the caller decides
    assert _partial_rows(app) == 1
