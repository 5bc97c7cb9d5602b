"""Disdukcapil's side of SOP steps 4 and 5 (issue #13): the receipt of a handed-over batch,
the print mark of each card, and what the collection found against those marks.

A Disdukcapil user works for one kabupaten (RegistryActor): every batch of its kecamatan
exists for them, nothing else does. Their actions are events on the cases, numbered from the
batch's kecamatan counter, so the kecamatan's phones and office see them at the next pull or
page view.

Rules (docs/office-pipeline.md, "Disdukcapil"):

* receipt — once per batch: a time, and the residents whose documents were not in the
  physical batch. Those go back to `recorded` (out of the batch), so that the kecamatan hands
  them over again; the rest stay `sent_to_registry` with `received` set. The same receipt
  sent again changes nothing; a different one is refused (already_received).
* print mark — per received card while it waits at Disdukcapil (`sent_to_registry`): `ready`
  (printed, waiting for pick-up: `card_ready_at` on the case) or `not_printed` with a reason
  of NOT_PRINTED_REASON_LABELS (the case's `card_issue`, as the kecamatan's collection
  records it). A mark may be changed until the card is collected.
* collection differences — for batches with a receipt: a card collected without a `ready`
  mark, or marked ready and not collected when the collection was recorded.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .changeseq import allocate_change_seqs, use_kecamatan
from .errors import OfficeError
from .models import OFFICE_CLIENT_ID, Batch, BatchItem, Resident, ResidentEvent, as_utc
from .records import Author
from .schemas import iso_utc
from .stages import NOT_PRINTED_REASON_LABELS

MARKS = ("ready", "not_printed")
MAX_REASON_TEXT = 500

MSG_BATCH_NOT_FOUND = "Berkas penyerahan ini tidak ditemukan."
MSG_ALREADY_RECEIVED = ("Berkas ini sudah diterima pada {at} dengan isi yang berbeda; "
                        "penerimaan tidak dapat diubah.")
MSG_NOT_RECEIVED = "Konfirmasi penerimaan berkas ini dulu sebelum menandai KTP."
MSG_MISSING_UNKNOWN = "Warga ini tidak tercantum dalam berkas ini."
MSG_ALL_MISSING = ("Semua warga ditandai tidak ada: berkas kosong tidak dapat diterima. "
                   "Hubungi kecamatan.")
MSG_BEFORE_HANDOVER = "Waktu penerimaan tidak boleh lebih awal dari waktu serah terima."
MSG_FUTURE = "Waktu tidak boleh di masa depan."
MSG_NO_MARKS = "Pilih tanda cetak minimal untuk satu KTP."
MSG_BAD_MARK = "Tanda cetak tidak valid."
MSG_BAD_REASON = "Pilih alasan KTP belum dicetak."
MSG_NEED_TEXT = "Jelaskan alasan 'Lainnya'."
MSG_TEXT_LONG = f"Keterangan paling banyak {MAX_REASON_TEXT} karakter."
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
    receipt times, the received and the missing residents — so two printouts of the same
    receipt show the same code and a copy edited afterwards does not.
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

    received_at: aware datetime, not before the handover, not after now. missing: resident
    ids of the batch whose documents were not in the physical batch (may be empty). Raises
    OfficeError not_found, validation_error (fields: received_at, missing) or
    already_received (a different receipt exists; the same one again is a no-op).
    """
    batch = registry_batch(session, actor, batch_id)
    missing_ids = sorted({str(rid) for rid in missing})
    received_at = as_utc(received_at)
    if batch.received_at is not None:
        items = _items(session, batch.batch_id)
        before = sorted(rid for rid, item in items.items() if item.received is False)
        if before == missing_ids and as_utc(batch.received_at) == received_at:
            return batch  # the same receipt again (a replayed form)
        message = MSG_ALREADY_RECEIVED.format(at=iso_utc(batch.received_at))
        raise OfficeError("already_received", message, {"batch_id": message})
    if received_at < as_utc(batch.handed_at):
        raise OfficeError("validation_error", MSG_BEFORE_HANDOVER,
                          {"received_at": MSG_BEFORE_HANDOVER})
    if received_at > as_utc(now):
        raise OfficeError("validation_error", MSG_FUTURE, {"received_at": MSG_FUTURE})
    author = _author(session, actor, batch, now)
    seqs = iter(allocate_change_seqs(session, len(missing_ids)))  # the lock, before reading
    items = _items(session, batch.batch_id)
    unknown = {rid: MSG_MISSING_UNKNOWN for rid in missing_ids if rid not in items}
    if unknown:
        raise OfficeError("validation_error", MSG_MISSING_UNKNOWN, {"missing": MSG_MISSING_UNKNOWN,
                                                                    **unknown})
    if items and len(missing_ids) == len(items):
        raise OfficeError("validation_error", MSG_ALL_MISSING, {"missing": MSG_ALL_MISSING})
    batch.received_at = received_at
    batch.received_by_user_id = actor.user_id
    batch.receipt_recorded_at = author.now
    payload = {"batch_id": batch.batch_id, "number": batch.number,
               "received_at": iso_utc(received_at)}
    residents = {r.resident_id: r for r in session.scalars(
        select(Resident).where(Resident.resident_id.in_(missing_ids))
        .execution_options(populate_existing=True))} if missing_ids else {}
    for rid, item in items.items():
        item.received = rid not in missing_ids
        item.updated_at = author.now
        resident = residents.get(rid)
        if resident is None:
            continue
        if resident.stage == "sent_to_registry" and resident.batch_id == batch.batch_id:
            # Back to the kecamatan's pile: the next berita acara carries them again.
            resident.stage = "recorded"
            resident.batch_id = None
            resident.card_ready_at = None
            author.touch(resident, next(seqs))
        author.event(rid, "batch_item_missing", payload)
    batch.verification_code = verification_code(
        batch, [rid for rid in items if rid not in missing_ids], missing_ids)
    # The received cases get no new change_seq: nothing the phones show changes for them;
    # the receipt is on the batch and in the office's timeline only.
    _receipt_events(author, [rid for rid in items if rid not in missing_ids], payload)
    return batch


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
    author = _author(session, actor, batch, now)
    seqs = iter(allocate_change_seqs(session, len(cleaned)))
    items = _items(session, batch.batch_id)
    ids = [mark["resident_id"] for mark in cleaned]
    residents = {r.resident_id: r for r in session.scalars(
        select(Resident).where(Resident.resident_id.in_(ids))
        .execution_options(populate_existing=True))}
    problems: dict[str, str] = {}
    for rid in ids:
        item, resident = items.get(rid), residents.get(rid)
        if item is None or item.received is not True or resident is None:
            problems[rid] = MSG_NOT_IN_BATCH
        elif resident.stage != "sent_to_registry" or resident.batch_id != batch.batch_id:
            problems[rid] = f"{resident.name}: {MSG_NOT_WAITING}"
    if problems:
        code = ("invalid_transition" if any(m != MSG_NOT_IN_BATCH for m in problems.values())
                else "validation_error")
        raise OfficeError(code, next(iter(problems.values())), problems)
    changed = 0
    at = iso_utc(author.now)
    for mark in cleaned:
        rid = mark["resident_id"]
        item, resident = items[rid], residents[rid]
        if (item.print_status, item.print_reason, item.print_reason_text) == (
                mark["status"], mark["reason"], mark["reason_text"]):
            continue
        item.print_status, item.print_reason = mark["status"], mark["reason"]
        item.print_reason_text = mark["reason_text"]
        item.print_marked_at, item.print_marked_by_user_id = author.now, actor.user_id
        item.updated_at = author.now
        if mark["status"] == "ready":
            resident.card_ready_at = author.now
            resident.card_issue = None
            author.event(rid, "card_ready", {"batch_id": batch.batch_id, "at": at})
        else:
            resident.card_ready_at = None
            resident.card_issue = {"reason": mark["reason"], "reason_text": mark["reason_text"],
                                   "batch_id": batch.batch_id, "at": at, "by": "disdukcapil"}
            author.event(rid, "card_not_printed", {"batch_id": batch.batch_id,
                                                   **resident.card_issue})
        author.touch(resident, next(seqs))
        changed += 1
    return changed


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


def collection_differences(session: Session, batch_ids: Iterable[str]) -> dict[str, list[dict]]:
    """What the collection found against Disdukcapil's marks, for batches with a receipt.

    Returns {batch_id: [{"resident_id", "kind"}]} with kind "collected_not_ready" (collected,
    but never marked ready) or "ready_not_collected" (marked ready, the collection recorded,
    the card not collected). Batches without a receipt or without differences are absent.
    """
    ids = sorted(set(batch_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(BatchItem.batch_id, BatchItem.resident_id, BatchItem.outcome,
               BatchItem.print_status, Batch.collected_at)
        .join(Batch, Batch.batch_id == BatchItem.batch_id)
        .where(BatchItem.batch_id.in_(ids), Batch.received_at.is_not(None),
               BatchItem.received.is_(True)))
    found: dict[str, list[dict]] = {}
    for batch_id, rid, outcome, status, collected_at in rows:
        kind = None
        if outcome == "collected" and status != "ready":
            kind = "collected_not_ready"
        elif status == "ready" and collected_at is not None and outcome != "collected":
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
