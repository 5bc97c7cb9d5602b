"""Pull: the officer's residents changed since the cursor, in change_seq order, paged."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .changeseq import current_change_seq
from .models import Resident
from .schemas import ResidentSchema

DEFAULT_PAGE_SIZE = 200

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
) -> PullPage:
    """Return residents of desa_codes with change_seq > cursor, at most page_size of them.

    A resident merged into another one goes out as an id in `removed` instead of a row.
    """
    after = int(cursor) if cursor else 0
    if after and after > current_change_seq(session):
        # A cursor from the future means the database was restored from a backup: new
        # numbers would fall at or below it and never reach the phone. Start over.
        after = 0
        cursor = "0"
    codes = sorted(set(desa_codes))
    if not codes:
        return PullPage(cursor=cursor)
    rows = list(session.scalars(
        select(Resident)
        .where(Resident.desa_code.in_(codes), Resident.change_seq > after)
        .order_by(Resident.change_seq)
        .limit(page_size + 1)  # one extra row tells whether another page exists
    ))
    more = len(rows) > page_size
    rows = rows[:page_size]
    if not rows:
        return PullPage(cursor=cursor)
    return PullPage(
        residents=[resident_to_dict(row) for row in rows if row.merged_into is None],
        # Sent to every phone of the desa, holding the row or not: deleting an unknown id is
        # a no-op, and the server cannot know what a phone holds.
        removed=[row.resident_id for row in rows if row.merged_into is not None],
        cursor=str(rows[-1].change_seq),
        more=more,
    )
