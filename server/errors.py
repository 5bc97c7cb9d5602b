"""One JSON error shape for the API, Indonesian error pages for the office view, and the one
mapping from the domain errors of sync/ (SyncError, OfficeError) to an answer: the errors
carry their code, message, fields, status and extra keys (sync/errors.py); the handlers
here turn them into the answer, registered once in init_app."""
import logging

from flask import jsonify, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from sync.errors import OfficeError, SyncError, is_database_outage
from sync.identity import database_id

from .extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("bad_request", "Permintaan tidak dapat dibaca."),
    401: ("unauthorized", "Silakan masuk (login) terlebih dahulu."),
    403: ("forbidden", "Anda tidak berhak melakukan ini."),
    404: ("not_found", "Alamat tidak ditemukan."),
    405: ("method_not_allowed", "Metode ini tidak diizinkan untuk alamat ini."),
    413: ("payload_too_large", "Data yang dikirim terlalu besar. Kirim dalam beberapa bagian."),
    415: ("unsupported_media_type", "Jenis data tidak didukung."),
    429: ("rate_limited", "Terlalu banyak percobaan. Coba lagi nanti."),
    500: ("server_error", "Terjadi kesalahan di server. Data di HP tetap aman; coba lagi nanti."),
}
MSG_DATABASE_UNAVAILABLE = ("Server sedang tidak dapat menyimpan data. Data tetap di HP dan "
                            "dikirim lagi nanti.")


class ApiError(Exception):
    """A client mistake answered with the API's JSON error shape."""

    def __init__(self, status, code, message, fields=None, **extra):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields or {}
        self.extra = extra


def error_body(code, message, fields=None, **extra):
    """The one JSON error shape: {"code", "message", "fields"} plus extras."""
    body = {"code": code, "message": message, "fields": fields or {}}
    body.update(extra)
    return body


def wants_json():
    """API paths always answer JSON."""
    return request.path.startswith("/api/")


def outage_error(exc):
    """The 503 `database_unavailable` ApiError when `exc` is a database outage (nothing of
    the request is kept; the phone keeps its outbox and retries), else None."""
    if not is_database_outage(exc):
        return None
    log.warning("sync refused: database unavailable (%s)", type(exc).__name__)
    return ApiError(503, "database_unavailable", MSG_DATABASE_UNAVAILABLE)


def api_error_response(err):
    """Roll back and answer an ApiError with the JSON error shape."""
    db.session.rollback()
    return jsonify(error_body(err.code, err.message, err.fields, **err.extra)), err.status


def sync_error_response(err):
    """Answer a refused sync request (sync.errors.SyncError) with err.to_dict().

    The transaction follows the error: keeps_applied commits what was applied before the
    refusal (MutationGap), anything else is rolled back. A database outage meanwhile is the
    503 of outage_error, as anywhere else in the sync.
    """
    try:
        if err.keeps_applied:
            db.session.commit()
        else:
            db.session.rollback()
        body = err.to_dict()
        if err.names_database:
            body["database_id"] = database_id(db.session)
    except SQLAlchemyError as exc:
        outage = outage_error(exc)
        if outage is None:
            # Answered here, not re-raised: an exception raised inside an error handler would
            # reach Flask's own logging, traceback and SQL parameters (NIKs) included.
            return unexpected_response(exc)
        return api_error_response(outage)
    db.session.rollback()  # the identity read above is not part of any change
    return jsonify(body), err.http_status


def unexpected_response(err):
    """Roll back and answer 500, logging the exception type only: request bodies and SQL
    parameters may carry NIKs and names."""
    db.session.rollback()
    log.error("unhandled %s on %s %s", type(err).__name__, request.method, request.path)
    log.debug("traceback", exc_info=err)
    code, message = MESSAGES[500]
    if wants_json():
        return jsonify(error_body(code, message)), 500
    return render_template("error.html", status=500, message=message), 500


def office_error_response(err):
    """Roll back and answer a refused office action (sync.errors.OfficeError): the error
    page with its message and err.http_status (the JSON error shape under /api/)."""
    db.session.rollback()
    if wants_json():
        return jsonify(err.to_dict()), err.http_status
    return render_template("error.html", status=err.http_status,
                           message=err.message), err.http_status


def init_app(app):
    """Register the error handlers."""
    app.register_error_handler(ApiError, api_error_response)
    app.register_error_handler(SyncError, sync_error_response)
    app.register_error_handler(OfficeError, office_error_response)

    @app.errorhandler(HTTPException)
    def handle_http(err):
        code, message = MESSAGES.get(err.code, ("error", err.name))
        if err.code == 400 and getattr(err, "description", "").startswith("The CSRF"):
            code, message = "csrf_failed", "Formulir kedaluwarsa. Muat ulang halaman lalu coba lagi."
        if wants_json():
            return jsonify(error_body(code, message)), err.code
        return render_template("error.html", status=err.code, message=message), err.code

    @app.errorhandler(Exception)
    def handle_unexpected(err):
        return unexpected_response(err)
