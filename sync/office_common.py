"""Helpers shared by the office functions (sync/office.py and the modules it re-exports)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from marshmallow import ValidationError

from .changeseq import use_kecamatan
from .errors import OfficeError
from .models import OFFICE_CLIENT_ID, WITA, Resident, as_utc
from .records import Author, Rejection, get_resident, in_kecamatan, load_args
from .wirefields import Text

BATCH_ROLES = frozenset({"camat", "operator"})
CAMAT_ONLY = frozenset({"camat"})

MSG_FORBIDDEN = "Peran Anda tidak berwenang melakukan tindakan ini."

_NOTE = Text(1000)


@dataclass(frozen=True)
class OfficeActor:
    """The logged-in camat or operator and the kecamatan they work in."""

    user_id: int
    role: str
    kecamatan_code: str


def office_author(session, actor: OfficeActor, now: datetime) -> Author:
    """The Author of an office change: no device, so the device time is the server time."""
    now = as_utc(now)
    # Office changes number from the kecamatan's own counter, like its phones' (changeseq.py).
    use_kecamatan(session, actor.kecamatan_code)
    return Author(session, user_id=actor.user_id, client_id=OFFICE_CLIENT_ID, mutation_id=None,
                  device_at=now, now=now)


def require_role(actor: OfficeActor, roles: Iterable[str]) -> None:
    """Refuse an actor whose role may not do this (403 in the web view)."""
    if actor.role not in roles:
        raise OfficeError("forbidden", MSG_FORBIDDEN)


def kecamatan_scope(actor: OfficeActor):
    """A scope check: residents outside the actor's kecamatan do not exist for them."""
    def check(resident: Resident) -> None:
        if not in_kecamatan(resident, actor.kecamatan_code):
            raise Rejection("resident_not_found", "Data warga ini tidak ditemukan.",
                            {"resident_id": "Data warga ini tidak ditemukan."})
    return check


def as_office_error(rejection: Rejection) -> OfficeError:
    """The engine's refusal in office terms (not_found / invalid_transition / validation_error)."""
    code = "not_found" if rejection.code.endswith("_not_found") else rejection.code
    return OfficeError(code, rejection.message, rejection.fields)


def office_resident(session, actor: OfficeActor, resident_id: str) -> Resident:
    """The case `resident_id` of the actor's kecamatan; raises OfficeError not_found."""
    try:
        return get_resident(session, str(resident_id), kecamatan_scope(actor))
    except Rejection as rejection:
        raise as_office_error(rejection) from None


def load_office_args(schema, data: dict[str, Any]) -> dict[str, Any]:
    """Validate office input with the phone's schema; datetimes may be given as objects."""
    wire = _wire(data)
    try:
        return load_args(schema, wire)
    except Rejection as rejection:
        raise as_office_error(rejection) from None


def _wire(value: Any) -> Any:
    # A form's datetime-local has no zone: the office works in WITA. A form's empty choice
    # is "", which the phone would send as null.
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=WITA)).isoformat()
    if isinstance(value, dict):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire(item) for item in value]
    if isinstance(value, str) and not value.strip():
        return None
    return value


def clean_note(note: str | None) -> str | None:
    """Trimmed note of at most 1000 characters, or None."""
    if note is None:
        return None
    try:
        return _NOTE.deserialize(note)
    except ValidationError:
        raise OfficeError("validation_error", "Catatan paling banyak 1000 karakter.",
                          {"note": "Catatan paling banyak 1000 karakter."}) from None
