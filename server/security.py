"""Security headers on every response, and login rate limiting."""
import hashlib
from datetime import timedelta

from flask import current_app, request
from sqlalchemy import delete, func, select

from .extensions import db
from .models import LoginFailure, utcnow

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


def _key(username, address):
    raw = f"{(username or '').strip().lower()}|{address or ''}"
    return hashlib.sha256(raw.encode()).hexdigest()


def too_many_failures(username, address):
    """True when this username from this address failed too often recently."""
    cfg = current_app.config
    since = utcnow() - timedelta(seconds=cfg["LOGIN_RATE_WINDOW_SECONDS"])
    count = db.session.execute(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.key == _key(username, address), LoginFailure.at >= since)
    ).scalar_one()
    return count >= cfg["LOGIN_RATE_LIMIT"]


def record_failure(username, address):
    """Remember one failed login (hashed key only: no usernames stored in clear)."""
    db.session.add(LoginFailure(key=_key(username, address)))
    cutoff = utcnow() - timedelta(days=1)
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < cutoff))
    db.session.commit()


def clear_failures(username, address):
    """Forget the failures after a successful login."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == _key(username, address)))
