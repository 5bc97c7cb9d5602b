"""Operations (aksi pelayanan): tables, SOP steps, lookups and the residents-list filters.

An operation is one round of the SOP in some desa of a kecamatan, with a target per desa (the
estimated number of residents without KTP-el) and a standard time per SOP step. Residents
belong to an operation through ``Resident.operation_id`` (set by the sync engine from the
officer's desa, or by an import). The figures of the dashboard and the report are computed
in server/statistics.py.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    exists,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.models import Resident, ResidentEvent, utcnow
from sync.wirefields import fold

from .bounds import id_value
from .extensions import db
from .models import User, Wilayah

# ------------------------------------------------------------------------------ SOP steps

# (number, what the team does, default standard minutes). The OCR of the SOP sheet reads
# 180 / 60 / 180 / ? / ? / ? / 60 minutes: steps 4–6 are unreadable and stay unset.
SOP_STEPS = (
    (1, "Menghimpun data warga yang belum memiliki KTP-el", 180),
    (2, "Memverifikasi data warga", 60),
    (3, "Menjemput warga untuk perekaman KTP-el di kantor kecamatan", 180),
    (4, "Mengantarkan data warga ke Disdukcapil", None),
    (5, "Mengambil KTP-el yang sudah selesai di Disdukcapil", None),
    (6, "Mengantarkan KTP-el ke warga", None),
    (7, "Melaporkan hasil aksi pelayanan ke Camat", 60),
)
DEFAULT_STEP_MINUTES = {str(n): m for n, _label, m in SOP_STEPS if m is not None}
STEP_LABELS = {n: label for n, label, _m in SOP_STEPS}


# ------------------------------------------------------------------------------ tables

class Operation(db.Model):
    """One aksi pelayanan of a kecamatan: name, period, standard step times."""

    __tablename__ = "operations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kecamatan_code: Mapped[str] = mapped_column(String(10), ForeignKey("wilayah.code"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    # {"1": 180, "2": 60, ...}: minutes per SOP step; a missing key means "not set".
    step_minutes: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    desa: Mapped[list["OperationDesa"]] = relationship(
        back_populates="operation", cascade="all, delete-orphan",
        order_by="OperationDesa.desa_code")

    @property
    def target_total(self):
        """Sum of the desa targets."""
        return sum(d.target or 0 for d in self.desa)

    @property
    def desa_codes(self):
        """Codes of the operation's desa."""
        return [d.desa_code for d in self.desa]

    def minutes(self, step):
        """Standard minutes of one SOP step, or None when unset."""
        value = (self.step_minutes or {}).get(str(step))
        return int(value) if value is not None else None


class OperationDesa(db.Model):
    """A desa taking part in an operation, with its target."""

    __tablename__ = "operation_desa"
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), primary_key=True)
    desa_code: Mapped[str] = mapped_column(String(10), ForeignKey("wilayah.code"), primary_key=True)
    target: Mapped[int] = mapped_column(Integer, default=0)

    operation: Mapped[Operation] = relationship(back_populates="desa")
    desa: Mapped[Wilayah] = relationship()


# ------------------------------------------------------------------------------ lookups

def operations_of(session, kecamatan_code):
    """The kecamatan's operations, newest first."""
    return session.execute(
        select(Operation).where(Operation.kecamatan_code == kecamatan_code)
        .order_by(Operation.start_date.desc(), Operation.id.desc())).scalars().all()


def get_operation(session, op_id, kecamatan_code):
    """The operation if it belongs to the kecamatan, else None (another's does not exist)."""
    op = session.get(Operation, op_id)
    if op is None or op.kecamatan_code != kecamatan_code:
        return None
    return op


def active_operation_map(session, desa_codes):
    """{desa code: id of the active operation of that desa} (the newest when several)."""
    codes = sorted(set(desa_codes))
    if not codes:
        return {}
    rows = session.execute(
        select(OperationDesa.desa_code, Operation.id)
        .join(Operation, Operation.id == OperationDesa.operation_id)
        .where(Operation.active.is_(True), OperationDesa.desa_code.in_(codes))
        .order_by(Operation.id)).all()
    return {code: op_id for code, op_id in rows}  # later ids overwrite earlier ones


def operations_payload(session, desa_codes):
    """The active operations of the officer's desa, as changes.assignments.operations."""
    codes = set(desa_codes)
    if not codes:
        return []
    ops = session.execute(
        select(Operation).where(Operation.active.is_(True), Operation.id.in_(
            select(OperationDesa.operation_id).where(OperationDesa.desa_code.in_(sorted(codes)))))
        .order_by(Operation.start_date, Operation.id)).scalars().all()
    return [{
        "id": op.id, "name": op.name,
        "start_date": op.start_date.isoformat(), "end_date": op.end_date.isoformat(),
        "desa": [{"code": d.desa_code, "name": d.desa.name if d.desa else d.desa_code,
                  "target": d.target} for d in op.desa if d.desa_code in codes],
    } for op in ops]


def overlapping_desa(session, kecamatan_code, desa_codes, exclude_id=None):
    """{desa code: other active operation} for desa already in another active operation."""
    if not desa_codes:
        return {}
    query = (select(OperationDesa.desa_code, Operation)
             .join(Operation, Operation.id == OperationDesa.operation_id)
             .where(Operation.kecamatan_code == kecamatan_code, Operation.active.is_(True),
                    OperationDesa.desa_code.in_(sorted(desa_codes))))
    if exclude_id is not None:
        query = query.where(Operation.id != exclude_id)
    return {code: op for code, op in session.execute(query).all()}


def petugas_of(session, kecamatan_code, active_only=True):
    """The field officers of a kecamatan, by name."""
    query = select(User).where(User.kecamatan_code == kecamatan_code, User.role == "petugas")
    if active_only:
        query = query.where(User.active.is_(True))
    return session.execute(query.order_by(User.full_name, User.username)).scalars().all()


# ------------------------------------------------------------------------------ resident filters

def _not_merged():
    return Resident.merged_into.is_(None)


def _where(query, *clauses):
    return query.where(*[c for c in clauses if c is not None])


def filter_residents(query, kecamatan_code, filters, desa_codes=None):
    """Apply the residents-list filters to a select of Resident (always kecamatan-scoped).

    filters: {"desa", "stage", "officer", "vulnerable", "operation", "q"} (strings; unknown
    or empty values, and ids outside 1 … 2³¹−1, are ignored). "vulnerable" may be "any"
    (every vulnerable category).
    Cases merged into another (duplicates the camat merged) are left out.
    """
    query = query.where(Resident.desa_code.like(kecamatan_code + "%"), _not_merged())
    desa = filters.get("desa") or ""
    if desa and (desa_codes is None or desa in desa_codes):
        query = query.where(Resident.desa_code == desa)
    stage = filters.get("stage") or ""
    if stage:
        query = query.where(Resident.stage == stage)
    uid = id_value(filters.get("officer"))
    if uid is not None:
        query = query.where(or_(
            Resident.created_by_user_id == uid,
            exists().where(ResidentEvent.resident_id == Resident.resident_id,
                           ResidentEvent.kind == "registered", ResidentEvent.user_id == uid)))
    vulnerable = filters.get("vulnerable") or ""
    if vulnerable == "any":
        query = query.where(Resident.vulnerable_category.is_not(None))
    elif vulnerable:
        query = query.where(Resident.vulnerable_category == vulnerable)
    operation = id_value(filters.get("operation"))
    if operation is not None:
        query = query.where(Resident.operation_id == operation)
    # The folded name (name_key: case, accents, apostrophes) is searched, not lower(name):
    # SQLite's lower() only folds ASCII, and "maruf" must find "Ma'ruf" on both databases.
    q = fold((filters.get("q") or "").strip()[:80])
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(Resident.name_key.like(like, escape="\\"))
    return query
