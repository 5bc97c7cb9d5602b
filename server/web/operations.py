"""Operations (aksi) and assignments — SOP step 1: create an operation with its desa, targets
and standard step times; assign officers to desa. The list import is in imports.py."""
import functools
import re

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from sync.models import utcnow

from ..auth import audit, office_login_required
from ..bounds import PlainText, id_value
from ..extensions import db
from ..models import Assignment, User, Wilayah
from ..operations import (
    DEFAULT_STEP_MINUTES,
    SOP_STEPS,
    Operation,
    OperationDesa,
    get_operation,
    operations_of,
    overlapping_desa,
    petugas_of,
)
from ..statistics import case_counts, desa_case_counts
from ..wilayah import desa_of
from . import bp
from .common import DayField
from .submissions import once

# ------------------------------------------------------------------------------ shared helpers

def roles_required(*roles):
    """Office view limited further to some roles (e.g. only the camat creates operations)."""

    def decorator(view):
        @functools.wraps(view)
        @office_login_required
        def wrapped(**kwargs):
            if g.user.role not in roles:
                abort(403)
            return view(**kwargs)
        return wrapped
    return decorator


def no_nul(value):
    """WTForms filter: drop NUL characters (PostgreSQL refuses them in text)."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class ActionForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something."""


def operation_or_404(op_id):
    """The operation if it is of the user's kecamatan; another kecamatan's is a 404."""
    op = get_operation(db.session, op_id, g.user.kecamatan_code)
    if op is None:
        abort(404)
    return op


# ------------------------------------------------------------------------------ forms

class LooseIntegerField(IntegerField):
    """An integer that may be typed as 1.234 (Indonesian thousands separator): a text box,
    since a browser's number box would read 1.234 as one point two three four."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = re.sub(r"[.\s]", "", valuelist[0] or "")
        if raw == "":
            self.data = None
            return
        try:
            self.data = int(raw)
        except ValueError:
            self.data = None
            raise ValueError("Isi dengan bilangan bulat, mis. 120.") from None


class DesaTargetForm(Form):
    """One desa row of the operation form (no CSRF: it sits inside the main form)."""

    code = HiddenField()
    include = BooleanField()
    target = LooseIntegerField(validators=[Optional(), NumberRange(
        min=0, max=1_000_000, message="Target tidak boleh negatif.")])


def _step_field(number):
    return LooseIntegerField(f"Langkah {number}", validators=[Optional(), NumberRange(
        min=1, max=100_000, message="Waktu baku minimal 1 menit.")])


class OperationForm(FlaskForm):
    """Name, period, desa with targets, standard minutes per SOP step."""

    name = StringField("Nama aksi", filters=[no_nul], validators=[
        DataRequired("Nama aksi wajib diisi."), PlainText(),
        Length(max=120, message="Nama aksi terlalu panjang.")])
    # InputRequired, not DataRequired: the latter would hide "Tanggal tidak sah" behind "wajib".
    start_date = DayField("Tanggal mulai", validators=[
        InputRequired("Tanggal mulai wajib diisi.")])
    end_date = DayField("Tanggal selesai", validators=[
        InputRequired("Tanggal selesai wajib diisi.")])
    active = BooleanField("Aktif (dikirim ke HP petugas)", default=True)
    desa = FieldList(FormField(DesaTargetForm))
    step_1 = _step_field(1)
    step_2 = _step_field(2)
    step_3 = _step_field(3)
    step_4 = _step_field(4)
    step_5 = _step_field(5)
    step_6 = _step_field(6)
    step_7 = _step_field(7)

    def step_fields(self):
        """(number, label, field) per SOP step."""
        return [(n, label, getattr(self, f"step_{n}")) for n, label, _m in SOP_STEPS]


class AssignForm(FlaskForm):
    """Assign an officer to a desa of the operation."""

    officer = SelectField("Petugas", coerce=int, validate_choice=False)
    desa_code = SelectField("Desa", validate_choice=False)


class ImportForm(FlaskForm):
    """Upload a list of residents (XLSX or CSV)."""

    file = FileField("Berkas daftar warga (XLSX atau CSV)", validators=[
        FileRequired("Pilih berkas XLSX atau CSV."),
        FileAllowed(["xlsx", "csv"], "Hanya berkas .xlsx atau .csv yang diterima.")])


def _fill_desa_rows(form, desa_list, op=None):
    targets = {d.desa_code: d.target for d in op.desa} if op else {}
    while len(form.desa.entries):
        form.desa.pop_entry()
    for d in desa_list:
        form.desa.append_entry({"code": d.code, "include": d.code in targets,
                                "target": targets.get(d.code)})


def _form_errors(form, desa_list, op_id=None):
    """Checks across fields; returns False (with errors on the fields) when the form is wrong."""
    ok = True
    if form.start_date.data and form.end_date.data and form.end_date.data < form.start_date.data:
        form.end_date.errors.append("Tanggal selesai tidak boleh sebelum tanggal mulai.")
        ok = False
    known = {d.code for d in desa_list}
    chosen = []
    for entry in form.desa.entries:
        sub = entry.form
        if sub.code.data not in known:
            abort(400)  # a desa of another kecamatan was slipped into the form
        if sub.include.data:
            if sub.target.data is None:
                sub.target.errors.append("Isi target desa ini (boleh 0).")
                ok = False
            chosen.append(sub.code.data)
    if not chosen:
        form.desa.errors.append("Pilih paling sedikit satu desa.")
        ok = False
    if form.active.data and chosen:
        clash = overlapping_desa(db.session, g.user.kecamatan_code, chosen, exclude_id=op_id)
        for entry in form.desa.entries:
            other = clash.get(entry.form.code.data)
            if other is not None:
                entry.form.include.errors.append(
                    f"Desa ini sudah termasuk aksi aktif lain: {other.name}.")
                ok = False
    return ok


def _save(form, op):
    op.name = form.name.data.strip()
    op.start_date, op.end_date = form.start_date.data, form.end_date.data
    op.active = bool(form.active.data)
    op.step_minutes = {str(n): f.data for n, _l, f in form.step_fields() if f.data is not None}
    wanted = {e.form.code.data: e.form.target.data for e in form.desa.entries if e.form.include.data}
    for row in list(op.desa):
        if row.desa_code not in wanted:
            op.desa.remove(row)
        else:
            row.target = wanted.pop(row.desa_code)
    for code, target in wanted.items():
        op.desa.append(OperationDesa(desa_code=code, target=target))


# ------------------------------------------------------------------------------ pages

@bp.get("/operations")
@office_login_required
def operations():
    """The kecamatan's operations."""
    ops = operations_of(db.session, g.user.kecamatan_code)
    counts = case_counts(db.session, [o.id for o in ops])
    return render_template("operations.html", operations=ops, counts=counts,
                           kecamatan=db.session.get(Wilayah, g.user.kecamatan_code))


@bp.route("/operations/new", methods=("GET", "POST"))
@roles_required("camat")
@once
def operation_new():
    """Create an operation (camat only)."""
    desa_list = desa_of(db.session, g.user.kecamatan_code)
    form = OperationForm()
    if request.method == "GET":
        for n, _label, f in form.step_fields():
            f.data = DEFAULT_STEP_MINUTES.get(str(n))
        _fill_desa_rows(form, desa_list)
        today = utcnow().date()
        form.start_date.data = today
    status = 200
    if form.validate_on_submit() and _form_errors(form, desa_list):
        op = Operation(kecamatan_code=g.user.kecamatan_code, created_by=g.user.id,
                       created_at=utcnow())
        _save(form, op)
        db.session.add(op)
        db.session.flush()
        audit("create_operation", target=f"operation:{op.id}", desa=len(op.desa),
              target_total=op.target_total)
        db.session.commit()
        flash(f"Aksi \u201c{op.name}\u201d dibuat. Sekarang tugaskan petugas ke desanya.", "info")
        return redirect(url_for("web.operation_detail", op_id=op.id))
    if request.method == "POST":
        status = 400
    return render_template("operation_form.html", form=form, op=None,
                           desa_names={d.code: d.name for d in desa_list}), status


@bp.route("/operations/<int:op_id>/edit", methods=("GET", "POST"))
@roles_required("camat")
@once
def operation_edit(op_id):
    """Change an operation's name, period, desa, targets and step times (camat only)."""
    op = operation_or_404(op_id)
    desa_list = desa_of(db.session, g.user.kecamatan_code)
    form = OperationForm(obj=None)
    if request.method == "GET":
        form.name.data, form.active.data = op.name, op.active
        form.start_date.data, form.end_date.data = op.start_date, op.end_date
        for n, _label, f in form.step_fields():
            f.data = op.minutes(n)
        _fill_desa_rows(form, desa_list, op)
    status = 200
    if form.validate_on_submit() and _form_errors(form, desa_list, op_id=op.id):
        _save(form, op)
        audit("update_operation", target=f"operation:{op.id}", desa=len(op.desa),
              target_total=op.target_total, active=op.active)
        db.session.commit()
        flash("Perubahan aksi disimpan.", "info")
        return redirect(url_for("web.operation_detail", op_id=op.id))
    if request.method == "POST":
        status = 400
    return render_template("operation_form.html", form=form, op=op,
                           desa_names={d.code: d.name for d in desa_list}), status


def _detail(op, import_form=None, import_errors=None, status=200):
    officers = petugas_of(db.session, g.user.kecamatan_code)
    codes = op.desa_codes
    assignments = db.session.execute(
        select(Assignment).join(User, User.id == Assignment.user_id)
        .where(Assignment.desa_code.in_(codes or [""]), User.kecamatan_code == g.user.kecamatan_code)
        .order_by(Assignment.desa_code, User.full_name)).scalars().all()
    by_desa = {}
    for a in assignments:
        by_desa.setdefault(a.desa_code, []).append(a)
    assign_form = AssignForm()
    assign_form.officer.choices = [(u.id, u.full_name) for u in officers]
    assign_form.desa_code.choices = [(d.desa_code, d.desa.name) for d in op.desa]
    counts = desa_case_counts(db.session, op)
    return render_template(
        "operation_detail.html", op=op, by_desa=by_desa, assign_form=assign_form,
        action_form=ActionForm(), import_form=import_form or ImportForm(),
        import_errors=import_errors, counts=counts, steps=SOP_STEPS,
        may_edit=g.user.role == "camat", officers=officers), status


@bp.get("/operations/<int:op_id>")
@office_login_required
def operation_detail(op_id):
    """One operation: desa and targets, step times, assigned officers, import."""
    return _detail(operation_or_404(op_id))


@bp.post("/operations/<int:op_id>/assign")
@office_login_required
@once
def operation_assign(op_id):
    """Assign an officer of the kecamatan to one desa of the operation."""
    op = operation_or_404(op_id)
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400)
    officer_id = id_value(form.officer.data)
    officer = db.session.get(User, officer_id) if officer_id is not None else None
    if (officer is None or officer.kecamatan_code != g.user.kecamatan_code
            or officer.role != "petugas" or not officer.active):
        flash("Petugas tidak ditemukan di kecamatan ini.", "error")
        return redirect(url_for("web.operation_detail", op_id=op.id), code=303)
    if form.desa_code.data not in op.desa_codes:
        flash("Desa itu bukan bagian dari aksi ini.", "error")
        return redirect(url_for("web.operation_detail", op_id=op.id), code=303)
    if form.desa_code.data in officer.desa_codes:
        flash(f"{officer.full_name} sudah ditugaskan di desa itu.", "info")
    else:
        officer.assignments.append(Assignment(desa_code=form.desa_code.data))
        audit("assign_officer", target=f"user:{officer.id}", desa=form.desa_code.data,
              operation=op.id)
        db.session.commit()
        desa = db.session.get(Wilayah, form.desa_code.data)
        flash(f"{officer.full_name} ditugaskan di Desa {desa.name}. HP petugas menerimanya "
              "saat sinkron berikutnya.", "info")
    return redirect(url_for("web.operation_detail", op_id=op.id), code=303)


@bp.post("/operations/<int:op_id>/unassign/<int:assignment_id>")
@office_login_required
@once
def operation_unassign(op_id, assignment_id):
    """Withdraw an officer from a desa."""
    op = operation_or_404(op_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.user.kecamatan_code != g.user.kecamatan_code:
        abort(404)
    name = assignment.user.full_name
    audit("unassign_officer", target=f"user:{assignment.user_id}", desa=assignment.desa_code,
          operation=op.id)
    db.session.delete(assignment)
    db.session.commit()
    flash(f"Penugasan {name} dicabut. Data desa itu hilang dari HP-nya saat sinkron berikutnya "
          "(data yang belum terkirim tetap dikirim dulu).", "info")
    return redirect(url_for("web.operation_detail", op_id=op.id), code=303)
