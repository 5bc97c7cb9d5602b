"""SOP step 1, the list import: residents from an XLSX or CSV file become cases still to be
found in an operation (all rows or none), and an example CSV to fill in."""
import csv
import io
import re
import zipfile
from datetime import date, datetime

from flask import abort, flash, redirect, url_for
from openpyxl import load_workbook

from sync.errors import ImportRejected, OfficeError
from sync.models import utcnow
from sync.office import import_listed_residents

from ..auth import audit, office_login_required
from ..bounds import MSG_BAD_CHARACTER, bad_character
from ..exports import csv_response
from ..extensions import db
from . import bp
from .common import office_actor
from .operations import ImportForm, _detail, operation_or_404
from .submissions import once

MAX_IMPORT_ROWS = 5000
# A full list (5,000 rows × 12 columns) unpacks to well under 10 MiB of XML; a file that
# unpacks to more, or a part that inflates more than 100-fold, is a zip bomb, not a list.
MAX_XLSX_UNPACKED = 32 * 1024 * 1024  # bytes, all parts together
MAX_XLSX_PARTS = 200
MAX_XLSX_RATIO = 100
RATIO_FROM = 1024 * 1024  # bytes: small parts (styles, empty sheets) may compress better
MSG_UNREADABLE_XLSX = "Berkas XLSX tidak dapat dibaca (rusak atau bukan XLSX)."
MSG_XLSX_TOO_BIG = ("Berkas XLSX terlalu besar setelah dibuka (paling banyak 32 MB isi). Simpan "
                    "sebagai CSV atau bagi menjadi beberapa berkas.")

# ------------------------------------------------------------------------------ import

IMPORT_COLUMNS = {
    "desa_code": ("kode_desa", "desa_code", "kode_wilayah", "kode"),
    "desa_name": ("desa", "nama_desa", "desa_kelurahan"),
    "name": ("nama", "nama_lengkap", "name"),
    "nik": ("nik",),
    "kk_number": ("no_kk", "nomor_kk", "kk", "kk_number", "nkk"),
    "sex": ("jenis_kelamin", "jk", "l_p", "sex", "kelamin"),
    "birth_place": ("tempat_lahir", "birth_place"),
    "birth_date": ("tanggal_lahir", "tgl_lahir", "birth_date"),
    "address": ("alamat", "address"),
    "rt": ("rt",),
    "rw": ("rw",),
    "phone": ("no_hp", "nomor_hp", "telepon", "hp", "phone", "no_telepon"),
}
ROW_FIELDS = ("desa_code", "name", "nik", "kk_number", "sex", "birth_date", "birth_place",
              "address", "rt", "rw", "phone")
# The import file's columns as its error list names them: not web/common.py's FIELD_LABELS
# (the fields an officer edits), e.g. the column "phone" is "Nomor HP" here, "Telepon" there.
COLUMN_LABELS = {"desa_code": "Desa", "name": "Nama", "nik": "NIK", "kk_number": "Nomor KK",
                 "sex": "Jenis kelamin", "birth_date": "Tanggal lahir",
                 "birth_place": "Tempat lahir", "address": "Alamat", "rt": "RT", "rw": "RW",
                 "phone": "Nomor HP", "marital_status": "Status perkawinan", "file": "Berkas",
                 "_file": "Berkas", "_row": "Baris", "_schema": "Baris"}
SEX_WORDS = {"l": "male", "lk": "male", "laki-laki": "male", "laki laki": "male", "pria": "male",
             "male": "male", "p": "female", "pr": "female", "perempuan": "female",
             "wanita": "female", "female": "female"}
TEMPLATE_HEADER = ["kode_desa", "nama", "nik", "no_kk", "jenis_kelamin", "tempat_lahir",
                   "tanggal_lahir", "alamat", "rt", "rw", "no_hp"]


class ImportFileError(Exception):
    """The file itself cannot be read (not a row problem)."""


def _header_key(text):
    return re.sub(r"[^a-z0-9]+", "_", str(text or "").strip().lower()).strip("_")


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(filename, data):
    """Rows of an uploaded XLSX or CSV as (row number, [cell texts]), header first.

    Raises ImportFileError for anything unreadable (never a 500 for a bad file).
    """
    too_many = f"Terlalu banyak baris (paling banyak {MAX_IMPORT_ROWS:,}).".replace(",", ".")
    if filename.lower().endswith(".xlsx"):
        check_xlsx_archive(data)
        rows = []
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    if number > MAX_IMPORT_ROWS + 1:
                        raise ImportFileError(too_many)
                    rows.append((number, [_cell_text(v) for v in values]))
            finally:
                book.close()
        except ImportFileError:
            raise
        except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
            raise ImportFileError(MSG_UNREADABLE_XLSX) from exc
        return rows
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):  # latin-1 decodes any byte
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = []
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text, newline=""),
                                                   delimiter=delimiter), start=1):
            if number > MAX_IMPORT_ROWS + 1:
                raise ImportFileError(too_many)
            # NUL is never text (PostgreSQL refuses it in a string)
            rows.append((number, [v.replace("\x00", "").strip() for v in values]))
    except csv.Error as exc:
        raise ImportFileError("Berkas CSV tidak dapat dibaca.") from exc
    return rows


def check_xlsx_archive(data):
    """Refuse an XLSX (a zip) before openpyxl unpacks it: ImportFileError when it is no zip,
    has more than MAX_XLSX_PARTS parts, unpacks to more than MAX_XLSX_UNPACKED bytes, or
    has a part over RATIO_FROM bytes inflating more than MAX_XLSX_RATIO times.

    The sizes declared in the zip's directory can be trusted: Python's zipfile (which
    openpyxl reads through) stops at the declared size and fails the CRC past it.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise ImportFileError(MSG_UNREADABLE_XLSX) from exc
    if len(parts) > MAX_XLSX_PARTS or sum(p.file_size for p in parts) > MAX_XLSX_UNPACKED:
        raise ImportFileError(MSG_XLSX_TOO_BIG)
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_FROM and ratio > MAX_XLSX_RATIO:
            raise ImportFileError(MSG_XLSX_TOO_BIG)


def _iso_date(text):
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def parse_import(table, op):
    """(rows for import_listed_residents, errors [(row, field, message)]) from a read table."""
    errors = []
    if not table:
        return [], [(1, "file", "Berkas kosong.")]
    header_row, header = table[0]
    columns = {}
    for index, title in enumerate(header):
        key = _header_key(title)
        for field, aliases in IMPORT_COLUMNS.items():
            if key in aliases and field not in columns:
                columns[field] = index
    if "name" not in columns:
        errors.append((header_row, "file", "Kolom 'nama' tidak ditemukan di baris judul."))
    if "desa_code" not in columns and "desa_name" not in columns:
        errors.append((header_row, "file", "Kolom 'kode_desa' (atau 'desa') tidak ditemukan di baris judul."))
    if errors:
        return [], errors
    op_desa = {d.desa_code: d.desa.name for d in op.desa}
    by_name = {}
    for code, name in op_desa.items():
        by_name[name.lower()] = code
        by_name[re.sub(r"^(desa|kelurahan)\s+", "", name.lower())] = code
    rows = []
    for number, values in table[1:]:
        if not any(v for v in values):
            continue  # blank line
        cell = {f: (values[i] if i < len(values) else "") for f, i in columns.items()}
        bad = [f for f, v in cell.items() if bad_character(v)]
        if bad:  # never stored: one such name would break every later export of the list
            errors.append((number, "desa_code" if bad[0] == "desa_name" else bad[0],
                           MSG_BAD_CHARACTER))
            continue
        row = {f: cell.get(f, "") for f in ROW_FIELDS}
        row["_row"] = number
        raw_desa = (cell.get("desa_code") or "").replace(".", "").strip()
        if not raw_desa and cell.get("desa_name"):
            name = re.sub(r"^(desa|kelurahan)\s+", "", cell["desa_name"].strip().lower())
            raw_desa = by_name.get(name) or by_name.get(cell["desa_name"].strip().lower()) or ""
            if not raw_desa:
                errors.append((number, "desa_code",
                               f"Desa \u201c{cell['desa_name']}\u201d tidak termasuk aksi ini."))
                continue
        if not raw_desa:
            errors.append((number, "desa_code", "Kode desa wajib diisi."))
            continue
        if raw_desa not in op_desa:
            errors.append((number, "desa_code", f"Desa {raw_desa} tidak termasuk aksi ini."))
            continue
        row["desa_code"] = raw_desa
        if not row["name"].strip():
            errors.append((number, "name", "Nama wajib diisi."))
            continue
        sex = row["sex"].strip().lower()
        if sex:
            if sex not in SEX_WORDS:
                errors.append((number, "sex", f"Jenis kelamin \u201c{row['sex']}\u201d tidak "
                                              "dikenal (isi L atau P)."))
                continue
            row["sex"] = SEX_WORDS[sex]
        if row["birth_date"]:
            iso = _iso_date(row["birth_date"])
            if iso is None:
                errors.append((number, "birth_date",
                               f"Tanggal lahir \u201c{row['birth_date']}\u201d tidak sah "
                               "(tulis 28/11/2008)."))
                continue
            row["birth_date"] = iso
        for key in ("rt", "rw"):
            if row[key].isascii() and row[key].isdigit():
                row[key] = row[key].zfill(3)
        rows.append(row)
    if not rows and not errors:
        errors.append((header_row + 1, "file", "Tidak ada baris data di bawah baris judul."))
    return rows, errors


@bp.post("/operations/<int:op_id>/import")
@office_login_required
@once
def operation_import(op_id):
    """Import a list of residents as cases still to be found — all rows or none."""
    op = operation_or_404(op_id)
    form = ImportForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _detail(op, form, None, status=400)
    upload = form.file.data
    try:
        table = read_table(upload.filename or "", upload.read())
        rows, errors = parse_import(table, op)
    except ImportFileError as exc:
        rows, errors = [], [(1, "file", str(exc))]
    if errors and not rows:
        audit("import_rejected", target=f"operation:{op.id}", errors=len(errors))
        db.session.commit()
        return _detail(op, form, _error_list(errors), status=422)

    try:
        ids = import_listed_residents(db.session, office_actor(), operation_id=op.id, rows=rows,
                                      now=utcnow())
    except ImportRejected as rejected:
        errors = errors + list(rejected.errors)
        ids = []
    except OfficeError as err:
        errors = errors + [(None, "_file", err.message)]
        ids = []
    if errors:  # all or nothing: a single bad row refuses the whole file
        db.session.rollback()
        audit("import_rejected", target=f"operation:{op.id}", errors=len(errors))
        db.session.commit()
        return _detail(op, form, _error_list(errors), status=422)
    audit("import_residents", target=f"operation:{op.id}", rows=len(ids))
    db.session.commit()
    flash(f"{len(ids):,} warga diimpor sebagai \u201cBelum Ditemukan\u201d. HP petugas desa "
          "itu menerimanya saat sinkron berikutnya.".replace(",", "."), "info")
    return redirect(url_for("web.operation_detail", op_id=op.id), code=303)


def _error_list(errors):
    out = []
    for error in sorted(errors, key=lambda e: (e[0] or 0, str(e[1]))):
        number, field_name, message = (list(error) + [None, None, None])[:3]
        out.append({"row": number or None, "field": COLUMN_LABELS.get(field_name, field_name or ""),
                    "message": message})
    return out


@bp.get("/operations/<int:op_id>/import-template.csv")
@office_login_required
def operation_import_template(op_id):
    """An example CSV with the expected columns and the operation's desa codes."""
    op = operation_or_404(op_id)
    first = op.desa[0].desa_code if op.desa else ""
    return csv_response([TEMPLATE_HEADER, [first, "Contoh Nama Warga", "", "", "P", "Paringin",
                                           "17/05/2008", "Jalan Contoh No. 1", "001", "002", ""]],
                        f"format-impor-aksi-{op.id}.csv", delimiter=",")
