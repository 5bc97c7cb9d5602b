"""process_sync: validate the envelope, apply mutations in id order, then pull (protocol v1)."""
from __future__ import annotations

import hashlib
import logging
import traceback
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .changeseq import RequestSeqs, request_seqs, use_kecamatan
from .context import MutationContext, SyncActor
from .echo import ECHO_COMPACT, echo_sources, split_echoes
from .errors import ClientMismatch, EnvelopeError, MutationGap, is_database_outage
from .identity import database_id
from .models import Client, RejectedMutation, ResidentEvent, as_utc
from .mutations import MUTATORS
from .notices import notices_for
from .pull import DEFAULT_PAGE_SIZE, pull_changes
from .records import NothingToChange, Rejection
from .registration_batch import NAME as BATCH_NAME, apply_registrations
from .registration_prefetch import drop_prefetch, prefetch_read, registration_prefetch
from .rejections import RejectionStore
from .schemas import MAX_MUTATIONS, SyncRequestSchema, flatten_errors, iso_utc
from .wirefields import parse_device_time

CLOCK_SKEW_LIMIT_SECONDS = 10 * 60

MSG_MALFORMED = "Format permintaan sinkronisasi tidak valid. Perbarui aplikasi."
MSG_TOO_MANY = f"Terlalu banyak perubahan dalam satu kiriman (paling banyak {MAX_MUTATIONS})."
MSG_BAD_ORIGIN = "Asal data kiriman ulang bukan perangkat petugas ini."
MSG_BAD_TIME = "Waktu perubahan dari perangkat tidak terbaca. Periksa jam perangkat lalu simpan ulang."
MSG_SERVER_REJECTED = (
    "Server tidak dapat memproses data ini. Data tetap tersimpan di HP; "
    "laporkan ke operator kecamatan."
)

log = logging.getLogger(__name__)

_REQUEST_SCHEMA = SyncRequestSchema()
_CLIENTS = Client.__table__


def process_sync(
    session: Session,
    *,
    actor: SyncActor,
    client: Client,
    body: Any,
    now: datetime,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> dict[str, Any]:
    """Apply one sync request and return the 200 body; flushes, never commits (see module doc)."""
    now = as_utc(now)
    request = _load_envelope(body)
    if str(request["client_id"]) != client.client_id.lower():
        raise ClientMismatch()
    _refuse_unknown_names(request["mutations"])

    _lock_client(session, client)
    _record_clock(client, request, now)
    # Written now, outside any SAVEPOINT: a failure here is the whole request's, never
    # mistaken for one of the mutations below.
    session.flush()
    results = _apply_mutations(session, actor, client, request["mutations"], now)

    cursor, scope_reset = _cursor_for_scope(client, actor, request["cursor"])
    # The phone's page_size may lower the server's page, never raise it.
    page_size = min(page_size, request["page_size"] or page_size)
    # Compact echoes (sync/echo.py) do not count against the page: the request's own rows
    # may come on top of it, so a phone's whole batch is answered in this one round trip.
    sources = echo_sources(request["mutations"], results) \
        if request["echo"] == ECHO_COMPACT else {}
    page = pull_changes(session, actor.desa_codes, cursor, page_size, frozenset(sources))
    # Notices ride with the residents they concern: the conflict's change made them travel.
    notices = notices_for(session, actor.user_id, (r["resident_id"] for r in page.residents), now)
    session.flush()
    changes: dict[str, Any] = {"residents": page.residents, "removed": page.removed,
                               "notices": notices}
    if request["echo"] == ECHO_COMPACT:
        changes["residents"], changes["echoes"] = split_echoes(page.residents, sources)
    return {
        "last_mutation_id": client.last_mutation_id,
        "results": results,
        "cursor": page.cursor,
        "more": page.more,
        "changes": changes,
        "server_time": iso_utc(now),
        "clock_skew_flagged": client.clock_skew_flagged,
        "scope_reset": scope_reset,
        "database_id": database_id(session),
    }


def scope_key(desa_codes: frozenset[str]) -> str:
    """A stable hash of a set of desa codes."""
    return hashlib.sha256(",".join(sorted(desa_codes)).encode()).hexdigest()


def _cursor_for_scope(client: Client, actor: SyncActor, cursor: str | None) -> tuple[str | None, bool]:
    # The cursor is global: rows of a desa assigned after the phone passed them would never
    # arrive. So a changed assignment restarts the pull once; the phone keeps its outbox and
    # replaces its residents with what the new scope holds (scope_reset tells it so).
    key = scope_key(actor.desa_codes)
    if client.scope_key == key:
        return cursor, False
    client.scope_key = key
    return None, cursor is not None


def _load_envelope(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise EnvelopeError("validation_error", MSG_MALFORMED, {"_schema": "Harus berupa objek JSON."})
    mutations = body.get("mutations")
    if isinstance(mutations, list) and len(mutations) > MAX_MUTATIONS:
        raise EnvelopeError("payload_too_large", MSG_TOO_MANY, {"mutations": MSG_TOO_MANY})
    try:
        request = _REQUEST_SCHEMA.load(body)
    except ValidationError as exc:
        raise EnvelopeError("validation_error", MSG_MALFORMED, flatten_errors(exc.messages)) from None
    seen: set[int] = set()
    for index, mutation in enumerate(request["mutations"]):
        if mutation["id"] in seen:
            raise EnvelopeError("validation_error", MSG_MALFORMED, {
                f"mutations.{index}.id": f"Nomor perubahan {mutation['id']} terkirim dua kali."})
        seen.add(mutation["id"])
    return request


def _refuse_unknown_names(mutations: list[dict]) -> None:
    # Checked for the whole request before anything is applied: an older server must not
    # apply half of a batch whose later part it cannot understand (ids must stay in order).
    fields = {
        f"mutations.{index}.name": f"Jenis perubahan '{m['name']}' tidak dikenal server ini."
        for index, m in enumerate(mutations)
        if m["name"] not in MUTATORS
    }
    if fields:
        raise EnvelopeError(
            "unknown_mutation",
            "Server belum mengenal jenis perubahan dari aplikasi ini. Hubungi operator kecamatan.",
            fields,
        )


def _lock_client(session: Session, client: Client) -> None:
    """Lock the client row (and start a real transaction) before reading last_mutation_id."""
    session.flush()
    # A no-op UPDATE rather than SELECT ... FOR UPDATE: on PostgreSQL it takes the row lock,
    # so two concurrent syncs of one phone cannot both apply mutation n; on SQLite it makes
    # pysqlite emit BEGIN, without which the first SAVEPOINT would open (and its RELEASE
    # commit) the transaction. Lock order is always client row → counter row: no deadlock.
    session.execute(
        update(_CLIENTS)
        .where(_CLIENTS.c.client_id == client.client_id)
        .values(last_mutation_id=_CLIENTS.c.last_mutation_id)
    )
    session.refresh(client)


MAX_SKEW_SECONDS = 2**31 - 1  # clients.clock_skew_seconds is a 32-bit INTEGER


def _record_clock(client: Client, request: dict[str, Any], now: datetime) -> None:
    sent = request["sent_at"]
    # A phone whose clock says year 1 or 5897 must still sync (and be told to fix the
    # clock), so the skew is clamped to what the column holds instead of failing.
    try:
        sent_at = as_utc(sent)
        skew = (sent_at - now).total_seconds()  # positive: the phone's clock is ahead
    except OverflowError:  # e.g. year 1 with a positive offset: before datetime.min in UTC
        sent_at = None
        skew = MAX_SKEW_SECONDS if sent.year > now.year else -MAX_SKEW_SECONDS
    skew = max(-MAX_SKEW_SECONDS, min(MAX_SKEW_SECONDS, round(skew)))
    client.last_sent_at = sent_at
    client.last_sync_at = now
    client.clock_skew_seconds = skew
    client.clock_skew_flagged = abs(skew) > CLOCK_SKEW_LIMIT_SECONDS
    client.app_version = request["app_version"]


def _apply_mutations(
    session: Session, actor: SyncActor, client: Client, mutations: list[dict], now: datetime
) -> list[dict[str, Any]]:
    last = client.last_mutation_id
    earlier = _stored_rejections(session, client, [m["id"] for m in mutations if m["id"] <= last])
    store = RejectionStore()
    results: list[dict[str, Any]] = []
    processed = False
    # One reservation of change sequence numbers for the request instead of one UPDATE per
    # mutation (sync/changeseq.py): the same numbers, the same lock, fewer round trips.
    # The officer's kecamatan's own counter: other kecamatan do not wait for this request.
    use_kecamatan(session, actor.kecamatan_code)
    new = [m for m in mutations if m["id"] > last]
    planned = [m["args"] for m in new
               if m["name"] == "register_resident" and isinstance(m["args"], dict)]
    ordered = sorted(mutations, key=lambda m: m["id"])
    one_by_one = 0  # how many next mutations must skip the batch (registration_batch.py)
    with request_seqs(session, len(new)) as seqs, registration_prefetch(session, planned):
        index = 0
        while index < len(ordered):
            mutation = ordered[index]
            mid = mutation["id"]
            if mid <= last:
                results.append(_duplicate_result(mid, earlier.get(mid)))
                index += 1
                continue
            if mid > last + 1:
                if not processed:
                    session.flush()  # the clock fields are kept; the caller commits and answers 409
                    raise MutationGap(last)
                break  # answer what was processed; the phone resends the rest and then gets 409
            if not one_by_one and mutation["name"] == BATCH_NAME:
                applied, one_by_one = apply_registrations(
                    session, actor, client, _registration_run(ordered, index), now, seqs)
                if applied:
                    results.extend(applied)
                    index += len(applied)
                    last = applied[-1]["id"]
                    processed = True
                    continue
            results.append(_apply_one(session, actor, client, mutation, now, store, seqs))
            one_by_one = max(0, one_by_one - 1)
            index += 1
            last = mid
            processed = True
        seqs.give_back()
    # Set once, not per mutation: each SAVEPOINT flushes first, and a per-mutation value
    # would cost an UPDATE of the client row per mutation. An exception escaping this loop
    # makes the caller roll back everything anyway.
    client.last_mutation_id = last
    return results


def _registration_run(ordered: list[dict], index: int) -> list[dict]:
    """The register_resident mutations from `index` on whose ids follow one another."""
    end = index + 1
    while (end < len(ordered) and ordered[end]["name"] == BATCH_NAME
           and ordered[end]["id"] == ordered[end - 1]["id"] + 1):
        end += 1
    return ordered[index:end]


def _apply_one(
    session: Session, actor: SyncActor, client: Client, mutation: dict, now: datetime,
    store: RejectionStore, seqs: RequestSeqs,
) -> dict[str, Any]:
    mid = mutation["id"]
    mark = seqs.mark()
    if mutation["name"] != "register_resident":
        drop_prefetch(session)  # it may change what the registrations' one read holds
    try:
        origin = _origin(session, actor, client, mutation.get("origin"))
        if origin is not None and _processed_before(session, actor, origin):
            return {"id": mid, "status": "duplicate"}  # the restored copy has it already
        # The context manager rolls the SAVEPOINT back on any exception, then re-raises;
        # on PostgreSQL that also clears a failed statement, so the next mutation can run.
        with session.begin_nested():
            ctx = MutationContext(session, actor, client, origin[1] if origin else mid,
                                  _parse_at(mutation["at"]), now,
                                  origin_client_id=origin[0] if origin else None)
            mutator = MUTATORS[mutation["name"]]
            mutator.handler(ctx, mutator.load(mutation["args"]))
    except NothingToChange:
        seqs.restore(mark)  # rolled back: also gives back a change_seq taken for nothing
        _after_refusal(session, mutation, seqs)
    except Rejection as rejection:
        seqs.restore(mark)
        _after_refusal(session, mutation, seqs)
        return _reject(session, actor, client, mutation, now, store, rejection)
    except Exception as exc:
        seqs.restore(mark)
        drop_prefetch(session)
        if is_database_outage(exc):
            raise  # nothing of the request may count as applied: the caller answers 503
        # Any other fault belongs to this mutation alone: refusing it lets the rest of the
        # batch through and the phone's outbox move on, instead of a 500 on every retry.
        # Logged without its message: it may quote the args (names, NIKs).
        log.warning("mutation %d (%s) refused: unexpected %s", mid, mutation["name"],
                    type(exc).__name__)
        log.debug("where: %s", "".join(traceback.format_tb(exc.__traceback__)))
        rejection = Rejection("server_rejected", MSG_SERVER_REJECTED)
        return _reject(session, actor, client, mutation, now, store, rejection)
    return {"id": mid, "status": "applied"}


def _after_refusal(session: Session, mutation: dict, seqs: RequestSeqs) -> None:
    # What a refused mutation added to the prefetch was undone with its SAVEPOINT. A
    # registration refuses before it adds its case (and one filling a listed case has ended
    # the prefetch itself), so the registrations after it keep the one read — unless the
    # SAVEPOINT also undid the counter reservation: with it went (PostgreSQL) the lock that
    # the read was made under, and another writer may have changed the cases since. A read
    # not made yet (a first registration refused by its own checks) is made later, under the
    # lock the next registration takes.
    if mutation["name"] != "register_resident" or (seqs.top is None
                                                   and prefetch_read(session)):
        drop_prefetch(session)


def _reject(session: Session, actor: SyncActor, client: Client, mutation: dict, now: datetime,
            store: RejectionStore, rejection: Rejection) -> dict[str, Any]:
    args, fields = store.stored_form(mutation["args"], rejection.fields)
    session.add(RejectedMutation(
        client_id=client.client_id, mutation_id=mutation["id"], user_id=actor.user_id,
        name=mutation["name"], args=args, code=rejection.code,
        message=rejection.message, fields=fields, created_at=now,
    ))
    return _rejected_result(mutation["id"], rejection.code, rejection.message, rejection.fields)


def _origin(session: Session, actor: SyncActor, client: Client,
            origin: dict | None) -> tuple[str, int] | None:
    """(client_id, id) a resent mutation had when first acknowledged, or None.

    The sender's own client is ignored: its ids are reused as it numbers on, so writing
    under an old one could collide with a later mutation. A client of another officer is
    refused; an unknown one (lost with the restore) is taken as the phone says.
    """
    if not origin or str(origin["client_id"]) == client.client_id.lower():
        return None
    origin_client = str(origin["client_id"])
    owner = session.execute(select(Client.user_id).where(Client.client_id == origin_client)).scalar()
    if owner is not None and owner != actor.user_id:
        raise Rejection("validation_error", MSG_BAD_ORIGIN, {"origin": MSG_BAD_ORIGIN})
    return origin_client, origin["id"]


def _processed_before(session: Session, actor: SyncActor, origin: tuple[str, int]) -> bool:
    """True when the restored database already holds the outcome of mutation `origin`."""
    client_id, mutation_id = origin
    # A client the database still knows applied its mutations in order: every id up to its
    # last_mutation_id was processed — applied, rejected, or applied with nothing to change
    # (which wrote no event, so the events alone would let it be applied again over a later
    # value).
    last = session.execute(select(Client.last_mutation_id)
                           .where(Client.client_id == client_id)).scalar()
    if last is not None:
        return mutation_id <= last
    # A client lost with the restore: an earlier replay wrote its events under its id, always
    # by this officer (_origin refuses another officer's known client). Events of another
    # officer under that id prove nothing: counting them would let anyone who pulled the id
    # from a case pre-empt this officer's replay.
    return session.execute(select(ResidentEvent.id).where(
        ResidentEvent.client_id == client_id, ResidentEvent.mutation_id == mutation_id,
        ResidentEvent.user_id == actor.user_id).limit(1)).first() is not None


def _parse_at(value: str) -> datetime:
    try:
        return parse_device_time(value)  # the same rule as every time inside the args
    except ValueError:
        raise Rejection("invalid_mutation_time", MSG_BAD_TIME, {"at": MSG_BAD_TIME}) from None


def _stored_rejections(session: Session, client: Client, ids: list[int]) -> dict[int, RejectedMutation]:
    if not ids:
        return {}
    rows = session.scalars(select(RejectedMutation).where(
        RejectedMutation.client_id == client.client_id, RejectedMutation.mutation_id.in_(ids)))
    return {row.mutation_id: row for row in rows}


def _duplicate_result(mid: int, rejected: RejectedMutation | None) -> dict[str, Any]:
    # A re-sent mutation that was rejected the first time carries its rejection again, so a
    # response lost on the way back never loses the officer's "perlu perbaikan" entry.
    if rejected is None:
        return {"id": mid, "status": "duplicate"}
    result = _rejected_result(mid, rejected.code, rejected.message, rejected.fields)
    result["status"] = "duplicate"
    return result


def _rejected_result(mid: int, code: str, message: str, fields: dict) -> dict[str, Any]:
    return {"id": mid, "status": "rejected", "code": code, "message": message, "fields": dict(fields or {})}
