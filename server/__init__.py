"""CAH server: the Flask application factory."""
import os

from flask import Flask
from sqlalchemy import event

from . import config as cfg
from .extensions import db, init_app as init_extensions


def create_app(test_config=None):
    """Build the app: defaults → instance config.py / CAH_* environment → test_config."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(cfg.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(cfg.from_environment())
    if test_config:
        app.config.update(test_config)
    cfg.check_production(app.config)
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = app.config["ENV_NAME"] == "production"

    url = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        url = "sqlite:///" + os.path.join(app.instance_path, "cah.sqlite")
    app.config["SQLALCHEMY_DATABASE_URI"] = cfg.normalise_database_url(url)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 30})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

    init_extensions(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)

    from . import api, auth, errors, formatting, pwa, security, web
    formatting.register(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(pwa.bp)
    security.init_app(app)
    errors.init_app(app)
    return app


def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets the camat read while a phone syncs; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
