"""Tables reconciled by the sync engine, on the declarative base that ``server/`` binds."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .stages import stage_label

# Deterministic constraint names, so that migrations written later can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The office's zone (Asia/Makassar, UTC+8, no DST): dates typed in the office and shown to it.
WITA = timezone(timedelta(hours=8), "WITA")


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime (the one clock of sync/ and
    server/)."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """Return value as aware UTC; SQLite hands back naive datetimes that were stored as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base shared by ``sync`` and ``server`` tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Client(Base):
    """One app install + login (a device token); remembers the last mutation applied."""

    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    device_label: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_mutation_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    clock_skew_seconds: Mapped[int | None] = mapped_column(Integer)
    clock_skew_flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    app_version: Mapped[str | None] = mapped_column(String(40))
    # Hash of the desa set the last pull was scoped to: when the officer's assignment
    # changes, the cursor is ignored once so the newly assigned desa's older rows arrive.
    scope_key: Mapped[str | None] = mapped_column(String(64))


class Resident(Base):
    """Current state of one case (a projection of its events)."""

    __tablename__ = "residents"
    __table_args__ = (
        Index("ix_residents_desa_code_change_seq", "desa_code", "change_seq"),
        Index("ix_residents_duplicate_key", "desa_code", "birth_date", "name_key"),
    )

    resident_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    desa_code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    # casefolded, single-spaced name: the possible-duplicate check compares this.
    name_key: Mapped[str] = mapped_column(String(100))
    nik: Mapped[str | None] = mapped_column(String(16), index=True)
    kk_number: Mapped[str | None] = mapped_column(String(16))
    # sex, birth date and marital status may be missing on rows imported from a list (stage
    # `listed`); the phone's registration requires them.
    sex: Mapped[str | None] = mapped_column(String(10))
    birth_place: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    marital_status: Mapped[str | None] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(200))
    rt: Mapped[str | None] = mapped_column(String(3))
    rw: Mapped[str | None] = mapped_column(String(3))
    phone: Mapped[str | None] = mapped_column(String(20))
    vulnerable_category: Mapped[str | None] = mapped_column(String(30))
    disability: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(20), default="found")
    version: Mapped[int] = mapped_column(Integer, default=1)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {field: {"version": n, "client_id": "...", "user_id": n}} for each free field
    field_versions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_user_id: Mapped[int] = mapped_column(Integer)
    created_by_client_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    # Pipeline (docs/interfaces-pipeline.md). Each JSON column is the state the latest
    # accepted event left; the full history stays in resident_events.
    operation_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: server/ owns it
    kk_photo: Mapped[str | None] = mapped_column(String(64))  # sha256 hex of an attachment
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    rejection: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pickup: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recording: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    batch_id: Mapped[str | None] = mapped_column(String(36), index=True)
    card_issue: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When Disdukcapil marked this card printed and ready for pick-up (sync/registry.py);
    # cleared when they mark it not printed after all.
    card_ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Holds the signature strokes too (signature_data); the wire form leaves them out.
    delivery: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    merged_into: Mapped[str | None] = mapped_column(String(36))

    @property
    def stage_label(self) -> str:
        """Indonesian label of the current stage."""
        return stage_label(self.stage)


OFFICE_CLIENT_ID = "office"  # client_id of events written by the office view (no device)


class ResidentEvent(Base):
    """Append-only history: one row per accepted change of a case (phone mutation or office)."""

    __tablename__ = "resident_events"
    # A phone mutation writes at most one event per resident (pick_up of 5 residents: 5), so
    # this still refuses a double apply; office events have mutation_id NULL, and NULLs are
    # distinct in a UNIQUE constraint on both SQLite and PostgreSQL.
    __table_args__ = (UniqueConstraint("client_id", "mutation_id", "resident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("residents.resident_id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str] = mapped_column(String(36))
    mutation_id: Mapped[int | None] = mapped_column(Integer)  # NULL for office events
    device_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    server_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RejectedMutation(Base):
    """A refused mutation, kept for a retention period (sync/retention.py) so that a re-sent
    one gets its answer again; args and fields are stored capped (sync/rejections.py)."""

    __tablename__ = "rejected_mutations"
    __table_args__ = (UniqueConstraint("client_id", "mutation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(36))
    mutation_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(50))
    args: Mapped[Any] = mapped_column(JSON)
    code: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # indexed for the retention purge (sync/retention.py)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)


class Conflict(Base):
    """Something the camat must decide (kinds and decisions: sync.stages.CONFLICT_DECISIONS)."""

    __tablename__ = "conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30))  # a key of sync.stages.CONFLICT_KIND_LABELS
    resident_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("residents.resident_id"), index=True
    )
    other_resident_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("residents.resident_id")
    )
    field: Mapped[str | None] = mapped_column(String(50))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | resolved
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kecamatan_code: Mapped[str] = mapped_column(String(6), index=True)
    # {"decision", "note", "by": user_id, "at": ISO 8601 UTC}; None while open
    resolution: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Batch(Base):
    """A handover of recorded residents to Disdukcapil (berita acara), and its card collection."""

    __tablename__ = "batches"

    batch_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(50))
    kecamatan_code: Mapped[str] = mapped_column(String(6), index=True)
    handed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_user_id: Mapped[int] = mapped_column(Integer)
    created_via: Mapped[str] = mapped_column(String(10))  # phone | office
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    collected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Disdukcapil's receipt (sync/registry.py): when the documents arrived, who confirmed it,
    # when CAH recorded it, and the code both copies of the berita acara carry.
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_by_user_id: Mapped[int | None] = mapped_column(Integer)
    receipt_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verification_code: Mapped[str | None] = mapped_column(String(12))


class BatchItem(Base):
    """One resident of a batch and what happened to their card at collection."""

    __tablename__ = "batch_items"

    batch_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("batches.batch_id"), primary_key=True
    )
    resident_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("residents.resident_id"), primary_key=True, index=True
    )
    outcome: Mapped[str | None] = mapped_column(String(20))  # None | collected | not_printed
    # the collection time (as the team entered it) of the collection that set `outcome`
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(30))
    reason_text: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Disdukcapil's side (sync/registry.py). received: None until the receipt, then whether
    # the resident's documents were in the physical batch.
    received: Mapped[bool | None] = mapped_column(Boolean)
    # None | ready | not_printed, with a reason of NOT_PRINTED_REASON_LABELS when not printed
    print_status: Mapped[str | None] = mapped_column(String(20))
    print_reason: Mapped[str | None] = mapped_column(String(30))
    print_reason_text: Mapped[str | None] = mapped_column(Text)
    print_marked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    print_marked_by_user_id: Mapped[int | None] = mapped_column(Integer)


class ChangeCounter(Base):
    """One row per kecamatan (id = its code as an integer; id 1: the global counter of
    before) holding its change sequence; the row lock orders commits (sync/changeseq.py)."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class DatabaseIdentity(Base):
    """Single row (id=1): a random id of this database, renewed by a restore from a backup.

    Phones compare it with the one they saw last: a new id means the server may have lost
    what they sent since that backup, so they resend it (docs/sync-protocol.md).
    """

    __tablename__ = "database_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    database_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
