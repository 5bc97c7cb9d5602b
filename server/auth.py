"""Web login for the office view (camat and operator), with CSRF and rate limiting."""
import functools

from flask import (Blueprint, abort, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from . import security
from .extensions import db
from .models import AuditEntry, User

bp = Blueprint("auth", __name__)
OFFICE_ROLES = ("camat", "operator")


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField("Nama pengguna", validators=[
        DataRequired("Nama pengguna wajib diisi."), Length(max=64),
        Regexp(r"^[^\x00-\x1f\ud800-\udfff]*$", message="Nama pengguna tidak sah.")])
    password = PasswordField("Kata sandi", validators=[
        DataRequired("Kata sandi wajib diisi."), Length(max=256)])


@bp.before_app_request
def load_logged_in_user():
    """Put the session's user (if still active) on g.user."""
    g.user = None
    if request.path.startswith(("/app/", "/api/")):
        return  # the phone app and the API never use the cookie session
    user_id = session.get("user_id")
    g.user = db.session.get(User, user_id) if user_id else None
    if g.user is not None and not g.user.active:
        session.clear()
        g.user = None


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


def audit(action, target=None, **details):
    """Record who did what (no personal data in details)."""
    user = g.get("user")
    db.session.add(AuditEntry(user_id=user.id if user else None,
                              kecamatan_code=user.kecamatan_code if user else None,
                              action=action, target=target, details=details or None))


@bp.route("/login", methods=("GET", "POST"))
def login():
    """Show and handle the office login form."""
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        address = request.remote_addr
        if security.too_many_failures(username, address):
            flash("Terlalu banyak percobaan yang gagal. Coba lagi 15 menit lagi.", "error")
            return render_template("login.html", form=form), 429
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None or not user.active or not user.check_password(form.password.data):
            security.record_failure(username, address)
            flash("Nama pengguna atau kata sandi salah.", "error")
            status = 401
        elif user.role not in OFFICE_ROLES:
            flash("Petugas lapangan memakai aplikasi HP di /app/.", "error")
            status = 403
        else:
            security.clear_failures(username, address)
            session.clear()
            session["user_id"] = user.id
            session.permanent = True
            g.user = user
            audit("login")
            db.session.commit()
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("web.index")
            return redirect(target)
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout():
    """End the office session."""
    session.clear()
    return redirect(url_for("auth.login"))
