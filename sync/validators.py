"""Pure NIK and KK checks; the shared vectors in tests/vectors/identity_checks.json define them.

NIK = PPKKCC DDMMYY SSSS: region where first registered, birth date (women: day + 40), serial.
Errors make a registration impossible; warnings are stored on the resident and never block.
"""
from __future__ import annotations

from datetime import date

MESSAGES_ID: dict[str, str] = {
    "nik_format": "NIK harus 16 digit angka.",
    "nik_date": "Tanggal lahir di dalam NIK (digit ke-7 sampai ke-12) tidak mungkin ada.",
    "nik_serial": "Nomor urut NIK (4 digit terakhir) tidak boleh 0000.",
    "nik_region": (
        "NIK tidak diawali kode kecamatan ini ({kecamatan_code}). "
        "Periksa kembali; data tetap boleh disimpan."
    ),
    "nik_birth_date": (
        "Tanggal lahir di NIK berbeda dengan tanggal lahir yang diisi. "
        "Periksa kembali; data tetap boleh disimpan."
    ),
    "nik_sex": (
        "Kode jenis kelamin di NIK (perempuan: tanggal + 40) tidak sesuai dengan jenis kelamin "
        "yang diisi. Periksa kembali; data tetap boleh disimpan."
    ),
    # Set by the server's duplicate check, never by the pure checks; it names nobody.
    "nik_registered_elsewhere": (
        "NIK ini sudah tercatat pada data warga di kecamatan lain. "
        "Periksa kembali bersama Disdukcapil; data tetap boleh disimpan."
    ),
    "kk_format": "Nomor KK harus 16 digit angka.",
    "kk_region": (
        "Nomor KK tidak diawali kode kecamatan ini ({kecamatan_code}). "
        "Periksa kembali; data tetap boleh disimpan."
    ),
}

_ASCII_DIGITS = frozenset("0123456789")


def _is_16_digits(value: str) -> bool:
    # str.isdigit() accepts other scripts' digits (e.g. Arabic-Indic); the JS twin uses /^[0-9]{16}$/.
    return len(value) == 16 and set(value) <= _ASCII_DIGITS


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None  # an unusable birth date is the schema's error, not the NIK's


def _days_in_month(month: int, two_digit_year: int) -> int:
    # The century is unknown; read the year as 20YY so that "00" counts as a leap year
    # (2000 was one). Only YY % 4 matters then, which is what the JS twin does too.
    if month == 2:
        return 29 if two_digit_year % 4 == 0 else 28
    return 30 if month in (4, 6, 9, 11) else 31


def decode_nik_date(nik: str) -> tuple[int, int, int, bool] | None:
    """Return (day, month, two-digit year, coded_as_female) of a 16-digit NIK, None if impossible."""
    day_code, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    female = day_code > 40
    day = day_code - 40 if female else day_code
    if not 1 <= month <= 12 or not 1 <= day <= _days_in_month(month, year):
        return None
    return day, month, year, female


def check_nik(
    nik: str | None,
    sex: str | None,
    birth_date: date | str | None,
    kecamatan_code: str,
) -> tuple[list[str], list[str]]:
    """Check a NIK against the entered sex, birth date and local kecamatan; return (errors, warnings)."""
    errors: list[str] = []
    warnings: list[str] = []
    if nik is None or nik == "":
        return errors, warnings  # residents may have no NIK at all
    if not _is_16_digits(nik):
        return ["nik_format"], warnings  # nothing else can be read from it
    if nik[:6] != kecamatan_code:
        warnings.append("nik_region")
    if nik[12:] == "0000":
        errors.append("nik_serial")
    decoded = decode_nik_date(nik)
    if decoded is None:
        errors.append("nik_date")
        return errors, warnings  # no date to compare with the birth date or the sex
    day, month, year, female = decoded
    born = _as_date(birth_date)
    if born is not None and (born.day, born.month, born.year % 100) != (day, month, year):
        warnings.append("nik_birth_date")
    if (sex == "male" and female) or (sex == "female" and not female):
        warnings.append("nik_sex")
    return errors, warnings


def check_kk(kk: str | None, kecamatan_code: str) -> tuple[list[str], list[str]]:
    """Check a KK number's format and region; return (errors, warnings)."""
    if kk is None or kk == "":
        return [], []
    if not _is_16_digits(kk):
        return ["kk_format"], []
    # Families move, so a KK from elsewhere is normal enough to be only a warning.
    return [], ([] if kk[:6] == kecamatan_code else ["kk_region"])


def message(code: str, kecamatan_code: str = "") -> str:
    """Return the Indonesian message for a NIK/KK check code."""
    return MESSAGES_ID[code].format(kecamatan_code=kecamatan_code)
