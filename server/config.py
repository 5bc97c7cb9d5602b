"""Configuration: code defaults, then the instance file and CAH_* environment, then tests;
the environment name and session-key checks."""
import collections
import math
import os
import secrets
import tempfile

from zxcvbn import zxcvbn

ENVIRONMENTS = ("development", "production", "testing")
KEY_FILE = "secret_key"
MIN_KEY_LENGTH = 32
MIN_KEY_BITS = 100  # characters × their observed Shannon entropy
MIN_KEY_GUESSES_LOG10 = 18  # zxcvbn: patterns such as "0123456789abcdef" repeated


class Defaults:
    """Defaults for a development or demo run on the embedded SQLite database."""

    SECRET_KEY = None  # None: a random key generated once in the instance folder
    ENV_NAME = "development"  # "production": secure cookies and HSTS (HTTPS in front)
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
    PERMANENT_SESSION_LIFETIME = 8 * 3600  # seconds from login; also enforced server-side
    SESSION_IDLE_SECONDS = 4 * 3600  # an office session unused this long ends
    LOGIN_RATE_LIMIT = 5  # attempts per account before each further one must wait ...
    LOGIN_ADDRESS_RATE_LIMIT = 30  # ... and per source address (an office NAT is many people)
    LOGIN_DELAY_BASE_SECONDS = 2  # the first wait; it doubles with every further attempt ...
    LOGIN_MAX_DELAY_SECONDS = 15 * 60  # ... up to this
    LOGIN_RATE_WINDOW_SECONDS = 3600  # a streak with no attempt for this long is forgotten
    TRUSTED_PROXIES = 0  # reverse proxies in front whose X-Forwarded-For/-Proto are believed
    DEFAULT_KECAMATAN = "631104"
    REJECTED_RETENTION_DAYS = 90  # rejected mutations (personal data) are deleted after this
    RETENTION_PURGE_INTERVAL_HOURS = 6  # each worker purges at most this often; 0: only the CLI
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
        # A key or environment name made only of digits must stay the string it was.
        mapping[name] = value if name in ("SECRET_KEY", "ENV_NAME") else _coerce(value)
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


def check_environment(config):
    """Refuse an unknown CAH_ENV: a misspelt "prodution" must not quietly run as development.

    Raises ConfigError.
    """
    name = config.get("ENV_NAME")
    if name not in ENVIRONMENTS:
        raise ConfigError(
            f"CAH_ENV={name!r} tidak dikenal; pilih salah satu: {', '.join(ENVIRONMENTS)} "
            f"(unknown CAH_ENV)."
        )


def check_secret_key(key):
    """Refuse a session key that could be guessed: whoever knows it can sign a cookie.

    key: str. Accepted when it has at least MIN_KEY_LENGTH characters, at least MIN_KEY_BITS
    bits by its character frequencies, and zxcvbn finds no cheap pattern in it
    (≥ 10^MIN_KEY_GUESSES_LOG10 guesses). Raises ConfigError otherwise.
    """
    if not isinstance(key, str) or len(key) < MIN_KEY_LENGTH:
        reason = f"minimal {MIN_KEY_LENGTH} karakter"
    elif estimated_bits(key) < MIN_KEY_BITS:
        reason = "terlalu banyak karakter berulang"
    elif zxcvbn(key[:64])["guesses_log10"] < MIN_KEY_GUESSES_LOG10:  # zxcvbn stops at 72
        reason = "berpola dan mudah ditebak"
    else:
        return
    raise ConfigError(
        f"CAH_SECRET_KEY terlalu lemah ({reason}). Hapus saja agar kunci acak dibuat di folder "
        f"instance, atau isi dengan keluaran `python -c \"import secrets; "
        f"print(secrets.token_urlsafe(48))\"` (weak session key refused)."
    )


def estimated_bits(text):
    """Length × Shannon entropy of the text's own character frequencies, in bits."""
    counts = collections.Counter(text)
    n = len(text)
    return -sum(c * math.log2(c / n) for c in counts.values())


def instance_secret_key(instance_path):
    """The key kept in instance_path/secret_key, generated (mode 0600) on the first start.

    Returns str. Raises ConfigError when the file can be read by others or is unusable.
    """
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, KEY_FILE)
    if not os.path.exists(path):
        # Written whole under a temporary name, then linked: of two processes starting at
        # once, one key wins and neither ever reads a half-written file.
        fd, temporary = tempfile.mkstemp(dir=instance_path, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as handle:  # mkstemp creates it with mode 0600
                handle.write(secrets.token_urlsafe(48) + "\n")
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    mode = os.stat(path).st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(
            f"{path} dapat dibaca pengguna lain (mode {mode:o}); jalankan `chmod 600 {path}` "
            f"(the secret_key file must be private)."
        )
    with open(path, encoding="utf-8") as handle:
        key = handle.read().strip()
    if not key:
        raise ConfigError(f"{path} kosong; hapus berkas itu agar kunci baru dibuat.")
    return key
