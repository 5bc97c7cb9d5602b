"""Perekaman at the kecamatan office (issue #11 §6): the operator or camat enters, in one form,
which residents of a day's pick-up were recorded and which were not (with the reason).

Each entry is applied by the phone's own handlers (handlers_pipeline.record_done and
record_failed), written as an office change (client_id "office", no mutation id, device time =
server time, a new change_seq), so the officers' phones receive it at their next sync and a
phone's concurrent record meets the usual rules: forward stages are the max (a resident a phone
already recorded stays recorded), and "failed" on a resident recorded meanwhile is refused.
All entries or none: on OfficeError the caller rolls back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import OfficeError
from .handlers_pipeline import record_done, record_failed
from .models import WITA, Resident, as_utc
from .office_common import (
    BATCH_ROLES,
    OfficeActor,
    kecamatan_scope,
    load_office_args,
    office_author,
    require_role,
)
from .records import Author, Rejection, at_least, in_kecamatan
from .schemas import RecordDoneArgsSchema, RecordFailedArgsSchema, iso_utc
from .step_order import pickup_time, read_time

OUTCOMES = ("done", "failed")
MAX_ENTRIES = 500
MSG_NOTHING = "Pilih hasil perekaman minimal untuk satu warga."
MSG_TOO_MANY = f"Paling banyak {MAX_ENTRIES} warga dalam satu kiriman."

_DONE_SCHEMA = RecordDoneArgsSchema()
_FAILED_SCHEMA = RecordFailedArgsSchema()


@dataclass
class _OfficeContext:
    """What record_done/record_failed use of a MutationContext, for an office change."""

    session: Session
    author: Author
    scope: Callable[[Resident], None]


def awaiting_recording(session: Session, kecamatan_code: str, day: date,
                       desa_code: str | None = None) -> list[Resident]:
    """Residents of the kecamatan picked up on `day` (a WITA date) who still await perekaman
    (stage picked_up), optionally of one desa; ordered by desa and name."""
    query = select(Resident).where(
        Resident.stage == "picked_up", Resident.merged_into.is_(None),
        Resident.desa_code.startswith(desa_code or kecamatan_code, autoescape=True),
        Resident.desa_code.startswith(kecamatan_code, autoescape=True))
    start = datetime.combine(day, time(), WITA)
    end = start + timedelta(days=1)
    rows = []
    for resident in session.scalars(query.order_by(Resident.desa_code, Resident.name_key)):
        at = read_time(pickup_time(resident))  # aware UTC; None when missing or unreadable
        if at is not None and start <= at < end:
            rows.append(resident)
    return rows


def record_at_office(session: Session, actor: OfficeActor, *, entries: list[dict[str, Any]],
                     recorded_at: datetime, now: datetime) -> int:
    """Apply the office's perekaman results; returns the number of entries written.

    entries: [{resident_id, outcome: "done"|"failed", reason?, reason_text?, recorded_at?}] —
    reason is a RECORD_FAILED_REASON_LABELS code (reason_text required for "other"), as the
    phone's record_failed; an entry's recorded_at (aware) is when that resident was recorded,
    else `recorded_at` (aware) applies. A time before the pick-up is applied with the usual
    time_order flag (sync/step_order.py): the caller picks one after it. A "done" for a
    resident already recorded (by a phone meanwhile) is skipped, as is a "failed" already
    recorded as failed. Raises OfficeError (forbidden, validation_error with fields keyed by resident id,
    not_found, invalid_transition); nothing is kept then (the caller rolls back).
    """
    require_role(actor, BATCH_ROLES)
    if not entries:
        raise OfficeError("validation_error", MSG_NOTHING, {"entries": MSG_NOTHING})
    if len(entries) > MAX_ENTRIES:
        raise OfficeError("validation_error", MSG_TOO_MANY, {"entries": MSG_TOO_MANY})
    loaded = [(entry["outcome"], _load(entry, entry.get("recorded_at") or recorded_at))
              for entry in entries]
    ctx = _OfficeContext(session, office_author(session, actor, as_utc(now)),
                         kecamatan_scope(actor))
    written = 0
    for outcome, data in loaded:
        resident_id = str(data["resident_id"])
        resident = session.get(Resident, resident_id)
        if (resident is not None and in_kecamatan(resident, actor.kecamatan_code)
                and _already(resident, outcome)):
            continue
        try:
            (record_done if outcome == "done" else record_failed)(ctx, data)
        except Rejection as rejection:
            message = rejection.message
            for text in rejection.fields.values():
                message = f"{message} {text}" if text not in message else message
            raise OfficeError("not_found" if rejection.code.endswith("_not_found")
                              else rejection.code, message, {resident_id: message}) from None
        written += 1
    return written


def _already(resident: Resident, outcome: str) -> bool:
    if outcome == "done":
        return at_least(resident, "recorded")
    return resident.stage == "verified" and bool((resident.recording or {}).get("failed"))


def _load(entry: dict[str, Any], recorded_at: datetime) -> dict[str, Any]:
    resident_id = str(entry.get("resident_id"))
    if entry.get("outcome") not in OUTCOMES:
        raise OfficeError("validation_error", MSG_NOTHING, {resident_id: MSG_NOTHING})
    try:
        if entry["outcome"] == "done":
            return load_office_args(_DONE_SCHEMA, {"resident_id": resident_id,
                                                   "recorded_at": iso_utc(as_utc(recorded_at))})
        return load_office_args(_FAILED_SCHEMA, {"resident_id": resident_id,
                                                 "reason": entry.get("reason") or "",
                                                 "reason_text": entry.get("reason_text") or ""})
    except OfficeError as err:
        message = "; ".join(dict.fromkeys(err.fields.values())) or err.message
        raise OfficeError("validation_error", message, {resident_id: message}) from None
