"""The one way the office writes spreadsheets (XLSX and CSV): every text cell is cleaned of
characters a spreadsheet cannot hold and can never run as a formula.

One record holding a control character (stored before the input rules, or by a path that
missed them) must never turn the camat's whole export into a server error: openpyxl refuses
such a cell outright, and a lone surrogate cannot be encoded as UTF-8 at all.
"""
import csv
import io
import re

from flask import Response
from openpyxl.cell import Cell

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Separators Python counts as whitespace become a space ("Budi\x0bSantoso" stays two words);
# every other C0/C1 control, U+FFFE/U+FFFF and lone surrogates are dropped. Tab and line
# breaks are kept: both formats can hold them (multi-line notes).
_AS_SPACE = re.compile("[\x0b\x0c\x1c-\x1f\x85]")
_DROPPED = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ufffe\uffff\ud800-\udfff]")
_SIGNED_NUMBER = re.compile(r"[+-][\d\s]*")


def clean_text(value):
    """str(value) without the characters a spreadsheet (XML, UTF-8) cannot hold; None → ""."""
    if value is None:
        return ""
    return _DROPPED.sub("", _AS_SPACE.sub(" ", str(value)))


def safe_text(value):
    """A cleaned cell text that a spreadsheet will never run as a formula (CSV/formula
    injection): text starting with =, @, +, - (other than a plain signed number), tab or CR
    gets a leading apostrophe."""
    text = clean_text(value)
    signed = text[:1] in ("+", "-") and not _SIGNED_NUMBER.fullmatch(text)
    if text[:1] in ("=", "@", "\t", "\r") or signed:
        return "'" + text
    return text


def csv_response(rows, filename, delimiter=";"):
    """An attachment response of rows (lists of str/int/float/None) as UTF-8 CSV with a BOM
    (Excel then reads it as UTF-8); ";" by default, as an Indonesian Excel expects."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow([v if isinstance(v, (int, float)) and not isinstance(v, bool)
                         else safe_text(v) for v in row])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


def append_row(sheet, values):
    """Append one row to an openpyxl worksheet: text cleaned, and text that starts with "="
    kept as text (openpyxl would store it as a formula). Other values (numbers, dates, None)
    are written as they are."""
    row = []
    for value in values:
        if isinstance(value, str):
            value = clean_text(value)
            if value.startswith("="):
                cell = Cell(sheet, value=value)
                cell.data_type = "s"
                value = cell
        row.append(value)
    sheet.append(row)


def xlsx_response(book, filename):
    """An attachment response of an openpyxl workbook."""
    data = io.BytesIO()
    book.save(data)
    return Response(data.getvalue(), headers={
        "Content-Type": XLSX_TYPE,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})
