"""What the resident page's "Koreksi data identitas" form shows (server/web/identity.py applies
it): the case's identity values, or what the office typed with the field errors after a
refusal. The birth date is a DayField (dd/mm/yyyy, echoed in words); the others are plain
inputs whose text sync.office_identity checks."""
from flask import g
from wtforms import Form

from sync.office_identity import CORRECTION_ROLES
from sync.schemas_identity import IDENTITY_FIELDS
from sync.stages import MARITAL_STATUS_LABELS, SEX_LABELS

from ..extensions import db
from ..wilayah import desa_of
from .common import DayField


class BirthDateForm(Form):
    """The correction's birth date, typed day first; empty is no date."""

    birth_date = DayField("Tanggal lahir")


def shown_values(resident):
    """{identity field: its text in the form} of the case as stored."""
    values = {field: getattr(resident, field) or "" for field in IDENTITY_FIELDS}
    values["birth_date"] = resident.birth_date.strftime("%d/%m/%Y") if resident.birth_date else ""
    return values


def correction_form(resident, posted=None, errors=None, date_form=None):
    """What the detail page's correction form needs, or None when the user may not correct
    (another role) or the case was merged into another one.

    posted: the refused form's values (a MultiDict) shown again instead of the case's;
    errors: {field or "reason": message} shown beside the fields; date_form: the refused
    BirthDateForm (its text and words)."""
    if g.user.role not in CORRECTION_ROLES or resident.merged_into:
        return None
    values = shown_values(resident)
    if posted is not None:
        values.update({field: posted.get(field, "") for field in (*IDENTITY_FIELDS, "reason")})
    if date_form is None:
        date_form = BirthDateForm(data={"birth_date": resident.birth_date})
    return {"desa_list": desa_of(db.session, g.user.kecamatan_code),
            "sex_labels": SEX_LABELS, "marital_labels": MARITAL_STATUS_LABELS,
            "values": values, "errors": errors or {}, "date": date_form.birth_date,
            "open": posted is not None}
