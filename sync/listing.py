"""Importing a Disdukcapil list of residents without KTP-el: cases at stage `listed`.

All or nothing: every row is validated with the registration's own rules (schema, NIK/KK
checks) before anything is written, and one bad row refuses the whole file with every
problem listed (ImportRejected.errors), so the camat fixes the file and uploads it again.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Iterable

from marshmallow import ValidationError, fields, validate
from sqlalchemy import select

from .changeseq import allocate_change_seqs
from .errors import ImportRejected, OfficeError
from .handlers_registration import identity_checks, name_key, possible_duplicates, wire_form
from .models import Resident
from .office_common import BATCH_ROLES, OfficeActor, office_author, require_role
from .schemas import FREE_FIELDS, RegisterResidentArgsSchema, flatten_errors
from .stages import MARITAL_STATUS_LABELS, SEX_LABELS
from .wirefields import Code, messages

MAX_IMPORT_ROWS = 5000
ROW_FIELDS = ("desa_code", "name", "nik", "kk_number", "sex", "birth_date", "birth_place",
              "address", "rt", "rw", "phone")

MSG_OTHER_KECAMATAN = "Desa ini bukan bagian dari kecamatan Anda."
MSG_NIK_EXISTS = "NIK ini sudah ada di data warga ({name}); hapus baris ini dari berkas."
MSG_NIK_EXISTS_ELSEWHERE = ("NIK ini sudah terdaftar di kecamatan lain; hapus baris ini dari "
                            "berkas atau hubungi Disdukcapil.")
MSG_NIK_TWICE = "NIK ini sudah ada di baris {row} berkas ini."

_SEX_WORDS = {"l": "male", "lk": "male", "laki-laki": "male", "laki laki": "male", "pria": "male",
              "p": "female", "pr": "female", "perempuan": "female", "wanita": "female"}


class ListedRowSchema(RegisterResidentArgsSchema):
    """A list row: the registration's fields, but sex, birth date and marital status may be empty."""

    sex = Code(SEX_LABELS, allow_none=True, load_default=None)
    birth_date = fields.Date(
        allow_none=True, load_default=None,
        validate=validate.Range(min=datetime(1900, 1, 1).date(), error="Tanggal lahir tidak masuk akal."),
        error_messages=messages(invalid="Tanggal tidak valid (TTTT-BB-HH atau HH-BB-TTTT)."),
    )
    marital_status = Code(MARITAL_STATUS_LABELS, allow_none=True, load_default=None)


_ROW_SCHEMA = ListedRowSchema(exclude=("resident_id",))
_INSERT_RESIDENT = Resident.__table__.insert()


def import_listed_residents(session, actor: OfficeActor, *, operation_id: int,
                            rows: Iterable[dict[str, Any]], now: datetime) -> list[str]:
    """Create one `listed` case per row for the operation; return the new resident ids in order."""
    require_role(actor, BATCH_ROLES)
    if isinstance(operation_id, bool) or not isinstance(operation_id, int) or operation_id < 1:
        raise OfficeError("validation_error", "Operasi tidak valid.",
                          {"operation_id": "Operasi tidak valid."})
    rows = list(rows)
    if not rows:
        raise ImportRejected([(0, "_file", "Berkas tidak berisi baris data.")])
    if len(rows) > MAX_IMPORT_ROWS:
        raise ImportRejected([(0, "_file", f"Paling banyak {MAX_IMPORT_ROWS} baris per impor.")])

    author = office_author(session, actor, now)
    # Taken before the NIK look-ups: nobody can register one of these NIKs meanwhile.
    seqs = allocate_change_seqs(session, len(rows))
    errors: list[tuple[int, str, str]] = []
    loaded: list[tuple[int, dict[str, Any], list[str]]] = []
    for index, raw in enumerate(rows):
        number = _row_number(raw, index)
        data, warnings, problems = _load_row(raw, actor, author.now)
        errors += [(number, field, text) for field, text in problems.items()]
        if data is not None:
            loaded.append((number, data, warnings))
    errors += _nik_duplicates(session, loaded, actor.kecamatan_code)
    if errors:
        raise ImportRejected(errors)

    connection = session.connection()
    stamp = {"version": 1, "client_id": author.client_id, "user_id": author.user_id}
    ids = []
    for (number, data, warnings), seq in zip(loaded, seqs):
        rid = str(uuid.uuid4())
        row = {**data, "resident_id": rid, "name_key": name_key(data["name"]), "stage": "listed",
               "version": 1, "warnings": warnings, "operation_id": operation_id,
               "field_versions": {field: dict(stamp) for field in FREE_FIELDS},
               "created_by_user_id": author.user_id, "created_by_client_id": author.client_id,
               "created_at": author.now, "updated_at": author.now, "change_seq": seq}
        # A NIK held in another kecamatan was refused above (_nik_duplicates): no "elsewhere".
        duplicates, _ = possible_duplicates(connection, row)
        connection.execute(_INSERT_RESIDENT, row)
        author.event(rid, "listed", {"operation_id": operation_id, "row": number,
                                     "args": wire_form(data), "warnings": warnings})
        for other, reason in sorted(duplicates.items()):
            author.conflict("possible_duplicate", rid, row["desa_code"], other_resident_id=other,
                            details={"reason": reason, "client_id": author.client_id,
                                     "user_id": author.user_id, "import_row": number})
        ids.append(rid)
    return ids


def _row_number(raw: Any, index: int) -> int:
    number = raw.get("_row") if isinstance(raw, dict) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else index + 1


def _load_row(raw: Any, actor: OfficeActor, now: datetime):
    """(data | None, warnings, {field: message}) for one row."""
    if not isinstance(raw, dict):
        return None, [], {"_row": "Baris tidak terbaca."}
    values = {key: _normalise(key, raw.get(key)) for key in ROW_FIELDS if key in raw}
    try:
        data = _ROW_SCHEMA.load(values)
    except ValidationError as exc:
        return None, [], flatten_errors(exc.messages)
    problems, warnings = identity_checks(data, now)
    if data["desa_code"][:6] != actor.kecamatan_code:
        problems["desa_code"] = MSG_OTHER_KECAMATAN
    return (None if problems else data), warnings, problems


def _normalise(key: str, value: Any) -> Any:
    # Spreadsheet habits: blank cells, "L"/"P" for sex, day-first dates, numbers as numbers.
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(int(value)) if float(value).is_integer() else str(value)
    if not isinstance(value, str):
        return value
    value = value.strip()
    if not value:
        return None
    if key == "sex":
        return _SEX_WORDS.get(value.casefold(), value)
    if key == "birth_date":
        match = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", value)
        if match:
            day, month, year = match.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}"
    return value


def _nik_duplicates(session, loaded, kecamatan_code: str) -> list[tuple[int, str, str]]:
    """A NIK twice in the file, or already on a resident: the row would be a second case."""
    errors = []
    first_row: dict[str, int] = {}
    for number, data, _ in loaded:
        nik = data["nik"]
        if nik and nik in first_row:
            errors.append((number, "nik", MSG_NIK_TWICE.format(row=first_row[nik])))
        elif nik:
            first_row[nik] = number
    niks = list(first_row)
    existing: dict[str, str] = {}
    for start in range(0, len(niks), 500):
        for nik, name, desa in session.execute(
                select(Resident.nik, Resident.name, Resident.desa_code)
                .where(Resident.nik.in_(niks[start:start + 500]),
                       Resident.merged_into.is_(None))):
            # Another kecamatan's resident is not this office's to see: no name.
            existing[nik] = (MSG_NIK_EXISTS.format(name=name) if desa[:6] == kecamatan_code
                             else MSG_NIK_EXISTS_ELSEWHERE)
    errors += [(number, "nik", existing[data["nik"]])
               for number, data, _ in loaded if data["nik"] in existing]
    return errors

