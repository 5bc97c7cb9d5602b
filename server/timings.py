"""When each step of a case happened, as the dashboard and the report count it: the SOP time
compliance, the steps out of order, and the cases stuck for more than N days.

A step's time is the time the officer entered for it (pick-up, recording, handover,
collection, delivery: the `…_at` of the step, sync/step_order.py), else the event's device
clock (`device_at`); office events carry the server's time. A phone's clock is not trusted
blindly (docs/office-view.md, "Phone clocks"):

- a phone whose clock is flagged now (`clients.clock_skew_flagged`, skew over 10 minutes)
  has its times corrected by the recorded skew (`device time − clock_skew_seconds`), when
  that gives a plausible time;
- a time more than CLOCK_AHEAD (10 minutes) after the server received it, or more than
  FAR_BEFORE (30 days) before, is not plausible: the server's receipt time is used instead
  (a phone rarely keeps a record unsent for a month; a dead clock says 1980).

Each time says where it came from (DEVICE, CORRECTED, SERVER), so the pages can say so.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import case, null, select

from sync.engine import CLOCK_SKEW_LIMIT_SECONDS
from sync.models import Client, Resident, ResidentEvent, as_utc
from sync.step_order import read_time

from .operations import SOP_STEPS, _not_merged, _where
from .statistics import FINISHED, percent

CLOCK_AHEAD = timedelta(seconds=CLOCK_SKEW_LIMIT_SECONDS)  # the engine's own limit
FAR_BEFORE = timedelta(days=30)
DEVICE, CORRECTED, SERVER = "device", "corrected", "server"
CLOCK_NOTES = {CORRECTED: "jam HP dikoreksi", SERVER: "waktu server dipakai: jam HP salah"}

# How a case's time in each step is measured: from the first event of one kind to the first
# later event of another. Step 7 is one report per operation, not per case.
STEP_INTERVALS = {
    1: (("listed",), ("registered",)),
    2: (("registered",), ("verified", "rejected")),
    3: (("verified",), ("recorded",)),
    4: (("recorded",), ("batch_handed_over",)),
    5: (("batch_handed_over",), ("card_collected",)),
    6: (("card_collected",), ("delivered",)),
}

# Events that move a case (for "stuck for more than N days").
PROGRESS_KINDS = ("listed", "registered", "verified", "rejected", "picked_up", "pickup_cancelled",
                  "recorded", "recording_failed", "batch_handed_over", "card_collected",
                  "card_not_printed", "delivered", "reopened", "conflict_resolved")

# event kind → the step time entered for it, inside its payload
STEP_TIMES = {
    "picked_up": lambda p: (p.get("pickup") or {}).get("at"),
    "recorded": lambda p: (p.get("recording") or {}).get("at"),
    "batch_handed_over": lambda p: p.get("handed_at"),
    "card_collected": lambda p: p.get("collected_at"),
    "delivered": lambda p: (p.get("delivery") or {}).get("delivered_at"),
}


class TimedEvent(NamedTuple):
    """One event of a case with the time it counts at and where that time came from."""

    resident_id: str
    kind: str
    at: datetime
    source: str = DEVICE


def trusted_time(device_at, server_at, skew_seconds=None, flagged=False):
    """(time, source) for a phone's time received at `server_at` (see the module doc).

    `skew_seconds` is the phone's recorded clock skew (positive: ahead), used when `flagged`.
    """
    device_at, server_at = as_utc(device_at), as_utc(server_at)
    if server_at is None:
        return device_at, DEVICE

    def plausible(moment):
        return server_at - FAR_BEFORE <= moment <= server_at + CLOCK_AHEAD

    if flagged and skew_seconds:
        try:
            corrected = device_at - timedelta(seconds=skew_seconds)
        except OverflowError:  # a clock in year 1 or 9999
            corrected = None
        if corrected is not None and plausible(corrected):
            return corrected, CORRECTED
    if device_at is not None and plausible(device_at):
        return device_at, DEVICE
    return server_at, SERVER


def event_times(session, op):
    """The TimedEvents of the operation's (not merged) residents, in event order."""
    # Only the payloads that hold a step time: a registration's payload holds the whole form.
    payload = case((ResidentEvent.kind.in_(tuple(STEP_TIMES)), ResidentEvent.payload),
                   else_=null())
    query = (select(ResidentEvent.resident_id, ResidentEvent.kind, ResidentEvent.client_id,
                    ResidentEvent.device_at, ResidentEvent.server_at, payload)
             .where(ResidentEvent.resident_id.in_(
                 _where(select(Resident.resident_id).where(Resident.operation_id == op.id),
                        _not_merged())))
             .order_by(ResidentEvent.id))
    rows = session.execute(query).all()
    ids = sorted({row.client_id for row in rows if row.client_id != "office"})
    clocks = {c.client_id: (c.clock_skew_seconds, c.clock_skew_flagged) for c in session.execute(
        select(Client.client_id, Client.clock_skew_seconds, Client.clock_skew_flagged)
        .where(Client.client_id.in_(ids)))} if ids else {}
    out = []
    for rid, kind, client_id, device_at, server_at, payload in rows:
        entered = STEP_TIMES[kind](payload) if kind in STEP_TIMES and isinstance(payload, dict) \
            else None
        moment = read_time(entered) or as_utc(device_at)
        if client_id == "office" or moment is None:
            # the office's own clock, or a time typed in the office (never in the future)
            out.append(TimedEvent(rid, kind, moment or as_utc(server_at), DEVICE))
            continue
        skew, flagged = clocks.get(client_id, (None, False))
        at, source = trusted_time(moment, server_at, skew, flagged)
        out.append(TimedEvent(rid, kind, at, source))
    return out


def clock_fixed(events):
    """How many of the events count at a corrected or server time instead of the phone's."""
    return sum(1 for e in events if e.source != DEVICE)


@dataclass
class OutOfOrder:
    """A step whose time is earlier than the step before it: not counted in the median."""

    resident_id: str
    step: int
    begin: datetime  # the previous step's time
    end: datetime    # this step's (earlier) time
    name: str = ""


@dataclass
class StepCompliance:
    """Time spent in one SOP step over the operation's cases."""

    step: int
    label: str
    standard: int | None
    count: int = 0
    median: float | None = None  # minutes
    within: int = 0
    out_of_order: list = field(default_factory=list)  # [OutOfOrder]

    @property
    def share(self):
        """Cases within the standard time, in % (None without a standard or cases)."""
        if self.standard is None:
            return None
        return percent(self.within, self.count)


def step_spans(events):
    """({step: [minutes, …]}, [OutOfOrder]) from TimedEvents.

    For each case and step: first event of a "from" kind to the first event of a "to" kind at
    or after it. When every "to" event is earlier, the step is out of order (listed, not
    measured).
    """
    times = {}
    for event in events:
        if event.at is not None:
            times.setdefault(event.resident_id, []).append((event.kind, event.at))
    spans = {step: [] for step in STEP_INTERVALS}
    disorder = []
    for rid, rows in times.items():
        for step, (starts, ends) in STEP_INTERVALS.items():
            begin = min((at for kind, at in rows if kind in starts), default=None)
            finished = [at for kind, at in rows if kind in ends]
            if begin is None or not finished:
                continue
            later = [at for at in finished if at >= begin]
            if later:
                spans[step].append((min(later) - begin).total_seconds() / 60.0)
            else:
                disorder.append(OutOfOrder(rid, step, begin, max(finished)))
    return spans, disorder


def sop_compliance(session, op, events=None):
    """Median minutes and share within the standard, per SOP step (step 7: per report); each
    row lists its steps out of order (with the resident's name)."""
    spans, disorder = step_spans(events if events is not None else event_times(session, op))
    if disorder:
        names = dict(session.execute(select(Resident.resident_id, Resident.name).where(
            Resident.resident_id.in_(sorted({d.resident_id for d in disorder})))).all())
        for item in disorder:
            item.name = names.get(item.resident_id, item.resident_id)
    rows = []
    for step, label, _default in SOP_STEPS:
        row = StepCompliance(step, label, op.minutes(step))
        values = spans.get(step, [])
        if values:
            row.count = len(values)
            row.median = statistics.median(values)
            if row.standard is not None:
                row.within = sum(1 for m in values if m <= row.standard)
        row.out_of_order = sorted((d for d in disorder if d.step == step),
                                  key=lambda d: (d.name, d.resident_id))
        rows.append(row)
    return rows


@dataclass
class StuckCase:
    """A case with no progress for a while; `clock` says when its time is not the phone's."""

    resident_id: str
    name: str
    desa_code: str
    stage: str
    since: datetime
    days: int
    card_issue: dict | None = None
    clock: str | None = None  # a CLOCK_NOTES text


def stuck_cases(session, op, now, days, events=None, limit=None):
    """Unfinished cases whose last progress event is older than `days` days, oldest first."""
    now = as_utc(now)
    last = {}
    for event in (events if events is not None else event_times(session, op)):
        if event.kind in PROGRESS_KINDS and event.at is not None and (
                event.resident_id not in last or event.at > last[event.resident_id].at):
            last[event.resident_id] = event
    cutoff = now - timedelta(days=days)
    # Columns, not ORM objects: this runs over every unfinished case of the operation.
    query = _where(select(Resident.resident_id, Resident.name, Resident.desa_code, Resident.stage,
                          Resident.created_at, Resident.card_issue)
                   .where(Resident.operation_id == op.id, Resident.stage.not_in(FINISHED)),
                   _not_merged())
    out = []
    for rid, name, desa_code, stage, created_at, card_issue in session.execute(query):
        event = last.get(rid)
        since = event.at if event else as_utc(created_at)
        if since < cutoff:
            out.append(StuckCase(rid, name, desa_code, stage, since,
                                 int((now - since).total_seconds() // 86400), card_issue,
                                 CLOCK_NOTES.get(event.source) if event else None))
    out.sort(key=lambda c: (c.since, c.name))
    return out[:limit] if limit else out
