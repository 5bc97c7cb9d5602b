"""The statistics behind the dashboard and the report of one operation.

Every figure here is computed from the residents' current stage and from their append-only
events; how is written down in docs/office-view.md. The step times (SOP time compliance,
stuck cases) are in server/timings.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from sync.models import Batch, Client, Conflict, Resident, ResidentEvent
from sync.registry import collection_differences
from sync.resolutions import conflict_in_kecamatan
from sync.stages import (
    CONFLICT_KIND_LABELS,
    NOT_PRINTED_REASON_LABELS,
    REJECTION_REASON_LABELS,
    STAGE_LABELS,
)

from .formatting import as_utc
from .models import User, Wilayah
from .operations import _not_merged, _where, petugas_of

# Stages in pipeline order (rank) for "reached at least" counts. `listed` = imported, not yet
# found; `rejected` is off the forward path.
FORWARD = ("found", "verified", "picked_up", "recorded", "sent_to_registry", "card_collected",
           "delivered")
RANK = {s: i for i, s in enumerate(FORWARD)}
FINISHED = ("delivered", "rejected")

# A label means one thing on every office page (issue #11): a stage label (sync/stages.py) is
# always "cases at that stage now" (/residents, the filters, a case's badge); a count of cases
# that reached a stage or went further is "Total <stage>"; what an officer did is a verb. Cases
# merged into another are never counted. Belum Ditemukan, Ditolak and KTP Diserahkan keep their
# stage label in the recap: nothing follows them, so "reached" and "now" are the same cases.
RECAP_LABELS = {
    "target": "Target",
    "listed": STAGE_LABELS["listed"],
    "found": "Total Terdata",
    "verified": "Total Terverifikasi",
    "picked_up": "Total Dijemput",
    "recorded": "Total Sudah Rekam",
    "sent": "Total Diserahkan ke Disdukcapil",
    "collected": "Total KTP Diambil",
    "delivered": STAGE_LABELS["delivered"],
    "rejected": STAGE_LABELS["rejected"],
}
OFFICER_LABELS = {"found": "Mendaftarkan", "verified": "Memverifikasi", "rejected": "Menolak",
                  "picked_up": "Menjemput", "recorded": "Mencatat rekam",
                  "delivered": "Menyerahkan KTP"}
CASES_LABEL = "Kasus"  # every case of an operation (Belum Ditemukan included), merged ones not
MEASURED_LABEL = "Kasus terukur"  # the cases whose time in one SOP step could be measured

# One label table for phone and office (sync/stages.py).
REJECTION_REASONS = REJECTION_REASON_LABELS
CARD_ISSUE_REASONS = NOT_PRINTED_REASON_LABELS
CONFLICT_LABELS = CONFLICT_KIND_LABELS

# Disdukcapil in the loop (issue #13): what the collection found against Disdukcapil's marks.
DIFFERENCE_LABELS = {
    "collected_not_ready": "Diambil, padahal tidak ditandai siap oleh Disdukcapil",
    "ready_not_collected": "Ditandai siap oleh Disdukcapil, tetapi tidak diambil",
}
WAITING_RECEIPT_DAYS = 7  # a handed-over batch unconfirmed for longer is an exception


# ------------------------------------------------------------------------------ statistics

def percent(part, whole):
    """part / whole × 100 as a float, or None when there is no whole."""
    if not whole:
        return None
    return part * 100.0 / whole


@dataclass
class RecapRow:
    """One line of the Rekapitulasi per Desa (cumulative: "reached at least this stage")."""

    code: str
    name: str
    target: int = 0
    listed: int = 0          # imported, not found yet (Belum Ditemukan)
    found: int = 0           # terdata: every case found, rejected ones included
    verified: int = 0        # terverifikasi or further (rejected excluded)
    picked_up: int = 0
    recorded: int = 0        # sudah rekam or further
    sent: int = 0            # diserahkan ke Disdukcapil or further
    collected: int = 0       # KTP diambil or further
    delivered: int = 0       # KTP diserahkan
    rejected: int = 0

    @property
    def capaian(self):
        """KTP-el delivered as a share of the target (the SOP's end output), in %."""
        return percent(self.delivered, self.target)

    def add(self, stage, n):
        """Count n cases currently at stage."""
        if stage == "listed":
            self.listed += n
            return
        self.found += n
        if stage == "rejected":
            self.rejected += n
            return
        rank = RANK.get(stage, 0)
        for name, at in (("verified", 1), ("picked_up", 2), ("recorded", 3), ("sent", 4),
                         ("collected", 5), ("delivered", 6)):
            if rank >= at:
                setattr(self, name, getattr(self, name) + n)


def _op_residents(op):
    return _where(select(Resident.resident_id).where(Resident.operation_id == op.id), _not_merged())


def desa_recap(session, op):
    """(rows per desa of the operation, total row) — see RecapRow."""
    rows = {d.desa_code: RecapRow(code=d.desa_code, name=d.desa.name if d.desa else d.desa_code,
                                  target=d.target or 0) for d in op.desa}
    query = _where(select(Resident.desa_code, Resident.stage, func.count())
                   .where(Resident.operation_id == op.id), _not_merged())
    for code, stage, n in session.execute(query.group_by(Resident.desa_code, Resident.stage)):
        row = rows.get(code)
        if row is None:  # a resident of a desa since removed from the operation
            desa = session.get(Wilayah, code)
            row = rows[code] = RecapRow(code=code, name=desa.name if desa else code)
        row.add(stage, n)
    total = RecapRow(code="", name="Jumlah")
    for row in rows.values():
        for name in ("target", "listed", "found", "verified", "picked_up", "recorded", "sent",
                     "collected", "delivered", "rejected"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return sorted(rows.values(), key=lambda r: r.name), total


def funnel(total):
    """[(label, value)] from the total recap row, in pipeline order."""
    return [(RECAP_LABELS[name], getattr(total, name))
            for name in ("target", "found", "verified", "picked_up", "recorded", "sent",
                         "collected", "delivered")]


def case_counts(session, operation_ids):
    """{operation id: its cases} (CASES_LABEL: listed ones included, merged ones not)."""
    if not operation_ids:
        return {}
    query = _where(select(Resident.operation_id, func.count())
                   .where(Resident.operation_id.in_(list(operation_ids))), _not_merged())
    return dict(session.execute(query.group_by(Resident.operation_id)).all())


def desa_case_counts(session, op):
    """{desa code: cases of the operation there} (as case_counts)."""
    query = _where(select(Resident.desa_code, func.count())
                   .where(Resident.operation_id == op.id), _not_merged())
    return dict(session.execute(query.group_by(Resident.desa_code)).all())


@dataclass
class OfficerRow:
    """What one officer did in an operation (distinct cases per kind of event)."""

    user_id: int
    name: str
    desa: list = field(default_factory=list)
    found: int = 0
    verified: int = 0
    rejected: int = 0
    picked_up: int = 0
    recorded: int = 0
    delivered: int = 0


OFFICER_KINDS = {"registered": "found", "verified": "verified", "rejected": "rejected",
                 "picked_up": "picked_up", "recorded": "recorded", "delivered": "delivered"}


def officer_recap(session, op):
    """Per officer: distinct cases they registered, verified, rejected, picked up, recorded,
    delivered (events by their user id), plus the operation desa they are assigned to."""
    query = (select(ResidentEvent.user_id, ResidentEvent.kind,
                    func.count(func.distinct(ResidentEvent.resident_id)))
             .where(ResidentEvent.resident_id.in_(_op_residents(op)),
                    ResidentEvent.kind.in_(tuple(OFFICER_KINDS)))
             .group_by(ResidentEvent.user_id, ResidentEvent.kind))
    counts = session.execute(query).all()
    names = {d.desa_code: (d.desa.name if d.desa else d.desa_code) for d in op.desa}
    officers = {u.id: u for u in petugas_of(session, op.kecamatan_code, active_only=False)}
    rows = {}
    for user in officers.values():
        assigned = sorted(names[a.desa_code] for a in user.assignments if a.desa_code in names)
        if assigned:
            rows[user.id] = OfficerRow(user.id, user.full_name, assigned)
    for user_id, kind, n in counts:
        row = rows.get(user_id)
        if row is None:
            user = officers.get(user_id) or session.get(User, user_id)
            if user is None or user.role != "petugas":
                continue  # office events (imports) are not an officer's work
            row = rows[user_id] = OfficerRow(user_id, user.full_name, [])
        setattr(row, OFFICER_KINDS[kind], n)
    return sorted(rows.values(), key=lambda r: r.name)


@dataclass
class StaleDevice:
    """A phone that has not synced for a while."""

    client_id: str
    label: str
    officer: str
    last_sync_at: datetime | None
    created_at: datetime | None
    days: int | None


def stale_devices(session, kecamatan_code, now, days):
    """Active (not revoked) phones of the kecamatan's officers with no sync for `days` days
    (never synced counts from the device login)."""
    now = as_utc(now)
    cutoff = now - timedelta(days=days)
    users = {u.id: u for u in session.execute(
        select(User).where(User.kecamatan_code == kecamatan_code, User.role == "petugas",
                           User.active.is_(True))).scalars()}
    if not users:
        return []
    clients = session.execute(
        select(Client).where(Client.user_id.in_(sorted(users)), Client.revoked_at.is_(None))
    ).scalars().all()
    out = []
    for c in clients:
        seen = as_utc(c.last_sync_at) or as_utc(c.created_at)
        if seen is None or seen < cutoff:
            out.append(StaleDevice(c.client_id, c.device_label or "perangkat",
                                   users[c.user_id].full_name, as_utc(c.last_sync_at),
                                   as_utc(c.created_at),
                                   int((now - seen).total_seconds() // 86400) if seen else None))
    out.sort(key=lambda d: (d.last_sync_at or d.created_at or now))
    return out


def open_conflicts(session, op):
    """Open conflicts about the operation's residents: (conflict, resident) pairs, oldest first."""
    query = (select(Conflict, Resident).join(Resident, Resident.resident_id == Conflict.resident_id)
             .where(Conflict.status == "open", conflict_in_kecamatan(op.kecamatan_code[:6]),
                    Resident.operation_id == op.id)
             .order_by(Conflict.created_at, Conflict.id))
    return session.execute(query).all()


def exceptions(session, op):
    """(rejected residents, residents whose card was not printed) of the operation."""
    base = _where(select(Resident).where(Resident.operation_id == op.id), _not_merged())
    rejected = session.execute(
        base.where(Resident.stage == "rejected").order_by(Resident.desa_code, Resident.name)
    ).scalars().all()
    not_printed = [r for r in session.execute(
        base.where(Resident.stage == "sent_to_registry").order_by(Resident.desa_code, Resident.name)
    ).scalars() if r.card_issue]
    return rejected, not_printed


def rejection_text(resident):
    """Indonesian reason of a rejection."""
    info = resident.rejection or {}
    reason = REJECTION_REASONS.get(info.get("reason"), info.get("reason") or "—")
    if info.get("reason_text"):
        reason = f"{reason}: {info['reason_text']}"
    return reason


def card_issue_text(resident):
    """Indonesian reason a card was not printed."""
    info = resident.card_issue or {}
    reason = CARD_ISSUE_REASONS.get(info.get("reason"), info.get("reason") or "—")
    if info.get("reason_text"):
        reason = f"{reason}: {info['reason_text']}"
    return reason


def report_indicators(total):
    """(indicator, target, realisasi, capaian %) for the Laporan Hasil Aksi Pelayanan."""
    rows = [
        ("Warga belum ber-KTP-el yang terdata", total.found),
        ("Data warga terverifikasi", total.verified),
        ("Warga sudah rekam KTP-el", total.recorded),
        ("Data diserahkan ke Disdukcapil", total.sent),
        ("KTP-el diambil dari Disdukcapil", total.collected),
        ("KTP-el diserahkan ke warga", total.delivered),
    ]
    return [(label, total.target, value, percent(value, total.target)) for label, value in rows]


# ------------------------------------------------------------------------------ Disdukcapil

def waiting_for_receipt(kecamatan_code, now, days=WAITING_RECEIPT_DAYS):
    """SQL conditions on Batch: the kecamatan's batches handed over more than `days` days
    before `now` that Disdukcapil has not confirmed. A batch collected without a receipt (a
    Disdukcapil that does not use CAH) waits for nothing and is left out."""
    return (Batch.kecamatan_code == kecamatan_code, Batch.received_at.is_(None),
            Batch.collected_at.is_(None), Batch.handed_at < as_utc(now) - timedelta(days=days))


def difference_rows(session, kecamatan_code, operation_id=None):
    """[(batch, resident, kind)]: the kecamatan's collection differences (kind: a key of
    DIFFERENCE_LABELS; sync.registry.collection_differences), by batch number, desa and name;
    only residents of `operation_id` when given, never merged ones."""
    batches = {b.batch_id: b for b in session.execute(select(Batch).where(
        Batch.kecamatan_code == kecamatan_code, Batch.received_at.is_not(None),
        Batch.collected_at.is_not(None))).scalars()}
    found = collection_differences(session, batches)
    kinds = {(bid, d["resident_id"]): d["kind"] for bid, rows in found.items() for d in rows}
    if not kinds:
        return []
    query = _where(select(Resident).where(
        Resident.resident_id.in_(sorted({rid for _bid, rid in kinds}))), _not_merged())
    if operation_id is not None:
        query = query.where(Resident.operation_id == operation_id)
    residents = {r.resident_id: r for r in session.execute(query).scalars()}
    rows = [(batches[bid], residents[rid], kind) for (bid, rid), kind in kinds.items()
            if rid in residents]
    return sorted(rows, key=lambda row: (row[0].number, row[1].desa_code, row[1].name))
