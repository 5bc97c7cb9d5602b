"""Writing a case's history: the refusal exceptions, events, conflicts and version bumps.

Shared by the phone's mutation handlers and the office functions, so that both leave the same
trail: every accepted change is one `resident_events` row and a new `change_seq` (which makes
the resident travel to the phones at their next pull).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from marshmallow import Schema, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Conflict, Resident, ResidentEvent
from .schemas import flatten_errors, iso_utc
from .stages import TERMINAL_STAGES, stage_label, stage_rank

MSG_VALIDATION = "Data belum lengkap atau tidak valid. Perbaiki kolom yang ditandai lalu simpan ulang."
MSG_RESIDENT_NOT_FOUND = "Data warga ini tidak ditemukan di server."
MSG_RESIDENT_MERGED = (
    "Data warga ini sudah digabung dengan data warga lain oleh camat; "
    "lanjutkan pada data yang tersisa."
)


class Rejection(Exception):
    """A business refusal: stored, answered as `rejected`, and last_mutation_id still advances."""

    def __init__(self, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.fields = dict(fields or {})


class NothingToChange(Exception):
    """Accepted without a write: an identical re-send or a change that changes nothing."""


def load_args(schema: Schema, args: Any,
              field_errors: Callable[[dict], dict[str, str]] = flatten_errors) -> dict[str, Any]:
    """Load args with a marshmallow schema instance; a failure is a validation_error rejection
    whose fields are field_errors(messages) (default: dotted paths). Phone and office share it."""
    try:
        return schema.load(args)
    except ValidationError as exc:
        raise Rejection("validation_error", MSG_VALIDATION, field_errors(exc.messages)) from None


# Events and conflicts go in with Core INSERTs, in the order written: the ORM unit of work
# knows no dependency between these mappers (no relationship()), so it could insert a
# conflict before the resident it references; Core is also faster (budget: 1,000/s).
_INSERT_EVENT = ResidentEvent.__table__.insert()
_INSERT_CONFLICT = Conflict.__table__.insert()


@dataclass
class Author:
    """Who writes a change and when: a phone mutation, or the office (mutation_id None)."""

    session: Session
    user_id: int
    client_id: str
    mutation_id: int | None
    device_at: datetime
    now: datetime

    def event(self, resident_id: str, kind: str, payload: dict[str, Any]) -> None:
        """Append one event to a case's history."""
        self.session.connection().execute(_INSERT_EVENT, self.event_row(resident_id, kind, payload))

    def event_row(self, resident_id: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The resident_events row `event` inserts (for a caller that inserts it itself)."""
        return {
            "resident_id": resident_id, "kind": kind, "user_id": self.user_id,
            "client_id": self.client_id, "mutation_id": self.mutation_id,
            "device_at": self.device_at, "server_at": self.now, "payload": payload,
        }

    def conflict(self, kind: str, resident_id: str, desa_code: str, details: dict[str, Any],
                 other_resident_id: str | None = None, field: str | None = None) -> None:
        """Open a conflict for the camat (kecamatan taken from the desa code)."""
        self.session.connection().execute(_INSERT_CONFLICT, {
            "kind": kind, "resident_id": resident_id, "other_resident_id": other_resident_id,
            "field": field, "details": details, "status": "open", "created_at": self.now,
            "kecamatan_code": desa_code[:6],
        })

    def stamp(self) -> dict[str, Any]:
        """Who and when, as kept inside a case's JSON columns."""
        return {"by": self.user_id, "client_id": self.client_id, "mutation_id": self.mutation_id,
                "at": iso_utc(self.device_at)}

    def touch(self, resident: Resident, seq: int) -> None:
        """New version and change_seq: the case travels to the phones again."""
        resident.version = resident.version + 1
        resident.updated_at = self.now
        resident.change_seq = seq


Scope = Callable[[Resident], None]  # raises Rejection when the resident is out of scope


def not_found() -> Rejection:
    """The refusal for a resident id that does not exist — or exists in another kecamatan."""
    return Rejection("resident_not_found", MSG_RESIDENT_NOT_FOUND,
                     {"resident_id": MSG_RESIDENT_NOT_FOUND})


def in_kecamatan(resident: Resident, kecamatan_code: str) -> bool:
    """True when the resident's desa lies in the kecamatan (its code is the desa code's first
    6 digits)."""
    return resident.desa_code[:6] == kecamatan_code


def get_resident(session: Session, resident_id: str, scope: Scope) -> Resident:
    """Load a live (not merged) resident the author may touch, fresh from the database.

    Raises Rejection: resident_not_found (unknown, merged, or another kecamatan's — answered
    exactly as an unknown id), or what `scope` raises (e.g. desa_not_assigned).
    """
    resident = session.get(Resident, resident_id, populate_existing=True)
    if resident is None:
        raise not_found()
    # Scope first: whether another kecamatan's case was merged is not theirs to learn.
    scope(resident)
    if resident.merged_into is not None:
        raise Rejection("resident_not_found", MSG_RESIDENT_MERGED, {"resident_id": MSG_RESIDENT_MERGED})
    return resident


def get_residents(session: Session, resident_ids: Iterable[str], scope: Scope) -> list[Resident]:
    """Load several residents in the order given; all must exist, be live and in scope.

    Unknown, merged and out-of-kecamatan ids are listed together in one resident_not_found
    rejection ({resident_id: message}); otherwise the first refusal of `scope` is raised.
    """
    ids = list(resident_ids)
    found = {r.resident_id: r for r in session.scalars(
        select(Resident).where(Resident.resident_id.in_(ids))
        .execution_options(populate_existing=True))}
    refused: dict[str, Rejection] = {}
    for rid, resident in found.items():
        try:
            scope(resident)
        except Rejection as rejection:
            refused[rid] = rejection
    missing = {rid: MSG_RESIDENT_NOT_FOUND for rid in ids
               if rid not in found or found[rid].merged_into is not None
               or (rid in refused and refused[rid].code == "resident_not_found")}
    if missing:
        raise Rejection("resident_not_found", _summary(
            len(missing), "data warga tidak ditemukan di server"), missing)
    if refused:
        raise refused[next(rid for rid in ids if rid in refused)]
    return [found[rid] for rid in ids]


# ---------------------------------------------------------------- stage checks
def rank(stage: str) -> int:
    """Forward rank of a stage; rejected ranks below everything."""
    return stage_rank(stage)


def at_least(resident: Resident, stage: str) -> bool:
    """True when the case is not rejected and has reached `stage`."""
    return resident.stage not in TERMINAL_STAGES and rank(resident.stage) >= rank(stage)


def where_it_stands(resident: Resident, needed: str) -> str:
    """'masih/sudah berstatus <label>' relative to the stage an action needs."""
    label = stage_label(resident.stage)
    if resident.stage in TERMINAL_STAGES:
        return f"berstatus {label}"
    word = "masih" if rank(resident.stage) < rank(needed) else "sudah"
    return f"{word} berstatus {label}"


def invalid_transition(problems: list[tuple[Resident, str]]) -> Rejection:
    """One invalid_transition rejection for (resident, 'masih berstatus …; what to do') pairs."""
    fields = {resident.resident_id: f"{resident.name}: {text}." for resident, text in problems}
    if len(problems) == 1:
        message = f"Warga ini {problems[0][1]}."
    else:
        message = _summary(len(problems), "warga belum dapat diproses: "
                           + _names([resident.name for resident, _ in problems]))
    return Rejection("invalid_transition", message, fields)


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} dan {len(names) - limit} lainnya"


def _summary(count: int, text: str) -> str:
    return f"Ada {count} {text}. Rincian per warga ada pada daftar kolom."

