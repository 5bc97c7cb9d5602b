"""Marshmallow wire schemas of sync protocol v1 (also the source of the OpenAPI document)."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, missing, validate

from .models import as_utc
from .stages import (
    DISABILITY_LABELS,
    MARITAL_STATUS_LABELS,
    SEX_LABELS,
    STAGES,
    VULNERABLE_CATEGORY_LABELS,
)

PROTOCOL_VERSION = 1
MAX_MUTATIONS = 500  # per request; more → EnvelopeError("payload_too_large") → 413
MAX_MUTATION_ID = 2**31 - 1  # clients.last_mutation_id is a 32-bit INTEGER

# Fields an update_resident may change (last-writer-wins). Identity fields are not here:
# changing them is a correction the camat makes, not a free edit.
FREE_FIELDS: tuple[str, ...] = (
    "phone", "address", "rt", "rw", "notes", "vulnerable_category", "disability",
)

MSG_REQUIRED = "Wajib diisi."
MSG_CHOICE = "Pilihan tidak valid."
MSG_NOT_EDITABLE = "Kolom ini tidak dapat diubah lewat pembaruan data."


def _messages(**extra: str) -> dict[str, str]:
    """Indonesian error messages shared by every field (marshmallow's are English)."""
    base = {
        "required": MSG_REQUIRED,
        "null": MSG_REQUIRED,
        "invalid": "Isian tidak valid.",
        "validator_failed": "Isian tidak valid.",
    }
    base.update(extra)
    return base


def _length(maximum: int) -> validate.Length:
    return validate.Length(max=maximum, error=f"Paling banyak {maximum} karakter.")


def _choice(codes) -> validate.OneOf:
    return validate.OneOf(list(codes), error=MSG_CHOICE)


class Text(fields.String):
    """Trimmed text; an empty or blank string loads as None (optional fields)."""

    def __init__(self, maximum: int, **kwargs: Any) -> None:
        self.maximum = maximum
        kwargs.setdefault("load_default", None)
        super().__init__(
            allow_none=True,
            error_messages=_messages(
                invalid="Harus berupa teks.", too_long=f"Paling banyak {maximum} karakter."
            ),
            metadata={"maxLength": maximum},
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        # Length is checked here, not with validate=, because blank text becomes None.
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if len(text) > self.maximum:
            raise self.make_error("too_long")
        return text or None


class Name(fields.String):
    """A person's name: required, inner whitespace collapsed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=True,
            validate=_length(100),
            error_messages=_messages(invalid="Harus berupa teks."),
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        text = " ".join(super()._deserialize(value, attr, data, **kwargs).split())
        if not text:
            raise ValidationError(MSG_REQUIRED)
        return text


class Code(fields.String):
    """One code out of a closed list (labels live in sync/stages.py)."""

    def __init__(self, codes, **kwargs: Any) -> None:
        super().__init__(
            validate=_choice(codes),
            error_messages=_messages(invalid=MSG_CHOICE),
            metadata={"enum": list(codes)},
            **kwargs,
        )


class RtRw(fields.String):
    """RT/RW number: 1–3 digits, stored zero-padded to 3 ("1" → "001"); blank → None."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("load_default", None)
        super().__init__(
            allow_none=True,
            error_messages=_messages(invalid="Harus berupa angka, paling banyak 3 digit."),
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            return None
        if not re.fullmatch(r"[0-9]{1,3}", text) or int(text) == 0:
            raise self.make_error("invalid")
        return text.zfill(3)


class Phone(fields.String):
    """Phone number: optional '+' then 6–15 digits; spaces, dots and dashes are dropped."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("load_default", None)
        super().__init__(
            allow_none=True,
            error_messages=_messages(
                invalid="Nomor telepon hanya boleh angka (boleh diawali +), 6 sampai 15 digit."
            ),
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        text = re.sub(r"[\s.\-]", "", super()._deserialize(value, attr, data, **kwargs))
        if not text:
            return None
        if not re.fullmatch(r"\+?[0-9]{6,15}", text):
            raise self.make_error("invalid")
        return text


class IdentityNumber(fields.String):
    """NIK or KK as typed; the format is judged by sync.validators (shared vectors), not here."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            allow_none=True,
            load_default=None,
            error_messages=_messages(
                invalid="Harus berupa teks angka.", too_long="Paling banyak 16 digit."
            ),
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        # No validate=: "" loads as None and validators would then run on None.
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 32:  # only bounds what is stored; the 16-digit rule is the validator's
            raise self.make_error("too_long")
        return text or None


def _uuid_field(**kwargs: Any) -> fields.UUID:
    return fields.UUID(
        required=True, error_messages=_messages(invalid_uuid="Harus berupa UUID."), **kwargs
    )


# ---------------------------------------------------------------- request
class MutationSchema(Schema):
    """One queued change from the phone's outbox."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"type": "Harus berupa objek."}

    id = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_MUTATION_ID, error="Harus bilangan bulat positif."),
        error_messages=_messages(invalid="Harus bilangan bulat positif."),
    )
    name = fields.String(required=True, error_messages=_messages(invalid="Harus berupa teks."))
    # Kept as text here: an unparsable `at` rejects that one mutation, not the whole request.
    at = fields.String(required=True, error_messages=_messages(invalid="Harus berupa teks."))
    args = fields.Dict(required=True, error_messages=_messages(invalid="Harus berupa objek."))


class SyncRequestSchema(Schema):
    """The body of POST /api/sync."""

    class Meta:
        unknown = EXCLUDE  # a newer phone may add envelope keys; they are ignored

    protocol = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Equal(PROTOCOL_VERSION, error="Versi protokol tidak didukung; perbarui aplikasi."),
        error_messages=_messages(invalid="Harus bilangan bulat."),
    )
    client_id = _uuid_field()
    app_version = fields.String(
        required=True, validate=_length(40), error_messages=_messages(invalid="Harus berupa teks.")
    )
    sent_at = fields.AwareDateTime(
        required=True,
        format="iso",
        error_messages=_messages(
            invalid="Waktu tidak valid (ISO 8601).",
            invalid_awareness="Waktu harus memuat zona waktu.",
        ),
    )
    cursor = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{1,18}$", error="Kursor tidak valid."),
        error_messages=_messages(invalid="Kursor tidak valid."),
    )
    mutations = fields.List(
        fields.Nested(MutationSchema),
        load_default=list,
        error_messages=_messages(invalid="Harus berupa daftar."),
    )


class RegisterResidentArgsSchema(Schema):
    """Args of register_resident (DESIGN §4)."""

    class Meta:
        # A newer phone may send fields this server does not know yet; they are ignored
        # rather than blocking the registration (fields are added, never renamed).
        unknown = EXCLUDE

    resident_id = _uuid_field()
    desa_code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{10}$", error="Kode desa harus 10 digit."),
        error_messages=_messages(invalid="Kode desa harus 10 digit."),
    )
    name = Name()
    nik = IdentityNumber()
    kk_number = IdentityNumber()
    sex = Code(SEX_LABELS, required=True)
    birth_place = Text(100)
    birth_date = fields.Date(
        required=True,
        validate=validate.Range(min=date(1900, 1, 1), error="Tanggal lahir tidak masuk akal."),
        error_messages=_messages(invalid="Tanggal tidak valid (format TTTT-BB-HH)."),
    )
    marital_status = Code(MARITAL_STATUS_LABELS, required=True)
    address = Text(200)
    rt = RtRw()
    rw = RtRw()
    phone = Phone()
    vulnerable_category = Code(VULNERABLE_CATEGORY_LABELS, allow_none=True, load_default=None)
    disability = Code(DISABILITY_LABELS, allow_none=True, load_default=None)
    notes = Text(1000)


class ResidentFieldsSchema(Schema):
    """The free fields an update_resident may set (each optional; others are refused)."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": MSG_NOT_EDITABLE, "type": "Harus berupa objek."}

    # load_default=missing: a key the phone did not send is left out, never set to None.
    phone = Phone(load_default=missing)
    address = Text(200, load_default=missing)
    rt = RtRw(load_default=missing)
    rw = RtRw(load_default=missing)
    notes = Text(1000, load_default=missing)
    vulnerable_category = Code(VULNERABLE_CATEGORY_LABELS, allow_none=True)
    disability = Code(DISABILITY_LABELS, allow_none=True)


class UpdateResidentArgsSchema(Schema):
    """Args of update_resident: {"resident_id", "base_version", "fields": {...}}."""

    class Meta:
        unknown = EXCLUDE

    resident_id = _uuid_field()
    base_version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, error="Harus bilangan bulat, 0 atau lebih."),
        error_messages=_messages(invalid="Harus bilangan bulat."),
    )
    # "fields" would shadow Schema.fields, hence the attribute name + data_key.
    field_values = fields.Nested(
        ResidentFieldsSchema,
        required=True,
        data_key="fields",
        validate=validate.Length(min=1, error="Tidak ada kolom yang diubah."),
        error_messages=_messages(type="Harus berupa objek."),
    )


# ---------------------------------------------------------------- response
class UTCDateTime(fields.DateTime):
    """Datetime dumped as ISO 8601 UTC with 'Z' (SQLite's naive values are UTC)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return iso_utc(value)


def iso_utc(value: datetime) -> str:
    """Format a datetime as 'YYYY-MM-DDTHH:MM:SSZ' in UTC."""
    return as_utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class MutationResultSchema(Schema):
    """Outcome of one mutation; code/message/fields only when it was rejected."""

    id = fields.Integer(required=True)
    status = fields.String(
        required=True, validate=_choice(("applied", "rejected", "duplicate")),
        metadata={"enum": ["applied", "rejected", "duplicate"]},
    )
    code = fields.String()
    message = fields.String()
    field_errors = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields")


class ResidentSchema(Schema):
    """A case as it travels to the phone in changes.residents."""

    resident_id = fields.String(required=True)
    version = fields.Integer(required=True)
    stage = fields.String(required=True, metadata={"enum": list(STAGES)})
    stage_label = fields.String(required=True)
    desa_code = fields.String(required=True)
    name = fields.String(required=True)
    nik = fields.String(allow_none=True)
    kk_number = fields.String(allow_none=True)
    sex = fields.String(required=True)
    birth_place = fields.String(allow_none=True)
    birth_date = fields.Date(required=True)
    marital_status = fields.String(required=True)
    address = fields.String(allow_none=True)
    rt = fields.String(allow_none=True)
    rw = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    vulnerable_category = fields.String(allow_none=True)
    disability = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    warnings = fields.List(fields.String())
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class SyncChangesSchema(Schema):
    """Rows changed since the cursor; server/api adds `desa` and `assignments`."""

    residents = fields.List(fields.Nested(ResidentSchema), required=True)
    removed = fields.List(fields.String(), required=True)  # reserved for merges; empty in v1
    desa = fields.List(fields.Dict(keys=fields.String(), values=fields.String()))
    assignments = fields.Dict(keys=fields.String())


class SyncResponseSchema(Schema):
    """The 200 body of POST /api/sync."""

    last_mutation_id = fields.Integer(required=True)
    results = fields.List(fields.Nested(MutationResultSchema), required=True)
    cursor = fields.String(allow_none=True, required=True)
    more = fields.Boolean(required=True)
    changes = fields.Nested(SyncChangesSchema, required=True)
    server_time = fields.String(required=True)
    clock_skew_flagged = fields.Boolean(required=True)
    # True when the officer's desa changed: the pull restarted, drop residents out of scope.
    scope_reset = fields.Boolean(required=True)


class MutationGapSchema(Schema):
    """The 409 body: the phone resends from last_mutation_id + 1."""

    code = fields.String(required=True, metadata={"enum": ["mutation_gap"]})
    message = fields.String()
    field_errors = fields.Dict(data_key="fields")
    last_mutation_id = fields.Integer(required=True)


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, str]:
    """Turn marshmallow's nested error dict into {"a.b.0.c": "first message"}."""
    flat: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "_schema"
            flat.update(flatten_errors(value, name))
    elif isinstance(messages, list):
        if messages and all(isinstance(m, str) for m in messages):
            flat[prefix or "_schema"] = messages[0]
        else:
            for item in messages:
                flat.update(flatten_errors(item, prefix))
    else:
        flat[prefix or "_schema"] = str(messages)
    return flat
