"""The JSON API used by the phone app: device login, sync, the OpenAPI document."""
from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)  # bearer tokens, no cookies: cross-site requests cannot ride a session

from . import device, sync_routes, openapi  # noqa: E402,F401  (routes register on import)
from . import attachments  # noqa: E402,F401  (PUT/HEAD /api/attachments/<sha256>)
