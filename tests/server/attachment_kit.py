"""Shared helpers of the attachment tests: JPEG and PNG files made by hand (with and without
metadata) and the upload requests. `phone` (the device session they take) is a fixture of
tests/server/conftest.py."""
import hashlib
import struct
import zlib

from sqlalchemy import func, select

from server.attachments import Attachment, AttachmentUpload
from server.extensions import db

# ---------------------------------------------------------------- images made by hand


def _segment(marker, payload):
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


APP0 = _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
# EXIF with a GPS position and a camera serial (what must never reach the server's disk).
EXIF = _segment(0xE1, b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08" + b"GPS -2.3456 115.4321 "
                + b"SERIAL-HP-PETUGAS-0042 " * 20)
XMP = _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>Budi</x:xmpmeta>")
ICC = _segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + b"\x00" * 40)
COMMENT = _segment(0xFE, b"Difoto oleh petugas di Desa Uji")
DQT = _segment(0xDB, b"\x00" + b"\x01" * 64)
SOF0 = _segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")  # 8x8, one grey component
DHT_DC = _segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00")  # one code "0" → category 0
DHT_AC = _segment(0xC4, b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00")  # one code "0" → EOB
SOS = _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
ENTROPY = b"\x3f"  # DC diff 0, EOB, padded with ones: a valid flat grey 8x8 block
SOI, EOI = b"\xff\xd8", b"\xff\xd9"
CLEAN_JPEG = SOI + APP0 + DQT + SOF0 + DHT_DC + DHT_AC + SOS + ENTROPY + EOI
EXIF_JPEG = SOI + APP0 + EXIF + XMP + ICC + DQT + COMMENT + SOF0 + DHT_DC + DHT_AC + SOS \
    + ENTROPY + EOI


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


PNG_SIG = b"\x89PNG\r\n\x1a\n"
IHDR = _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
IDAT = _chunk(b"IDAT", zlib.compress(b"\x00\x0b\x5d\x3b"))
IEND = _chunk(b"IEND", b"")
CLEAN_PNG = PNG_SIG + IHDR + IDAT + IEND
TEXT_PNG = (PNG_SIG + IHDR + _chunk(b"tEXt", b"Author\x00Budi Santoso")
            + _chunk(b"tIME", b"\x07\xea\x0b\x1c\x09\x0f\x03")
            + _chunk(b"iTXt", b"GPS\x00\x00\x00\x00\x00-2.34,115.43")
            + _chunk(b"eXIf", b"MM\x00\x2a\x00\x00\x00\x08")
            + IDAT + _chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"rumah Budi")) + IEND)


def sha(data):
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- helpers

def _put(client, phone, data, *, digest=None, content_range=None, content_type="image/jpeg",
         token=True):
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {phone['token']}"
    if content_range:
        headers["Content-Range"] = content_range
    return client.put(f"/api/attachments/{digest or sha(data)}", data=data, headers=headers)


def _chunk_put(client, phone, data, start, end, **kw):
    """Send data[start:end] as one chunk."""
    return _put(client, phone, data[start:end], digest=sha(data),
                content_range=f"bytes {start}-{end - 1}/{len(data)}", **kw)


def _head(client, phone, digest):
    return client.head(f"/api/attachments/{digest}",
                       headers={"Authorization": f"Bearer {phone['token']}"})


def _stored(app, digest, kecamatan="631104"):
    with app.app_context():
        row = db.session.get(Attachment, (digest, kecamatan))
        return None if row is None else (row.mime, row.size, bytes(row.data), row.kecamatan_code)


def _partial_rows(app, digest=None):
    with app.app_context():
        query = select(func.count()).select_from(AttachmentUpload)
        if digest:
            query = query.where(AttachmentUpload.sha256 == digest)
        return db.session.execute(query).scalar_one()


def _assert_error(res, status, code=None):
    assert res.status_code == status, (res.status_code, res.get_data(as_text=True))
    body = res.get_json()
    assert set(body) >= {"code", "message", "fields"}
    if code:
        assert body["code"] == code
    assert body["message"] and body["message"][0].isupper()
    return body
