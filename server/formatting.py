"""Indonesian formats: WITA times, dd/mm/yyyy dates, 1.234 numbers, masked NIKs, counts in
words (terbilang)."""
from datetime import date, datetime

from sync.models import WITA, as_utc

DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")


def wita(value):
    """'28/11/2026 09.15 WITA' for a stored UTC datetime."""
    if value is None:
        return "—"
    local = to_wita(value)
    zone = "WITA" if local.utcoffset() == WITA.utcoffset(None) else "UTC"
    return local.strftime("%d/%m/%Y %H.%M") + " " + zone


def to_wita(value):
    """A stored datetime (naive = UTC) as an aware WITA datetime; at the very end of the
    calendar, where +8 h does not fit, the UTC datetime itself (never an OverflowError)."""
    utc = as_utc(value)
    try:
        return utc.astimezone(WITA)
    except OverflowError:
        return utc


def tanggal(value):
    """'28/11/2026' for a date (or datetime, shown in WITA)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_wita(value).date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value  # stored text that is no date: shown as it is, never a 500
    return value.strftime("%d/%m/%Y")


def tanggal_panjang(value):
    """'Sabtu, 28 November 2026'."""
    if isinstance(value, datetime):
        value = to_wita(value).date()
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


_ONES = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
         "sepuluh", "sebelas")


def terbilang(n):
    """A count in Indonesian words, as written in a berita acara: 23 → 'dua puluh tiga'."""
    n = int(n)
    if n < 12:
        return _ONES[n]
    if n < 20:
        return f"{_ONES[n - 10]} belas"
    if n < 100:
        rest = n % 10
        return f"{_ONES[n // 10]} puluh" + (f" {_ONES[rest]}" if rest else "")
    if n < 200:
        rest = n - 100
        return "seratus" + (f" {terbilang(rest)}" if rest else "")
    if n < 1000:
        rest = n % 100
        return f"{_ONES[n // 100]} ratus" + (f" {terbilang(rest)}" if rest else "")
    if n < 2000:
        rest = n - 1000
        return "seribu" + (f" {terbilang(rest)}" if rest else "")
    rest = n % 1000
    return f"{terbilang(n // 1000)} ribu" + (f" {terbilang(rest)}" if rest else "")


def register(app):
    """Make the formats available as Jinja filters."""
    for fn in (wita, tanggal, tanggal_panjang, angka, mask_nik):
        app.add_template_filter(fn)
