"""The kabupaten recap for Disdukcapil (issue #13): per kecamatan of the kabupaten, how far the
cases got against the targets, the batches that wait at Disdukcapil, and what the collections
found against the print marks. Pure computation over a session (no Flask request).

Definitions (docs/office-view.md, "Rekap kabupaten (Disdukcapil)"):

* Which cases: those of the kecamatan's *counted operations* — its active operations, or its
  newest one when none is active (the operation its camat's dashboard shows by default; a
  kecamatan has at most one active operation per desa, so its active ones never overlap).
  Cases merged into another are never counted.
* Found, recorded, handed over, delivered and the target are server/statistics.py's
  RecapRow figures (found, recorded, sent, delivered; target = the sum of the operations'
  desa targets), so a kecamatan with one operation shows exactly its dashboard's totals.
* Printed: cases whose card Disdukcapil marked ready (`card_ready_at`) or that were collected
  or delivered already.
* Batches and collection differences are kecamatan-wide (a batch belongs to no operation).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from sync.models import Batch, BatchItem, Resident, as_utc
from sync.registry import collection_differences

from ..models import Wilayah
from ..operations import Operation, OperationDesa, _not_merged
from ..statistics import RecapRow, percent

# The figures of one kecamatan row, in table order (each is also shown against the target).
FIGURES = ("found", "recorded", "sent", "printed", "delivered")
FIGURE_LABELS = {
    "target": "Target",
    "found": "Total Terdata",
    "recorded": "Total Sudah Rekam",
    "sent": "Total Diserahkan ke Disdukcapil",
    "printed": "Total KTP Tercetak",
    "delivered": "KTP Diserahkan",
    "differences": "Selisih pengambilan",
}
PRINTED_STAGES = ("card_collected", "delivered")


@dataclass
class KecamatanRow:
    """One kecamatan of the recap (counts of cases; see the module doc)."""

    code: str
    name: str
    operations: int = 0   # counted operations
    target: int = 0
    found: int = 0
    recorded: int = 0
    sent: int = 0         # handed over to Disdukcapil or further
    printed: int = 0
    delivered: int = 0
    differences: int = 0  # collection differences (sync.registry.collection_differences)

    def share(self, name):
        """getattr(self, name) as % of the target (float), or None with a target of 0."""
        return percent(getattr(self, name), self.target)

    @property
    def capaian(self):
        """Delivered cards against the target, in % (as the camat's dashboard)."""
        return self.share("delivered")


@dataclass
class WaitingBatch:
    """A batch waiting at Disdukcapil: for its receipt (since = handed_at) or for the print
    marks of its received cards (since = received_at). `cards`: cards waiting (merged cases
    left out); `days`: whole days since `since` (0 for less than a day)."""

    batch_id: str
    number: str
    kecamatan_code: str
    kecamatan_name: str
    since: datetime
    days: int
    cards: int


@dataclass
class KabupatenRecap:
    """What recap pages and exports show: rows per kecamatan (by code), their total, the
    waiting batches (oldest first) and the number of collection differences."""

    kabupaten_code: str
    kabupaten_name: str
    now: datetime
    rows: list = field(default_factory=list)        # [KecamatanRow]
    total: KecamatanRow | None = None
    awaiting_receipt: list = field(default_factory=list)  # [WaitingBatch]
    awaiting_marks: list = field(default_factory=list)    # [WaitingBatch]
    differences: int = 0


def counted_operations(session, kecamatan_codes):
    """{operation id: kecamatan code} of the counted operations (module doc) of the kecamatan."""
    ops = session.execute(
        select(Operation.id, Operation.kecamatan_code, Operation.active)
        .where(Operation.kecamatan_code.in_(sorted(kecamatan_codes)))
        .order_by(Operation.start_date.desc(), Operation.id.desc())).all()
    chosen = {op_id: code for op_id, code, active in ops if active}
    covered = set(chosen.values())
    for op_id, code, _active in ops:  # newest first: the fallback of a kecamatan without any
        if code not in covered:
            chosen[op_id] = code
            covered.add(code)
    return chosen


def _days(now, since):
    return max(int((now - as_utc(since)).total_seconds() // 86400), 0)


def kabupaten_recap(session, kabupaten_code, now):
    """The recap of one kabupaten (4 digits, e.g. "6311") at `now` (aware datetime).

    Returns KabupatenRecap; every kecamatan of the wilayah table under the kabupaten has a
    row, also one without operations or cases (zeros). Raises ValueError for a code that is
    not 4 digits (an empty one would match every kecamatan).
    """
    if len(kabupaten_code or "") != 4 or not kabupaten_code.isdigit():
        raise ValueError("kabupaten_code must be 4 digits")
    now = as_utc(now)
    kabupaten = session.get(Wilayah, kabupaten_code)
    recap = KabupatenRecap(kabupaten_code, kabupaten.name if kabupaten else kabupaten_code, now)
    rows = {w.code: KecamatanRow(w.code, w.name) for w in session.execute(
        select(Wilayah).where(Wilayah.parent_code == kabupaten_code,
                              Wilayah.level == "kecamatan").order_by(Wilayah.code)).scalars()}
    recap.rows = list(rows.values())
    ops = counted_operations(session, rows) if rows else {}
    for code in ops.values():
        rows[code].operations += 1
    if ops:
        _case_figures(session, ops, rows)
    names = {code: row.name for code, row in rows.items()}
    recap.awaiting_receipt = _awaiting_receipt(session, kabupaten_code, names, now)
    recap.awaiting_marks = _awaiting_marks(session, kabupaten_code, names, now)
    _differences(session, kabupaten_code, rows)
    total = KecamatanRow("", "Jumlah", operations=len(ops))
    for row in recap.rows:
        for name in ("target",) + FIGURES + ("differences",):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    recap.total = total
    recap.differences = total.differences
    return recap


def _case_figures(session, ops, rows):
    """Targets, stage figures and printed cards of the counted operations (three queries)."""
    ids = sorted(ops)
    for op_id, target in session.execute(
            select(OperationDesa.operation_id, func.coalesce(func.sum(OperationDesa.target), 0))
            .where(OperationDesa.operation_id.in_(ids)).group_by(OperationDesa.operation_id)):
        rows[ops[op_id]].target += int(target or 0)
    stages = {}
    for op_id, stage, n in session.execute(
            select(Resident.operation_id, Resident.stage, func.count())
            .where(Resident.operation_id.in_(ids), _not_merged())
            .group_by(Resident.operation_id, Resident.stage)):
        # The dashboard's own "reached at least" counting (statistics.RecapRow.add).
        stages.setdefault(ops[op_id], RecapRow(code=ops[op_id], name="")).add(stage, n)
    for code, counts in stages.items():
        row = rows[code]
        row.found, row.recorded = counts.found, counts.recorded
        row.sent, row.delivered = counts.sent, counts.delivered
    printed = or_(Resident.card_ready_at.is_not(None), Resident.stage.in_(PRINTED_STAGES))
    for op_id, n in session.execute(
            select(Resident.operation_id, func.count())
            .where(Resident.operation_id.in_(ids), _not_merged(), printed)
            .group_by(Resident.operation_id)):
        rows[ops[op_id]].printed += n


def _in_kabupaten(kabupaten_code):
    return Batch.kecamatan_code.like(kabupaten_code + "%")


def _awaiting_receipt(session, kabupaten_code, names, now):
    """Batches handed over, neither received nor collected, oldest handover first."""
    query = (select(Batch.batch_id, Batch.number, Batch.kecamatan_code, Batch.handed_at,
                    func.count(Resident.resident_id))
             .outerjoin(BatchItem, BatchItem.batch_id == Batch.batch_id)
             .outerjoin(Resident, and_(Resident.resident_id == BatchItem.resident_id,
                                       _not_merged()))
             .where(_in_kabupaten(kabupaten_code), Batch.received_at.is_(None),
                    Batch.collected_at.is_(None))
             .group_by(Batch.batch_id, Batch.number, Batch.kecamatan_code, Batch.handed_at)
             .order_by(Batch.handed_at, Batch.number, Batch.batch_id))
    return [WaitingBatch(bid, number, code, names.get(code, code), as_utc(at), _days(now, at), n)
            for bid, number, code, at, n in session.execute(query)]


def _awaiting_marks(session, kabupaten_code, names, now):
    """Received batches with cards still unmarked (received, no print mark, the case still
    waiting at Disdukcapil in this batch), oldest receipt first."""
    query = (select(Batch.batch_id, Batch.number, Batch.kecamatan_code, Batch.received_at,
                    func.count(Resident.resident_id))
             .join(BatchItem, BatchItem.batch_id == Batch.batch_id)
             .join(Resident, Resident.resident_id == BatchItem.resident_id)
             .where(_in_kabupaten(kabupaten_code), Batch.received_at.is_not(None),
                    BatchItem.received.is_(True), BatchItem.print_status.is_(None),
                    Resident.stage == "sent_to_registry", Resident.batch_id == Batch.batch_id,
                    _not_merged())
             .group_by(Batch.batch_id, Batch.number, Batch.kecamatan_code, Batch.received_at)
             .order_by(Batch.received_at, Batch.number, Batch.batch_id))
    return [WaitingBatch(bid, number, code, names.get(code, code), as_utc(at), _days(now, at), n)
            for bid, number, code, at, n in session.execute(query)]


def _differences(session, kabupaten_code, rows):
    """Add each kecamatan's collection differences (merged cases left out) to its row."""
    batches = dict(session.execute(
        select(Batch.batch_id, Batch.kecamatan_code)
        .where(_in_kabupaten(kabupaten_code), Batch.received_at.is_not(None))).all())
    found = collection_differences(session, batches) if batches else {}
    ids = sorted({d["resident_id"] for items in found.values() for d in items})
    merged = set(session.scalars(select(Resident.resident_id).where(
        Resident.resident_id.in_(ids), Resident.merged_into.is_not(None)))) if ids else set()
    for batch_id, items in found.items():
        row = rows.get(batches[batch_id])
        if row is not None:
            row.differences += sum(1 for d in items if d["resident_id"] not in merged)
