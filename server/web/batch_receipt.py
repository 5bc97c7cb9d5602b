"""The kecamatan's side of Disdukcapil's receipt and print marks (issue #13).

Disdukcapil confirms the receipt of a batch and marks each card ready or not printed
(sync/registry.py, its own pages in server/registry/). The camat and the operator see it
here: "KTP siap diambil: n" on every office page, each batch's Disdukcapil state in the
list (with filters), the receipt and the marks on a batch's page, the collection form filled
in from the marks, the differences the collection found, and both parties on the berita acara.
The batches pages themselves are server/web/batches.py; they call the helpers below.
"""
import logging

from flask import g, request
from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import SQLAlchemyError

from sync.models import WITA, Batch, BatchItem, Resident, as_utc
from sync.registry import collection_differences, ready_count
from sync.stages import NOT_PRINTED_REASON_LABELS

from ..auth import OFFICE_ROLES
from ..extensions import db
from ..formatting import MONTHS, terbilang
from ..models import User, Wilayah
from ..statistics import (
    DIFFERENCE_LABELS,
    WAITING_RECEIPT_DAYS,
    difference_rows,
    waiting_for_receipt,
)
from ..wilayah import desa_of
from . import bp

log = logging.getLogger(__name__)

# ?tampil= of the batch list: the batches worth a trip to Paringin, or an exception.
LIST_FILTERS = {
    "siap": "Ada KTP siap diambil",
    "selisih": "Ada selisih pengambilan dengan tanda Disdukcapil",
    "menunggu": f"Menunggu diterima Disdukcapil lebih dari {WAITING_RECEIPT_DAYS} hari",
}


# ---------------------------------------------------------------- "KTP siap diambil: n"

@bp.app_context_processor
def ktp_ready_banner():
    """ktp_ready(): the banner's count, queried only when base.html asks for it."""
    return {"ktp_ready": ktp_ready}


def ktp_ready():
    """Cards of the user's kecamatan printed and waiting for pick-up (sync.registry.
    ready_count); 0 for anyone but a camat or operator. One COUNT per request, kept on g."""
    user = g.get("user")
    if user is None or user.role not in OFFICE_ROLES or not user.kecamatan_code:
        return 0
    if "ktp_ready_count" not in g:
        try:
            g.ktp_ready_count = ready_count(db.session, kecamatan_code=user.kecamatan_code)
        except SQLAlchemyError as exc:  # the error page of a database outage still renders
            db.session.rollback()
            log.warning("ready count unavailable (%s)", type(exc).__name__)
            g.ktp_ready_count = 0
    return g.ktp_ready_count


def _ready_residents(kecamatan_code):
    """The conditions of ready_count: printed, waiting at Disdukcapil, not merged."""
    return (Resident.desa_code.like(kecamatan_code + "%"), Resident.stage == "sent_to_registry",
            Resident.card_ready_at.is_not(None), Resident.merged_into.is_(None))


# ---------------------------------------------------------------- the batch list

def list_filter():
    """The chosen ?tampil= (a key of LIST_FILTERS) or "" for every batch."""
    kind = request.args.get("tampil", "")
    return kind if kind in LIST_FILTERS else ""


def filter_batches(query, kind, now):
    """`query` (a select of the user's kecamatan's Batch) narrowed to `kind` of LIST_FILTERS:
    siap = a card of it is ready (the banner's cards), selisih = a collection difference,
    menunggu = unconfirmed for more than WAITING_RECEIPT_DAYS; "" leaves it unchanged."""
    kecamatan_code = g.user.kecamatan_code
    if kind == "siap":
        return query.where(Batch.batch_id.in_(
            select(Resident.batch_id).where(*_ready_residents(kecamatan_code))))
    if kind == "selisih":
        ids = sorted({batch.batch_id for batch, _r, _k in difference_rows(db.session,
                                                                          kecamatan_code)})
        return query.where(Batch.batch_id.in_(ids))
    if kind == "menunggu":
        return query.where(*waiting_for_receipt(kecamatan_code, now))
    return query


def list_statuses(batches):
    """{batch id: [(text, css class)]}: Disdukcapil's state of each listed batch —
    "Menunggu diterima", "Diterima 28/11 10.15 (2 warga tidak ada)", "Siap diambil 3",
    "Belum dicetak 1" (cards still waiting at Disdukcapil). One grouped query."""
    ids = [b.batch_id for b in batches]
    counts = {}
    if ids:
        waiting = and_(Resident.stage == "sent_to_registry", Resident.merged_into.is_(None),
                       Resident.batch_id == BatchItem.batch_id)
        rows = db.session.execute(
            select(BatchItem.batch_id,
                   func.sum(case((BatchItem.received.is_(False), 1), else_=0)),
                   func.sum(case((and_(waiting, Resident.card_ready_at.is_not(None)), 1),
                                 else_=0)),
                   func.sum(case((and_(waiting, BatchItem.print_status == "not_printed"), 1),
                                 else_=0)))
            .join(Resident, Resident.resident_id == BatchItem.resident_id)
            .where(BatchItem.batch_id.in_(ids)).group_by(BatchItem.batch_id))
        counts = {bid: (int(m or 0), int(r or 0), int(n or 0)) for bid, m, r, n in rows}
    return {b.batch_id: _status(b, *counts.get(b.batch_id, (0, 0, 0))) for b in batches}


def _status(batch, missing, ready, not_printed):
    if batch.received_at is None:
        if batch.collected_at is not None:  # a Disdukcapil that does not use CAH
            return [("Diambil tanpa konfirmasi penerimaan", "muted")]
        return [("Menunggu diterima", "badge badge-muted")]
    text = "Diterima " + as_utc(batch.received_at).astimezone(WITA).strftime("%d/%m %H.%M")
    if missing:
        text += f" ({missing} warga tidak ada)"
    out = [(text, "badge badge-warn" if missing else "badge")]
    if ready:
        out.append((f"Siap diambil {ready}", "badge"))
    if not_printed:
        out.append((f"Belum dicetak {not_printed}", "badge badge-warn"))
    return out


# ---------------------------------------------------------------- one batch

def collectable(items):
    """The (item, resident) pairs the collection may record: not the residents Disdukcapil
    found missing (they went back to Sudah Rekam and out of this batch)."""
    return [(item, r) for item, r in items if item.received is not False]


def detail_context(batch, items):
    """batch_detail.html's Disdukcapil part: the receipt (receiver, local times, missing
    residents), per resident id the print mark and the collection form's prefill, and the
    differences the collection found ([(resident, label)])."""
    prefill = {}
    for item, r in collectable(items):
        if item.print_status == "ready":
            prefill[r.resident_id] = {"outcome": "collected", "reason": None, "reason_text": ""}
        elif item.print_status == "not_printed":
            prefill[r.resident_id] = {"outcome": "not_printed", "reason": item.print_reason,
                                      "reason_text": item.print_reason_text or ""}
        else:  # not marked (or no Disdukcapil in CAH): what the last collection recorded
            prefill[r.resident_id] = {"outcome": item.outcome, "reason": item.reason,
                                      "reason_text": item.reason_text or ""}
    residents = {r.resident_id: r for _item, r in items}
    found = collection_differences(db.session, [batch.batch_id]).get(batch.batch_id, [])
    return {
        **_receipt(batch, items), "prefill": prefill, "mark_reasons": NOT_PRINTED_REASON_LABELS,
        "marked": any(item.print_status for item, _r in items),
        "differences": [(residents[d["resident_id"]], DIFFERENCE_LABELS[d["kind"]])
                        for d in found if d["resident_id"] in residents],
    }


def _receipt(batch, items):
    receiver = (db.session.get(User, batch.received_by_user_id)
                if batch.received_by_user_id is not None else None)
    return {
        "receiver": receiver,
        "received_local": (as_utc(batch.received_at).astimezone(WITA)
                           if batch.received_at is not None else None),
        "missing": [(item, r) for item, r in items if item.received is False],
    }


def batch_items(batch):
    """(item, resident) pairs of a batch, by desa and name."""
    return db.session.execute(
        select(BatchItem, Resident).join(Resident, Resident.resident_id == BatchItem.resident_id)
        .where(BatchItem.batch_id == batch.batch_id)
        .order_by(Resident.desa_code, Resident.name)).all()


def manifest_context(batch):
    """Everything batch_manifest.html (the berita acara, A4) shows of `batch`, from the batch
    alone: both parties (who handed over and when; who received and when, or not yet), the
    residents, the missing ones and the verification code (batch.verification_code, the same
    on Disdukcapil's copy)."""
    items = batch_items(batch)
    handed_local = as_utc(batch.handed_at).astimezone(WITA)
    return {
        "batch": batch, "items": items, **_receipt(batch, items),
        "desa_names": {d.code: d.name for d in desa_of(db.session, batch.kecamatan_code)},
        "creator": db.session.get(User, batch.created_by_user_id),
        "kecamatan": db.session.get(Wilayah, batch.kecamatan_code),
        "handed_local": handed_local, "terbilang": terbilang,
        "month_name": MONTHS[handed_local.month - 1],
        "received_month": (MONTHS[as_utc(batch.received_at).astimezone(WITA).month - 1]
                           if batch.received_at is not None else None),
    }
