"""GET /attachments/<sha256>: a stored photo (KK copy, delivery) for the office of its
kecamatan; the storage is server/attachments.py."""
from flask import abort, current_app, g

from ..attachments import SHA256_RE, completed
from ..auth import audit, office_login_required
from ..extensions import db
from ..images import file_extension
from . import bp


@bp.get("/attachments/<sha256>", endpoint="attachment")
@office_login_required
def attachment(sha256):
    """The stored (stripped) photo, for the camat and operator of the kecamatan it was
    uploaded in; for anyone else it does not exist (404)."""
    sha256 = sha256.strip().lower()
    if not SHA256_RE.match(sha256):
        abort(404)
    row = completed(db.session, sha256, g.user.kecamatan_code)
    if row is None:
        abort(404)
    data = row.data
    audit("view_attachment", target=sha256)
    db.session.commit()
    response = current_app.response_class(data, mimetype=row.mime)
    # A photo of a KK copy is personal data: no copy in the browser's or a proxy's cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = (
        f'inline; filename="foto-{sha256[:12]}.{file_extension(row.mime)}"')
    return response
