"""Wire schemas of a correction of a resident's identity data: the phone's correct_identity
mutation and the office's "Koreksi data identitas" form (docs/sync-protocol.md)."""
from __future__ import annotations

from datetime import date

from marshmallow import RAISE, Schema, fields, validate

from .schemas import ResidentFieldsSchema, UpdateResidentArgsSchema
from .stages import MARITAL_STATUS_LABELS, SEX_LABELS
from .wirefields import Code, IdentityNumber, Name, Text, messages

# What a registration sets once and update_resident may not change. Corrected by the officer
# while the case is not verified yet (correct_identity), later in the office only.
IDENTITY_FIELDS: tuple[str, ...] = (
    "name", "nik", "kk_number", "sex", "birth_place", "birth_date", "marital_status", "desa_code",
)

MSG_NOT_CORRECTABLE = "Kolom ini tidak dapat dikoreksi."
MSG_DESA_CODE = "Kode desa harus 10 digit."
MSG_BIRTH_DATE = "Tanggal tidak sah. Tulis hari/bulan/tahun, seperti 28/11/2026."


class PartialNested(fields.Nested):
    """A nested object whose keys are all optional: a key left out is left out of the loaded
    dict (not set to its default), a key sent is checked as the registration checks it."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        return super()._deserialize(value, attr, data, partial=True, **kwargs)


class OptionalName(Name):
    """A name as Name checks it, in an object whose keys are all optional."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.required = False  # Name sets it; an absent key is not an error here


class IdentityFieldsSchema(Schema):
    """The identity fields with register_resident's rules (loaded with PartialNested; none
    is required, none but nik, kk_number and birth_place may be null)."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": MSG_NOT_CORRECTABLE, "type": "Harus berupa objek."}

    name = OptionalName()
    nik = IdentityNumber()
    kk_number = IdentityNumber()
    sex = Code(SEX_LABELS)
    birth_place = Text(100)
    birth_date = fields.Date(
        validate=validate.Range(min=date(1900, 1, 1), error="Tanggal lahir tidak masuk akal."),
        # The officer types hari/bulan/tahun on the phone and in the office (both send ISO):
        # the message speaks of what they type.
        error_messages=messages(invalid=MSG_BIRTH_DATE),
    )
    marital_status = Code(MARITAL_STATUS_LABELS)
    desa_code = fields.String(
        validate=[validate.Regexp(r"^[0-9]{10}$", error=MSG_DESA_CODE),
                  validate.Length(equal=10, error=MSG_DESA_CODE)],
        error_messages=messages(invalid=MSG_DESA_CODE),
    )


class CorrectionFieldsSchema(IdentityFieldsSchema, ResidentFieldsSchema):
    """What one correct_identity may set: identity fields and, so that one save of the
    phone's form is one mutation, the free fields of update_resident."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": MSG_NOT_CORRECTABLE, "type": "Harus berupa objek."}


class CorrectIdentityArgsSchema(UpdateResidentArgsSchema):
    """Args of correct_identity: {"resident_id", "base_version", "fields": {...}} as for
    update_resident, with the identity fields allowed in "fields"."""

    field_values = PartialNested(
        CorrectionFieldsSchema,
        required=True,
        data_key="fields",
        validate=validate.Length(min=1, error="Tidak ada kolom yang diubah."),
        error_messages=messages(type="Harus berupa objek."),
    )


class OfficeCorrectionSchema(Schema):
    """The office's correction: identity fields (all optional) and a required reason."""

    class Meta:
        unknown = RAISE

    field_values = PartialNested(
        IdentityFieldsSchema, required=True, data_key="fields",
        error_messages=messages(type="Harus berupa objek."),
    )
    reason = Text(1000, multiline=True)  # blank loads as None: the office function refuses it
