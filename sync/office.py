"""What the office view (camat, operator) changes in the pipeline; server/ calls these with its
session and then commits (docs/interfaces-pipeline.md, "Office functions").

Every change writes events (client_id "office", mutation_id NULL, device_at = server time) and
new change_seq values under the counter lock, so the phones receive it at their next sync.
Everything is scoped to the actor's kecamatan: another kecamatan's resident, batch or conflict
does not exist for them (OfficeError "not_found"). On OfficeError nothing was written but the
counter bump; the caller rolls back (which also releases the counter lock).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from .batches import collect, hand_over
from .changeseq import allocate_change_seq
from .errors import ImportRejected, OfficeError
from .listing import import_listed_residents
from .models import Batch, Resident, ResidentEvent
from .office_common import (
    BATCH_ROLES,
    CAMAT_ONLY,
    OfficeActor,
    as_office_error,
    clean_note,
    kecamatan_scope,
    load_office_args,
    office_author,
    office_resident,
    require_role,
)
from .records import Rejection
from .resolutions import resolve_conflict
from .schemas import HandoverBatchArgsSchema, RecordCollectionArgsSchema

MSG_NOT_REJECTED = "Hanya kasus berstatus Ditolak yang dapat dibuka kembali."

_HANDOVER_SCHEMA = HandoverBatchArgsSchema()
_COLLECTION_SCHEMA = RecordCollectionArgsSchema()

__all__ = [
    "OfficeActor", "OfficeError", "ImportRejected", "create_batch", "record_collection",
    "resolve_conflict", "reopen_case", "import_listed_residents",
]


# ---------------------------------------------------------------- batches
def create_batch(session, actor: OfficeActor, *, batch_id: str, number: str, handed_at,
                 resident_ids: list[str], notes: str | None, now: datetime) -> Batch:
    """Hand `recorded` residents of the kecamatan to Disdukcapil as one batch (all or nothing)."""
    require_role(actor, BATCH_ROLES)
    data = load_office_args(_HANDOVER_SCHEMA, {
        "batch_id": batch_id, "number": number, "handed_at": handed_at,
        "resident_ids": list(resident_ids), "notes": notes})
    try:
        return hand_over(office_author(session, actor, now), kecamatan_scope(actor),
                         batch_id=str(data["batch_id"]), number=data["number"],
                         handed_at=data["handed_at"], resident_ids=data["resident_ids"],
                         notes=data["notes"], kecamatan_code=actor.kecamatan_code,
                         created_via="office")
    except Rejection as rejection:
        if rejection.fields.get("batch_id"):
            raise OfficeError("batch_exists", rejection.message, rejection.fields) from None
        raise as_office_error(rejection) from None


def record_collection(session, actor: OfficeActor, *, batch_id: str, items: list[dict[str, Any]],
                      collected_at, now: datetime) -> Batch:
    """Record the cards of a batch collected at Disdukcapil, or not printed yet and why."""
    require_role(actor, BATCH_ROLES)
    data = load_office_args(_COLLECTION_SCHEMA, {
        "batch_id": batch_id, "items": list(items), "collected_at": collected_at})
    try:
        return collect(office_author(session, actor, now), kecamatan_scope(actor),
                       batch_id=str(data["batch_id"]), items=data["items"],
                       collected_at=data["collected_at"], kecamatan_code=actor.kecamatan_code)
    except Rejection as rejection:
        raise as_office_error(rejection) from None


# ---------------------------------------------------------------- cases
def reopen_case(session, actor: OfficeActor, *, resident_id: str, note: str | None,
                now: datetime) -> Resident:
    """The camat reopens a rejected case: back to found (listed if it was never registered)."""
    require_role(actor, CAMAT_ONLY)
    note = clean_note(note)
    author = office_author(session, actor, now)
    seq = allocate_change_seq(session)
    resident = office_resident(session, actor, resident_id)
    if resident.stage != "rejected":
        raise OfficeError("invalid_transition", MSG_NOT_REJECTED, {"resident_id": MSG_NOT_REJECTED})
    # A case imported from a list and rejected before anyone found it goes back to the list.
    registered = session.scalar(select(ResidentEvent.id).where(
        ResidentEvent.resident_id == resident.resident_id,
        ResidentEvent.kind == "registered").limit(1))
    stage = "found" if registered is not None else "listed"
    author.event(resident.resident_id, "reopened",
                 {"note": note, "stage": stage, "rejection": resident.rejection})
    resident.stage = stage
    resident.rejection = None
    author.touch(resident, seq)
    return resident

