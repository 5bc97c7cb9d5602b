"""Web login for the office view (camat and operator) and Disdukcapil's area (server/
registry/): server-side office sessions, CSRF, throttling, the `next=` check; the shared
password check of web and device login."""
import functools
import hashlib
import posixpath
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy import delete, or_, select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from sync.models import as_utc, utcnow

from . import security
from .extensions import db
from .models import AuditEntry, OfficeSession, User
from .passwords import verify_password

bp = Blueprint("auth", __name__)
OFFICE_ROLES = ("camat", "operator")
# Roles that log in on the web: the office's, and Disdukcapil's (its own area, /disdukcapil).
WEB_ROLES = OFFICE_ROLES + ("disdukcapil",)
SESSION_ID = "sid"  # the cookie holds only this random id; the rest lives in office_sessions
SEEN_RESOLUTION = timedelta(minutes=1)


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField("Nama pengguna", validators=[
        DataRequired("Nama pengguna wajib diisi."), Length(max=64),
        Regexp(r"^[^\x00-\x1f\ud800-\udfff]*$", message="Nama pengguna tidak sah.")])
    password = PasswordField("Kata sandi", validators=[
        DataRequired("Kata sandi wajib diisi."), Length(max=256)])


@bp.before_app_request
def load_logged_in_user():
    """Put the session's user on g.user when its server-side office session is still valid."""
    g.user = None
    g.office_session = None
    if request.path.startswith(("/app/", "/api/")):
        return  # the phone app and the API never use the cookie session
    sid = session.get(SESSION_ID)
    if not isinstance(sid, str) or not sid:
        return  # whatever else a cookie holds (an old {"user_id": …}) is never a login
    row = db.session.get(OfficeSession, _sid_hash(sid))
    now = utcnow()
    if row is None or _expired(row, now) or not row.user.active:
        if row is not None:
            db.session.delete(row)
            db.session.commit()
        session.clear()
        return
    if now - as_utc(row.last_seen_at) > SEEN_RESOLUTION:
        row.last_seen_at = now  # at most one write a minute per browser
        db.session.commit()
    g.user, g.office_session = row.user, row


def _limits():
    cfg = current_app.config
    lifetime = cfg["PERMANENT_SESSION_LIFETIME"]
    lifetime = lifetime if isinstance(lifetime, timedelta) else timedelta(seconds=lifetime)
    return lifetime, timedelta(seconds=cfg["SESSION_IDLE_SECONDS"])


def _expired(row, now):
    lifetime, idle = _limits()
    return now - as_utc(row.created_at) > lifetime or now - as_utc(row.last_seen_at) > idle


def purge_expired_sessions(now):
    """Delete office sessions past their lifetime or idle limit at `now` (aware UTC): a
    browser that never comes back (cookies cleared, a script) leaves its row otherwise.
    Returns the number deleted; the caller commits."""
    lifetime, idle = _limits()
    return db.session.execute(delete(OfficeSession).where(or_(
        OfficeSession.created_at < now - lifetime,
        OfficeSession.last_seen_at < now - idle))).rowcount or 0


def _sid_hash(sid):
    return hashlib.sha256(sid.encode("utf-8", "surrogatepass")).hexdigest()


def start_office_session(user):
    """Log this browser in as user: a new random session id (never reuse one from before)."""
    session.clear()
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(OfficeSession(id_hash=_sid_hash(sid), user_id=user.id, created_at=now,
                                 last_seen_at=now))
    session[SESSION_ID] = sid
    session.permanent = True
    g.user = user


def end_office_sessions(user_id, keep_current=False):
    """End every office session of the user at once (the caller commits).

    keep_current: spare the session of this request (someone changing their own password
    stays logged in here and is logged out everywhere else). Returns the number ended.
    """
    query = delete(OfficeSession).where(OfficeSession.user_id == user_id)
    current = g.get("office_session")
    if keep_current and current is not None and current.user_id == user_id:
        query = query.where(OfficeSession.id_hash != current.id_hash)
    return db.session.execute(query).rowcount


def safe_next(target):
    """target when it is a path of this site, else None.

    Only "/" followed by printable, non-space ASCII without a backslash, and not "//":
    browsers drop tabs and newlines and read "\\" as "/", so next=/%09/evil.example (a tab)
    would become the other site "//evil.example".
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > 2000:
        return None
    if any(not 0x21 <= ord(ch) <= 0x7e or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if target.startswith("//") or parts.scheme or parts.netloc:
        return None
    return target


REGISTRY_PREFIX = "/disdukcapil"


def next_for(user, target):
    """target (a safe_next path) when the user's role may open it, else None (their home).

    A Disdukcapil user goes only inside /disdukcapil; camat and operator never there: a
    next= into the other side's area would only end on a 403 page.
    """
    if target is None:
        return None
    path = urlsplit(target).path
    if "%2e" in path.lower():
        return None  # an encoded dot segment: where the browser ends cannot be told here
    # The path the browser will open: "/disdukcapil/../users" is /users.
    path = posixpath.normpath(path) if path else path
    inside = path == REGISTRY_PREFIX or path.startswith(REGISTRY_PREFIX + "/")
    return target if inside == (user.role == "disdukcapil") else None


def office_login_required(view):
    """Only a logged-in camat or operator may open the office view."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.path))
        if g.user.role not in OFFICE_ROLES:
            abort(403)
        return view(**kwargs)

    return wrapped


def home_url(user):
    """The page a user lands on after login: Disdukcapil's recap, the office's home for the
    others."""
    return url_for("registry.dashboard" if user.role == "disdukcapil" else "web.index")


def audit(action, target=None, *, kecamatan_code=None, **details):
    """Record who did what (no personal data in details). The entry belongs to the logged-in
    user's kecamatan; kecamatan_code is the one used when nobody is logged in (a `pakkedes`
    command), so that kecamatan's audit log still shows it."""
    user = g.get("user")
    db.session.add(AuditEntry(user_id=user.id if user else None,
                              kecamatan_code=user.kecamatan_code if user else kecamatan_code,
                              action=action, target=target, details=details or None))


def check_login(username, password, channel):
    """The active user with this username and password, or a refusal.

    Counts the attempt in the login throttle first (per account and per source address),
    checks the password (a dummy hash for unknown users, so both take as long), and audits a
    failure. channel: "web" or "device". Returns User. Raises security.Throttled, or
    LoginFailed when the username, password or account state is wrong.
    """
    keys = security.throttle_keys(username)
    security.reserve_attempt(keys)
    user = db.session.execute(select(User).where(User.username == username.strip())
                              ).scalar_one_or_none()
    valid = verify_password(user.password_hash if user else None, password)
    if not valid or not user.active:
        _audit_failure(user, username, channel)
        db.session.commit()
        raise LoginFailed()
    security.attempt_succeeded(keys)
    return user


class LoginFailed(Exception):
    """Wrong username or password, or a deactivated account (all answered alike)."""


def _audit_failure(user, username, channel):
    # The typed name may be a mistyped NIK: only a keyed hash of it is kept, which still tells
    # repeated guesses at one name apart. No password, no address in clear.
    details = {"channel": channel}
    if user is None:
        details["username_hmac"] = security.keyed_hash("audit-username", username.strip())[:16]
    elif not user.active:
        details["reason"] = "inactive"
    db.session.add(AuditEntry(user_id=None, kecamatan_code=user.kecamatan_code if user else None,
                              action="login_failed", target=f"user:{user.id}" if user else None,
                              details=details))


@bp.route("/login", methods=("GET", "POST"))
def login():
    """Show and handle the office login form."""
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = check_login(form.username.data, form.password.data, "web")
        except security.Throttled as refused:
            flash("Terlalu banyak percobaan yang gagal. " + security.wait_text(refused.retry_after),
                  "error")
            return (render_template("login.html", form=form), 429,
                    {"Retry-After": str(refused.retry_after)})
        except LoginFailed:
            flash("Nama pengguna atau kata sandi salah.", "error")
            return render_template("login.html", form=form), 401
        if user.role not in WEB_ROLES:
            flash("Petugas lapangan memakai aplikasi HP di /app/.", "error")
            return render_template("login.html", form=form), 403
        start_office_session(user)
        audit("login")
        db.session.commit()
        return redirect(next_for(user, safe_next(request.args.get("next"))) or home_url(user))
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout():
    """End the office session: its server-side record goes, so a copied cookie is dead too."""
    if g.get("office_session") is not None:
        db.session.delete(g.office_session)
        db.session.commit()
    session.clear()
    return redirect(url_for("auth.login"))
