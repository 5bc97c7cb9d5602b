"""The change sequence: one counter row per kecamatan whose lock orders commits (DESIGN §4).

Why a locked row and not a database SEQUENCE / autoincrement: a sequence hands out numbers
at once but transactions commit in any order, so a reader could see seq N+1 committed while
N is still invisible, advance its cursor past N and never see that row. Here every writer
takes its number with ``UPDATE change_counter SET value = value + 1 ... RETURNING value``;
the row lock that UPDATE takes is held until the writer's transaction ends, so the next
writer gets N+1 only after N's transaction has committed (or rolled back, giving N back).
Numbers therefore become visible in order and a cursor can never skip one.
The price: writers of reconciled data are serialised; each sync request holds the lock from
its first accepted change to its commit, so callers must commit promptly.

A sync request takes its numbers through a `RequestSeqs` (see `request_seqs`): its first
number reserves a block for the whole request in the same one UPDATE (one round trip per
request instead of one per mutation), a mutation rolled back gives its numbers back to the
block, and the unused rest goes back to the counter at the end. The numbers handed out are
therefore exactly those the per-call allocation would hand out, under the same lock.

One counter per kecamatan (issue #12): every case belongs to one kecamatan and every writer
writes the cases of its own kecamatan only (the officer's, the office user's), and a phone
pulls the desa of one kecamatan. So the order only has to hold within a kecamatan, and each
kecamatan has its own counter row (id = the kecamatan code as an integer, e.g. 631104):
writers of different kecamatan no longer queue on one row. Row `COUNTER_ID` (1) is the
counter of before, used by writers that name no kecamatan; a kecamatan's row starts above it
and above every existing case, so no cursor a phone holds is ever passed again. The writer
names its kecamatan with `use_kecamatan` (sync requests: the engine; office changes:
`office_author`) before its first number. The 50-phone benchmark (docs/performance.md) found
~88 % of the sessions inside a sync transaction waiting on the one global row. Upgrading from
the global counter needs a restart, not a rolling one: a worker of the old code still numbering
from row 1 would not be ordered with the new kecamatan rows.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import ChangeCounter, Resident

_COUNTER = ChangeCounter.__table__
COUNTER_ID = 1  # the counter of writers that name no kecamatan
_INFO_KEY = "cah_request_seqs"  # session.info slot of the open RequestSeqs
_KECAMATAN_KEY = "cah_seq_counter"  # session.info slot: the counter row id to use


def counter_id(kecamatan_code: str | None) -> int:
    """The counter row of a kecamatan (its 6-digit code as an integer), COUNTER_ID for None."""
    if kecamatan_code is None:
        return COUNTER_ID
    if len(kecamatan_code) != 6 or not kecamatan_code.isdigit():
        raise ValueError(f"not a kecamatan code: {kecamatan_code!r}")
    return int(kecamatan_code)


def use_kecamatan(session: Session, kecamatan_code: str | None) -> None:
    """Take this session's change sequence numbers from the kecamatan's own counter (None:
    the global one). Call it before the first number of a transaction; every writer of a
    kecamatan's cases must name it, or a phone's cursor could pass an uncommitted number."""
    session.info[_KECAMATAN_KEY] = counter_id(kecamatan_code)


def _counter(session: Session) -> int:
    return session.info.get(_KECAMATAN_KEY, COUNTER_ID)


# Built once: constructing the statement costs more than running it on SQLite.
_BUMP_BY = (
    update(_COUNTER)
    .where(_COUNTER.c.id == bindparam("cid"))
    .values(value=_COUNTER.c.value + bindparam("n"))
    .returning(_COUNTER.c.value)
)


_GIVE_BACK = (
    update(_COUNTER)
    .where(_COUNTER.c.id == bindparam("cid"))
    .values(value=_COUNTER.c.value - bindparam("n"))
)


def allocate_change_seq(session: Session) -> int:
    """Take the next change sequence value; the counter row stays locked until commit."""
    seqs = session.info.get(_INFO_KEY)
    if seqs is not None:
        return seqs.take(1)[0]
    return _bump_by(session, 1, _counter(session))


def allocate_change_seqs(session: Session, count: int) -> list[int]:
    """Take `count` consecutive sequence values at once (one per resident of a batch)."""
    if count < 1:
        return []
    seqs = session.info.get(_INFO_KEY)
    if seqs is not None:
        return seqs.take(count)
    top = _bump_by(session, count, _counter(session))
    return list(range(top - count + 1, top + 1))


def _bump_by(session: Session, count: int, cid: int) -> int:
    connection = session.connection()
    params = {"n": count, "cid": cid}
    value = connection.execute(_BUMP_BY, params).scalar()
    if value is None:
        _create_counter_row(session, cid)
        value = connection.execute(_BUMP_BY, params).scalar_one()
    return int(value)


class RequestSeqs:
    """The change sequence numbers of one sync request, reserved in blocks.

    `block` is how many numbers the first reservation takes (e.g. the request's mutation
    count); a request that needs more reserves another block, contiguous because the lock
    is already held. A mutation rolled back to its SAVEPOINT calls `restore(mark())` taken
    before it: its numbers go back to the block, and a reservation made inside it (undone
    with the SAVEPOINT, together with its lock on PostgreSQL) is forgotten.
    """

    def __init__(self, session: Session, block: int) -> None:
        self.session = session
        self.counter = _counter(session)
        self.block = max(1, block)
        self.next: int | None = None  # the next number to hand out
        self.top: int | None = None  # the highest number reserved (the counter's value)

    def take(self, count: int) -> list[int]:
        """`count` consecutive numbers, reserving another block when these run out."""
        if self.top is None or self.next + count - 1 > self.top:
            size = max(count, self.block)
            top = _bump_by(self.session, size, self.counter)
            if self.top is None:
                self.next = top - size + 1
            self.top = top
        first = self.next
        self.next += count
        return list(range(first, first + count))

    def mark(self) -> tuple[int | None, int | None]:
        """Where the block stands now, for `restore`."""
        return self.next, self.top

    def restore(self, mark: tuple[int | None, int | None]) -> None:
        """Back to `mark` after a rollback to a SAVEPOINT taken when it was made."""
        self.next, self.top = mark

    def give_back(self) -> None:
        """Return the unused numbers to the counter (we still hold its lock)."""
        if self.top is not None and self.next <= self.top:
            self.session.connection().execute(
                _GIVE_BACK, {"n": self.top - self.next + 1, "cid": self.counter})
            self.top = self.next - 1


@contextmanager
def request_seqs(session: Session, block: int) -> Iterator[RequestSeqs]:
    """Route allocate_change_seq(s) on this session through one RequestSeqs for the block's
    duration. The caller calls `give_back()` once its last mutation is done (not on an
    error: the transaction is rolled back then anyway)."""
    if _INFO_KEY in session.info:
        raise RuntimeError("request_seqs is already open on this session")
    seqs = RequestSeqs(session, block)
    session.info[_INFO_KEY] = seqs
    try:
        yield seqs
    finally:
        session.info.pop(_INFO_KEY, None)


def current_change_seq(session: Session, kecamatan_code: str | None = None) -> int:
    """The committed (or own) value of the kecamatan's counter (None: the global one),
    without locking; a kecamatan without a row yet reads the global one (where its row will
    start); 0 if there is none."""
    own = _counter_or_global(kecamatan_code)
    rows = dict(session.execute(select(_COUNTER.c.id, _COUNTER.c.value).where(
        _COUNTER.c.id.in_({COUNTER_ID, own}))).all())
    return int(rows.get(own, rows.get(COUNTER_ID)) or 0)


def _counter_or_global(kecamatan_code: str | None) -> int:
    # A reader given desa codes that name no kecamatan (malformed) reads the global row
    # rather than failing: it only decides whether a cursor is from the future.
    try:
        return counter_id(kecamatan_code)
    except ValueError:
        return COUNTER_ID


def counter_value(session: Session, kecamatan_code: str | None = None) -> int | None:
    """The value of the kecamatan's counter row (None: the global row); None without a row."""
    return session.execute(select(_COUNTER.c.value).where(
        _COUNTER.c.id == counter_id(kecamatan_code))).scalar()


def _create_counter_row(session: Session, cid: int) -> None:
    # Start above any existing row and above the global counter, so that neither a lost
    # counter row nor a kecamatan's first own number ever makes numbers go back past a
    # cursor a phone holds.
    start = session.execute(select(func.coalesce(func.max(Resident.change_seq), 0))).scalar_one()
    if cid != COUNTER_ID:
        start = max(start, counter_value(session) or 0)
    dialect = session.get_bind(mapper=ChangeCounter.__mapper__).dialect.name
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}.get(dialect)
    if insert is not None:
        # Two first writers may race here; ON CONFLICT makes the loser wait for the
        # winner's row instead of failing, and its UPDATE then queues behind the lock.
        session.execute(
            insert(_COUNTER).values(id=cid, value=start).on_conflict_do_nothing(
                index_elements=[_COUNTER.c.id]
            )
        )
        return
    try:
        with session.begin_nested():
            session.execute(_COUNTER.insert().values(id=cid, value=start))
    except IntegrityError:
        pass  # another transaction created it first
