"""The JSON API used by the phone app: device login, sync, the OpenAPI document."""
import gzip

from flask import Blueprint, current_app, request

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)  # bearer tokens, no cookies: cross-site requests cannot ride a session
GZIP_MIN_BYTES = 512


@bp.after_request
def drain_unread_body(response):
    """Read what is left of the request body before answering.

    An answer sent before the body was read (a 401 for a revoked token on a 300 KB sync)
    leaves the rest of the body on a kept-alive connection: gunicorn drains only 64 KiB of
    it, so nginx in front answers the phone 502 or resets, and the phone never learns that
    its token was revoked. The body is bounded by MAX_CONTENT_LENGTH (larger ones are 413
    before any view runs).
    """
    length = request.content_length
    if length and length <= (current_app.config.get("MAX_CONTENT_LENGTH") or length):
        try:
            while request.stream.read(64 * 1024):
                pass
        except Exception:  # noqa: BLE001 - a client that went away: nothing left to answer
            pass
    return response


@bp.after_request
def compress_json(response):
    """Gzip JSON answers: over 2G the sync answer, not the upload, is most of the time."""
    if (response.mimetype != "application/json" or response.direct_passthrough
            or "Content-Encoding" in response.headers
            or request.accept_encodings["gzip"] <= 0):
        return response
    response.vary.add("Accept-Encoding")
    body = response.get_data()
    if len(body) >= GZIP_MIN_BYTES:
        # level 6: nearly level 9's size at a fraction of the CPU on a 2-core server
        response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    return response

# Each module registers its routes on `bp` when imported, so it is imported after `bp` exists.
from . import (  # noqa: E402,F401
    attachments,  # PUT/HEAD /api/attachments/<sha256>
    device,  # POST/DELETE /api/auth/device: device login and logout
    health,  # GET /api/health, the app version
    openapi,  # GET /api/openapi.json
    sync_routes,  # POST /api/sync
)
