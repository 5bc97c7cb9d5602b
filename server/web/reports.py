"""SOP step 7: "Laporan Hasil Aksi Pelayanan" per operation (printable A4, XLSX, CSV), and
the export of the residents list (XLSX, CSV)."""
import re

from flask import abort, g, render_template, request
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select

from sync.models import WITA, Resident, as_utc, utcnow
from sync.stages import DISABILITY_LABELS, SEX_LABELS, VULNERABLE_CATEGORY_LABELS

from ..auth import audit, office_login_required
from ..exports import append_row, csv_response, xlsx_response
from ..extensions import db
from ..formatting import mask_nik, tanggal, tanggal_panjang
from ..models import Wilayah
from ..operations import filter_residents, get_operation, operations_of
from ..statistics import (
    DIFFERENCE_LABELS,
    MEASURED_LABEL,
    OFFICER_LABELS,
    RECAP_LABELS,
    card_issue_text,
    desa_recap,
    difference_rows,
    exceptions,
    officer_recap,
    rejection_text,
    report_indicators,
)
from ..timings import clock_fixed, event_times, sop_compliance
from ..wilayah import desa_of
from . import bp
from .dashboard import STAGE_NAMES

EXPORT_LIMIT = 20000
RECAP_HEADER = (["Desa", "Kode desa"]
                + [RECAP_LABELS[key] for key in ("target", "listed", "found", "verified",
                                                 "recorded", "sent", "collected", "delivered",
                                                 "rejected")]
                + ["Capaian (%)"])
RESIDENT_HEADER = ["No", "Nama", "NIK (disamarkan)", "Desa", "Jenis kelamin", "Tanggal lahir",
                   "Tahap", "Kategori rentan", "Disabilitas", "Diperbarui (WITA)"]


def _op(op_id):
    op = get_operation(db.session, op_id, g.user.kecamatan_code)
    if op is None:
        abort(404)
    return op


def _report_data(op):
    rows, total = desa_recap(db.session, op)
    rejected, not_printed = exceptions(db.session, op)
    names = {r.code: r.name for r in rows}
    events = event_times(db.session, op)
    return {
        "op": op, "rows": rows, "total": total, "indicators": report_indicators(total),
        "officers": officer_recap(db.session, op),
        "compliance": sop_compliance(db.session, op, events=events),
        "clock_fixed": clock_fixed(events),
        "rejected": [(r, names.get(r.desa_code, r.desa_code), rejection_text(r)) for r in rejected],
        "not_printed": [(r, names.get(r.desa_code, r.desa_code), card_issue_text(r))
                        for r in not_printed],
        # the collection against Disdukcapil's marks (issue #13), names as in the lists above
        "differences": [(b.number, r, names.get(r.desa_code, r.desa_code), DIFFERENCE_LABELS[k])
                        for b, r, k in difference_rows(db.session, op.kecamatan_code, op.id)],
        "kecamatan": db.session.get(Wilayah, op.kecamatan_code),
        "printed_on": utcnow(),
    }


def _recap_values(row):
    return [row.target, row.listed, row.found, row.verified, row.recorded, row.sent,
            row.collected, row.delivered, row.rejected]


def _pct_text(value):
    return "" if value is None else f"{value:.1f}".replace(".", ",")


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "aksi"


# ------------------------------------------------------------------------------ pages

@bp.get("/reports")
@office_login_required
def reports():
    """The operations whose report can be opened."""
    return render_template("reports.html", operations=operations_of(db.session, g.user.kecamatan_code),
                           kecamatan=db.session.get(Wilayah, g.user.kecamatan_code))


@bp.get("/reports/<int:op_id>")
@office_login_required
def report(op_id):
    """The printable A4 report of one operation."""
    op = _op(op_id)
    data = _report_data(op)
    audit("view_report", target=f"operation:{op.id}")
    db.session.commit()
    return render_template("report.html", **data)


@bp.get("/reports/<int:op_id>.csv")
@office_login_required
def report_csv(op_id):
    """One table of the report as CSV (;, decimal comma): the Rekapitulasi per Desa with its
    total line, or with ?part=indikator the indicators (Target, Realisasi, Capaian)."""
    op = _op(op_id)
    rows, total = desa_recap(db.session, op)
    part = "indikator" if request.args.get("part") == "indikator" else "desa"
    if part == "indikator":
        lines = [["No", "Indikator", "Target", "Realisasi", "Persentase Capaian (%)"]]
        for i, (label, target, value, pct) in enumerate(report_indicators(total), start=1):
            lines.append([i, label, target, value, _pct_text(pct)])
    else:
        lines = [RECAP_HEADER]
        for r in rows:
            lines.append([r.name, r.code] + _recap_values(r) + [_pct_text(r.capaian)])
        lines.append(["Jumlah", ""] + _recap_values(total) + [_pct_text(total.capaian)])
    audit("export_report", target=f"operation:{op.id}", format="csv", part=part)
    db.session.commit()
    suffix = "-indikator" if part == "indikator" else ""
    return csv_response(lines, f"laporan-{_slug(op.name)}-{op.id}{suffix}.csv")


@bp.get("/reports/<int:op_id>.xlsx")
@office_login_required
def report_xlsx(op_id):
    """The whole report as an XLSX workbook (one sheet per part)."""
    op = _op(op_id)
    data = _report_data(op)
    bold = Font(bold=True)
    book = Workbook()
    sheet = book.active
    sheet.title = "Indikator"
    append_row(sheet, ["LAPORAN HASIL AKSI PELAYANAN PAK KEDES \u201cCAH\u201d"])
    sheet["A1"].font = Font(bold=True, size=13)
    append_row(sheet, [f"Kecamatan {data['kecamatan'].name}, Kabupaten Balangan"])
    append_row(sheet, ["Aksi", op.name])
    append_row(sheet, ["Periode", f"{tanggal(op.start_date)} – {tanggal(op.end_date)}"])
    append_row(sheet, ["Dicetak", tanggal_panjang(data["printed_on"])])
    append_row(sheet, [])
    append_row(sheet, ["Indikator", "Target", "Realisasi", "Persentase Capaian"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for label, target, value, pct in data["indicators"]:
        append_row(sheet, [label, target, value, None if pct is None else pct / 100.0])
        sheet.cell(sheet.max_row, 4).number_format = "0.0%"
    sheet.column_dimensions["A"].width = 42
    for col in "BCD":
        sheet.column_dimensions[col].width = 18

    recap = book.create_sheet("Rekap per Desa")
    append_row(recap, RECAP_HEADER)
    for cell in recap[1]:
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True)
    for r in data["rows"] + [data["total"]]:
        append_row(recap, [r.name, r.code] + _recap_values(r)
                   + [None if r.capaian is None else r.capaian / 100.0])
        recap.cell(recap.max_row, len(RECAP_HEADER)).number_format = "0.0%"
    for cell in recap[recap.max_row]:
        cell.font = bold
    recap.column_dimensions["A"].width = 24

    officers = book.create_sheet("Per Petugas")
    append_row(officers, ["Petugas", "Desa tugas"] + [
        OFFICER_LABELS[key] for key in ("found", "verified", "rejected", "picked_up", "recorded",
                                        "delivered")])
    for o in data["officers"]:
        append_row(officers, [o.name, ", ".join(o.desa), o.found, o.verified, o.rejected,
                              o.picked_up, o.recorded, o.delivered])

    sop = book.create_sheet("Waktu SOP")
    append_row(sop, ["Langkah", "Kegiatan", "Waktu baku (menit)", MEASURED_LABEL,
                     "Median (menit)", "Sesuai waktu baku"])
    for c in data["compliance"]:
        append_row(sop, [c.step, c.label, c.standard, c.count if c.step != 7 else None,
                         None if c.median is None else round(c.median, 1),
                         None if c.share is None else c.share / 100.0])
        sop.cell(sop.max_row, 6).number_format = "0.0%"

    rej = book.create_sheet("Ditolak")
    append_row(rej, ["No", "Nama", "Desa", "Alasan"])
    for i, (r, desa, reason) in enumerate(data["rejected"], start=1):
        append_row(rej, [i, r.name, desa, reason])
    np_ = book.create_sheet("KTP Belum Tercetak")
    append_row(np_, ["No", "Nama", "Desa", "Alasan"])
    for i, (r, desa, reason) in enumerate(data["not_printed"], start=1):
        append_row(np_, [i, r.name, desa, reason])
    diff = book.create_sheet("Selisih Pengambilan")
    append_row(diff, ["No", "Berita acara", "Nama", "Desa", "Selisih"])
    for i, (number, r, desa, label) in enumerate(data["differences"], start=1):
        append_row(diff, [i, number, r.name, desa, label])
    for ws in book.worksheets[1:]:
        for cell in ws[1]:
            cell.font = bold
    audit("export_report", target=f"operation:{op.id}", format="xlsx")
    db.session.commit()
    return xlsx_response(book, f"laporan-{_slug(op.name)}-{op.id}.xlsx")


# ------------------------------------------------------------------------------ residents export

def resident_filters():
    """The residents-list filters of the query string (shared with the list page)."""
    return {k: request.args.get(k, "").replace("\x00", "").strip()[:80]
            for k in ("desa", "stage", "officer", "vulnerable", "operation", "q")}


def _resident_rows(filters):
    desa_list = desa_of(db.session, g.user.kecamatan_code)
    names = {d.code: d.name for d in desa_list}
    query = filter_residents(select(Resident), g.user.kecamatan_code, filters, set(names))
    residents = db.session.execute(
        query.order_by(Resident.desa_code, Resident.name, Resident.resident_id)
        .limit(EXPORT_LIMIT)).scalars().all()
    rows = []
    for i, r in enumerate(residents, start=1):
        updated = as_utc(r.updated_at)
        rows.append([
            i, r.name, mask_nik(r.nik) if r.nik else "", names.get(r.desa_code, r.desa_code),
            SEX_LABELS.get(r.sex, r.sex or ""),
            r.birth_date.strftime("%d/%m/%Y") if r.birth_date else "",
            STAGE_NAMES.get(r.stage, r.stage),
            VULNERABLE_CATEGORY_LABELS.get(r.vulnerable_category, "") if r.vulnerable_category else "",
            DISABILITY_LABELS.get(r.disability, "") if r.disability else "",
            updated.astimezone(WITA).strftime("%d/%m/%Y %H.%M") if updated else "",
        ])
    return rows


@bp.get("/residents/export.<fmt>")
@office_login_required
def residents_export(fmt):
    """The filtered residents list as CSV or XLSX (NIK masked, as on the screen)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    filters = resident_filters()
    rows = _resident_rows(filters)
    audit("export_residents", format=fmt, count=len(rows),
          filters={k: v for k, v in filters.items() if v and k != "q"})
    db.session.commit()
    stamp = utcnow().astimezone(WITA).strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        return csv_response([RESIDENT_HEADER] + rows, f"data-penduduk-{stamp}.csv")
    book = Workbook()
    sheet = book.active
    sheet.title = "Data Penduduk"
    append_row(sheet, RESIDENT_HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_row(sheet, row)
    sheet.column_dimensions["B"].width = 28
    sheet.column_dimensions["C"].width = 20
    sheet.column_dimensions["D"].width = 18
    sheet.column_dimensions["G"].width = 24
    return xlsx_response(book, f"data-penduduk-{stamp}.xlsx")
