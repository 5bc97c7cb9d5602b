"""GET /api/health for monitoring, and the one home of the app version (also in the office
footer)."""
import importlib.metadata
import logging

from flask import jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..migrations import current_revision
from . import bp

log = logging.getLogger(__name__)


def _installed_version():
    try:
        return importlib.metadata.version("cah")
    except importlib.metadata.PackageNotFoundError:  # a checkout run without `pip install`
        return None


APP_VERSION = _installed_version()  # str such as "0.1.0", or None when not installed


def schema_revision(connection):
    """The Alembic revision (str) the database is stamped with (server/migrations), or None
    for a database without one.

    connection: an open SQLAlchemy Connection. Raises SQLAlchemyError when the database
    cannot be read.
    """
    return current_revision(connection)


@bp.record_once
def _version_in_templates(state):
    # Registered with the API because the version has its one home here; the office
    # footer (base.html) shows it as app_version.
    state.app.jinja_env.globals["app_version"] = APP_VERSION


@bp.get("/health")
def health():
    """The server's state for a monitor; no login, nothing personal.

    200 {"status": "ok", "database": "ok", "version": str|null, "schema_revision": str|null};
    503 with "status": "error", "database": "unreachable" when the database cannot be
    queried. Never cached.
    """
    body = {"status": "ok", "database": "ok", "version": APP_VERSION, "schema_revision": None}
    status = 200
    try:
        # A connection of its own: the request's session stays untouched, and a broken
        # connection goes back to the pool invalidated instead of into a later request.
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            body["schema_revision"] = schema_revision(connection)
    except SQLAlchemyError as exc:
        # The driver's class only: its message may name hosts and users of the database.
        log.warning("health check: database unreachable (%s)",
                    type(getattr(exc, "orig", None) or exc).__name__)
        body.update(status="error", database="unreachable")
        status = 503
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
