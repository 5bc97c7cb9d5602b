"""Marshmallow field types shared by the wire schemas (Indonesian error messages)."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
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


MSG_BAD_CHARACTER = "Teks berisi karakter yang tidak diizinkan (karakter kontrol)."
# Control characters (Unicode Cc: C0, DEL, C1), lone surrogates and U+FFFE/U+FFFF. NUL and
# surrogates fail at INSERT (PostgreSQL text, UTF-8); the rest have no place in a name or a
# reason and break the office's spreadsheets (XML cannot hold them). The office forms use
# this same rule (server/bounds.py); a multi-line field may hold tab and line breaks.
_BAD_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_BAD_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def bad_character(text: str, multiline: bool = False) -> bool:
    """True when `text` holds a character stored text may not hold (see above)."""
    return (_BAD_MULTI_LINE if multiline else _BAD_SINGLE_LINE).search(text) is not None


# Invisible format characters (Unicode Cf: zero-width space U+200B, soft hyphen U+00AD, bidi
# controls U+202A–U+202E and U+2066–U+2069, ZWJ/ZWNJ, BOM …) arrive by copy-paste and make two
# names that look the same differ; names and notes in Indonesia (Latin script) need none.
# They go before NFC so that a mark they separated from its letter composes with it.
def clean_text(text: str) -> str:
    """Text as stored: without format (Cf) characters, in NFC. The one rule for every text a
    phone or the office sends (PlainString below, server/bounds.py PlainText)."""
    if text.isascii():
        return text  # nothing to drop or compose; most text, kept cheap (1,000 mutations/s)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFC", text)


# Typed for the glottal stop in Ma'ruf, Jum'at: the straight one, the typographic ones phones
# put in (’ ‘), the backtick, the acute accent and the modifier letters ʼ ʻ.
APOSTROPHES = "'`\u00b4\u2018\u2019\u02bc\u02bb"
_NO_APOSTROPHES = str.maketrans("", "", APOSTROPHES)


def fold(text: str) -> str:
    """Text for comparing names and searching: clean_text, case-folded (casefold), accents
    dropped (NFKD without Mn marks: "Élok" → "elok", "Å" → "a"), no apostrophes
    ("MA’RUF" → "maruf"), single spaces, trimmed. The same rule is the phone's search
    (pwa/js/work-lists.js fold) and must stay in step with the frozen copy in migration 0004."""
    text = clean_text(text).casefold().translate(_NO_APOSTROPHES)
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text)
                       if unicodedata.category(c) != "Mn").translate(_NO_APOSTROPHES)
    return " ".join(text.split())


class PlainString(fields.String):
    """A string the databases and the exports can store: in NFC without format characters
    (clean_text), no control character (tab and line breaks only when `multiline`), no lone
    surrogate."""

    def __init__(self, *args: Any, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = clean_text(super()._deserialize(value, attr, data, **kwargs))
        if bad_character(text, self.multiline):
            raise ValidationError(MSG_BAD_CHARACTER)
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


# Officers copy a NIK in the groups printed on the card: "6311 0452.0605 0003".
_NUMBER_SEPARATORS = re.compile(r"[\s.]")


class IdentityNumber(PlainString):
    """NIK or KK as typed without the spaces and dots inside; the format is judged by
    sync.validators (shared vectors), not here."""

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
        text = _NUMBER_SEPARATORS.sub("", super()._deserialize(value, attr, data, **kwargs))
        if len(text) > 32:  # only bounds what is stored; the 16-digit rule is the validator's
            raise self.make_error("too_long")
        return text or None


MSG_TIME = "Waktu tidak valid (ISO 8601 dengan zona waktu)."
MAX_TIME_TEXT = 40
# One day inside datetime's range at each end, so that a stored time can still be shown in
# any zone (the office shows WITA, UTC+8) without overflowing; beyond that it is a broken
# clock, not a time.
EARLIEST_TIME = datetime(1, 1, 2, tzinfo=timezone.utc)
LATEST_TIME = datetime(9999, 12, 30, tzinfo=timezone.utc)


def parse_device_time(value: Any) -> datetime:
    """A time from the phone's clock → aware UTC datetime (the one rule for every such time).

    `value` must be ISO 8601 text of at most 40 characters with a zone offset, inside
    EARLIEST_TIME … LATEST_TIME once in UTC. Raises ValueError otherwise.
    """
    if not isinstance(value, str) or len(value) > MAX_TIME_TEXT:
        raise ValueError("not ISO 8601 text")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("no zone offset")
    try:
        moment = parsed.astimezone(timezone.utc)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise ValueError("outside the calendar") from None
    if not EARLIEST_TIME <= moment <= LATEST_TIME:
        raise ValueError("outside the calendar")
    return moment


class DeviceTime(fields.String):
    """A required phone-clock time (parse_device_time), loaded as an aware UTC datetime; with
    `keep_text`, loaded as the exact text sent (deliver_card hashes it into proof_hash)."""

    def __init__(self, keep_text: bool = False, **kwargs: Any) -> None:
        self.keep_text = keep_text
        kwargs.setdefault("required", True)
        super().__init__(error_messages=messages(invalid=MSG_TIME),
                         metadata={"format": "date-time"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = parse_device_time(text)
        except ValueError:
            raise self.make_error("invalid") from None
        return text if self.keep_text else moment


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
