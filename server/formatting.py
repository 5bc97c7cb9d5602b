"""Indonesian formats: WITA times, dd/mm/yyyy dates, 1.234 numbers, masked NIKs."""
from datetime import date, datetime, timedelta, timezone

from sync.models import as_utc

WITA = timezone(timedelta(hours=8), "WITA")
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")


def wita(value):
    """'28/11/2026 09.15 WITA' for a stored UTC datetime."""
    if value is None:
        return "—"
    local = as_utc(value).astimezone(WITA)
    return local.strftime("%d/%m/%Y %H.%M") + " WITA"


def tanggal(value):
    """'28/11/2026' for a date (or datetime, shown in WITA)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = as_utc(value).astimezone(WITA).date()
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return value.strftime("%d/%m/%Y")


def tanggal_panjang(value):
    """'Sabtu, 28 November 2026'."""
    if isinstance(value, datetime):
        value = as_utc(value).astimezone(WITA).date()
    return f"{DAYS[value.weekday()]}, {value.day} {MONTHS[value.month - 1]} {value.year}"


def angka(value):
    """1234 → '1.234'; 85.5 → '85,5'."""
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:,.1f}"
    else:
        text = f"{value:,}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def mask_nik(nik):
    """Show only the region code and the last four digits of a NIK."""
    if not nik:
        return "—"
    if len(nik) < 10:
        return "*" * len(nik)
    return nik[:6] + "*" * (len(nik) - 10) + nik[-4:]


def register(app):
    """Make the formats available as Jinja filters."""
    for fn in (wita, tanggal, tanggal_panjang, angka, mask_nik):
        app.add_template_filter(fn)
