"""Pull: the officer's residents changed since the cursor, in change_seq order, paged."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .changeseq import current_change_seq
from .models import Batch, Resident, ResidentEvent
from .schemas import ResidentSchema, iso_utc

DEFAULT_PAGE_SIZE = 200
# Events whose changes may move a case to another desa (a correction, a restored value).
_MOVE_KINDS = ("identity_corrected", "conflict_resolved")

_RESIDENT_SCHEMA = ResidentSchema()


@dataclass
class PullPage:
    """One page of changes: residents as dicts, ids to remove, the next cursor, whether more wait."""

    residents: list[dict[str, Any]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    cursor: str | None = None
    more: bool = False


def resident_to_dict(resident: Resident) -> dict[str, Any]:
    """Serialise a resident as it travels in changes.residents (no signature strokes)."""
    return _RESIDENT_SCHEMA.dump(resident)


def pull_changes(
    session: Session,
    desa_codes: Iterable[str],
    cursor: str | None,
    page_size: int = DEFAULT_PAGE_SIZE,
    free_ids: frozenset[str] = frozenset(),
) -> PullPage:
    """Return residents of desa_codes with change_seq > cursor, at most page_size of them.

    Rows whose id is in `free_ids` (the request's own rows, answered as compact echoes by
    sync/echo.py) come on top of page_size: the page never holds more than page_size other
    entries, so a phone that asked for small pages on a bad link gets small pages.

    A resident merged into another one goes out as an id in `removed` instead of a row, as
    does one moved from one of desa_codes to a desa outside them (the phone of the old desa
    must drop its copy): both in change_seq order with the rows, so the cursor covers them.
    """
    after = int(cursor) if cursor else 0
    codes = sorted(set(desa_codes))
    kecamatan = {code[:6] for code in codes}
    # The kecamatan's own counter (sync/changeseq.py): a phone's desa are of one kecamatan.
    if after and after > current_change_seq(session, kecamatan.pop() if len(kecamatan) == 1
                                            else None):
        # A cursor from the future means the database was restored from a backup: new
        # numbers would fall at or below it and never reach the phone. Start over.
        after = 0
        cursor = "0"
    if not codes:
        return PullPage(cursor=cursor)
    limit = page_size + len(free_ids)
    rows = list(session.scalars(
        select(Resident)
        .where(Resident.desa_code.in_(codes), Resident.change_seq > after)
        .order_by(Resident.change_seq)
        .limit(limit + 1)  # one extra row tells whether another page exists
    ))
    # Up to the first row past this window: a moved case beyond it waits for the next page.
    more = len(rows) > limit
    upto = rows[limit].change_seq if more else None
    moved = _moved_away(session, codes, after, upto)
    window = sorted([*((row.change_seq, row) for row in rows[:limit]), *moved],
                    key=lambda item: item[0])
    merged, counted = [], 0
    for seq, row in window:
        if isinstance(row, str) or row.resident_id not in free_ids:
            if counted == page_size:
                more = True
                break
            counted += 1
        merged.append((seq, row))
    if not merged:
        return PullPage(cursor=cursor)
    page = [row for _seq, row in merged if not isinstance(row, str)]
    live = [resident_to_dict(row) for row in page if row.merged_into is None]
    _add_batch_numbers(session, live)
    return PullPage(
        residents=live,
        # Sent to every phone of the desa, holding the row or not: deleting an unknown id is
        # a no-op, and the server cannot know what a phone holds.
        removed=[row if isinstance(row, str) else row.resident_id for _seq, row in merged
                 if isinstance(row, str) or row.merged_into is not None],
        cursor=str(merged[-1][0]),
        more=more,
    )


def _moved_away(session: Session, codes: list[str], after: int,
                upto: int | None) -> list[tuple[int, str]]:
    """[(change_seq, resident id)] of the cases now outside `codes`, changed after `after`
    (and before `upto`), that a correction or a restored value moved from one of `codes`.

    Resent with every later change of such a case: removing it again is a no-op."""
    query = (select(Resident.resident_id, Resident.change_seq, ResidentEvent.payload)
             .join(ResidentEvent, ResidentEvent.resident_id == Resident.resident_id)
             .where(Resident.change_seq > after, Resident.desa_code.not_in(codes),
                    # a case moves within its kecamatan only
                    func.substr(Resident.desa_code, 1, 6).in_(sorted({c[:6] for c in codes})),
                    ResidentEvent.kind.in_(_MOVE_KINDS)))
    if upto is not None:
        query = query.where(Resident.change_seq < upto)
    found: dict[str, int] = {}
    for rid, seq, payload in session.execute(query):
        change = ((payload or {}).get("changes") or {}).get("desa_code") \
            if isinstance(payload, dict) else None
        if isinstance(change, dict) and change.get("old") in codes:
            found[rid] = seq
    return [(seq, rid) for rid, seq in found.items()]


def _add_batch_numbers(session: Session, residents: list[dict[str, Any]]) -> None:
    """Set `batch_number` (the berita acara number) on residents that are in a batch: the
    phone names a batch by it, never by its uuid; and `batch_handed_at` and
    `card_collected_at` (ISO UTC or null), the step times the phone's forms must not precede
    (sync/step_order.py). Two queries per page."""
    ids = {r["batch_id"] for r in residents if r.get("batch_id")}
    batches = {row.batch_id: row for row in session.execute(
        select(Batch.batch_id, Batch.number, Batch.handed_at)
        .where(Batch.batch_id.in_(sorted(ids))))} if ids else {}
    collected = _collection_times(session, [r["resident_id"] for r in residents if r.get(
        "stage") in ("card_collected", "delivered")])
    for r in residents:
        batch = batches.get(r.get("batch_id"))
        r["batch_number"] = batch.number if batch else None
        r["batch_handed_at"] = iso_utc(batch.handed_at) if batch else None
        r["card_collected_at"] = collected.get(r["resident_id"])


def _collection_times(session: Session, resident_ids: list[str]) -> dict[str, str]:
    """resident id → the `collected_at` of its latest card_collected event."""
    if not resident_ids:
        return {}
    times: dict[str, str] = {}
    for rid, payload in session.execute(
            select(ResidentEvent.resident_id, ResidentEvent.payload)
            .where(ResidentEvent.resident_id.in_(resident_ids),
                   ResidentEvent.kind == "card_collected").order_by(ResidentEvent.id)):
        if isinstance(payload, dict) and payload.get("collected_at"):
            times[rid] = payload["collected_at"]
    return times
