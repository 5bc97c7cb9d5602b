"""Photo attachments (KK copy, delivery): the resumable upload logic behind
PUT/HEAD /api/attachments/<sha256> and the lookup behind the office's
GET /attachments/<sha256> (server/web/photos.py); the tables are in attachment_models.py, the
per-user bounds in attachment_quota.py, the type check and metadata stripping in images.py.

Stored in the database (DESIGN §4, docs/interfaces-pipeline.md) so that several gunicorn
workers and a PostgreSQL backup see the same files.

Tenant isolation (issue #8): a complete photo belongs to the kecamatan it was uploaded in, and
a hash is looked up only there: another kecamatan's photo answers exactly as a hash nobody has,
and the same bytes uploaded in two kecamatans are kept twice. An unfinished upload belongs to
its uploader: one row per received chunk in ``attachment_uploads`` keyed (user, sha256, offset),
so no other user can see, resume, replace or discard it, and two requests of one user racing
for the same offset collide instead of both appending.

Storage bounds (PDP retention rule): the unfinished uploads of one user may reserve at most
ATTACHMENT_PARTIAL_QUOTA_BYTES, and the complete photos of one user that no record names at most
ATTACHMENT_UNREFERENCED_QUOTA_BYTES (429 beyond either, attachment_quota.py); an upload not
resumed for ATTACHMENT_PARTIAL_RETENTION_DAYS is deleted (purge_unfinished_uploads, also swept
whenever an upload starts).
"""
import hashlib
import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from . import attachment_quota as bounds
from .attachment_models import Attachment, AttachmentUpload  # noqa: F401  (re-exported)
from .attachment_quota import (  # noqa: F401
    DEFAULT_MAX_BYTES,
    DEFAULT_PARTIAL_QUOTA_BYTES,
    DEFAULT_UNREFERENCED_QUOTA_BYTES,
    max_bytes,
    partial_quota,
    unreferenced_quota,
)
from .extensions import db
from .images import InvalidImage, UnsupportedImage, image_type, strip_metadata

PARTIAL_UPLOAD_DAYS = 14  # ATTACHMENT_PARTIAL_RETENTION_DAYS unless configured
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


# ---------------------------------------------------------------- errors

class UploadError(Exception):
    """A client mistake in an upload: HTTP status, code, Indonesian message, extra headers."""

    def __init__(self, status, code, message, headers=None, fields=None, commit=False):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.fields = fields or {}
        self.commit = commit  # True: the caller commits what was done (discarded data)


MSG_TOO_LARGE = "Foto terlalu besar (maksimal {mb} MB). Perkecil foto lalu kirim ulang."
MSG_WRONG_TYPE = "Berkas ini bukan foto JPEG atau PNG."
MSG_TYPE_MISMATCH = "Jenis berkas tidak cocok dengan isinya (Content-Type {declared})."
MSG_INVALID_IMAGE = "Foto rusak atau tidak lengkap. Ambil ulang foto lalu kirim ulang."
MSG_HASH_MISMATCH = ("Isi foto yang diterima tidak cocok dengan kode hash-nya; data yang sudah "
                     "diterima dibuang. Kirim ulang dari awal.")
MSG_OFFSET = "Bagian foto ini tidak urut. Lanjutkan dari byte ke-{offset}."
MSG_BAD_RANGE = "Header Content-Range tidak sah (contoh: bytes 0-65535/250000)."
MSG_RANGE_LENGTH = "Panjang data tidak sama dengan rentang di Content-Range."
MSG_TOTAL_CHANGED = ("Ukuran total foto berbeda dengan unggahan sebelumnya ({before} byte). "
                     "Kirim ulang dari awal.")
MSG_FIRST_CHUNK = "Bagian pertama foto minimal 8 byte."
MSG_EMPTY = "Tidak ada data foto yang dikirim."
MSG_QUOTA = ("Terlalu banyak foto yang belum selesai diunggah dari akun ini (batas {mb} MB). "
             "Unggahan dicoba lagi saat sinkron berikutnya; foto yang tidak dilanjutkan "
             "dihapus dari server setelah {days} hari.")
MSG_UNREFERENCED = ("Terlalu banyak foto dari akun ini yang belum dipakai oleh data warga mana "
                    "pun (batas {mb} MB). Foto dikirim lagi saat sinkron berikutnya, setelah "
                    "data warga yang memakainya diterima server.")


def _megabytes(n):
    return f"{n / (1024 * 1024):g}".replace(".", ",")


def retention_days(config):
    """Days an unfinished upload is kept after its last chunk (the PDP retention rule)."""
    return int(config.get("ATTACHMENT_PARTIAL_RETENTION_DAYS") or PARTIAL_UPLOAD_DAYS)


# ---------------------------------------------------------------- upload logic

def parse_content_range(header, body_length):
    """(start, total) from 'bytes START-END/TOTAL'; the whole body when the header is absent."""
    if header is None or not header.strip():
        return 0, body_length, False
    match = re.fullmatch(r"\s*bytes\s+(\d{1,12})-(\d{1,12})/(\d{1,12})\s*", header)
    if not match:
        raise UploadError(400, "invalid_range", MSG_BAD_RANGE,
                          fields={"Content-Range": MSG_BAD_RANGE})
    start, end, total = (int(g) for g in match.groups())
    if end < start or end >= total:
        raise UploadError(400, "invalid_range", MSG_BAD_RANGE,
                          fields={"Content-Range": MSG_BAD_RANGE})
    if end - start + 1 != body_length:
        raise UploadError(400, "invalid_range", MSG_RANGE_LENGTH,
                          fields={"Content-Range": MSG_RANGE_LENGTH})
    return start, total, True


def completed(session, sha256, kecamatan_code):
    """The complete photo of this hash in this kecamatan, or None (other kecamatans' copies do
    not exist for the caller)."""
    return session.get(Attachment, (sha256, kecamatan_code))


def _own(user_id, sha256):
    return (AttachmentUpload.user_id == user_id, AttachmentUpload.sha256 == sha256)


def received_bytes(session, user_id, sha256):
    """(bytes held for this user's unfinished upload of the hash, declared total or None)."""
    row = session.execute(
        select(func.coalesce(func.sum(AttachmentUpload.length), 0),
               func.max(AttachmentUpload.total)).where(*_own(user_id, sha256))).one()
    return int(row[0]), row[1]


def upload_status(session, sha256, user):
    """For HEAD, as seen by `user`: ('complete', size) when their kecamatan holds the photo,
    ('partial', received) when they have an unfinished upload of it, else (None, 0) — also
    when another kecamatan holds it or another user is uploading it."""
    done = completed(session, sha256, user.kecamatan_code)
    if done is not None:
        return "complete", done.size
    received, total = received_bytes(session, user.id, sha256)
    if total is None:
        return None, 0
    return "partial", received


def discard_partial(session, user_id, sha256):
    """Forget the chunks of one user's unfinished upload of a hash."""
    session.execute(delete(AttachmentUpload).where(*_own(user_id, sha256)),
                    execution_options={"synchronize_session": False})


def _purge_stale(session, now, days):
    # An upload is stale when none of its chunks is younger than the cutoff: an upload that is
    # being resumed keeps all its chunks, however old the first one is.
    cutoff = now - timedelta(days=days)
    newer = aliased(AttachmentUpload)
    resumed = (select(newer.offset)
               .where(newer.user_id == AttachmentUpload.user_id,
                      newer.sha256 == AttachmentUpload.sha256, newer.created_at >= cutoff)
               .exists())
    result = session.execute(delete(AttachmentUpload).where(~resumed),
                             execution_options={"synchronize_session": False})
    return result.rowcount


def purge_unfinished_uploads(now):
    """Delete the unfinished uploads whose last chunk arrived more than
    ATTACHMENT_PARTIAL_RETENTION_DAYS (default 14) days before `now` (an aware datetime).

    Returns the number of chunk rows deleted. Runs in an app context on ``db.session`` and does
    not commit: the caller (``pakkedes purge``) commits.
    """
    return _purge_stale(db.session, now, retention_days(current_app.config))


def _check_type(head, declared):
    try:
        return image_type(head, declared)
    except UnsupportedImage as exc:
        message = (MSG_TYPE_MISMATCH.format(declared=exc.declared) if exc.declared
                   else MSG_WRONG_TYPE)
        raise UploadError(415, "unsupported_media_type", message) from None


def _store_chunk(session, *, user, sha256, start, body, total, mime, now):
    session.add(AttachmentUpload(
        user_id=user.id, sha256=sha256, offset=start, length=len(body), total=total, mime=mime,
        data=bytes(body), kecamatan_code=user.kecamatan_code, created_at=now))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a parallel request of the same user stored this offset first
        received, _ = received_bytes(session, user.id, sha256)
        raise UploadError(409, "upload_offset_mismatch", MSG_OFFSET.format(offset=received),
                          headers={"Upload-Offset": str(received)}) from None


def put_chunk(session, *, sha256, body, content_range, content_type, user, cap, now,
              quota=DEFAULT_PARTIAL_QUOTA_BYTES, retention=PARTIAL_UPLOAD_DAYS,
              unreferenced=DEFAULT_UNREFERENCED_QUOTA_BYTES):
    """Store one PUT of `user`; returns (status, json body). The caller commits.

    cap: bytes of one photo; quota: bytes all unfinished uploads of the user may reserve
    (their declared totals); unreferenced: stored bytes of the user's complete photos that no
    record names; retention: days after which an unfinished upload nobody resumed is dropped.
    Raises UploadError for client mistakes and exceeded bounds (429); the caller answers with
    the JSON error shape.
    """
    start, total, ranged = parse_content_range(content_range, len(body))
    if total > cap:
        raise UploadError(413, "payload_too_large", MSG_TOO_LARGE.format(mb=_megabytes(cap)))
    if total == 0 or not body:
        raise UploadError(400, "validation_error", MSG_EMPTY)

    received, known_total = received_bytes(session, user.id, sha256)
    if not ranged and received:
        discard_partial(session, user.id, sha256)  # the whole file replaces the user's partial
        received, known_total = 0, None
    if known_total is not None and known_total != total:
        # Same hash, other size: the earlier partial cannot be right. Forget it; the phone
        # starts again from 0 (this chunk too, unless it already starts there).
        discard_partial(session, user.id, sha256)
        received = 0
        if start != 0:
            raise UploadError(409, "upload_conflict", MSG_TOTAL_CHANGED.format(before=known_total),
                              headers={"Upload-Offset": "0"}, commit=True)
    if start != received:
        raise UploadError(409, "upload_offset_mismatch", MSG_OFFSET.format(offset=received),
                          headers={"Upload-Offset": str(received)})

    if start == 0:
        _purge_stale(session, now, retention)
        if total < 8:
            raise UploadError(415, "unsupported_media_type", MSG_WRONG_TYPE)
        if len(body) < 8:
            raise UploadError(400, "invalid_range", MSG_FIRST_CHUNK)
        mime = _check_type(body[:8], content_type)
    else:
        mime = session.execute(select(AttachmentUpload.mime).where(
            *_own(user.id, sha256), AttachmentUpload.offset == 0)).scalar_one()

    if start + len(body) < total:  # a partial chunk: keep it, report progress
        # Only starting an upload is bounded, by reserving its whole declared total: a started
        # upload may then always go on, and the chunks held stay within the quota.
        quota = max(quota, cap)
        if start == 0 and not bounds.may_start_upload(session, user.id, total, quota):
            raise UploadError(429, "upload_quota_exceeded",
                              MSG_QUOTA.format(mb=_megabytes(quota), days=retention),
                              commit=True)  # keep what the sweep of stale uploads did
        _store_chunk(session, user=user, sha256=sha256, start=start, body=body, total=total,
                     mime=mime, now=now)
        return 202, {"sha256": sha256, "received": start + len(body), "complete": False}

    # The last chunk: assemble, verify the hash, check the structure, strip, store.
    chunks = session.execute(
        select(AttachmentUpload.offset, AttachmentUpload.data)
        .where(*_own(user.id, sha256)).order_by(AttachmentUpload.offset)).all()
    whole = b"".join(bytes(c.data) for c in chunks) + bytes(body)
    if len(whole) != total or hashlib.sha256(whole).hexdigest() != sha256:
        discard_partial(session, user.id, sha256)
        raise UploadError(422, "hash_mismatch", MSG_HASH_MISMATCH,
                          fields={"sha256": MSG_HASH_MISMATCH}, commit=True)
    try:
        stripped = strip_metadata(whole, mime)
    except InvalidImage:
        discard_partial(session, user.id, sha256)
        raise UploadError(422, "invalid_image", MSG_INVALID_IMAGE, commit=True) from None
    unreferenced = max(unreferenced, cap)
    allowed, referenced = bounds.admit_photo(session, user=user, sha256=sha256,
                                             stored_size=len(stripped), quota=unreferenced,
                                             now=now)
    if not allowed:
        # Committed: the chunks stay, so the phone resends only the last one at its next
        # sync, and the references found are remembered.
        raise UploadError(429, "upload_quota_exceeded",
                          MSG_UNREFERENCED.format(mb=_megabytes(unreferenced)), commit=True)
    discard_partial(session, user.id, sha256)
    session.add(Attachment(sha256=sha256, kecamatan_code=user.kecamatan_code, mime=mime,
                           size=total, stored_size=len(stripped), data=stripped,
                           user_id=user.id, created_at=now,
                           referenced_at=now if referenced else None))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        pass  # a colleague finished the same file in a parallel request: that is fine
    return 201, {"sha256": sha256, "size": total, "complete": True}
