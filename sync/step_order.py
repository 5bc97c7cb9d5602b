"""Step times in SOP order: a step time earlier than the case's previous step time.

Such a time is a real field record (a phone typed it, or its clock was wrong), so the mutation
is applied as always — and its event carries a `time_order` flag in its payload:
``{"before": "<kind of the previous step's event>", "previous_at": "<ISO UTC>",
"at": "<ISO UTC>"}``. The office shows it on the case page and the SOP timings leave the step
out of the medians with a count (server/timings.py); the phone refuses such a time up front
(pwa/js/step-order.js), so the flag marks records from older apps, the office or other phones.

The chain compares the times an officer types, to the minute (forms keep minutes only):
pick-up (`pickup.at`) → recording (`recording.at`) → handover (the batch's `handed_at`) →
collection (the `card_collected` event's `collected_at`) → delivery (`delivered_at`).
Registration and verification times are the phone's clock at saving, not typed: not compared.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Resident, ResidentEvent, as_utc
from .schemas import iso_utc
from .wirefields import parse_device_time

# event kind → the kind of the event whose time it must not precede
PREVIOUS_STEP = {"recorded": "picked_up", "batch_handed_over": "recorded",
                 "card_collected": "batch_handed_over", "delivered": "card_collected"}


def read_time(value: Any) -> datetime | None:
    """A stored or sent ISO time (or a datetime) as aware UTC; None when absent or unreadable."""
    if isinstance(value, datetime):
        return as_utc(value)
    try:
        return parse_device_time(value)
    except (TypeError, ValueError):
        return None


def time_order_flag(kind: str, at: Any, previous_at: Any) -> dict[str, str] | None:
    """The `time_order` flag of an event of `kind` at `at`, or None when it is in order.

    Both times may be datetimes or ISO text; a missing or unreadable one compares as in order.
    """
    moment, previous = read_time(at), read_time(previous_at)
    if moment is None or previous is None:
        return None
    if moment.replace(second=0, microsecond=0) >= previous.replace(second=0, microsecond=0):
        return None
    return {"before": PREVIOUS_STEP[kind], "previous_at": iso_utc(previous), "at": iso_utc(moment)}


def flagged(payload: dict[str, Any], kind: str, at: Any, previous_at: Any) -> dict[str, Any]:
    """payload, or a copy of it with the `time_order` flag when `at` precedes `previous_at`."""
    flag = time_order_flag(kind, at, previous_at)
    return payload if flag is None else {**payload, "time_order": flag}


def pickup_time(resident: Resident) -> str | None:
    """The case's pick-up time as stored (None without a pick-up)."""
    return (resident.pickup or {}).get("at")


def recording_time(resident: Resident) -> str | None:
    """The case's successful recording time as stored (None without one)."""
    recording = resident.recording or {}
    return None if recording.get("failed") else recording.get("at")


def collection_time(session: Session, resident_id: str) -> str | None:
    """When the case's card was last recorded as collected (`collected_at`), or None."""
    payload = session.scalar(
        select(ResidentEvent.payload)
        .where(ResidentEvent.resident_id == resident_id, ResidentEvent.kind == "card_collected")
        .order_by(ResidentEvent.id.desc()).limit(1))
    return (payload or {}).get("collected_at")
