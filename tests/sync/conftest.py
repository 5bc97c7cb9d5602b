"""Fixtures of the sync engine tests: a real session on SQLite and on PostgreSQL."""
import pytest
from sqlalchemy.orm import Session

from sync.models import Base
from sync_kit import SyncKit, reset_database


@pytest.fixture
def engine(db_url):
    """Fresh sync tables on the backend under test."""
    engine = reset_database(db_url, Base.metadata)
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
