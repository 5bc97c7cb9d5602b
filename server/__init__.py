"""CAH server: the Flask application factory."""
import os

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from . import api, auth, bounds, config as cfg, errors, formatting, pwa, registry, security, web
from .extensions import db, init_app as init_extensions


def create_app(test_config=None, *, instance_path=None):
    """Build the app: defaults → instance config.py / CAH_* environment → test_config.

    instance_path: the folder of config.py, the generated secret_key and the default SQLite
    file (else CAH_INSTANCE_PATH, else Flask's default). Raises config.ConfigError for an unknown CAH_ENV or a
    guessable SECRET_KEY; with no key configured one is generated once in the instance folder.
    """
    # An installed package would otherwise keep its instance folder inside the venv, which a
    # hardened service cannot write (docs/deploy.md sets CAH_INSTANCE_PATH=/var/lib/cah).
    instance_path = instance_path or os.environ.get("CAH_INSTANCE_PATH") or None
    if instance_path:
        instance_path = os.path.abspath(instance_path)
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_object(cfg.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(cfg.from_environment())
    if test_config:
        app.config.update(test_config)
    cfg.check_environment(app.config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = cfg.instance_secret_key(app.instance_path)
    cfg.check_secret_key(app.config["SECRET_KEY"])
    if app.config["TRUSTED_PROXIES"]:
        # Only as many X-Forwarded-* hops as there are proxies of ours: a client cannot
        # choose its own address for the login throttle.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
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

    formatting.register(app)
    app.url_map.converters["int"] = bounds.IdConverter  # every <int:id> inside the id columns
    app.url_map.converters["default"] = bounds.TextConverter  # every <name>: no control
    app.url_map.converters["string"] = bounds.TextConverter  # characters in path segments
    app.register_blueprint(auth.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(registry.bp)
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
