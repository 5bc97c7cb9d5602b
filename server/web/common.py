"""Helpers shared by the office pages: the logged-in user as the office actor, one page of a
list, the labels of a resident's editable fields, the plain-text/SVG renderings of what a
phone recorded (time, GPS, signature), and the date/time form fields typed as dd/mm/yyyy and
24-hour WITA (DayField, ClockField)."""
import re
from datetime import date, datetime, time
from typing import Any, NamedTuple

from flask import abort, g
from wtforms import StringField

from sync.models import Resident
from sync.office import OfficeActor
from sync.signature import SignatureError, decode_signature, signature_svg

from ..bounds import date_in_range, page_arg
from ..extensions import db
from ..formatting import tanggal_panjang

# The fields an officer may change after registration (an edit, a concurrent-edit conflict),
# the identity fields by a correction (sync/schemas_identity.py).
FIELD_LABELS = {"phone": "Telepon", "address": "Alamat", "rt": "RT", "rw": "RW",
                "notes": "Catatan", "vulnerable_category": "Kategori rentan",
                "disability": "Disabilitas", "name": "Nama", "nik": "NIK",
                "kk_number": "Nomor KK", "sex": "Jenis kelamin", "birth_place": "Tempat lahir",
                "birth_date": "Tanggal lahir", "marital_status": "Status perkawinan",
                "desa_code": "Desa"}


def office_actor():
    """The logged-in user as the sync engine's OfficeActor."""
    return OfficeActor(user_id=g.user.id, role=g.user.role, kecamatan_code=g.user.kecamatan_code)


class Page(NamedTuple):
    """One page of a list: its rows, the number of rows in all pages, this page's number
    (1 …) and the number of pages (at least 1, also for an empty list)."""

    items: list[Any]
    total: int
    page: int
    pages: int


def own_resident_or_404(resident_id):
    """The live or merged case `resident_id` of the user's kecamatan; 404 for an unknown id
    and for another kecamatan's case alike (it does not exist for this user)."""
    resident = db.session.get(Resident, resident_id[:36])
    if resident is None or not resident.desa_code.startswith(g.user.kecamatan_code):
        abort(404)
    return resident


def paginate(query, per_page):
    """The page of `query` (a select() of one entity, ordered) named by ?page=
    (bounds.page_arg: 1 … MAX_PAGE); a page past the end is empty, never a 404."""
    page = page_arg()
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return Page(items=result.items, total=result.total, page=page,
                pages=max(result.pages, 1))


def parse_time(text):
    """An aware datetime from the ISO text a phone sent ('…Z' or '…+08:00'), or None."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def gps_text(gps):
    """'-2.34567, 115.43210 (akurasi ± 12 m)': plain text, no map link (no data leaves)."""
    if not isinstance(gps, dict) or gps.get("lat") is None or gps.get("lon") is None:
        return ""
    try:
        text = f"{float(gps['lat']):.5f}, {float(gps['lon']):.5f}"
    except (TypeError, ValueError):
        return ""
    if gps.get("accuracy_m") is not None:
        try:
            text += f" (akurasi ± {float(gps['accuracy_m']):.0f} m)"
        except (TypeError, ValueError):
            pass
    return text


def signature_markup(data):
    """Inline SVG of format-1 signature strokes (our own markup, no scripts), or None."""
    if not data:
        return None
    try:
        return signature_svg(decode_signature(data))
    except SignatureError:
        return None


# Dates are typed day first (hari/bulan/tahun) and times in 24 hours WITA, whatever the
# browser's language: its own date/time controls would show mm/dd/yyyy and AM/PM on an
# English Chrome. ISO 2026-11-28 (links, old bookmarks) stays readable: it is unambiguous.
MSG_DAY = "Tanggal tidak sah. Tulis hari/bulan/tahun, seperti 28/11/2026."
MSG_DAY_RANGE = "Tanggal harus antara tahun 1900 dan 2099."
MSG_CLOCK = "Jam tidak valid: tulis jam:menit dalam 24 jam (WITA), seperti 14:30."
_DAY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})|(\d{2})(\d{2})(\d{4})")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_CLOCK = re.compile(r"(\d{1,2})[:.](\d{2})|(\d{2})(\d{2})")


def parse_day(text):
    """A date typed as 28/11/2026 (also 28-11-2026, 28.11.2026, 28112026, or ISO 2026-11-28),
    or None when unreadable or impossible (31/02/2026; 11/28/2026, month first)."""
    text = (text or "").strip()
    if m := _ISO_DAY.fullmatch(text):
        year, month, day = m.groups()
    elif m := _DAY.fullmatch(text):
        day, month, year = (part for part in m.groups() if part is not None)
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def parse_clock(text):
    """A 24-hour time typed as 14:30 (also 14.30, 1430, 9:05), or None; 24:00 is refused."""
    m = _CLOCK.fullmatch((text or "").strip())
    if not m:
        return None
    hour, minute = (int(part) for part in m.groups() if part is not None)
    return time(hour, minute) if hour < 24 and minute < 60 else None


class DayField(StringField):
    """A date as a text input read day first (parse_day), never the browser's date control.
    .data is a date or None; .words is "Sabtu, 28 November 2026" (shown beside the field and
    kept live by static/date-words.js). Unreadable text fails validation with MSG_DAY; leave
    emptiness to an InputRequired validator (DataRequired would hide MSG_DAY)."""

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"inputmode": "numeric", "maxlength": 10, "placeholder": "hh/bb/tttt",
                     "autocomplete": "off", "data-date": "", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        raw = valuelist[0].strip() if valuelist else ""
        self.raw_data = [raw]  # blanks are no input (InputRequired), and shown trimmed
        self.data = parse_day(raw) if raw else None
        if raw and self.data is None:
            raise ValueError(MSG_DAY)
        if self.data is not None and not date_in_range(self.data):
            self.data = None  # year 1 or 9999 would overflow the WITA and day arithmetic
            raise ValueError(MSG_DAY_RANGE)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%d/%m/%Y") if self.data else ""

    @property
    def words(self):
        """The date in words, or "" when there is none."""
        return tanggal_panjang(self.data) if self.data else ""


class ClockField(StringField):
    """A 24-hour WITA time as a text input (parse_clock); .data is a time or None. Unreadable
    text fails validation with MSG_CLOCK."""

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"inputmode": "numeric", "maxlength": 5, "placeholder": "jj:mm",
                     "autocomplete": "off", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        raw = valuelist[0].strip() if valuelist else ""
        self.raw_data = [raw]
        self.data = parse_clock(raw) if raw else None
        if raw and self.data is None:
            raise ValueError(MSG_CLOCK)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%H:%M") if self.data else ""
