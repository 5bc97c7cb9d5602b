"""Photo attachments (KK copy, delivery): tables, type check by magic bytes, metadata stripping,
and the resumable upload logic behind PUT/HEAD /api/attachments/<sha256>.

Stored in the database (DESIGN §4, docs/interfaces-pipeline.md) so that several gunicorn
workers and a PostgreSQL backup see the same files. A partial upload is kept as one row per
received chunk in ``attachment_uploads``; the primary key (sha256, offset) makes two writers
racing for the same offset collide instead of both appending.
"""
import hashlib
import re
import struct
import zlib
from datetime import datetime, timedelta

from sqlalchemy import (BigInteger, DateTime, Integer, LargeBinary, String, delete, func,
                        select)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, deferred, mapped_column

from flask import abort, current_app, g

from .auth import audit, office_login_required
from .extensions import db
from .models import utcnow

DEFAULT_MAX_BYTES = 3 * 1024 * 1024  # ATTACHMENT_MAX_BYTES unless configured
PARTIAL_UPLOAD_DAYS = 14  # an upload not resumed for this long is dropped
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
JPEG, PNG = "image/jpeg", "image/png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG chunks that may carry personal data (text, EXIF, the time the photo was made).
PNG_DROPPED_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"})


class Attachment(db.Model):
    """A complete, verified, metadata-stripped image, keyed by the sha256 the phone computed."""

    __tablename__ = "attachments"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)  # bytes as uploaded (what the hash covers)
    stored_size: Mapped[int] = mapped_column(Integer)  # bytes kept after stripping
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    kecamatan_code: Mapped[str] = mapped_column(String(10), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AttachmentUpload(db.Model):
    """One received chunk of an unfinished upload (deleted when the upload completes or fails)."""

    __tablename__ = "attachment_uploads"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    length: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(20))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    user_id: Mapped[int] = mapped_column(Integer)
    kecamatan_code: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---------------------------------------------------------------- errors

class UploadError(Exception):
    """A client mistake in an upload: HTTP status, code, Indonesian message, extra headers."""

    def __init__(self, status, code, message, headers=None, fields=None, commit=False):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.fields = fields or {}
        self.commit = commit  # True: the caller commits what was done (discarded data)


class InvalidImage(ValueError):
    """The bytes do not form a well-structured JPEG or PNG."""


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


def max_bytes(config):
    """The configured size cap of one attachment."""
    return int(config.get("ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


# ---------------------------------------------------------------- type and metadata

def sniff(head):
    """The MIME type from the first bytes (magic numbers), or None."""
    if head[:3] == b"\xff\xd8\xff":
        return JPEG
    if head[:8] == PNG_SIGNATURE:
        return PNG
    return None


def strip_metadata(data, mime):
    """The image without metadata; raises InvalidImage when its structure is broken."""
    if mime == JPEG:
        return strip_jpeg(data)
    if mime == PNG:
        return strip_png(data)
    raise InvalidImage(mime)


def strip_jpeg(data):
    """Drop APP1..APP15 and COM segments (EXIF, XMP, ICC, maker notes, comments) anywhere in
    the file, and anything after EOI. APP0 (JFIF), DQT, DHT, SOFn, DRI, SOS and the
    entropy-coded data are copied byte for byte."""
    n = len(data)
    if data[:2] != b"\xff\xd8":
        raise InvalidImage("no SOI")
    out = bytearray(b"\xff\xd8")
    i = 2
    seen_frame = seen_scan = False
    while True:
        if i >= n or data[i] != 0xFF:
            raise InvalidImage("marker expected")
        while i < n and data[i] == 0xFF:  # fill bytes before a marker
            i += 1
        if i >= n:
            raise InvalidImage("truncated marker")
        marker = data[i]
        i += 1
        if marker == 0xD9:  # EOI
            if not (seen_frame and seen_scan):
                raise InvalidImage("no image data")
            out += b"\xff\xd9"
            return bytes(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01 or marker == 0x00:
            if marker == 0x00:
                raise InvalidImage("stuffed byte outside scan")
            out += bytes((0xFF, marker))  # standalone markers carry no length
            continue
        if i + 2 > n:
            raise InvalidImage("truncated length")
        length = int.from_bytes(data[i:i + 2], "big")
        if length < 2 or i + length > n:
            raise InvalidImage("bad segment length")
        segment = data[i:i + length]
        i += length
        if 0xE1 <= marker <= 0xEF or marker == 0xFE:
            continue  # APP1..APP15, COM: metadata
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                      0xCE, 0xCF):
            seen_frame = True
        out += bytes((0xFF, marker)) + segment
        if marker == 0xDA:  # SOS: entropy-coded data up to the next real marker
            if not seen_frame:
                raise InvalidImage("scan before frame")
            seen_scan = True
            start = i
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    raise InvalidImage("no EOI")
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    i = j + 2  # stuffed 0xFF or restart marker: still scan data
                    continue
                if following == 0xFF:
                    i = j + 1  # fill byte: look again from the next 0xFF
                    continue
                break
            out += data[start:j]
            i = j


def strip_png(data):
    """Drop tEXt, zTXt, iTXt, eXIf and tIME chunks, and anything after IEND; check CRCs."""
    if data[:8] != PNG_SIGNATURE:
        raise InvalidImage("no PNG signature")
    out = bytearray(PNG_SIGNATURE)
    i, n, first = 8, len(data), True
    while True:
        if i + 12 > n:
            raise InvalidImage("truncated chunk")
        length = struct.unpack(">I", data[i:i + 4])[0]
        kind = data[i + 4:i + 8]
        end = i + 12 + length
        if length > 0x7FFFFFFF or end > n:
            raise InvalidImage("bad chunk length")
        if not kind.isalpha():
            raise InvalidImage("bad chunk type")
        crc = struct.unpack(">I", data[end - 4:end])[0]
        if zlib.crc32(data[i + 4:end - 4]) & 0xFFFFFFFF != crc:
            raise InvalidImage("bad CRC")
        if first and kind != b"IHDR":
            raise InvalidImage("IHDR must come first")
        first = False
        if kind not in PNG_DROPPED_CHUNKS:
            out += data[i:end]
        i = end
        if kind == b"IEND":
            return bytes(out)


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


def received_bytes(session, sha256):
    """(bytes held for an unfinished upload, declared total or None)."""
    row = session.execute(
        select(func.coalesce(func.sum(AttachmentUpload.length), 0),
               func.max(AttachmentUpload.total))
        .where(AttachmentUpload.sha256 == sha256)).one()
    return int(row[0]), row[1]


def upload_status(session, sha256):
    """('complete', size) | ('partial', received) | (None, 0) for HEAD."""
    done = session.get(Attachment, sha256)
    if done is not None:
        return "complete", done.size
    received, total = received_bytes(session, sha256)
    if total is None:
        return None, 0
    return "partial", received


def forget_stale_uploads(session, now):
    """Drop unfinished uploads untouched for PARTIAL_UPLOAD_DAYS (photos are personal data)."""
    cutoff = now - timedelta(days=PARTIAL_UPLOAD_DAYS)
    stale = select(AttachmentUpload.sha256).group_by(AttachmentUpload.sha256).having(
        func.max(AttachmentUpload.created_at) < cutoff)
    session.execute(delete(AttachmentUpload).where(AttachmentUpload.sha256.in_(stale)),
                    execution_options={"synchronize_session": False})


def discard_partial(session, sha256):
    """Forget the chunks of an unfinished upload."""
    session.execute(delete(AttachmentUpload).where(AttachmentUpload.sha256 == sha256))


def _check_type(head, declared):
    mime = sniff(head)
    if mime is None:
        raise UploadError(415, "unsupported_media_type", MSG_WRONG_TYPE)
    declared = (declared or "").split(";")[0].strip().lower()
    if declared in ("image/jpg", "image/pjpeg"):
        declared = JPEG
    if declared not in ("", "application/octet-stream", mime):
        raise UploadError(415, "unsupported_media_type",
                          MSG_TYPE_MISMATCH.format(declared=declared))
    return mime


def put_chunk(session, *, sha256, body, content_range, content_type, user, cap, now):
    """Store one PUT; returns (status, json body). The caller commits.

    Raises UploadError for client mistakes (the caller answers with the JSON error shape).
    """
    start, total, ranged = parse_content_range(content_range, len(body))
    limit_mb = f"{cap / (1024 * 1024):g}".replace(".", ",")
    if total > cap:
        raise UploadError(413, "payload_too_large", MSG_TOO_LARGE.format(mb=limit_mb))
    if total == 0 or not body:
        raise UploadError(400, "validation_error", MSG_EMPTY)

    received, known_total = received_bytes(session, sha256)
    if not ranged and received:
        discard_partial(session, sha256)  # the whole file in one request replaces a partial
        received, known_total = 0, None
    if known_total is not None and known_total != total:
        # Same hash, other size: the earlier partial cannot be right. Forget it; the phone
        # starts again from 0 (this chunk too, unless it already starts there).
        discard_partial(session, sha256)
        received = 0
        if start != 0:
            raise UploadError(409, "upload_conflict", MSG_TOTAL_CHANGED.format(before=known_total),
                              headers={"Upload-Offset": "0"}, commit=True)
    if start != received:
        raise UploadError(409, "upload_offset_mismatch", MSG_OFFSET.format(offset=received),
                          headers={"Upload-Offset": str(received)})

    if start == 0:
        forget_stale_uploads(session, now)
        if total < 8:
            raise UploadError(415, "unsupported_media_type", MSG_WRONG_TYPE)
        if len(body) < 8:
            raise UploadError(400, "invalid_range", MSG_FIRST_CHUNK)
        mime = _check_type(body[:8], content_type)
    else:
        first = session.execute(select(AttachmentUpload.mime).where(
            AttachmentUpload.sha256 == sha256, AttachmentUpload.offset == 0)).scalar_one()
        mime = first

    if start + len(body) < total:  # a partial chunk: keep it and report progress
        session.add(AttachmentUpload(
            sha256=sha256, offset=start, length=len(body), total=total, mime=mime,
            data=bytes(body), user_id=user.id, kecamatan_code=user.kecamatan_code,
            created_at=now))
        try:
            session.flush()
        except IntegrityError:  # another request stored this offset first
            session.rollback()
            received, _ = received_bytes(session, sha256)
            raise UploadError(409, "upload_offset_mismatch", MSG_OFFSET.format(offset=received),
                              headers={"Upload-Offset": str(received)}) from None
        return 202, {"sha256": sha256, "received": start + len(body), "complete": False}

    # The last chunk: assemble, verify the hash, check the structure, strip, store.
    chunks = session.execute(
        select(AttachmentUpload.offset, AttachmentUpload.data)
        .where(AttachmentUpload.sha256 == sha256).order_by(AttachmentUpload.offset)).all()
    whole = b"".join(bytes(c.data) for c in chunks) + bytes(body)
    discard_partial(session, sha256)
    if len(whole) != total or hashlib.sha256(whole).hexdigest() != sha256:
        raise UploadError(422, "hash_mismatch", MSG_HASH_MISMATCH,
                          fields={"sha256": MSG_HASH_MISMATCH}, commit=True)
    try:
        stripped = strip_metadata(whole, mime)
    except InvalidImage:
        raise UploadError(422, "invalid_image", MSG_INVALID_IMAGE, commit=True) from None
    session.add(Attachment(sha256=sha256, mime=mime, size=total, stored_size=len(stripped),
                           data=stripped, user_id=user.id, kecamatan_code=user.kecamatan_code,
                           created_at=now))
    try:
        session.flush()
    except IntegrityError:  # the same file finished by a parallel request: that is fine
        session.rollback()
    return 201, {"sha256": sha256, "size": total, "complete": True}


# ---------------------------------------------------------------- office view

@office_login_required
def office_attachment(sha256):
    """GET /attachments/<sha256>: the stored (stripped) photo, for the camat and operator of
    the kecamatan it was uploaded in; for anyone else it does not exist (404)."""
    sha256 = sha256.strip().lower()
    if not SHA256_RE.match(sha256):
        abort(404)
    row = db.session.get(Attachment, sha256)
    if row is None or row.kecamatan_code != g.user.kecamatan_code:
        abort(404)
    data = row.data
    audit("view_attachment", target=sha256)
    db.session.commit()
    response = current_app.response_class(data, mimetype=row.mime)
    extension = "jpg" if row.mime == JPEG else "png"
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Disposition"] = f'inline; filename="foto-{sha256[:12]}.{extension}"'
    response.headers["ETag"] = f'"{sha256}"'
    return response


def _register_office_route():
    # Registered on the office blueprint from here, so that the upload logic and the view of
    # the stored photo live in one module (server.api imports this module at start-up).
    from .web import bp as web_bp
    web_bp.add_url_rule("/attachments/<sha256>", endpoint="attachment",
                        view_func=office_attachment, methods=["GET"])


_register_office_route()
