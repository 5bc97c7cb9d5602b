"""Users (create, change, deactivate, reset password, assign desa) and devices (list with the
last sync; revoke a lost phone). Camat and operator; an operator cannot touch a camat account."""
import re

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from sync.models import Client, utcnow

from ..auth import audit, end_office_sessions, office_login_required
from ..bounds import PlainText
from ..extensions import db
from ..models import ROLE_LABELS, Assignment, User, Wilayah
from ..passwords import MAX_LENGTH, password_problem
from ..wilayah import desa_of
from . import bp
from .operations import ActionForm, no_nul
from .submissions import once

USERNAME = Regexp(r"^[a-z0-9][a-z0-9._-]*$",
                  message="Hanya huruf kecil, angka, titik, garis bawah atau tanda hubung.")


class ChoiceField(SelectField):
    """A select whose refusal is in Indonesian."""

    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError("Pilihan tidak sah.")


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (desa of the kecamatan only)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        allowed = {value for value, _label in self.choices}
        if any(value not in allowed for value in self.data or ()):
            raise ValidationError("Desa ini bukan bagian dari kecamatan Anda.")


def _strong_password(form, field):
    """The password rules of server/passwords.py; the account's own names may not carry it."""
    account = getattr(form, "account", None)
    words = [account.username, account.full_name] if account is not None else [
        getattr(form, "username", None) and form.username.data,
        getattr(form, "full_name", None) and form.full_name.data]
    problem = password_problem(field.data or "", [w for w in words if w])
    if problem:
        raise ValidationError(problem)


def _password_fields():
    return (PasswordField("Kata sandi", description="Minimal 10 karakter; bukan kata sandi umum.",
                          validators=[DataRequired("Kata sandi wajib diisi."),
                                      Length(max=MAX_LENGTH, message="Kata sandi terlalu panjang."),
                                      _strong_password]),
            PasswordField("Ulangi kata sandi", validators=[
                EqualTo("password", message="Kedua kata sandi tidak sama.")]))


class NewUserForm(FlaskForm):
    """A new account of the kecamatan."""

    username = StringField("Nama pengguna", filters=[no_nul], validators=[
        DataRequired("Nama pengguna wajib diisi."),
        Length(min=3, max=64, message="Nama pengguna 3 sampai 64 karakter."), USERNAME])
    full_name = StringField("Nama lengkap", filters=[no_nul], validators=[
        DataRequired("Nama lengkap wajib diisi."), Length(max=120, message="Nama terlalu panjang."),
        PlainText()])
    role = ChoiceField("Peran")
    password, password2 = _password_fields()
    desa = MultiCheckboxField("Desa tugas (untuk petugas)")


class EditUserForm(FlaskForm):
    """Name, role and desa of an account."""

    full_name = StringField("Nama lengkap", filters=[no_nul], validators=[
        DataRequired("Nama lengkap wajib diisi."), Length(max=120, message="Nama terlalu panjang."),
        PlainText()])
    role = ChoiceField("Peran")
    desa = MultiCheckboxField("Desa tugas (untuk petugas)")


class PasswordForm(FlaskForm):
    """A new password set by the camat or operator (form.account: the User it is for)."""

    password, password2 = _password_fields()
    revoke_devices = BooleanField("Keluarkan juga semua HP yang masuk dengan akun ini "
                                  "(data yang belum terkirim dari HP itu hilang)")


def _role_choices():
    roles = ("petugas", "operator", "camat") if g.user.role == "camat" else ("petugas", "operator")
    return [(r, ROLE_LABELS[r]) for r in roles]


def _desa_choices():
    return [(d.code, d.name) for d in desa_of(db.session, g.user.kecamatan_code)]


def _managed_user(user_id):
    """A user of the same kecamatan that the current user may manage (404 / 403 otherwise)."""
    user = db.session.get(User, user_id)
    if user is None or user.kecamatan_code != g.user.kecamatan_code:
        abort(404)
    if user.role == "camat" and g.user.role != "camat":
        abort(403)  # an operator cannot change, lock out or take over the camat's account
    return user


def _set_desa(user, codes):
    wanted = set(codes) if user.role == "petugas" else set()
    for assignment in list(user.assignments):
        if assignment.desa_code not in wanted:
            user.assignments.remove(assignment)
    have = {a.desa_code for a in user.assignments}
    user.assignments.extend(Assignment(desa_code=c) for c in sorted(wanted - have))


def _revoke_devices(user, reason):
    clients = db.session.execute(select(Client).where(
        Client.user_id == user.id, Client.revoked_at.is_(None))).scalars().all()
    for c in clients:
        c.revoked_at = utcnow()
        audit("revoke_device", target=f"client:{c.client_id}", user=user.id, reason=reason,
              kecamatan_code=user.kecamatan_code)
    return len(clients)


def deactivate_account(user):
    """Lock an account (the office's "Nonaktifkan" and `pakkedes deactivate-user`): no more
    logins, every office session of the user ended, its phones' tokens revoked (each audited
    revoke_device). Returns (sessions ended, devices revoked); the caller audits
    deactivate_user and commits."""
    user.active = False
    ended = end_office_sessions(user.id)
    return ended, _revoke_devices(user, "user_deactivated")


def _active_devices(user):
    return len(db.session.execute(select(Client.client_id).where(
        Client.user_id == user.id, Client.revoked_at.is_(None))).all())


# ------------------------------------------------------------------------------ users

@bp.get("/users")
@office_login_required
def users():
    """The accounts of the kecamatan."""
    rows = db.session.execute(select(User).where(User.kecamatan_code == g.user.kecamatan_code)
                              .order_by(User.active.desc(), User.role, User.full_name)).scalars().all()
    names = {d.code: d.name for d in desa_of(db.session, g.user.kecamatan_code)}
    return render_template("users.html", users=rows, desa_names=names, role_labels=ROLE_LABELS,
                           kecamatan=db.session.get(Wilayah, g.user.kecamatan_code),
                           action_form=ActionForm())


@bp.route("/users/new", methods=("GET", "POST"))
@office_login_required
@once
def user_new():
    """Create an account in the kecamatan."""
    form = NewUserForm()
    form.role.choices = _role_choices()
    form.desa.choices = _desa_choices()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        if db.session.execute(select(User.id).where(User.username == username)).first():
            form.username.errors.append("Nama pengguna ini sudah dipakai.")
        else:
            user = User(username=username, full_name=form.full_name.data.strip(),
                        role=form.role.data, kecamatan_code=g.user.kecamatan_code, active=True)
            user.set_password(form.password.data)
            db.session.add(user)
            _set_desa(user, form.desa.data)
            db.session.flush()
            audit("create_user", target=f"user:{user.id}", role=user.role,
                  desa=sorted(user.desa_codes))
            db.session.commit()
            flash(f"Akun {user.username} ({ROLE_LABELS[user.role]}) dibuat.", "info")
            return redirect(url_for("web.users"), code=303)
    if request.method == "POST":
        status = 400
    return render_template("user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=("GET", "POST"))
@office_login_required
@once
def user_edit(user_id):
    """Change name, role and desa; reset the password; deactivate or reactivate."""
    user = _managed_user(user_id)
    form = EditUserForm(obj=user if request.method == "GET" else None)
    form.role.choices = _role_choices()
    if user.role not in dict(form.role.choices):
        form.role.choices.append((user.role, ROLE_LABELS[user.role]))
    form.desa.choices = _desa_choices()
    if request.method == "GET":
        form.desa.data = sorted(user.desa_codes)
    status = 200
    if form.validate_on_submit():
        if user.id == g.user.id and form.role.data != user.role:
            form.role.errors.append("Anda tidak dapat mengubah peran akun Anda sendiri.")
        else:
            before = (user.full_name, user.role, sorted(user.desa_codes))
            user.full_name = form.full_name.data.strip()
            user.role = form.role.data
            _set_desa(user, form.desa.data)
            revoked = 0
            if before[1] == "petugas" and user.role != "petugas":
                revoked = _revoke_devices(user, "role_changed")
            if before[1] != user.role:
                end_office_sessions(user.id)  # what the old role allowed ends now
            audit("update_user", target=f"user:{user.id}", role=user.role,
                  desa=sorted(user.desa_codes), role_changed=before[1] != user.role,
                  name_changed=before[0] != user.full_name)
            db.session.commit()
            msg = f"Perubahan akun {user.username} disimpan."
            if sorted(user.desa_codes) != before[2] and user.role == "petugas":
                msg += " HP petugas menerima desa tugas baru saat sinkron berikutnya."
            if revoked:
                msg += f" {revoked} perangkat HP-nya dicabut."
            flash(msg, "info")
            return redirect(url_for("web.user_edit", user_id=user.id), code=303)
    if request.method == "POST":
        status = 400
    devices = db.session.execute(select(Client).where(Client.user_id == user.id)
                                 .order_by(Client.created_at.desc())).scalars().all()
    return render_template("user_form.html", form=form, user=user, devices=devices,
                           password_form=PasswordForm(), action_form=ActionForm(),
                           role_labels=ROLE_LABELS), status


@bp.post("/users/<int:user_id>/password")
@office_login_required
@once
def user_password(user_id):
    """Set a new password for the account (the person changes it with the one who set it)."""
    user = _managed_user(user_id)
    form = PasswordForm()
    form.account = user
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        for errors in (form.password.errors, form.password2.errors):
            for e in errors:
                flash(e, "error")
        return redirect(url_for("web.user_edit", user_id=user.id), code=303)
    user.set_password(form.password.data)
    # Whoever knew the old password is logged out of the office view at once; the person
    # changing their own password keeps this browser.
    ended = end_office_sessions(user.id, keep_current=True)
    # Phones stay logged in unless asked: a token does not depend on the password, and a
    # revoked phone loses the work it has not sent yet (a reset is mostly a forgotten password).
    revoked = _revoke_devices(user, "password_reset") if form.revoke_devices.data else 0
    audit("reset_password", target=f"user:{user.id}", sessions_ended=ended,
          devices_revoked=revoked)
    db.session.commit()
    msg = (f"Kata sandi {user.username} diganti. Sampaikan kata sandi baru secara langsung, "
           "bukan lewat pesan.")
    if revoked:
        msg += f" {revoked} HP-nya dikeluarkan."
    elif user.role == "petugas":
        active = _active_devices(user)
        if active:
            msg += (f" {active} HP yang sudah masuk tetap masuk; keluarkan di daftar perangkat "
                    "bila HP itu hilang.")
    flash(msg, "info")
    return redirect(url_for("web.user_edit", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/deactivate")
@office_login_required
@once
def user_deactivate(user_id):
    """Lock an account: no more logins; its phones' tokens are revoked at once."""
    user = _managed_user(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if user.id == g.user.id:
        flash("Anda tidak dapat menonaktifkan akun Anda sendiri.", "error")
        return redirect(url_for("web.user_edit", user_id=user.id), code=303)
    _ended, revoked = deactivate_account(user)
    audit("deactivate_user", target=f"user:{user.id}", devices_revoked=revoked)
    db.session.commit()
    flash(f"Akun {user.username} dinonaktifkan; {revoked} perangkat dicabut.", "info")
    return redirect(url_for("web.users"), code=303)


@bp.post("/users/<int:user_id>/activate")
@office_login_required
@once
def user_activate(user_id):
    """Unlock an account (its old phone tokens stay revoked: the phone logs in again)."""
    user = _managed_user(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    user.active = True
    audit("activate_user", target=f"user:{user.id}")
    db.session.commit()
    flash(f"Akun {user.username} diaktifkan kembali.", "info")
    return redirect(url_for("web.users"), code=303)


# ------------------------------------------------------------------------------ devices

def _kecamatan_devices():
    query = (select(Client, User).join(User, User.id == Client.user_id)
             .where(User.kecamatan_code == g.user.kecamatan_code)
             .order_by(Client.revoked_at.is_not(None), Client.last_sync_at.desc().nulls_last(),
                       Client.created_at.desc()))
    return db.session.execute(query).all()


@bp.get("/devices")
@office_login_required
def devices():
    """The officers' phones with their last sync; revoke a lost one."""
    return render_template("devices.html", devices=_kecamatan_devices(), action_form=ActionForm(),
                           now=utcnow())


def _device(client_id):
    client_id = client_id[:36]
    if not re.fullmatch(r"[0-9a-fA-F-]{1,36}", client_id):
        abort(404)
    client = db.session.get(Client, client_id)
    user = db.session.get(User, client.user_id) if client else None
    if client is None or user is None or user.kecamatan_code != g.user.kecamatan_code:
        abort(404)
    return client, user


@bp.route("/devices/<client_id>/revoke", methods=("GET", "POST"))
@office_login_required
@once
def device_revoke(client_id):
    """Confirm, then revoke a device token (a lost or stolen phone)."""
    client, user = _device(client_id)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if client.revoked_at is None:
            client.revoked_at = utcnow()
            audit("revoke_device", target=f"client:{client.client_id}", user=user.id,
                  reason="office")
            db.session.commit()
        flash(f"Perangkat \u201c{client.device_label or 'HP'}\u201d milik {user.full_name} dicabut. "
              "Token-nya langsung tidak berlaku. Data yang belum pernah disinkronkan dari HP itu "
              "tidak dapat dipulihkan.", "info")
        return redirect(url_for("web.devices"), code=303)
    return render_template("device_revoke.html", client=client, owner=user, form=form)
