"""Marshmallow field types shared by the wire schemas (Indonesian error messages)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from .models import as_utc

MSG_REQUIRED = "Wajib diisi."
MSG_CHOICE = "Pilihan tidak valid."


def messages(**extra: str) -> dict[str, str]:
    """Indonesian error messages shared by every field (marshmallow's are English)."""
    base = {
        "required": MSG_REQUIRED,
        "null": MSG_REQUIRED,
        "invalid": "Isian tidak valid.",
        "validator_failed": "Isian tidak valid.",
    }
    base.update(extra)
    return base


def length(maximum: int) -> validate.Length:
    """At most `maximum` characters, with an Indonesian message."""
    return validate.Length(max=maximum, error=f"Paling banyak {maximum} karakter.")


def choice(codes) -> validate.OneOf:
    """One of `codes`, with an Indonesian message."""
    return validate.OneOf(list(codes), error=MSG_CHOICE)


MSG_BAD_CHARACTER = "Teks berisi karakter yang tidak diizinkan."


class PlainString(fields.String):
    """A string the databases can store: no NUL character, no lone surrogate."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        # PostgreSQL refuses NUL in text, and a lone surrogate (JSON "\ud800") cannot be
        # encoded as UTF-8: either would fail at INSERT time as a server error.
        if "\x00" in text:
            raise ValidationError(MSG_BAD_CHARACTER)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(MSG_BAD_CHARACTER) from None
        return text


class Text(PlainString):
    """Trimmed text; an empty or blank string loads as None (optional fields)."""

    def __init__(self, maximum: int, **kwargs: Any) -> None:
        self.maximum = maximum
        kwargs.setdefault("load_default", None)
        super().__init__(
            allow_none=True,
            error_messages=messages(
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


class Name(PlainString):
    """A person's name: required, inner whitespace collapsed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=True,
            validate=length(100),
            error_messages=messages(invalid="Harus berupa teks."),
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
            validate=choice(codes),
            error_messages=messages(invalid=MSG_CHOICE),
            metadata={"enum": list(codes)},
            **kwargs,
        )


class RtRw(fields.String):
    """RT/RW number: 1–3 digits, stored zero-padded to 3 ("1" → "001"); blank → None."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("load_default", None)
        super().__init__(
            allow_none=True,
            error_messages=messages(invalid="Harus berupa angka, paling banyak 3 digit."),
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
            error_messages=messages(
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


class IdentityNumber(PlainString):
    """NIK or KK as typed; the format is judged by sync.validators (shared vectors), not here."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            allow_none=True,
            load_default=None,
            error_messages=messages(
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


def uuid_field(**kwargs: Any) -> fields.UUID:
    """A required UUID."""
    return fields.UUID(
        required=True, error_messages=messages(invalid_uuid="Harus berupa UUID."), **kwargs
    )


class UTCDateTime(fields.DateTime):
    """Datetime dumped as ISO 8601 UTC with 'Z' (SQLite's naive values are UTC)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return iso_utc(value)


def iso_utc(value: datetime) -> str:
    """Format a datetime as 'YYYY-MM-DDTHH:MM:SSZ' in UTC."""
    return as_utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")


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
