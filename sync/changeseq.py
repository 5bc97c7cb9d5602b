"""The global change sequence: one counter row whose lock orders commits (DESIGN §4).

Why a locked row and not a database SEQUENCE / autoincrement: a sequence hands out numbers
at once but transactions commit in any order, so a reader could see seq N+1 committed while
N is still invisible, advance its cursor past N and never see that row. Here every writer
takes its number with ``UPDATE change_counter SET value = value + 1 ... RETURNING value``;
the row lock that UPDATE takes is held until the writer's transaction ends, so the next
writer gets N+1 only after N's transaction has committed (or rolled back, giving N back).
Numbers therefore become visible in order and a cursor can never skip one.
The price: writers of reconciled data are serialised; each sync request holds the lock from
its first accepted change to its commit, so callers must commit promptly.
"""
from __future__ import annotations

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import ChangeCounter, Resident

_COUNTER = ChangeCounter.__table__
COUNTER_ID = 1


# Built once: constructing the statement costs more than running it on SQLite.
_BUMP = (
    update(_COUNTER)
    .where(_COUNTER.c.id == COUNTER_ID)
    .values(value=_COUNTER.c.value + 1)
    .returning(_COUNTER.c.value)
)

_BUMP_BY = (
    update(_COUNTER)
    .where(_COUNTER.c.id == COUNTER_ID)
    .values(value=_COUNTER.c.value + bindparam("n"))
    .returning(_COUNTER.c.value)
)


def allocate_change_seq(session: Session) -> int:
    """Take the next change sequence value; the counter row stays locked until commit."""
    connection = session.connection()
    value = connection.execute(_BUMP).scalar()
    if value is None:
        _create_counter_row(session)
        value = connection.execute(_BUMP).scalar_one()
    return int(value)


def allocate_change_seqs(session: Session, count: int) -> list[int]:
    """Take `count` consecutive sequence values at once (one per resident of a batch)."""
    if count < 1:
        return []
    connection = session.connection()
    value = connection.execute(_BUMP_BY, {"n": count}).scalar()
    if value is None:
        _create_counter_row(session)
        value = connection.execute(_BUMP_BY, {"n": count}).scalar_one()
    return list(range(int(value) - count + 1, int(value) + 1))


def current_change_seq(session: Session) -> int:
    """Return the counter's committed (or own) value without locking; 0 if absent."""
    value = session.execute(select(_COUNTER.c.value).where(_COUNTER.c.id == COUNTER_ID)).scalar()
    return int(value or 0)


def _create_counter_row(session: Session) -> None:
    # Start above any existing row so that a lost counter row never makes numbers go back.
    start = session.execute(select(func.coalesce(func.max(Resident.change_seq), 0))).scalar_one()
    dialect = session.get_bind(mapper=ChangeCounter.__mapper__).dialect.name
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}.get(dialect)
    if insert is not None:
        # Two first writers may race here; ON CONFLICT makes the loser wait for the
        # winner's row instead of failing, and its UPDATE then queues behind the lock.
        session.execute(
            insert(_COUNTER).values(id=COUNTER_ID, value=start).on_conflict_do_nothing(
                index_elements=[_COUNTER.c.id]
            )
        )
        return
    try:
        with session.begin_nested():
            session.execute(_COUNTER.insert().values(id=COUNTER_ID, value=start))
    except IntegrityError:
        pass  # another transaction created it first
