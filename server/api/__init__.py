"""The JSON API used by the phone app: device login, sync, the OpenAPI document."""
import gzip

from flask import Blueprint, request

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)  # bearer tokens, no cookies: cross-site requests cannot ride a session
GZIP_MIN_BYTES = 512


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

from . import device, sync_routes, openapi  # noqa: E402,F401  (routes register on import)
from . import attachments  # noqa: E402,F401  (PUT/HEAD /api/attachments/<sha256>)
