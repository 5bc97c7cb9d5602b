"""Configuration: code defaults, then the instance file and CAH_* environment, then tests."""
import os

DEV_SECRET_KEY = "dev-only-not-secret"


class Defaults:
    """Defaults for a development or demo run on the embedded SQLite database."""

    SECRET_KEY = DEV_SECRET_KEY
    ENV_NAME = "development"  # "production" refuses to start without a real SECRET_KEY
    SQLALCHEMY_DATABASE_URI = None  # filled in with the instance-folder SQLite file
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024  # raw request body, bytes
    SYNC_MAX_BODY_BYTES = 4 * 1024 * 1024  # after gunzip
    SYNC_PAGE_SIZE = 200
    ATTACHMENT_MAX_BYTES = 3 * 1024 * 1024  # one photo, after the phone's downscaling
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = None  # None: True in production (HTTPS), False otherwise
    SESSION_COOKIE_NAME = "cah_session"
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    LOGIN_RATE_LIMIT = 5  # failed attempts per username/address ...
    LOGIN_RATE_WINDOW_SECONDS = 15 * 60  # ... within this window
    DEFAULT_KECAMATAN = "631104"
    WTF_CSRF_TIME_LIMIT = None  # a camat may keep a form open all morning


def from_environment(prefix="CAH_"):
    """Settings taken from CAH_* environment variables (CAH_DATABASE_URL, CAH_SECRET_KEY, …)."""
    mapping = {}
    for key, value in os.environ.items():
        if not key.startswith(prefix) or key == "CAH_PASSWORD":
            continue
        name = key[len(prefix):]
        if name == "DATABASE_URL":
            name = "SQLALCHEMY_DATABASE_URI"
        if name == "ENV":
            name = "ENV_NAME"
        mapping[name] = _coerce(value)
    return mapping


def _coerce(value):
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if value.isdigit():
        return int(value)
    return value


def normalise_database_url(url):
    """Accept the common postgres:// spellings and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class ConfigError(RuntimeError):
    """The configuration cannot be used (e.g. production without a real secret key)."""


def check_production(config):
    """Refuse to run in production with the development secret key or none at all."""
    if config.get("ENV_NAME") != "production":
        return
    key = config.get("SECRET_KEY") or ""
    if key == DEV_SECRET_KEY or len(key) < 32:
        raise ConfigError(
            "CAH_SECRET_KEY harus diisi kunci acak minimal 32 karakter untuk produksi "
            "(production requires a real SECRET_KEY)."
        )
