"""Security headers on every response, and login throttling (per account and per source
address, with growing delays)."""
import hashlib
import hmac
import math
from datetime import timedelta

from flask import current_app, request
from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from sync.models import as_utc, utcnow

from .extensions import db
from .models import LoginThrottle

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'; manifest-src 'self'; worker-src 'self'"
)


def init_app(app):
    """Add the security headers to every response."""

    @app.after_request
    def headers(response):
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        if current_app.config.get("SESSION_COOKIE_SECURE"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        if _is_document(response):
            # These only act on documents and workers; on every script, icon and 304 of the
            # phone shell they would cost ~600 B each over a 2G link for nothing.
            h.setdefault("Content-Security-Policy", CSP)
            h.setdefault("X-Frame-Options", "DENY")
            h.setdefault("Referrer-Policy", "same-origin")
            h.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
        return response


def _is_document(response):
    """HTML pages, SVG images and the service worker: what a CSP can govern."""
    if response.status_code == 304:
        return False
    return (response.mimetype in ("text/html", "image/svg+xml")
            or request.path.endswith("/sw.js"))


class Throttled(Exception):
    """A login attempt refused before any password check; retry_after is in whole seconds."""

    def __init__(self, retry_after):
        super().__init__(retry_after)
        self.retry_after = retry_after


def keyed_hash(kind, value):
    """HMAC-SHA256 (hex) of kind + value under the app's secret key.

    A plain hash of a username that is really a mistyped NIK could be reversed by trying the
    NIK space; a keyed one cannot without the key.
    """
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{kind}|{value}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def throttle_keys(username):
    """The (account, address) throttle keys of a login attempt from this request."""
    return (keyed_hash("account", (username or "").strip().lower()),
            keyed_hash("address", request.remote_addr or ""))


def reserve_attempt(keys, now=None):
    """Count one login attempt against each key before the password is checked.

    keys: (account key, address key). Each attempt past a key's free allowance
    (LOGIN_RATE_LIMIT, LOGIN_ADDRESS_RATE_LIMIT) makes the next one wait
    LOGIN_DELAY_BASE_SECONDS × 2^k, at most LOGIN_MAX_DELAY_SECONDS. Check and count happen
    in one transaction of their own that writes first, so parallel guesses queue on the row
    (a row lock on PostgreSQL, the write lock on SQLite) and each sees the others' counts.
    Raises Throttled (nothing counted) while a key must still wait.
    """
    cfg = current_app.config
    now = now or utcnow()
    forget_before = now - timedelta(seconds=cfg["LOGIN_RATE_WINDOW_SECONDS"])
    limits = (cfg["LOGIN_RATE_LIMIT"], cfg["LOGIN_ADDRESS_RATE_LIMIT"])
    with db.engine.connect() as conn:
        with conn.begin():  # leaving it by Throttled rolls back every count of this attempt
            dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            insert = dialect_insert(LoginThrottle)
            # Always the account key first, then the address key: a fixed lock order.
            for key in keys:
                conn.execute(insert.values(key=key, attempts=0, last_at=now)
                             .on_conflict_do_nothing(index_elements=["key"]))
            for key, limit in zip(keys, limits):
                counted = conn.execute(
                    update(LoginThrottle)
                    .where(LoginThrottle.key == key,
                           or_(LoginThrottle.blocked_until.is_(None),
                               LoginThrottle.blocked_until <= now))
                    .values(attempts=case((LoginThrottle.last_at < forget_before, 1),
                                          else_=LoginThrottle.attempts + 1),
                            last_at=now)
                    .returning(LoginThrottle.attempts)).scalar()
                if counted is None:
                    blocked_until = conn.execute(select(LoginThrottle.blocked_until)
                                                 .where(LoginThrottle.key == key)).scalar()
                    # None: the row was forgotten by a parallel clean-up just now; a retry
                    # a second later starts a new streak.
                    wait = (as_utc(blocked_until) - now).total_seconds() if blocked_until else 1
                    raise Throttled(max(1, math.ceil(wait)))
                if counted >= limit:
                    conn.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                                 .values(blocked_until=now + _delay(counted - limit)))
        with conn.begin():
            # Its own transaction, skipping rows that a running attempt holds: a clean-up
            # waiting on an attempt that waits on it would be a deadlock.
            stale = (select(LoginThrottle.key)
                     .where(LoginThrottle.last_at < forget_before,
                            or_(LoginThrottle.blocked_until.is_(None),
                                LoginThrottle.blocked_until < now))
                     .limit(500).with_for_update(skip_locked=True))
            conn.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(stale)))


def attempt_succeeded(keys):
    """The password was right: end the account's streak and refund the address its attempt."""
    account, address = keys
    limit = current_app.config["LOGIN_ADDRESS_RATE_LIMIT"]
    with db.engine.begin() as conn:
        conn.execute(update(LoginThrottle).where(LoginThrottle.key == account)
                     .values(attempts=0, blocked_until=None))
        conn.execute(update(LoginThrottle).where(LoginThrottle.key == address).values(
            attempts=case((LoginThrottle.attempts > 0, LoginThrottle.attempts - 1), else_=0),
            blocked_until=case((LoginThrottle.attempts - 1 < limit, None),
                               else_=LoginThrottle.blocked_until)))


def _delay(excess):
    cfg = current_app.config
    seconds = min(cfg["LOGIN_DELAY_BASE_SECONDS"] * 2 ** min(excess, 30),
                  cfg["LOGIN_MAX_DELAY_SECONDS"])
    return timedelta(seconds=seconds)


def wait_text(seconds):
    """An Indonesian 'try again in …' for a delay in seconds."""
    if seconds < 60:
        return f"Coba lagi dalam {seconds} detik."
    return f"Coba lagi dalam {math.ceil(seconds / 60)} menit."
