"""The correct_identity mutation (a resident's name, NIK, KK, sex, birth, marital status and
desa corrected by the officer while the case is not verified yet) and the checks it shares
with the office's correction (sync/office_identity.py): identity checks, warnings and the
duplicate checks run again on the corrected data.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import and_, or_, select

from .changeseq import allocate_change_seq
from .context import MSG_DESA_NOT_ASSIGNED, MutationContext
from .handlers_registration import (
    NIK_ELSEWHERE,
    changed_fields,
    identity_checks,
    name_key,
    possible_duplicates,
    write_changes,
)
from .models import Conflict, Resident
from .records import MSG_VALIDATION, Author, NothingToChange, Rejection, get_resident
from .schemas_identity import IDENTITY_FIELDS
from .stages import STAGE_ORDER, stage_label
from .validators import MESSAGES_ID

# Before verification the officer's data is still a draft of the case; from `verified` on,
# the verification and everything after it were made on these data: the office corrects them.
CORRECTABLE_STAGES = frozenset(STAGE_ORDER[:STAGE_ORDER.index("verified")])
# A change of these runs the duplicate checks again (the NIK rule; the same name, birth date
# and desa rule).
DUPLICATE_KEYS = frozenset({"nik", "name", "birth_date", "desa_code"})
# Warnings the identity checks set; others on the case (none today) are kept as they are.
_CHECK_WARNINGS = frozenset(MESSAGES_ID) - {NIK_ELSEWHERE}


def msg_office_corrects(stage: str) -> str:
    """The refusal of a phone's correction once the case is verified (or rejected)."""
    return (f"Data warga ini sudah berstatus {stage_label(stage)}: data identitas (nama, NIK, "
            "KK, jenis kelamin, kelahiran, status perkawinan, desa) sekarang hanya dapat "
            "dikoreksi di kantor kecamatan oleh camat atau operator.")


def correct_identity(ctx: MutationContext, data: dict) -> None:
    """Correct identity (and free) fields of a case not verified yet: the checks of a
    registration, concurrent-edit conflicts as update_resident, one identity_corrected event.

    Rejections: resident_not_found, desa_not_assigned (the case's desa or the new one),
    invalid_transition (verified or later, or rejected: the office corrects it now),
    validation_error (a NIK/KK/birth date check of a changed field).
    """
    rid = str(data["resident_id"])
    base_version, values = data["base_version"], data["field_values"]
    session = ctx.session
    seq = allocate_change_seq(session)  # before reading: the row cannot change under us
    resident = get_resident(session, rid, ctx.scope)
    changes = changed_fields(resident, values)
    if resident.stage not in CORRECTABLE_STAGES and changes.keys() & set(IDENTITY_FIELDS):
        message = msg_office_corrects(resident.stage)
        raise Rejection("invalid_transition", message, {"resident_id": message})
    if not changes:
        raise NothingToChange()  # the case already holds these values (e.g. a replay)
    desa = values.get("desa_code", resident.desa_code)
    if "desa_code" in changes and not ctx.may_register_in(desa):
        raise Rejection("desa_not_assigned", MSG_DESA_NOT_ASSIGNED,
                        {"desa_code": MSG_DESA_NOT_ASSIGNED})
    errors, warnings = recheck(resident, values, changes, ctx.now)
    if errors:
        raise Rejection("validation_error", MSG_VALIDATION, errors)
    version = write_changes(ctx, resident, changes, base_version, seq, values)
    refresh_identity(ctx.author, resident, changes, warnings, ctx.actor.operations)
    # Free fields only (what update_resident does): history says so.
    kind = "identity_corrected" if changes.keys() & set(IDENTITY_FIELDS) else "updated"
    ctx.author.event(rid, kind,
                     {"base_version": base_version, "version": version, "changes": changes})


def recheck(resident: Resident, values: dict[str, Any], changes: dict[str, Any],
            now: datetime) -> tuple[dict[str, str], list[str]]:
    """The registration's identity checks on the case as corrected: ({field: message} of the
    changed fields only — a stored value the officer did not touch blocks nothing — and the
    warning codes of the corrected data)."""
    merged = {field: values.get(field, getattr(resident, field)) for field in IDENTITY_FIELDS}
    errors, warnings = identity_checks(merged, now)
    return {key: text for key, text in errors.items() if key in changes}, warnings


def refresh_identity(author: Author, resident: Resident, changes: dict[str, Any],
                     warnings: list[str], operations: Mapping[str, int] | None = None) -> None:
    """After the corrected fields are set: the name key, the warnings, and, when the NIK,
    name, birth date or desa changed, the duplicate checks (a possible_duplicate conflict for
    each case newly found, none twice for the same pair).

    A case moved to another desa belongs to that desa's active operation, as a registration
    there would (operations: {desa code: operation id}; None leaves operation_id as it is).
    The phones of the old desa learn of the move from the event's changes (sync/pull.py).
    """
    if "desa_code" in changes and operations is not None:
        resident.operation_id = operations.get(resident.desa_code)
    resident.name_key = name_key(resident.name)
    kept = [code for code in resident.warnings or () if code not in _CHECK_WARNINGS]
    if changes.keys() & DUPLICATE_KEYS:
        kept = [code for code in kept if code != NIK_ELSEWHERE]
        duplicates, elsewhere = possible_duplicates(author.session.connection(), {
            "resident_id": resident.resident_id, "nik": resident.nik,
            "desa_code": resident.desa_code, "birth_date": resident.birth_date,
            "name_key": resident.name_key})
        if elsewhere:
            kept.append(NIK_ELSEWHERE)
        known = _linked(author, resident.resident_id, duplicates)
        for other, reason in sorted(duplicates.items()):
            if other not in known:
                author.conflict("possible_duplicate", resident.resident_id, resident.desa_code,
                                other_resident_id=other, details={
                                    "reason": reason, "client_id": author.client_id,
                                    "user_id": author.user_id,
                                    "mutation_id": author.mutation_id, "correction": True})
    resident.warnings = [*warnings, *(code for code in kept if code not in warnings)]


def _linked(author: Author, rid: str, others: dict[str, str]) -> set[str]:
    """The cases among `others` already linked to `rid` by a possible_duplicate conflict (open
    or resolved: the camat decided on that pair once)."""
    if not others:
        return set()
    c = Conflict.__table__.c
    rows = author.session.execute(select(c.resident_id, c.other_resident_id).where(
        c.kind == "possible_duplicate",
        or_(and_(c.resident_id == rid, c.other_resident_id.in_(list(others))),
            and_(c.other_resident_id == rid, c.resident_id.in_(list(others))))))
    return {a if b == rid else b for a, b in rows}
