"""Bounds on what a client may send: ids inside the INTEGER columns, page numbers, dates the
calendar and both databases can hold, text without control characters (in NFC, without
invisible format characters).

A value outside these bounds is the client's mistake and is answered with a 4xx (or ignored,
for a filter); past them the databases or the date arithmetic would raise a server error.
"""
import re
from datetime import date

from flask import request
from werkzeug.routing import IntegerConverter, UnicodeConverter
from wtforms.validators import ValidationError

# One rule for stored text, phone and office alike (sync/ owns it: server/ may import sync/).
from sync.wirefields import (  # noqa: F401  (re-exported)
    MSG_BAD_CHARACTER,
    MSG_REQUIRED,
    bad_character,
    clean_text,
)

INT_MAX = 2 ** 31 - 1  # every id column is a 32-bit INTEGER (PostgreSQL refuses more)
MAX_PAGE = 10_000  # × 100 rows a page at most: far past any kecamatan, far from overflow
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2099, 12, 31)
_DIGITS = re.compile(r"[0-9]{1,10}")


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: 1 … 2³¹−1, anything else does not match (a 404)."""

    def __init__(self, map, fixed_digits=0, min=1, max=INT_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class TextConverter(UnicodeConverter):
    """`<name>` / `<string:…>` in every route: one path segment without control characters
    or surrogates (a NUL reaching PostgreSQL is a DataError, not a "not found")."""

    def __init__(self, map, minlength=1, maxlength=None, length=None):  # noqa: A002
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff]", 1)


def id_value(value):
    """An id from a form or query text: an int in 1 … 2³¹−1, else None.

    Only ASCII digits count: str.isdigit() also accepts '²' or Arabic-Indic digits, which
    int() then refuses or reads as another number.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if 1 <= number <= INT_MAX else None


def page_arg(name="page"):
    """The page number of the query string, clamped to 1 … MAX_PAGE (1 when unreadable)."""
    text = request.args.get(name, "").strip().lstrip("0")
    if not (text.isascii() and text.isdigit()):
        return 1  # also "-3", "" and "0"
    # Long digit strings are past the cap anyway (and int() refuses past 4,300 digits).
    return MAX_PAGE if len(text) > 6 else max(1, min(int(text), MAX_PAGE))


def date_in_range(value):
    """True for a date the office may enter: DATE_MIN … DATE_MAX (shifting one at the ends
    of the calendar by a day or a time zone would overflow)."""
    return value is not None and DATE_MIN <= value <= DATE_MAX


class PlainText:
    """WTForms validator: the office's text as the phone's is stored (sync.wirefields): in
    NFC without invisible format characters (field.data is replaced by clean_text), and no
    control characters (see bad_character). A required field left blank by the cleaning is
    refused as empty."""

    def __init__(self, multiline=False, message=MSG_BAD_CHARACTER):
        self.multiline, self.message = multiline, message

    def __call__(self, form, field):
        if not isinstance(field.data, str):
            return
        field.data = clean_text(field.data)
        if bad_character(field.data, self.multiline):
            raise ValidationError(self.message)
        if field.flags.required and not field.data.strip():
            raise ValidationError(MSG_REQUIRED)
