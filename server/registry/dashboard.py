"""The kabupaten recap for Disdukcapil (issue #13): the page at /disdukcapil/ and the same
recap as an XLSX workbook. The figures come from server/registry/recap.py; no personal data
is shown or exported (counts, kecamatan names, batch numbers and times only)."""
import re

from flask import g, render_template, url_for
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from sync.models import utcnow

from ..auth import audit
from ..exports import append_row, xlsx_response
from ..extensions import db
from ..formatting import to_wita, wita
from . import bp, registry_login_required
from .recap import FIGURE_LABELS, FIGURES, kabupaten_recap


def _batch_url(batch_id):
    return url_for("registry.batch_detail", batch_id=batch_id)


@bp.get("/")
@registry_login_required
def dashboard():
    """Per kecamatan of the user's kabupaten: cases against targets, waiting batches."""
    recap = kabupaten_recap(db.session, g.user.kabupaten_code, utcnow())
    audit("view_dashboard", target=f"kabupaten:{recap.kabupaten_code}")
    db.session.commit()
    return render_template("registry_dashboard.html", recap=recap, figures=FIGURES,
                           labels=FIGURE_LABELS, batch_url=_batch_url)


# ------------------------------------------------------------------------------ XLSX

def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "kabupaten"


def _share(value):
    """A percentage (0–100 float or None) as a spreadsheet fraction (shown as 0.0%)."""
    return None if value is None else value / 100.0


def _bold_row(sheet):
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True)


RECAP_HEADER = (["Kecamatan", "Kode kecamatan", FIGURE_LABELS["target"]]
                + [part for key in FIGURES for part in (FIGURE_LABELS[key], "% target")]
                + [FIGURE_LABELS["differences"]])


def _recap_line(row):
    line = [row.name, row.code, row.target]
    for key in FIGURES:
        line += [getattr(row, key), _share(row.share(key))]
    return line + [row.differences]


def _batch_sheet(book, title, since_label, count_label, batches):
    sheet = book.create_sheet(title)
    append_row(sheet, ["No", "Kecamatan", "Nomor berita acara", since_label, "Menunggu (hari)",
                       count_label])
    _bold_row(sheet)
    for i, b in enumerate(batches, start=1):
        append_row(sheet, [i, b.kecamatan_name, b.number, wita(b.since), b.days, b.cards])
    sheet.column_dimensions["B"].width = 20
    sheet.column_dimensions["C"].width = 28
    sheet.column_dimensions["D"].width = 22


def recap_workbook(recap):
    """The recap as an openpyxl Workbook: "Rekap Kecamatan" (title lines, one row per
    kecamatan, the total row; shares as 0.0%), "Menunggu Diterima" and "Menunggu Tanda
    Cetak" (the waiting batches, oldest first)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Rekap Kecamatan"
    append_row(sheet, [f"REKAP AKSI PELAYANAN PAK KEDES \u201cCAH\u201d \u2014 {recap.kabupaten_name}"])
    sheet["A1"].font = Font(bold=True, size=13)
    append_row(sheet, ["Data per", wita(recap.now)])
    append_row(sheet, ["Selisih pengambilan", recap.differences])
    append_row(sheet, ["Berkas menunggu diterima", len(recap.awaiting_receipt)])
    append_row(sheet, ["Berkas menunggu tanda cetak", len(recap.awaiting_marks)])
    append_row(sheet, [])
    append_row(sheet, RECAP_HEADER)
    _bold_row(sheet)
    for row in recap.rows + [recap.total]:
        append_row(sheet, _recap_line(row))
        for col in range(5, 4 + 2 * len(FIGURES), 2):
            sheet.cell(sheet.max_row, col).number_format = "0.0%"
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 24
    _batch_sheet(book, "Menunggu Diterima", "Diserahkan (WITA)", "Jumlah warga",
                 recap.awaiting_receipt)
    _batch_sheet(book, "Menunggu Tanda Cetak", "Diterima (WITA)", "KTP belum ditandai",
                 recap.awaiting_marks)
    return book


@bp.get("/rekap.xlsx")
@registry_login_required
def recap_xlsx():
    """The recap as an XLSX file named after the kabupaten and the date (WITA)."""
    recap = kabupaten_recap(db.session, g.user.kabupaten_code, utcnow())
    book = recap_workbook(recap)
    audit("export_report", target=f"kabupaten:{recap.kabupaten_code}", format="xlsx")
    db.session.commit()
    day = to_wita(recap.now).date().isoformat()
    return xlsx_response(book, f"rekap-{_slug(recap.kabupaten_name)}-{day}.xlsx")
