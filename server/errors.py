"""One JSON error shape for the API, Indonesian error pages for the office view."""
import logging

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException

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


def init_app(app):
    """Register the error handlers."""

    @app.errorhandler(ApiError)
    def handle_api_error(err):
        db.session.rollback()
        return jsonify(error_body(err.code, err.message, err.fields, **err.extra)), err.status

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
        db.session.rollback()
        # The exception type only: request bodies may carry NIKs and names.
        log.error("unhandled %s on %s %s", type(err).__name__, request.method, request.path)
        log.debug("traceback", exc_info=err)
        code, message = MESSAGES[500]
        if wants_json():
            return jsonify(error_body(code, message)), 500
        return render_template("error.html", status=500, message=message), 500
