"""PUT/HEAD /api/attachments/<sha256> (resumable, idempotent, type- and size-checked,
metadata stripped) and the office view GET /attachments/<sha256>."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from attachment_kit import (
    APP0,
    CLEAN_JPEG,
    CLEAN_PNG,
    DHT_AC,
    DHT_DC,
    DQT,
    EOI,
    EXIF,
    EXIF_JPEG,
    SOF0,
    SOI,
    SOS,
    TEXT_PNG,
    _assert_error,
    _chunk_put,
    _head,
    _partial_rows,
    _put,
    _stored,
    sha,
)
from server.attachments import PARTIAL_UPLOAD_DAYS, Attachment, AttachmentUpload
from server.extensions import db
from server.images import strip_jpeg, strip_png
from server.models import AuditEntry
from sync.models import utcnow

# ---------------------------------------------------------------- the stripping itself

def test_jpeg_stripping_keeps_image_segments_byte_for_byte():
    out = strip_jpeg(EXIF_JPEG)
    assert out == CLEAN_JPEG
    assert b"Exif" not in out and b"SERIAL" not in out and b"GPS" not in out
    assert b"xmpmeta" not in out and b"ICC_PROFILE" not in out and b"Difoto" not in out
    assert out.startswith(SOI) and out.endswith(EOI) and APP0 in out


def test_jpeg_stripping_handles_stuffed_bytes_restarts_and_trailing_data():
    entropy = b"\x12\xff\x00\x34\xff\xd0\x56"  # a stuffed 0xFF and a restart marker in the scan
    image = SOI + EXIF + DQT + SOF0 + DHT_DC + DHT_AC + SOS + entropy + EOI + b"TRAILER-GPS"
    assert strip_jpeg(image) == SOI + DQT + SOF0 + DHT_DC + DHT_AC + SOS + entropy + EOI


def test_png_stripping_drops_text_time_and_exif_chunks():
    out = strip_png(TEXT_PNG)
    assert out == CLEAN_PNG
    assert b"Budi" not in out and b"tIME" not in out and b"eXIf" not in out


# ---------------------------------------------------------------- whole uploads

def test_whole_jpeg_upload_is_stored_without_exif(client, app, phone):
    res = _put(client, phone, EXIF_JPEG)
    assert res.status_code == 201, res.get_json()
    assert res.get_json() == {"sha256": sha(EXIF_JPEG), "size": len(EXIF_JPEG), "complete": True}
    mime, size, data, kecamatan = _stored(app, sha(EXIF_JPEG))
    assert (mime, size, kecamatan) == ("image/jpeg", len(EXIF_JPEG), "631104")
    assert data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")
    assert b"Exif" not in data and b"\xff\xe1" not in data and b"SERIAL" not in data
    assert b"\xff\xfe" not in data and b"Difoto" not in data
    assert data == CLEAN_JPEG  # quantisation, Huffman, frame, scan and entropy data untouched


def test_png_upload_loses_its_text_chunks(client, app, phone):
    res = _put(client, phone, TEXT_PNG, content_type="image/png")
    assert res.status_code == 201, res.get_json()
    mime, _size, data, _ = _stored(app, sha(TEXT_PNG))
    assert mime == "image/png" and data == CLEAN_PNG
    assert b"tEXt" not in data and b"Budi" not in data


def test_repeated_upload_is_idempotent(client, app, phone):
    assert _put(client, phone, CLEAN_JPEG).status_code == 201
    again = _put(client, phone, CLEAN_JPEG)
    assert again.status_code == 200
    assert again.get_json() == {"sha256": sha(CLEAN_JPEG), "size": len(CLEAN_JPEG),
                                "complete": True}
    # even a chunk of an already complete file is answered "complete" without being read
    late = _chunk_put(client, phone, CLEAN_JPEG, 0, 10)
    assert late.status_code == 200 and late.get_json()["complete"] is True
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Attachment)).scalar_one() == 1
    assert _partial_rows(app) == 0


def test_hash_in_upper_case_is_the_same_file(client, app, phone):
    res = _put(client, phone, CLEAN_JPEG, digest=sha(CLEAN_JPEG).upper())
    assert res.status_code == 201 and res.get_json()["sha256"] == sha(CLEAN_JPEG)


# ---------------------------------------------------------------- resumable chunks

@pytest.mark.parametrize("cuts", [
    [1],                        # cut after the very first byte (less than the magic bytes)
    [8],                        # just the magic bytes arrived
    [100, 101],                 # one-byte chunk in the middle
    [37, 333, 512],             # arbitrary offsets
    [len(EXIF_JPEG) - 1],       # everything but the last byte
])
def test_chunked_upload_cut_and_resumed(client, app, phone, cuts):
    data, digest = EXIF_JPEG, sha(EXIF_JPEG)
    bounds = [0] + cuts + [len(data)]
    pieces = list(zip(bounds, bounds[1:]))
    if pieces[0][1] < 8:  # the first chunk must carry the magic bytes
        res = _chunk_put(client, phone, data, *pieces[0])
        _assert_error(res, 400, "invalid_range")
        pieces = [(0, max(8, pieces[1][1]))] + [p for p in pieces[2:]]
    for number, (start, end) in enumerate(pieces):
        head = _head(client, phone, digest)
        if number == 0:
            assert head.status_code == 404
        else:  # the link dropped: ask the server where to resume
            assert head.status_code == 200
            assert head.headers["Upload-Offset"] == str(start)
            assert head.headers["Upload-Complete"] == "0"
        res = _chunk_put(client, phone, data, start, end)
        if end < len(data):
            assert res.status_code == 202, res.get_json()
            assert res.get_json() == {"sha256": digest, "received": end, "complete": False}
            assert _stored(app, digest) is None
            # the answer was lost and the phone sends the chunk again: 409 tells it to go on
            again = _chunk_put(client, phone, data, start, end)
            assert again.status_code == 409 and again.headers["Upload-Offset"] == str(end)
        else:
            assert res.status_code == 201, res.get_json()
    head = _head(client, phone, digest)
    assert head.headers["Upload-Complete"] == "1"
    assert head.headers["Upload-Offset"] == str(len(data))
    assert _stored(app, digest)[2] == CLEAN_JPEG
    assert _partial_rows(app) == 0


def test_out_of_order_chunk_is_409_with_offset(client, app, phone):
    data = EXIF_JPEG
    assert _chunk_put(client, phone, data, 0, 100).status_code == 202
    res = _chunk_put(client, phone, data, 200, 300)
    body = _assert_error(res, 409, "upload_offset_mismatch")
    assert res.headers["Upload-Offset"] == "100" and body["upload_offset"] == 100
    assert "100" in body["message"]
    res = _chunk_put(client, phone, data, 50, 150)  # overlaps what is there
    assert res.status_code == 409 and res.headers["Upload-Offset"] == "100"
    assert _head(client, phone, sha(data)).headers["Upload-Offset"] == "100"
    # a first chunk that does not start at 0
    other = CLEAN_PNG
    res = _put(client, phone, other[10:], digest=sha(other), content_type="image/png",
               content_range=f"bytes 10-{len(other) - 1}/{len(other)}")
    assert res.status_code == 409 and res.headers["Upload-Offset"] == "0"


def test_whole_file_replaces_a_stale_partial(client, app, phone):
    assert _chunk_put(client, phone, EXIF_JPEG, 0, 100).status_code == 202
    assert _put(client, phone, EXIF_JPEG).status_code == 201
    assert _partial_rows(app) == 0


def test_total_that_changes_between_chunks_restarts_the_upload(client, app, phone):
    data = EXIF_JPEG
    assert _chunk_put(client, phone, data, 0, 100).status_code == 202
    res = _put(client, phone, data[100:200], digest=sha(data),
               content_range=f"bytes 100-199/{len(data) + 5}")
    _assert_error(res, 409, "upload_conflict")
    assert res.headers["Upload-Offset"] == "0"  # the stale partial is gone: start again
    assert _head(client, phone, sha(data)).status_code == 404
    # a new first chunk with another total replaces a partial too
    assert _chunk_put(client, phone, data, 0, 100).status_code == 202
    res = _put(client, phone, data[:50], digest=sha(data),
               content_range=f"bytes 0-49/{len(data) + 5}")
    assert res.status_code == 202 and res.get_json()["received"] == 50
    # and the real upload still completes after the phone starts over
    assert _put(client, phone, data).status_code == 201


# ---------------------------------------------------------------- client mistakes

def test_wrong_hash_is_422_and_the_partial_is_discarded(client, app, phone):
    data = EXIF_JPEG
    wrong = sha(b"something else")
    assert _put(client, phone, data[:100], digest=wrong,
                content_range=f"bytes 0-99/{len(data)}").status_code == 202
    assert _partial_rows(app, wrong) == 1
    res = _put(client, phone, data[100:], digest=wrong,
               content_range=f"bytes 100-{len(data) - 1}/{len(data)}")
    _assert_error(res, 422, "hash_mismatch")
    assert _partial_rows(app, wrong) == 0
    assert _stored(app, wrong) is None
    assert _head(client, phone, wrong).status_code == 404
    # a whole upload with the wrong hash: same answer, nothing kept
    _assert_error(_put(client, phone, CLEAN_JPEG, digest=wrong), 422, "hash_mismatch")
    assert _partial_rows(app) == 0


@pytest.mark.parametrize("data, content_type", [
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
     "image/jpeg"),
    (b"%PDF-1.4 not a photo at all", "application/pdf"),
    (b"\xff\xd8", "image/jpeg"),  # shorter than any image
    (CLEAN_PNG, "image/jpeg"),    # declared type does not match the bytes
])
def test_wrong_type_is_415(client, app, phone, data, content_type):
    res = _put(client, phone, data, content_type=content_type)
    _assert_error(res, 415, "unsupported_media_type")
    assert _stored(app, sha(data)) is None and _partial_rows(app) == 0


def test_broken_image_with_the_right_hash_is_422(client, app, phone):
    broken = CLEAN_JPEG[:-6]  # JPEG magic, but the scan never ends
    _assert_error(_put(client, phone, broken), 422, "invalid_image")
    bad_crc = CLEAN_PNG[:-1] + b"\x00"
    _assert_error(_put(client, phone, bad_crc, content_type="image/png"), 422, "invalid_image")
    assert _partial_rows(app) == 0


def test_too_large_is_413(client, app, phone):
    cap = app.config.get("ATTACHMENT_MAX_BYTES", 3 * 1024 * 1024)
    assert cap == 3 * 1024 * 1024
    big = b"\xff\xd8\xff" + b"\x00" * cap  # one byte over the cap
    body = _assert_error(_put(client, phone, big), 413, "payload_too_large")
    assert "3 MB" in body["message"]
    # a first chunk announcing a total over the cap is refused before anything is kept
    res = _put(client, phone, big[:1000], digest=sha(big),
               content_range=f"bytes 0-999/{len(big)}")
    _assert_error(res, 413, "payload_too_large")
    assert _partial_rows(app) == 0


def test_configured_cap_is_used(client, app, phone):
    app.config["ATTACHMENT_MAX_BYTES"] = 100
    _assert_error(_put(client, phone, EXIF_JPEG), 413, "payload_too_large")
    assert _put(client, phone, CLEAN_PNG, content_type="image/png").status_code == 201


@pytest.mark.parametrize("header", [
    "bytes 0-9/x", "bytes 10-5/100", "bytes 0-99/50", "items 0-9/100", "bytes */100",
    "bytes 0-19/600",  # says 20 bytes, 10 are sent
])
def test_bad_content_range_is_400(client, app, phone, header):
    res = _put(client, phone, EXIF_JPEG[:10], digest=sha(EXIF_JPEG), content_range=header)
    _assert_error(res, 400, "invalid_range")
    assert _partial_rows(app) == 0


@pytest.mark.parametrize("digest", ["abc", "z" * 64, "0" * 63])
def test_bad_hash_in_path_is_400(client, phone, digest):
    _assert_error(_put(client, phone, CLEAN_JPEG, digest=digest), 400, "validation_error")


def test_empty_body_is_400(client, phone):
    _assert_error(_put(client, phone, b"", digest=sha(b"")), 400, "validation_error")


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer salah", "Basic abc"])
def test_missing_or_unknown_token_is_401(client, app, header):
    headers = {"Content-Type": "image/jpeg"}
    if header:
        headers["Authorization"] = header
    res = client.put(f"/api/attachments/{sha(CLEAN_JPEG)}", data=CLEAN_JPEG, headers=headers)
    _assert_error(res, 401)
    assert client.head(f"/api/attachments/{sha(CLEAN_JPEG)}", headers=headers).status_code == 401
    assert _stored(app, sha(CLEAN_JPEG)) is None


def test_revoked_token_is_401(client, app, phone):
    client.delete("/api/auth/device", headers={"Authorization": f"Bearer {phone['token']}"})
    _assert_error(_put(client, phone, CLEAN_JPEG), 401, "token_revoked")


def test_get_on_the_api_path_is_405_json(client, phone):
    res = client.get(f"/api/attachments/{sha(CLEAN_JPEG)}",
                     headers={"Authorization": f"Bearer {phone['token']}"})
    _assert_error(res, 405, "method_not_allowed")


# ---------------------------------------------------------------- office view

def _audits(app, action):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.action == action)).scalar_one()


@pytest.mark.parametrize("username", ["camat", "operator"])
def test_office_sees_the_stripped_photo(client, app, auth, phone, username):
    assert _put(client, phone, EXIF_JPEG).status_code == 201
    auth.login(username)
    res = client.get(f"/attachments/{sha(EXIF_JPEG)}")
    assert res.status_code == 200
    assert res.mimetype == "image/jpeg"
    assert res.data == CLEAN_JPEG
    assert _audits(app, "view_attachment") == 1


def test_office_png_content_type(client, app, auth, phone):
    assert _put(client, phone, TEXT_PNG, content_type="image/png").status_code == 201
    auth.login("operator")
    res = client.get(f"/attachments/{sha(TEXT_PNG)}")
    assert res.status_code == 200 and res.mimetype == "image/png" and res.data == CLEAN_PNG


def test_office_attachment_scoped_to_the_kecamatan(client, app, auth, device, phone):
    assert _put(client, phone, CLEAN_JPEG).status_code == 201
    juai = device.login("petugas_juai")
    assert _put(client, juai, CLEAN_PNG, content_type="image/png").status_code == 201
    auth.login("camat_juai")
    assert client.get(f"/attachments/{sha(CLEAN_JPEG)}").status_code == 404
    assert client.get(f"/attachments/{sha(CLEAN_PNG)}").status_code == 200
    auth.logout()
    auth.login("camat")
    assert client.get(f"/attachments/{sha(CLEAN_PNG)}").status_code == 404
    assert client.get(f"/attachments/{'0' * 64}").status_code == 404
    assert client.get("/attachments/bukan-hash").status_code == 404


def test_office_attachment_needs_login(client, app, phone):
    assert _put(client, phone, CLEAN_JPEG).status_code == 201
    res = client.get(f"/attachments/{sha(CLEAN_JPEG)}")
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_partial_upload_is_not_visible_in_the_office(client, app, auth, phone):
    assert _chunk_put(client, phone, EXIF_JPEG, 0, 100).status_code == 202
    auth.login()
    assert client.get(f"/attachments/{sha(EXIF_JPEG)}").status_code == 404


def test_stale_partial_uploads_are_forgotten(client, app, phone):
    assert _chunk_put(client, phone, EXIF_JPEG, 0, 100).status_code == 202
    with app.app_context():
        old = utcnow() - timedelta(days=PARTIAL_UPLOAD_DAYS + 1)
        for row in db.session.execute(select(AttachmentUpload)).scalars():
            row.created_at = old
        db.session.commit()
    # any new upload sweeps unfinished uploads nobody resumed
    assert _chunk_put(client, phone, CLEAN_JPEG, 0, 50).status_code == 202
    assert _partial_rows(app, sha(EXIF_JPEG)) == 0
    assert _partial_rows(app, sha(CLEAN_JPEG)) == 1


def test_openapi_describes_the_attachment_api(client):
    doc = client.get("/api/openapi.json").get_json()
    path = doc["paths"]["/api/attachments/{sha256}"]
    assert set(path) >= {"put", "head"}
    assert {"200", "201", "202", "409", "413", "415", "422"} <= set(path["put"]["responses"])
    assert "Upload-Offset" in path["head"]["responses"]["200"]["headers"]
    schemas = doc["components"]["schemas"]
    for name in ("VerifyResidentArgs", "DeliverCardArgs", "HandoverBatchArgs",
                 "RecordCollectionArgs", "PickUpArgs"):
        assert name in schemas, name
