"""Batches to Disdukcapil: handing recorded residents over, and collecting their cards.

Used by the phone mutations (handover_batch, record_collection) and by the office view
(sync.office.create_batch / record_collection), so both follow the same rules.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from .changeseq import allocate_change_seqs
from .models import Batch, BatchItem, as_utc
from .records import (
    Author,
    Rejection,
    Scope,
    at_least,
    get_residents,
    invalid_transition,
    rank,
    where_it_stands,
)
from .registry import marked_ready_after
from .schemas import iso_utc
from .stages import later_stage
from .step_order import flagged, recording_time

MSG_BATCH_EXISTS = "Nomor berkas (batch_id) ini sudah dipakai untuk penyerahan lain."
MSG_BATCH_NOT_FOUND = "Berkas penyerahan ini tidak ditemukan di server."
MSG_NOT_IN_BATCH = "tidak termasuk dalam berkas penyerahan ini"

_INSERT_ITEM = BatchItem.__table__.insert()


def hand_over(author: Author, scope: Scope, *, batch_id: str, number: str, handed_at: datetime,
              resident_ids: list[str], notes: str | None, kecamatan_code: str,
              created_via: str) -> Batch:
    """Create a batch of `recorded` residents (all or nothing) and move them to sent_to_registry."""
    session = author.session
    # Taken before reading: with the counter lock held nobody else moves these residents.
    seqs = allocate_change_seqs(session, len(resident_ids))
    if session.get(Batch, batch_id) is not None:
        raise Rejection("validation_error", MSG_BATCH_EXISTS, {"batch_id": MSG_BATCH_EXISTS})
    residents = get_residents(session, resident_ids, scope)
    problems = [
        (resident, f"{where_it_stands(resident, 'recorded')}; hanya warga Sudah Rekam "
                   "yang dapat diserahkan ke Disdukcapil")
        for resident in residents if resident.stage != "recorded"
    ]
    if problems:
        raise invalid_transition(problems)

    batch = Batch(batch_id=batch_id, number=number, kecamatan_code=kecamatan_code,
                  handed_at=as_utc(handed_at), created_by_user_id=author.user_id,
                  created_via=created_via, notes=notes, created_at=author.now)
    session.add(batch)
    session.flush()  # the items reference it
    session.connection().execute(_INSERT_ITEM, [
        {"batch_id": batch_id, "resident_id": rid, "outcome": None, "reason": None,
         "reason_text": None, "updated_at": author.now} for rid in resident_ids])
    payload = {"batch_id": batch_id, "number": number, "handed_at": iso_utc(handed_at)}
    for resident, seq in zip(residents, seqs):
        resident.stage = "sent_to_registry"
        resident.batch_id = batch_id
        author.touch(resident, seq)
        author.event(resident.resident_id, "batch_handed_over", flagged(
            payload, "batch_handed_over", handed_at, recording_time(resident)))
    return batch


def collect(author: Author, scope: Scope, *, batch_id: str, items: list[dict[str, Any]],
            collected_at: datetime, kecamatan_code: str) -> Batch:
    """Record which cards of a batch were collected and which are not printed yet."""
    session = author.session
    seqs = allocate_change_seqs(session, len(items))
    batch = session.get(Batch, batch_id, populate_existing=True)
    if batch is None or batch.kecamatan_code != kecamatan_code:
        raise Rejection("batch_not_found", MSG_BATCH_NOT_FOUND, {"batch_id": MSG_BATCH_NOT_FOUND})
    ids = [str(item["resident_id"]) for item in items]
    # A resident Disdukcapil found missing (received False) left this batch (sync/registry.py).
    in_batch = {row.resident_id: row for row in session.scalars(
        select(BatchItem).where(BatchItem.batch_id == batch_id, BatchItem.resident_id.in_(ids)))
        if row.received is not False}
    residents = get_residents(session, ids, scope)
    problems = []
    for resident in residents:
        if resident.resident_id not in in_batch:
            problems.append((resident, MSG_NOT_IN_BATCH))
        elif not at_least(resident, "sent_to_registry"):
            problems.append((resident, f"{where_it_stands(resident, 'sent_to_registry')}; "
                                       "KTP hanya dapat diambil setelah diserahkan ke Disdukcapil"))
    if problems:
        raise invalid_transition(problems)

    at = iso_utc(collected_at)
    for item, resident, seq in zip(items, residents, seqs):
        row = in_batch[resident.resident_id]
        if item["outcome"] == "collected":
            resident.stage = later_stage(resident.stage, "card_collected")
            resident.card_issue = None  # printed after all
            kind, payload = "card_collected", flagged({"batch_id": batch_id, "collected_at": at},
                                                      "card_collected", at, batch.handed_at)
        elif rank(resident.stage) > rank("sent_to_registry"):
            continue  # already collected (or delivered): the forward event wins
        else:
            issue = {"reason": item["reason"], "reason_text": item.get("reason_text"),
                     "batch_id": batch_id, "at": at}
            if not marked_ready_after(row, collected_at):
                resident.card_issue = issue
                resident.card_ready_at = None  # not there after all: no longer "siap diambil"
            # else: a trip entered late, before Disdukcapil's ready mark: the card waits for
            # the next trip; the report stays in the history.
            kind, payload = "card_not_printed", {"batch_id": batch_id, **issue}
        if not (row.outcome == item["outcome"] == "collected" and row.outcome_at is not None):
            row.outcome_at = as_utc(collected_at)  # a card collected twice keeps its first time
        row.outcome = item["outcome"]
        row.reason = item.get("reason") if item["outcome"] == "not_printed" else None
        row.reason_text = item.get("reason_text") if item["outcome"] == "not_printed" else None
        row.updated_at = author.now
        author.touch(resident, seq)
        author.event(resident.resident_id, kind, payload)
    # The latest trip in time (a trip entered late must not move it back); UTC: SQLite keeps no
    # offset.
    batch.collected_at = max(as_utc(collected_at), as_utc(batch.collected_at or collected_at))
    return batch
