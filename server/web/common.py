"""Helpers shared by the office pages: the logged-in user as the office actor, one page of a
list, the labels of a resident's editable fields, and the plain-text/SVG renderings of what a
phone recorded (time, GPS, signature)."""
from datetime import datetime
from typing import Any, NamedTuple

from flask import g

from sync.office import OfficeActor
from sync.signature import SignatureError, decode_signature, signature_svg

from ..bounds import page_arg
from ..extensions import db

# The fields an officer may change after registration (an edit, a concurrent-edit conflict).
FIELD_LABELS = {"phone": "Telepon", "address": "Alamat", "rt": "RT", "rw": "RW",
                "notes": "Catatan", "vulnerable_category": "Kategori rentan",
                "disability": "Disabilitas"}


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
