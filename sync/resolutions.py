"""The camat's decisions on conflicts (kinds and decisions: sync.stages.CONFLICT_DECISIONS)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from .changeseq import allocate_change_seqs
from .errors import OfficeError
from .handlers_identity import recheck, refresh_identity
from .handlers_registration import json_value
from .models import Conflict, Resident, ResidentEvent, as_utc
from .office_common import CAMAT_ONLY, OfficeActor, clean_note, office_author, require_role
from .records import Author, in_kecamatan
from .schemas import iso_utc
from .schemas_identity import IDENTITY_FIELDS
from .stages import CONFLICT_DECISION_LABELS, CONFLICT_DECISIONS, stage_rank

MSG_CONFLICT_NOT_FOUND = "Konflik ini tidak ditemukan."
MSG_ALREADY_RESOLVED = "Konflik ini sudah diselesaikan."
MSG_WRONG_DECISION = "Keputusan ini tidak berlaku untuk jenis konflik ini."
MSG_ALREADY_MERGED = "Salah satu data warga ini sudah digabung dengan data lain."


def conflict_in_kecamatan(kecamatan_code: str) -> ColumnElement[bool]:
    """SQL condition on Conflict: filed in the kecamatan (6-digit code) AND every resident it
    names lies there — what a camat may see or decide; anything else does not exist for them."""
    resident, other = aliased(Resident), aliased(Resident)
    return and_(
        Conflict.kecamatan_code == kecamatan_code,
        exists().where(resident.resident_id == Conflict.resident_id,
                       func.substr(resident.desa_code, 1, 6) == kecamatan_code),
        or_(Conflict.other_resident_id.is_(None),
            exists().where(other.resident_id == Conflict.other_resident_id,
                           func.substr(other.desa_code, 1, 6) == kecamatan_code)),
    )


def resolve_conflict(session, actor: OfficeActor, *, conflict_id: int, decision: str,
                     note: str | None, now: datetime) -> Conflict:
    """Apply the camat's decision on an open conflict, with a history event on each resident."""
    require_role(actor, CAMAT_ONLY)
    note = clean_note(note)
    author = office_author(session, actor, now)
    seqs = allocate_change_seqs(session, 2)  # the resident and, if any, the other one
    conflict = session.get(Conflict, _as_id(conflict_id), populate_existing=True)
    if conflict is None or conflict.kecamatan_code != actor.kecamatan_code:
        raise OfficeError("not_found", MSG_CONFLICT_NOT_FOUND)
    resident = session.get(Resident, conflict.resident_id, populate_existing=True)
    other = None
    if conflict.other_resident_id:
        other = session.get(Resident, conflict.other_resident_id, populate_existing=True)
    # Defence in depth: a conflict row written across two kecamatan (by older code, or by
    # hand) is refused as a whole; nothing of either side is read or written.
    if not all(in_kecamatan(person, actor.kecamatan_code)
               for person in (resident, other) if person is not None):
        raise OfficeError("not_found", MSG_CONFLICT_NOT_FOUND)
    if conflict.status != "open":
        raise OfficeError("already_resolved", MSG_ALREADY_RESOLVED)
    if decision not in CONFLICT_DECISIONS.get(conflict.kind, ()):
        raise OfficeError("validation_error", MSG_WRONG_DECISION, {"decision": MSG_WRONG_DECISION})

    changes = _DECISIONS[decision](author, conflict, resident, other) or {}

    conflict.status = "resolved"
    conflict.resolution = {"decision": decision, "note": note, "by": actor.user_id,
                           "at": iso_utc(author.now)}
    payload = {"conflict_id": conflict.id, "kind": conflict.kind, "decision": decision,
               "decision_label": CONFLICT_DECISION_LABELS[decision], "note": note, **changes}
    for person, seq in zip([resident, other], seqs):
        if person is not None:
            author.event(person.resident_id, "conflict_resolved", payload)
            author.touch(person, seq)
    return conflict


def _as_id(value) -> int:
    # From a URL the id may come as text; anything else is an id that does not exist.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _nothing(author, conflict, resident, other) -> None:
    """keep_first, keep_current, not_duplicate: the case already shows what the camat keeps."""


def _keep_verified(author: Author, conflict: Conflict, resident: Resident, other) -> dict:
    previous = resident.stage
    if resident.stage == "rejected" or stage_rank(resident.stage) < stage_rank("verified"):
        resident.stage = "verified"
    if resident.verification is None:
        resident.verification = conflict.details.get("verification")
        resident.kk_photo = resident.kk_photo or (resident.verification or {}).get("kk_photo")
    resident.rejection = None  # kept in the rejected event and the conflict
    return {"stage": {"old": previous, "new": resident.stage}}


def _keep_rejected(author: Author, conflict: Conflict, resident: Resident, other) -> dict:
    previous = resident.stage
    resident.stage = "rejected"
    resident.rejection = resident.rejection or conflict.details.get("rejection")
    return {"stage": {"old": previous, "new": resident.stage}}


def _keep_second(author: Author, conflict: Conflict, resident: Resident, other) -> dict:
    second = conflict.details["second"]
    resident.delivery = dict(second)
    return {"delivery_id": second.get("delivery_id")}


def _restore_previous(author: Author, conflict: Conflict, resident: Resident, other) -> dict:
    field = conflict.field
    value = conflict.details["overwritten"]["value"]
    old = json_value(getattr(resident, field))
    # A corrected birth date is kept as text in the conflict's JSON.
    restored = date.fromisoformat(value) if field == "birth_date" and value else value
    changes = {field: {"old": old, "new": value}}
    warnings = None
    if field in IDENTITY_FIELDS:
        # The warnings of the data as restored (a NIK check failing is a warning here: the
        # value was valid when it was written, and the camat chose it).
        _errors, warnings = recheck(resident, {field: restored}, changes, author.now)
    setattr(resident, field, restored)
    if warnings is not None:
        # As a correction: name key, warnings, duplicate checks (a desa moved back also
        # leaves the phones of the other desa through the event's changes, sync/pull.py).
        refresh_identity(author, resident, changes, warnings)
    stamps = dict(resident.field_versions or {})
    stamps[field] = {"version": resident.version + 1, "client_id": author.client_id,
                     "user_id": author.user_id}
    resident.field_versions = stamps  # a new dict: plain JSON columns do not track mutation
    return {"changes": changes}


def _merge(author: Author, conflict: Conflict, resident: Resident, other: Resident | None) -> dict:
    if other is None or resident.merged_into or other.merged_into:
        raise OfficeError("invalid_transition", MSG_ALREADY_MERGED)
    if resident.desa_code[:6] != other.desa_code[:6]:
        # resolve_conflict refused this already; kept next to the write it protects.
        raise OfficeError("not_found", MSG_CONFLICT_NOT_FOUND)
    # The older case keeps its id (phones, batches and events refer to it); the newer one
    # leaves the phones through changes.removed.
    keep, drop = sorted((resident, other), key=lambda r: (as_utc(r.created_at), _first_event(author, r)))
    drop.merged_into = keep.resident_id
    author.event(drop.resident_id, "merged", {"conflict_id": conflict.id,
                                              "merged_into": keep.resident_id})
    return {"kept": keep.resident_id, "merged": drop.resident_id}


def _first_event(author: Author, resident: Resident) -> int:
    # Ties on created_at (one import, one sync request) go to the case written first.
    return author.session.scalar(select(func.min(ResidentEvent.id))
                                 .where(ResidentEvent.resident_id == resident.resident_id)) or 0


_DECISIONS: dict[str, Callable] = {
    "keep_verified": _keep_verified,
    "keep_rejected": _keep_rejected,
    "keep_first": _nothing,
    "keep_second": _keep_second,
    "keep_current": _nothing,
    "restore_previous": _restore_previous,
    "merge": _merge,
    "not_duplicate": _nothing,
}
