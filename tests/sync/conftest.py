"""Fixtures of the sync engine tests: a real session on SQLite and on PostgreSQL."""
import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from sync.models import Base
from sync_kit import SyncKit


@pytest.fixture
def engine(db_url):
    """Fresh sync tables on the backend under test."""
    # These tests commit after every sync; waiting for the disk at each commit made the run
    # I/O-bound on a busy machine. Durability is not under test here (locking and
    # visibility are unchanged), so commits are not flushed to disk.
    engine = create_engine(db_url)
    event.listen(engine, "connect", _no_disk_wait)
    Base.metadata.drop_all(engine)  # PostgreSQL databases are shared by the run's tests
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    """A session on the fresh tables."""
    with Session(engine) as session:
        yield session
        session.rollback()


@pytest.fixture
def kit(session):
    """A SyncKit bound to the session."""
    return SyncKit(session)


def _no_disk_wait(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor.execute("PRAGMA synchronous = OFF")
    else:
        cursor.execute("SET synchronous_commit = off")
    cursor.close()
    dbapi_connection.commit()  # psycopg opened a transaction: a rollback would undo the SET
