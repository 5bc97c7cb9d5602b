"""The office's correction of a resident's identity data ("Koreksi data identitas" on the
resident's page): camat and operator, with a reason, audited; applied by
sync.office_identity, so the phones pull the corrected case at their next sync.

A field left empty that was empty before (an imported case without sex or birth date) is not
sent; the birth date is typed dd/mm/yyyy and passed on as ISO. A refused correction shows the
resident's page again (400) with what was typed and the errors beside the fields."""
from flask import abort, flash, g, redirect, request, url_for

from sync.errors import OfficeError
from sync.models import utcnow
from sync.office_identity import CORRECTION_ROLES, correct_identity_office
from sync.schemas_identity import IDENTITY_FIELDS

from ..auth import audit, office_login_required
from ..extensions import db
from ..operations import active_operation_map
from ..wilayah import desa_of
from . import bp
from .common import FIELD_LABELS, office_actor, own_resident_or_404
from .identity_form import BirthDateForm, correction_form
from .residents import detail_page
from .submissions import once

MSG_CORRECTED = "Data identitas dikoreksi; HP petugas menerima data baru pada sinkronisasi berikutnya."
MSG_FIX = "Koreksi belum disimpan: periksa kolom yang ditandai."
LABELS = {**FIELD_LABELS, "reason": "Alasan koreksi"}
# Emptied, these remove the value; the others cannot be emptied once set ("Wajib diisi.").
CLEARABLE = frozenset({"nik", "kk_number", "birth_place"})


@bp.post("/residents/<resident_id>/identity")
@office_login_required
@once
def resident_correct_identity(resident_id):
    """Apply the correction form: the identity fields as the form holds them and a reason."""
    resident = own_resident_or_404(resident_id)
    if g.user.role not in CORRECTION_ROLES:
        abort(403)
    date_form = BirthDateForm(request.form)
    if not date_form.validate():
        return _refused(resident, date_form, MSG_FIX,
                        {"birth_date": date_form.birth_date.errors[0]})
    codes = [d.code for d in desa_of(db.session, g.user.kecamatan_code)]
    try:
        _, changed = correct_identity_office(
            db.session, office_actor(), resident_id=resident.resident_id,
            fields=_sent_fields(resident, request.form, date_form), now=utcnow(),
            reason=request.form.get("reason", ""),
            operations=active_operation_map(db.session, codes), desa_codes=codes)
    except OfficeError as err:
        if err.code != "validation_error":
            raise  # answered by server.errors
        db.session.rollback()
        errors = {key.removeprefix("fields."): text for key, text in err.fields.items()}
        details = [f"{LABELS.get(key, key)}: {text}"
                   for key, text in errors.items() if text != err.message]
        return _refused(resident, date_form, " ".join([err.message, *details]), errors)
    # Field names only: the values are personal data and stay in the case's history.
    audit("correct_identity", target=resident.resident_id, fields=changed)
    db.session.commit()
    flash(MSG_CORRECTED, "ok")
    return redirect(url_for("web.resident_detail", resident_id=resident.resident_id))


def _sent_fields(resident, form, date_form):
    """{field: text} to correct: the fields posted, but not one left empty that was empty
    before (nothing to compare, and "" is no valid sex or marital status); the birth date in
    ISO; a value emptied that cannot be (sex, birth date …) as None, refused as missing."""
    fields = {}
    for field in IDENTITY_FIELDS:
        if field not in form:
            continue
        value = form[field]
        if field == "birth_date":
            day = date_form.birth_date.data
            value = day.isoformat() if day else ""
        if not value.strip() and getattr(resident, field) in (None, ""):
            continue
        fields[field] = value if value.strip() or field in CLEARABLE else None
    return fields


def _refused(resident, date_form, message, errors):
    db.session.rollback()
    flash(message, "error")
    form = correction_form(resident, request.form, errors, date_form)
    return detail_page(resident, correction=form, status=400)
