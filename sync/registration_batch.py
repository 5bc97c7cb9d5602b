"""Registrations applied as one batch: the fast path of a phone's outbox (issue #12: 1,000
mutations in ≤ 1 s on PostgreSQL through HTTP).

The engine (sync/engine.py) hands `apply_registrations` each run of consecutive new
`register_resident` mutations of a request. The longest prefix of the run that is certain to
be applied as a new case — the args load, the identity checks pass, the desa is the
officer's, no origin of another client, and the request's one read
(sync/registration_prefetch.py) shows neither the id taken nor a possible duplicate — is
written with one INSERT of all its cases and one of all their "registered" events (an
executemany: pipelined on PostgreSQL) inside ONE SAVEPOINT, instead of a SAVEPOINT, INSERT
and RELEASE per mutation. Everything else (a rejection, a re-sent registration, a duplicate
to flag, a listed case to fill, a replay) goes the per-mutation way, which also writes its
refusal; the batch then resumes after it.

The rows are those the per-mutation path writes, built by the same functions
(handlers_registration: checked_registration, registration_row, as_new_case), with the same
change_seq numbers (taken one by one from the request's RequestSeqs, in id order, under the
kecamatan's counter lock) and events inserted in the same order, so their ids match too. A
database error in the batch rolls its SAVEPOINT back, gives the numbers back and lets the
engine run the whole prefix the per-mutation way: every mutation gets the answer that path
gives (the one that fails is refused as server_rejected), exactly once — read again, so a row
another kecamatan committed meanwhile may change an answer, and on PostgreSQL the event ids
the failed batch drew are not given back (same order, numbers skipped).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .changeseq import RequestSeqs
from .context import MutationContext, SyncActor
from .errors import is_database_outage
from .handlers_registration import (
    MAX_DUPLICATE_LINKS,
    NIK_ELSEWHERE,
    as_new_case,
    checked_registration,
    duplicate_links,
    registration_row,
    wire_form,
)
from .models import Client, Resident, ResidentEvent
from .mutations import MUTATORS
from .records import Rejection
from .registration_prefetch import drop_prefetch, prefetch_for, prefetch_open
from .wirefields import parse_device_time

NAME = "register_resident"
# False: every mutation goes the per-mutation way (what the batch must equal; tests compare).
ENABLED = True

log = logging.getLogger(__name__)

_INSERT_RESIDENTS = Resident.__table__.insert()
_INSERT_EVENTS = ResidentEvent.__table__.insert()
_MUTATOR = MUTATORS[NAME]


def apply_registrations(
    session: Session, actor: SyncActor, client: Client, run: list[dict], now: datetime,
    seqs: RequestSeqs,
) -> tuple[list[dict[str, Any]], int]:
    """Apply the longest sure prefix of `run` (new register_resident mutations with
    consecutive ids, in order) as one batch.

    Returns (the results of the mutations applied here, {"id", "status": "applied"} each,
    in order; how many of the mutations after them the caller must apply one by one before
    asking again — 1 for the one that ended the prefix, the whole prefix after a database
    error, 0 when the run is done). Raises what is_database_outage recognises (the request
    then fails as a whole); any other database error is handled as described above.
    """
    if not ENABLED or len(run) < 2 or not prefetch_open(session):
        # One alone costs what it costs one by one; without the request's one read nothing
        # is sure (each would read on its own).
        return [], len(run)
    planned: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (residents row, event row)
    mark = seqs.mark()
    try:
        # One SAVEPOINT for the batch, undone on any error. It is emitted only when the block
        # first asks for the connection: by the request's first number and its one read (so a
        # fault there is the batch's, not the request's), else by the INSERTs.
        with session.begin_nested():
            for mutation in run:
                plan = _plan(session, actor, client, mutation, now, seqs)
                if plan is None:
                    break
                planned.append(plan)
            if planned:
                connection = session.connection()
                connection.execute(_INSERT_RESIDENTS, [row for row, _ in planned])
                connection.execute(_INSERT_EVENTS, [event for _, event in planned])
    except Exception as exc:
        # The numbers go back (a reservation made inside is undone with the SAVEPOINT); the
        # cases the prefetch was told about were undone too.
        seqs.restore(mark)
        drop_prefetch(session)
        if is_database_outage(exc):
            raise
        # Logged without its message: it may quote the rows (names, NIKs).
        log.warning("batch of %d registrations fell back to one by one: %s",
                    len(planned) or len(run), type(exc).__name__)
        return [], len(planned) or len(run)
    first = run[0]["id"]
    after = 1 if len(planned) < len(run) else 0
    return [{"id": first + index, "status": "applied"} for index in range(len(planned))], after


def _plan(session: Session, actor: SyncActor, client: Client, mutation: dict, now: datetime,
          seqs: RequestSeqs) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(the residents row, the event row) this registration writes as a new case without a
    possible duplicate, or None when it must go the per-mutation way (its number given back)."""
    origin = mutation.get("origin")
    if origin and str(origin["client_id"]) != client.client_id.lower():
        return None  # a replay: written as its first sender, after checks of its own
    try:
        device_at = parse_device_time(mutation["at"])
        ctx = MutationContext(session, actor, client, mutation["id"], device_at, now)
        data, warnings = checked_registration(ctx, _MUTATOR.load(mutation["args"]))
    except (Rejection, ValueError):
        return None  # refused there, with its stored answer
    # Before the look-up, as register_resident: the counter lock makes the prefetch final.
    seq = seqs.take(1)[0]
    row = registration_row(ctx, data, warnings, seq)
    prefetch = prefetch_for(session, row)
    if prefetch is not None:
        # The connection only for the one read: asking for it emits the batch's SAVEPOINT.
        connection = session.connection() if prefetch.cases is None else None
        existing, nik_rows, name_rows = prefetch.look_up(connection, row, MAX_DUPLICATE_LINKS)
        duplicates, elsewhere = duplicate_links(nik_rows, name_rows)
        if existing is None and not duplicates:
            if elsewhere:
                row["warnings"] = [*warnings, NIK_ELSEWHERE]
            as_new_case(ctx, row)
            prefetch.add(row)  # the next registration sees it, as the database would
            event = ctx.author.event_row(row["resident_id"], "registered",
                                         {"args": wire_form(data), "warnings": row["warnings"]})
            return row, event
    # Not sure: the number goes back (the block keeps a reservation made here) and the
    # per-mutation path takes it again.
    seqs.restore((seq, seqs.top))
    return None
