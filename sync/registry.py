"""Disdukcapil's side of SOP steps 4 and 5 (issue #13): the receipt of a handed-over batch,
the print mark of each card, and what the collection found against those marks.

A Disdukcapil user works for one kabupaten (RegistryActor): every batch of its kecamatan
exists for them, nothing else does. Their actions are events on the cases, numbered from the
batch's kecamatan counter, so the kecamatan's phones and office see them at the next pull or
page view.

Rules (docs/office-pipeline.md, "Disdukcapil"):

* receipt — once per batch: a time, and the residents whose documents were not in the
  physical batch. Those go back to `recorded` (out of the batch), so that the kecamatan hands
  them over again (a missing card already collected is refused); the rest stay
  `sent_to_registry` with `received` set. The same receipt sent again changes nothing; a
  different one, even one written at the same moment, is refused (already_received).
* print mark — per received card while it waits at Disdukcapil (`sent_to_registry`): `ready`
  (printed, waiting for pick-up: `card_ready_at` on the case) or `not_printed` with a reason
  of NOT_PRINTED_REASON_LABELS (the case's `card_issue`, as the kecamatan's collection
  records it). A mark may be changed until the card is collected; a mark the card already
  carries is a replay (nothing written, no change_seq taken).
* collection differences — for batches with a receipt: a card collected without a `ready`
  mark, or marked ready before the batch's latest collection and not collected by it.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .changeseq import allocate_change_seqs, use_kecamatan
from .errors import OfficeError
from .models import OFFICE_CLIENT_ID, WITA, Batch, BatchItem, Resident, ResidentEvent, as_utc
from .records import Author
from .schemas import iso_utc
from .stages import NOT_PRINTED_REASON_LABELS

MARKS = ("ready", "not_printed")
_COLLECTION_GRACE = timedelta(minutes=1)  # collection times are entered to the minute
MAX_REASON_TEXT = 500

MSG_BATCH_NOT_FOUND = "Berkas penyerahan ini tidak ditemukan."
MSG_ALREADY_RECEIVED = "Berkas ini sudah diterima pada {at}; penerimaan tidak dapat diubah."
MSG_NOT_RECEIVED = "Konfirmasi penerimaan berkas ini dulu sebelum menandai KTP."
MSG_MISSING_UNKNOWN = "Warga ini tidak tercantum dalam berkas ini."
MSG_BEFORE_HANDOVER = "Waktu penerimaan tidak boleh lebih awal dari waktu serah terima."
MSG_NEED_TIME = "Isi tanggal dan jam penerimaan."
MSG_FUTURE = "Waktu tidak boleh di masa depan."
MSG_NO_MARKS = "Pilih tanda cetak minimal untuk satu KTP."
MSG_BAD_MARK = "Tanda cetak tidak valid."
MSG_BAD_REASON = "Pilih alasan KTP belum dicetak."
MSG_NEED_TEXT = "Jelaskan alasan 'Lainnya'."
MSG_TEXT_LONG = f"Keterangan paling banyak {MAX_REASON_TEXT} karakter."
MSG_TWICE = "Satu KTP hanya boleh ditandai sekali dalam satu simpanan."
MSG_NOT_IN_BATCH = "Warga ini tidak termasuk dalam berkas ini."
MSG_NOT_WAITING = "KTP ini tidak lagi menunggu di Disdukcapil (sudah diambil atau dikembalikan)."


@dataclass(frozen=True)
class RegistryActor:
    """A logged-in Disdukcapil user and the kabupaten they work for (4 digits, e.g. 6311)."""

    user_id: int
    kabupaten_code: str

    def __post_init__(self) -> None:
        # An empty or short code would be a prefix of every kecamatan: never allow it.
        if len(self.kabupaten_code) != 4 or not self.kabupaten_code.isdigit():
            raise ValueError("kabupaten_code must be 4 digits")


def in_kabupaten(actor: RegistryActor):
    """The SQL condition "this batch belongs to one of the actor's kecamatan"."""
    return Batch.kecamatan_code.like(actor.kabupaten_code + "%")


def registry_batch(session: Session, actor: RegistryActor, batch_id: str) -> Batch:
    """The batch `batch_id` of the actor's kabupaten, fresh from the database.

    Raises OfficeError not_found for an unknown batch and for one of another kabupaten alike.
    """
    batch = session.get(Batch, str(batch_id), populate_existing=True)
    if batch is None or not batch.kecamatan_code.startswith(actor.kabupaten_code):
        raise OfficeError("not_found", MSG_BATCH_NOT_FOUND, {"batch_id": MSG_BATCH_NOT_FOUND})
    return batch


def verification_code(batch: Batch, received: Iterable[str], missing: Iterable[str]) -> str:
    """The 8-character code ("ABCD-EFGH") both copies of the berita acara carry.

    A SHA-256 of what both parties signed for — batch id and number, kecamatan, handover and
    receipt times, the received and the missing residents — computed once at the receipt and
    stored (Batch.verification_code), so both printouts of the receipt carry the same code.
    It identifies the receipt; it does not protect the printed rows (an identity corrected
    later prints the new data under the same code), and nothing checks it automatically.
    """
    text = "|".join([batch.batch_id, batch.number, batch.kecamatan_code,
                     iso_utc(batch.handed_at), iso_utc(batch.received_at),
                     ",".join(sorted(received)), ",".join(sorted(missing))])
    digest = base64.b32encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"{digest[:4]}-{digest[4:8]}"


def _author(session: Session, actor: RegistryActor, batch: Batch, now: datetime) -> Author:
    now = as_utc(now)
    use_kecamatan(session, batch.kecamatan_code)  # the batch's kecamatan numbers the changes
    return Author(session, user_id=actor.user_id, client_id=OFFICE_CLIENT_ID, mutation_id=None,
                  device_at=now, now=now)


def _items(session: Session, batch_id: str) -> dict[str, BatchItem]:
    return {item.resident_id: item for item in session.scalars(
        select(BatchItem).where(BatchItem.batch_id == batch_id)
        .execution_options(populate_existing=True))}


def confirm_receipt(session: Session, actor: RegistryActor, batch_id: str, *,
                    received_at: datetime, missing: Iterable[str], now: datetime) -> Batch:
    """Record Disdukcapil's receipt of a batch; returns the batch (the caller commits).

    received_at: datetime (naive = WITA), not before the handover, not after now. missing: resident
    ids of the batch whose documents were not in the physical batch (may be empty; each must
    still wait at Disdukcapil in this batch). Raises OfficeError not_found, validation_error
    (fields: received_at, missing, or a resident id), invalid_transition (a missing resident
    no longer waiting in this batch) or already_received (a different receipt exists; the
    same one again is a no-op).
    """
    batch = registry_batch(session, actor, batch_id)
    if not isinstance(received_at, datetime):
        raise OfficeError("validation_error", MSG_NEED_TIME, {"received_at": MSG_NEED_TIME})
    if isinstance(missing, str):
        missing = [missing]
    missing_ids = sorted({str(rid) for rid in missing})
    # A form's time without zone is WITA, as everywhere in the office (office_common._wire).
    received_at = as_utc(received_at if received_at.tzinfo else received_at.replace(tzinfo=WITA))
    if batch.received_at is not None:  # the common replay, answered without the lock
        return _replayed(session, batch, received_at, missing_ids)
    if received_at < as_utc(batch.handed_at):
        raise OfficeError("validation_error", MSG_BEFORE_HANDOVER,
                          {"received_at": MSG_BEFORE_HANDOVER})
    if received_at > as_utc(now):
        raise OfficeError("validation_error", MSG_FUTURE, {"received_at": MSG_FUTURE})
    author = _author(session, actor, batch, now)
    seqs = iter(allocate_change_seqs(session, len(missing_ids)))  # the lock, before reading
    # Read again, locked (after the counter, in the order collect() takes them): a receipt
    # being written meanwhile is waited for and seen, so two receipts cannot both be written
    # (a receipt without missing residents takes no counter number, hence the row lock).
    batch = session.get(Batch, batch.batch_id, populate_existing=True, with_for_update=True)
    if batch.received_at is not None:
        return _replayed(session, batch, received_at, missing_ids)
    items = _items(session, batch.batch_id)
    unknown = {rid: MSG_MISSING_UNKNOWN for rid in missing_ids if rid not in items}
    if unknown:
        raise OfficeError("validation_error", MSG_MISSING_UNKNOWN, {"missing": MSG_MISSING_UNKNOWN,
                                                                    **unknown})
    residents = {r.resident_id: r for r in session.scalars(
        select(Resident).where(Resident.resident_id.in_(missing_ids))
        .execution_options(populate_existing=True))} if missing_ids else {}
    # A missing resident whose card the kecamatan already collected (a receipt recorded
    # late) cannot go back to `recorded`: refuse rather than rewrite the case's history.
    gone = {rid: f"{residents[rid].name}: {MSG_NOT_WAITING}" for rid in missing_ids
            if rid in residents and not _waiting(residents[rid], batch)}
    if gone:
        raise OfficeError("invalid_transition", next(iter(gone.values())), gone)
    batch.received_at = received_at
    batch.received_by_user_id = actor.user_id
    batch.receipt_recorded_at = author.now
    payload = {"batch_id": batch.batch_id, "number": batch.number,
               "received_at": iso_utc(received_at)}
    for rid, item in items.items():
        item.received = rid not in missing_ids
        item.updated_at = author.now
    for rid in missing_ids:
        resident = residents[rid]
        # Back to the kecamatan's pile: the next berita acara carries them again.
        resident.stage = "recorded"
        resident.batch_id = None
        resident.card_ready_at = None
        resident.card_issue = None  # the old batch's "not printed" is not this case's any more
        author.touch(resident, next(seqs))
        author.event(rid, "batch_item_missing", payload)
    received = [rid for rid in items if rid not in missing_ids]
    batch.verification_code = verification_code(batch, received, missing_ids)
    # The received cases get no new change_seq: nothing the phones show changes for them;
    # the receipt is on the batch and in the office's timeline only.
    _receipt_events(author, received, payload)
    return batch


def _waiting(resident: Resident, batch: Batch) -> bool:
    """True when the case waits at Disdukcapil in this batch (live, sent_to_registry)."""
    return (resident.merged_into is None and resident.stage == "sent_to_registry"
            and resident.batch_id == batch.batch_id)


def _replayed(session: Session, batch: Batch, received_at: datetime,
              missing_ids: list[str]) -> Batch:
    """The batch when this receipt equals the recorded one (a replayed form: no change);
    else OfficeError already_received."""
    items = _items(session, batch.batch_id)
    before = sorted(rid for rid, item in items.items() if item.received is False)
    if before == missing_ids and as_utc(batch.received_at) == received_at:
        return batch
    at = as_utc(batch.received_at).astimezone(WITA).strftime("%d/%m/%Y %H.%M WITA")
    message = MSG_ALREADY_RECEIVED.format(at=at)
    raise OfficeError("already_received", message, {"batch_id": message})


def _receipt_events(author: Author, resident_ids: list[str], payload: dict[str, Any]) -> None:
    if resident_ids:
        author.session.connection().execute(
            ResidentEvent.__table__.insert(),
            [author.event_row(rid, "batch_received", payload) for rid in resident_ids])


def mark_cards(session: Session, actor: RegistryActor, batch_id: str, *,
               marks: list[dict[str, Any]], now: datetime) -> int:
    """Mark cards of a received batch printed (`ready`) or `not_printed`; the caller commits.

    marks: [{"resident_id", "status": "ready"|"not_printed", "reason": a key of
    NOT_PRINTED_REASON_LABELS (not_printed only), "reason_text": str (reason "other")}].
    All or nothing. A mark equal to the card's current one changes nothing (a replay).
    Returns the number of cards whose mark changed. Raises OfficeError not_found,
    validation_error (fields keyed by resident id), invalid_transition (a card no longer
    waiting at Disdukcapil) or not_received.
    """
    batch = registry_batch(session, actor, batch_id)
    if batch.received_at is None:
        raise OfficeError("not_received", MSG_NOT_RECEIVED, {"batch_id": MSG_NOT_RECEIVED})
    if not marks:
        raise OfficeError("validation_error", MSG_NO_MARKS, {"marks": MSG_NO_MARKS})
    cleaned = [_clean_mark(mark) for mark in marks]
    twice = {m["resident_id"]: MSG_TWICE for i, m in enumerate(cleaned)
             if any(m["resident_id"] == other["resident_id"] for other in cleaned[:i])}
    if twice:
        raise OfficeError("validation_error", MSG_TWICE, twice)
    # Replays are answered without the counter lock; the rest is checked again under it,
    # where a concurrent collection or mark is visible.
    first = _pending(session, batch, cleaned)[2]
    if not first:
        return 0
    author = _author(session, actor, batch, now)
    numbers = allocate_change_seqs(session, len(first))  # the lock
    items, residents, pending = _pending(session, batch, cleaned)
    if len(pending) > len(numbers):  # a concurrent change undid one of the marks meanwhile
        numbers += allocate_change_seqs(session, len(pending) - len(numbers))
    seqs = iter(numbers)
    at = iso_utc(author.now)
    for mark in pending:
        rid = mark["resident_id"]
        item, resident = items[rid], residents[rid]
        item.print_status, item.print_reason = mark["status"], mark["reason"]
        item.print_reason_text = mark["reason_text"]
        item.print_marked_at, item.print_marked_by_user_id = author.now, actor.user_id
        item.updated_at = author.now
        if mark["status"] == "ready":
            resident.card_ready_at = author.now
            resident.card_issue = None
            if item.outcome == "not_printed":
                # The team found no card last time; ready again, it waits for the next trip
                # (and is no longer a collection difference).
                item.outcome, item.reason, item.reason_text = None, None, None
            author.event(rid, "card_ready", {"batch_id": batch.batch_id, "at": at})
        else:
            resident.card_ready_at = None
            resident.card_issue = {"reason": mark["reason"], "reason_text": mark["reason_text"],
                                   "batch_id": batch.batch_id, "at": at, "by": "disdukcapil"}
            author.event(rid, "card_not_printed", {"batch_id": batch.batch_id,
                                                   **resident.card_issue})
        author.touch(resident, next(seqs))
    return len(pending)


def _pending(session: Session, batch: Batch, marks: list[dict[str, Any]]
             ) -> tuple[dict[str, BatchItem], dict[str, Resident], list[dict[str, Any]]]:
    """(items, residents by id, the marks that change something), read fresh; raises
    OfficeError validation_error / invalid_transition for a card that may not be marked."""
    items = _items(session, batch.batch_id)
    ids = [mark["resident_id"] for mark in marks]
    residents = {r.resident_id: r for r in session.scalars(
        select(Resident).where(Resident.resident_id.in_(ids))
        .execution_options(populate_existing=True))}
    problems: dict[str, str] = {}
    for rid in ids:
        item, resident = items.get(rid), residents.get(rid)
        if item is None or item.received is not True or resident is None:
            problems[rid] = MSG_NOT_IN_BATCH
        elif not _waiting(resident, batch):
            problems[rid] = f"{resident.name}: {MSG_NOT_WAITING}"
    if problems:
        code = ("invalid_transition" if any(m != MSG_NOT_IN_BATCH for m in problems.values())
                else "validation_error")
        raise OfficeError(code, next(iter(problems.values())), problems)
    # a mark the card already carries is a replay
    return items, residents, [mark for mark in marks if not _marked_so(
        items[mark["resident_id"]], residents[mark["resident_id"]], mark)]


def _marked_so(item: BatchItem, resident: Resident, mark: dict[str, Any]) -> bool:
    """True when the item and the case already show `mark`. The case is looked at too: the
    kecamatan's collection may have found a card marked ready not there (card_ready_at
    cleared, card_issue set), and marking it ready again must then count as a change."""
    if (item.print_status, item.print_reason, item.print_reason_text) != (
            mark["status"], mark["reason"], mark["reason_text"]):
        return False
    if mark["status"] == "ready":
        return resident.card_ready_at is not None and resident.card_issue is None
    issue = resident.card_issue or {}
    return resident.card_ready_at is None and issue.get("by") == "disdukcapil" and (
        issue.get("reason"), issue.get("reason_text")) == (mark["reason"], mark["reason_text"])


def _clean_mark(mark: Any) -> dict[str, Any]:
    if not isinstance(mark, dict) or not isinstance(mark.get("resident_id"), str):
        raise OfficeError("validation_error", MSG_BAD_MARK, {"marks": MSG_BAD_MARK})
    rid, status = mark["resident_id"], mark.get("status")
    if status not in MARKS:
        raise OfficeError("validation_error", MSG_BAD_MARK, {rid: MSG_BAD_MARK})
    if status == "ready":
        return {"resident_id": rid, "status": status, "reason": None, "reason_text": None}
    reason = mark.get("reason")
    if reason not in NOT_PRINTED_REASON_LABELS:
        raise OfficeError("validation_error", MSG_BAD_REASON, {rid: MSG_BAD_REASON})
    text = mark.get("reason_text")
    text = " ".join(text.split()) if isinstance(text, str) else None
    if reason == "other" and not text:
        raise OfficeError("validation_error", MSG_NEED_TEXT, {rid: MSG_NEED_TEXT})
    if text and len(text) > MAX_REASON_TEXT:
        raise OfficeError("validation_error", MSG_TEXT_LONG, {rid: MSG_TEXT_LONG})
    return {"resident_id": rid, "status": status, "reason": reason,
            "reason_text": text if reason == "other" else None}


def _after_trip(marked_at: datetime | None, trip_at: datetime | None) -> bool | None:
    """Whether a mark at `marked_at` came after a trip at `trip_at` (entered to the minute,
    hence a minute's grace); None when either time is unknown."""
    if marked_at is None or trip_at is None:
        return None
    return as_utc(marked_at) >= as_utc(trip_at) + _COLLECTION_GRACE


def marked_ready_after(item: BatchItem, collected_at: datetime | None) -> bool:
    """True when Disdukcapil marked the card ready after a collection at `collected_at`: that
    trip could not have taken it."""
    return item.print_status == "ready" and bool(_after_trip(item.print_marked_at, collected_at))


def collection_differences(session: Session, batch_ids: Iterable[str]) -> dict[str, list[dict]]:
    """What the collection found against Disdukcapil's marks, for batches with a receipt.

    Returns {batch_id: [{"resident_id", "kind"}]} with kind "collected_not_ready" (collected,
    but never marked ready) or "ready_not_collected": marked ready and either reported "not
    printed" by the team's collection, or not picked up by a collection that took place after
    the mark. The collection time is the one the team entered, to the minute, hence a minute's
    grace: a card marked at 09.50.09 was ready for a collection entered as 09.50. A card marked
    ready after the latest collection waits for the next trip: no difference. Marking a card
    ready again after a "not printed" report clears the report (mark_cards). A card collected
    before the receipt was recorded in CAH (a receipt entered late) could not have been marked:
    no difference. Items of missing residents are not looked at. Batches without a receipt or
    without differences are absent.
    """
    ids = sorted(set(batch_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(BatchItem.batch_id, BatchItem.resident_id, BatchItem.outcome,
               BatchItem.print_status, BatchItem.print_marked_at, Batch.collected_at,
               Batch.receipt_recorded_at, BatchItem.outcome_at)
        .join(Batch, Batch.batch_id == BatchItem.batch_id)
        .where(BatchItem.batch_id.in_(ids), Batch.received_at.is_not(None),
               BatchItem.received.is_(True)))
    found: dict[str, list[dict]] = {}
    for batch_id, rid, outcome, status, marked_at, collected_at, recorded_at, outcome_at in rows:
        kind = None
        if outcome == "collected" and status != "ready":
            # Only a card never marked can be excused by a late receipt (outcome_at is None on
            # collections recorded before this column existed).
            late = (status is None and outcome_at is not None and recorded_at is not None
                    and as_utc(outcome_at) < as_utc(recorded_at))
            kind = None if late else "collected_not_ready"
        elif status == "ready" and outcome != "collected" and _after_trip(
                marked_at, outcome_at if outcome == "not_printed" else collected_at) is False:
            # ready before the trip that reported it not there, or that did not take it
            kind = "ready_not_collected"
        if kind:
            found.setdefault(batch_id, []).append({"resident_id": rid, "kind": kind})
    return found


def ready_count(session: Session, *, kecamatan_code: str | None = None,
                desa_codes: Iterable[str] | None = None) -> int:
    """How many cards of a kecamatan (or of some desa) are printed and wait for pick-up."""
    query = select(func.count()).select_from(Resident).where(
        Resident.stage == "sent_to_registry", Resident.card_ready_at.is_not(None),
        Resident.merged_into.is_(None))
    if desa_codes is not None:
        query = query.where(Resident.desa_code.in_(sorted(set(desa_codes))))
    elif kecamatan_code is not None and len(kecamatan_code) == 6 and kecamatan_code.isdigit():
        query = query.where(Resident.desa_code.like(kecamatan_code + "%"))
    else:
        return 0
    return session.scalar(query) or 0
