"""Storage bounds of photo uploads (issue #8 §5, follow-up): complete photos that no record of
the uploader's kecamatan refers to are bounded per user; an upload already started can always
go on; and the bounds hold under parallel requests. Real SQLite and PostgreSQL."""
import os
import struct
import threading
import uuid
import zlib

import pytest
from sqlalchemy import func, select, update

from attachment_kit import _assert_error, _chunk_put, _head, _put, sha
from office_kit import Phone
from server.attachments import (
    DEFAULT_PARTIAL_QUOTA_BYTES,
    DEFAULT_UNREFERENCED_QUOTA_BYTES,
    Attachment,
    AttachmentUpload,
)
from server.extensions import db
from server.models import User
from sync.models import Conflict, Resident

MiB = 1024 * 1024


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def padded_png(size):
    """A valid 1x1 PNG of exactly `size` bytes: the padding is a private ancillary chunk of
    random bytes, which the metadata stripper keeps (so the stored copy is as large)."""
    head = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    tail = _chunk(b"IDAT", zlib.compress(b"\x00\x0b\x5d\x3b")) + _chunk(b"IEND", b"")
    pad = size - len(head) - len(tail) - 12
    return head + _chunk(b"prVt", os.urandom(pad)) + tail


def _stored_bytes(app, username="petugas"):
    with app.app_context():
        uid = db.session.execute(select(User.id).where(User.username == username)).scalar_one()
        return db.session.execute(select(func.coalesce(func.sum(Attachment.stored_size), 0))
                                  .where(Attachment.user_id == uid)).scalar_one()


def _png_put(client, phone, data):
    return _put(client, phone, data, content_type="image/png")


# ---------------------------------------------------------------- complete photos

def test_the_issues_fifteen_complete_photos_are_bounded(client, app, device, phone):
    # The review's example: 15 different valid ~3 MiB PNGs from one token, all 201, 45 MiB.
    photos = [padded_png(3 * MiB - 1024) for _ in range(15)]
    answers = [_png_put(client, phone, p).status_code for p in photos]
    fits = DEFAULT_UNREFERENCED_QUOTA_BYTES // (3 * MiB - 1024)
    assert fits == 8
    assert answers == [201] * fits + [429] * (15 - fits)
    assert _stored_bytes(app) <= DEFAULT_UNREFERENCED_QUOTA_BYTES
    body = _assert_error(_png_put(client, phone, photos[-1]), 429, "upload_quota_exceeded")
    assert "belum dipakai" in body["message"]
    # the bound is per user: a colleague still uploads
    colleague = device.login("petugas2")
    assert _png_put(client, colleague, padded_png(MiB)).status_code == 201


def test_a_refused_last_chunk_keeps_the_upload_resumable(client, app, phone):
    app.config["ATTACHMENT_UNREFERENCED_QUOTA_BYTES"] = 3 * MiB
    assert _png_put(client, phone, padded_png(3 * MiB - 100)).status_code == 201
    data = padded_png(200_000)
    assert _chunk_put(client, phone, data, 0, 100_000, content_type="image/png").status_code == 202
    last = _chunk_put(client, phone, data, 100_000, len(data), content_type="image/png")
    _assert_error(last, 429, "upload_quota_exceeded")
    # the phone asks again at its next sync and only needs to resend the last chunk
    assert _head(client, phone, sha(data)).headers["Upload-Offset"] == "100000"


def _verify_with_photo(device, username, digest, desa):
    phone = Phone(device, username)
    rid = phone.register(name=f"Warga Foto {uuid.uuid4().hex[:6]}", desa=desa, nik=None)
    phone.verify(rid, kk_photo=digest)
    return phone, rid


def test_a_photo_a_resident_refers_to_is_accepted_beyond_the_bound(client, app, device, phone):
    app.config["ATTACHMENT_UNREFERENCED_QUOTA_BYTES"] = 3 * MiB
    first, second = padded_png(3 * MiB - 100), padded_png(100_000)
    assert _png_put(client, phone, first).status_code == 201
    _assert_error(_png_put(client, phone, second), 429, "upload_quota_exceeded")
    # The phone sends the verification first, the photo after: then it is normal data.
    _verify_with_photo(device, "petugas", sha(second), "6311042005")
    assert _png_put(client, phone, second).status_code == 201
    third = padded_png(100_000)
    _assert_error(_png_put(client, phone, third), 429, "upload_quota_exceeded")
    # Once the first photo is referenced too, it no longer counts: room again.
    _verify_with_photo(device, "petugas", sha(first), "6311042001")
    assert _png_put(client, phone, third).status_code == 201
    with app.app_context():  # what was found is remembered, so the next upload need not look
        marked = dict(db.session.execute(select(Attachment.sha256, Attachment.referenced_at)
                                         ).all())
    assert marked[sha(first)] and marked[sha(second)] and marked[sha(third)] is None


def test_a_reference_from_another_kecamatan_frees_nothing(client, app, device, phone):
    app.config["ATTACHMENT_UNREFERENCED_QUOTA_BYTES"] = 3 * MiB
    assert _png_put(client, phone, padded_png(3 * MiB - 100)).status_code == 201
    photo = padded_png(100_000)
    _verify_with_photo(device, "petugas_juai", sha(photo), "6311012001")  # Juai refers to it
    _assert_error(_png_put(client, phone, photo), 429, "upload_quota_exceeded")


def test_an_older_verifications_photo_in_the_history_counts_as_referenced(client, app, device,
                                                                         phone):
    # A second verification is kept only as an event (the case keeps the first one's photo).
    app.config["ATTACHMENT_UNREFERENCED_QUOTA_BYTES"] = 3 * MiB
    assert _png_put(client, phone, padded_png(3 * MiB - 100)).status_code == 201
    photo = padded_png(100_000)
    _assert_error(_png_put(client, phone, photo), 429, "upload_quota_exceeded")
    earlier = sha(b"the first verification's photo")
    other, rid = _verify_with_photo(device, "petugas", earlier, "6311042005")
    other.verify(rid, kk_photo=sha(photo), notes="KK diperiksa lagi")
    with app.app_context():
        resident = db.session.get(Resident, rid)
        assert resident.kk_photo == resident.verification["kk_photo"] == earlier
    assert _png_put(client, phone, photo).status_code == 201


@pytest.mark.parametrize("where", ["delivery", "double_delivery"])
def test_a_delivery_photo_counts_as_referenced(client, app, device, phone, where):
    app.config["ATTACHMENT_UNREFERENCED_QUOTA_BYTES"] = 3 * MiB
    assert _png_put(client, phone, padded_png(3 * MiB - 100)).status_code == 201
    photo = padded_png(100_000)
    _assert_error(_png_put(client, phone, photo), 429, "upload_quota_exceeded")
    _, rid = _verify_with_photo(device, "petugas", None, "6311042005")
    # Delivery needs the whole pipeline (batch, collection); the stored shapes are what
    # sync/handlers_delivery.py writes.
    delivery = {"delivery_id": str(uuid.uuid4()), "photo": sha(photo), "recipient": "owner"}
    with app.app_context():
        if where == "delivery":
            db.session.execute(update(Resident).where(Resident.resident_id == rid)
                               .values(delivery=delivery))
        else:
            db.session.add(Conflict(kind="double_delivery", resident_id=rid,
                                    kecamatan_code="631104",
                                    details={"first": {**delivery, "photo": None},
                                             "second": delivery}))
        db.session.commit()
    assert _png_put(client, phone, photo).status_code == 201


def _parallel(app, calls):
    """Run the calls at once (one test client each); their answers' status codes."""
    barrier = threading.Barrier(len(calls))
    statuses = [None] * len(calls)

    def run(i):
        c = app.test_client()
        barrier.wait()
        statuses[i] = calls[i](c).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_parallel_complete_photos_cannot_all_pass_the_bound(app, phone):
    app.config["ATTACHMENT_UNREFERENCED_QUOTA_BYTES"] = 3 * MiB
    photos = [padded_png(MiB - 100) for _ in range(8)]
    statuses = _parallel(app, [lambda c, p=p: _png_put(c, phone, p) for p in photos])
    assert sorted(statuses) == [201] * 3 + [429] * 5
    assert _stored_bytes(app) <= 3 * MiB


# ---------------------------------------------------------------- unfinished uploads

def _partial_bytes(app):
    with app.app_context():
        return db.session.execute(
            select(func.coalesce(func.sum(AttachmentUpload.length), 0))).scalar_one()


def test_an_upload_already_started_is_never_stalled_by_the_quota(client, app, phone):
    # The review's example: once the partials sum to within one chunk of the quota, no upload
    # could advance until the 14-day purge.
    app.config["ATTACHMENT_PARTIAL_QUOTA_BYTES"] = 4 * MiB
    a, b = padded_png(3 * MiB), padded_png(3 * MiB)
    chunk = 64 * 1024
    assert _chunk_put(client, phone, a, 0, 2 * MiB, content_type="image/png").status_code == 202
    started_b = _chunk_put(client, phone, b, 0, 2 * MiB - chunk // 2, content_type="image/png")
    for start in range(2 * MiB, len(a), chunk):
        end = min(start + chunk, len(a))
        res = _chunk_put(client, phone, a, start, end, content_type="image/png")
        assert res.status_code == (201 if end == len(a) else 202), (start, res.get_json())
    # Only starting a new upload is refused beyond the quota, and it starts once there is room.
    _assert_error(started_b, 429, "upload_quota_exceeded")
    assert _chunk_put(client, phone, b, 0, 2 * MiB, content_type="image/png").status_code == 202


def test_tiny_first_chunks_cannot_reserve_more_than_the_quota(client, app, phone):
    # A started upload may always go on, so starting one reserves its declared total.
    photos = [padded_png(3 * MiB) for _ in range(6)]
    answers = [_chunk_put(client, phone, p, 0, 8, content_type="image/png").status_code
               for p in photos]
    fits = DEFAULT_PARTIAL_QUOTA_BYTES // (3 * MiB)
    assert answers == [202] * fits + [429] * (6 - fits)
    for p in photos[:fits]:  # each accepted one grows to its full size
        assert _chunk_put(client, phone, p, 8, len(p) - 1,
                          content_type="image/png").status_code == 202
    assert _partial_bytes(app) <= DEFAULT_PARTIAL_QUOTA_BYTES


def test_parallel_new_uploads_cannot_all_pass_the_quota(app, phone):
    photos = [padded_png(3 * MiB) for _ in range(10)]
    statuses = _parallel(app, [
        lambda c, p=p: _chunk_put(c, phone, p, 0, len(p) - 1, content_type="image/png")
        for p in photos])
    fits = DEFAULT_PARTIAL_QUOTA_BYTES // (3 * MiB)
    assert sorted(statuses) == [202] * fits + [429] * (10 - fits)
    assert _partial_bytes(app) <= DEFAULT_PARTIAL_QUOTA_BYTES
