"""The office's correction of a resident's identity data (camat, operator), at any stage, with
a reason: the same checks as the phone's correct_identity (sync/handlers_identity.py), one
identity_corrected event, a new version and change_seq so that the phones pull the case.
server/ calls it with its session and commits (or rolls back on OfficeError).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Collection, Mapping

from .changeseq import allocate_change_seq
from .errors import OfficeError
from .handlers_identity import recheck, refresh_identity
from .handlers_registration import changed_fields
from .models import Resident
from .office_common import (
    BATCH_ROLES,
    OfficeActor,
    load_office_args,
    office_author,
    office_resident,
    require_role,
)
from .records import MSG_VALIDATION
from .schemas_identity import OfficeCorrectionSchema

CORRECTION_ROLES = BATCH_ROLES  # camat and operator
MSG_REASON_REQUIRED = "Alasan koreksi wajib diisi."
MSG_NO_CHANGE = "Tidak ada data identitas yang berubah."
MSG_DESA_OUTSIDE = "Desa harus berada di kecamatan Anda."

_SCHEMA = OfficeCorrectionSchema()


def correct_identity_office(session, actor: OfficeActor, *, resident_id: str,
                            fields: dict[str, Any], reason: str | None, now: datetime,
                            operations: Mapping[str, int] | None = None,
                            desa_codes: Collection[str] | None = None
                            ) -> tuple[Resident, list[str]]:
    """Correct identity fields of a case of the actor's kecamatan; returns (the case, the
    names of the fields changed).

    `fields`: any of sync.schemas_identity.IDENTITY_FIELDS as the phone sends them (a date as
    "YYYY-MM-DD" or a date; "" is empty). operations: {desa code: active operation id} of
    the kecamatan — a case moved to another desa takes that desa's (None: kept as it is);
    the phones of the old desa receive its id in changes.removed (sync/pull.py).
    Raises OfficeError: forbidden (another role), not_found (unknown, merged, another
    kecamatan's), validation_error (reason missing, a field invalid, a desa outside the
    kecamatan or, with desa_codes given, not one of them, nothing changed; fields
    {name: message}).
    """
    require_role(actor, CORRECTION_ROLES)
    data = load_office_args(_SCHEMA, {"fields": dict(fields), "reason": reason})
    if data["reason"] is None:
        raise OfficeError("validation_error", MSG_REASON_REQUIRED, {"reason": MSG_REASON_REQUIRED})
    values = data["field_values"]
    author = office_author(session, actor, now)
    seq = allocate_change_seq(session)
    resident = office_resident(session, actor, resident_id)
    desa = values.get("desa_code", resident.desa_code)
    # desa_codes: the kecamatan's desa as the wilayah table knows them (server/ owns it); a
    # code that only looks like one would take the case off every phone.
    if desa[:6] != actor.kecamatan_code or (
            desa_codes is not None and desa != resident.desa_code and desa not in desa_codes):
        raise OfficeError("validation_error", MSG_DESA_OUTSIDE, {"desa_code": MSG_DESA_OUTSIDE})
    changes = changed_fields(resident, values)
    if not changes:
        raise OfficeError("validation_error", MSG_NO_CHANGE, {})
    errors, warnings = recheck(resident, values, changes, author.now)
    if errors:
        raise OfficeError("validation_error", MSG_VALIDATION, errors)
    version = resident.version + 1
    stamps = dict(resident.field_versions or {})
    for field in changes:
        # A phone that edits the field from an older version files a concurrent_edit.
        stamps[field] = {"version": version, "client_id": author.client_id,
                         "user_id": author.user_id}
        setattr(resident, field, values[field])
    resident.field_versions = stamps  # a new dict: plain JSON columns do not track mutation
    author.touch(resident, seq)
    refresh_identity(author, resident, changes, warnings, operations)
    author.event(resident.resident_id, "identity_corrected",
                 {"version": version, "changes": changes, "reason": data["reason"]})
    return resident, sorted(changes)
