"""PUT/HEAD /api/attachments/<sha256>: resumable, idempotent photo uploads from the phone."""
from flask import current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from sync.models import utcnow

from .. import attachments as store
from ..errors import ApiError, error_body
from ..extensions import db
from . import bp
from .common import authenticated_client

MSG_BAD_HASH = "Kode foto harus berupa SHA-256 (64 karakter heksadesimal)."


def _sha256(value):
    sha256 = value.strip().lower()
    if not store.SHA256_RE.match(sha256):
        raise ApiError(400, "validation_error", MSG_BAD_HASH, {"sha256": MSG_BAD_HASH})
    return sha256


@bp.route("/attachments/<path:sha256>", methods=["HEAD"])
def attachment_status(sha256):
    """What the server holds for this hash, as seen by this user: Upload-Offset and
    Upload-Complete headers; 404 when neither their kecamatan holds the photo nor they have an
    unfinished upload of it (another kecamatan's photo or another user's partial is absent)."""
    _client, user = authenticated_client()
    sha256 = _sha256(sha256)
    state, offset = store.upload_status(db.session, sha256, user)
    if state is None:
        raise ApiError(404, "not_found", "Foto ini belum ada di server.")
    response = current_app.response_class(status=200)
    response.headers["Upload-Offset"] = str(offset)
    response.headers["Upload-Complete"] = "1" if state == "complete" else "0"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/attachments/<path:sha256>", methods=["PUT"])
def attachment_upload(sha256):
    """Receive a whole photo or one chunk of it (Content-Range: bytes START-END/TOTAL)."""
    _client, user = authenticated_client()
    sha256 = _sha256(sha256)
    done = store.completed(db.session, sha256, user.kecamatan_code)
    if done is not None:  # idempotent: the body is not even read
        # A colleague finished the same photo: this user's own partial of it is useless now.
        store.discard_partial(db.session, user.id, sha256)
        db.session.commit()
        return jsonify({"sha256": sha256, "size": done.size, "complete": True}), 200
    cap = store.max_bytes(current_app.config)
    request.max_content_length = cap  # larger bodies end in 413 before being read
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        limit_mb = f"{cap / (1024 * 1024):g}".replace(".", ",")
        raise ApiError(413, "payload_too_large",
                       store.MSG_TOO_LARGE.format(mb=limit_mb)) from None
    try:
        status, answer = store.put_chunk(
            db.session, sha256=sha256, body=body,
            content_range=request.headers.get("Content-Range"),
            content_type=request.headers.get("Content-Type"), user=user, cap=cap,
            now=utcnow(), quota=store.partial_quota(current_app.config),
            retention=store.retention_days(current_app.config),
            unreferenced=store.unreferenced_quota(current_app.config))
    except store.UploadError as err:
        if err.commit:
            db.session.commit()  # e.g. the discarded partial data of a hash mismatch
        else:
            db.session.rollback()
        extra = {}
        if "Upload-Offset" in err.headers:
            extra["upload_offset"] = int(err.headers["Upload-Offset"])
        response = jsonify(error_body(err.code, err.message, err.fields, **extra))
        response.headers.update(err.headers)
        return response, err.status
    db.session.commit()
    response = jsonify(answer)
    response.headers["Upload-Offset"] = str(answer.get("received", answer.get("size")))
    return response, status
