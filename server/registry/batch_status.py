"""The state of a batch as Disdukcapil's pages show it: the counts of its cards (received,
missing, marked, still waiting at Disdukcapil) and its status — in Python for one batch and
as an SQL condition for the list's filter, both by the same rule: unmarked cards keep a batch
in Disdukcapil's work ("printing") even after a partial collection. Merged cases wait for
nothing."""
from sqlalchemy import and_, case, exists, func, not_, select

from sync.models import Batch, BatchItem, Resident

from ..extensions import db

STATUS_LABELS = {"waiting": "Menunggu diterima",
                 "printing": "Diterima — menunggu tanda cetak",
                 "marked": "Tanda cetak lengkap",
                 "collected": "Sudah diambil"}
MSG_PARTLY_COLLECTED = "Sudah diambil sebagian"


def _open_items():
    """SQL: the batch has a received card without a print mark that still waits at
    Disdukcapil in this batch (as the kabupaten recap counts them)."""
    return exists().where(BatchItem.batch_id == Batch.batch_id, BatchItem.received.is_(True),
                          BatchItem.print_status.is_(None),
                          Resident.resident_id == BatchItem.resident_id,
                          Resident.stage == "sent_to_registry",
                          Resident.batch_id == Batch.batch_id, Resident.merged_into.is_(None))


def status_condition(status):
    """SQL condition: the batch has status `status` (a key of STATUS_LABELS)."""
    # As batch_status: unmarked cards keep a batch in Disdukcapil's work ("printing") even
    # after a partial collection.
    received = Batch.received_at.is_not(None)
    if status == "printing":
        return and_(received, _open_items())
    if status == "collected":
        return and_(Batch.collected_at.is_not(None), not_(and_(received, _open_items())))
    if status == "waiting":
        return and_(Batch.collected_at.is_(None), Batch.received_at.is_(None))
    return and_(received, Batch.collected_at.is_(None), not_(_open_items()))


def batch_counts(batch_ids):
    """{batch_id: {"total", "received", "missing", "open", "ready", "not_printed",
    "waiting"}}: "waiting" = received cards still at Disdukcapil in this batch (marked or
    not), "open" = those of them without a print mark."""
    if not batch_ids:
        return {}
    received = BatchItem.received.is_(True)
    waiting = and_(received, Resident.stage == "sent_to_registry",
                   Resident.batch_id == BatchItem.batch_id, Resident.merged_into.is_(None))
    unmarked = and_(waiting, BatchItem.print_status.is_(None))
    rows = db.session.execute(
        select(BatchItem.batch_id, func.count(),
               func.sum(case((received, 1), else_=0)),
               func.sum(case((BatchItem.received.is_(False), 1), else_=0)),
               func.sum(case((unmarked, 1), else_=0)),
               func.sum(case((BatchItem.print_status == "ready", 1), else_=0)),
               func.sum(case((BatchItem.print_status == "not_printed", 1), else_=0)),
               func.sum(case((waiting, 1), else_=0)))
        .join(Resident, Resident.resident_id == BatchItem.resident_id)
        .where(BatchItem.batch_id.in_(batch_ids)).group_by(BatchItem.batch_id))
    keys = ("total", "received", "missing", "open", "ready", "not_printed", "waiting")
    return {row[0]: dict(zip(keys, (int(v or 0) for v in row[1:]))) for row in rows}


def batch_status(batch, counts):
    """(status key of STATUS_LABELS, its text): with the number of unmarked cards while
    printing; a collected batch whose received cards partly still wait at Disdukcapil (not
    printed yet, or not there at the collection) is "Sudah diambil sebagian (n menunggu)"."""
    if batch.received_at is not None and counts.get("open"):
        key = "printing"  # unmarked cards keep the batch in Disdukcapil's work
    elif batch.collected_at is not None:
        key = "collected"
    elif batch.received_at is None:
        key = "waiting"
    else:
        key = "marked"
    text = STATUS_LABELS[key]
    if key == "printing":
        return key, f"{text} ({counts['open']})"
    if key == "collected" and counts.get("waiting"):
        return key, f"{MSG_PARTLY_COLLECTED} ({counts['waiting']} menunggu)"
    return key, text
