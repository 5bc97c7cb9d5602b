"""The database's identity: a random UUID in a one-row table, renewed by a restore.

Every sync answer carries it; a phone that sees a new one knows the server was restored from
a backup and resends what it kept of its acknowledged work (docs/sync-protocol.md).
"""
from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import DatabaseIdentity, utcnow

_IDENTITY = DatabaseIdentity.__table__
IDENTITY_ROW = 1
_READ = select(_IDENTITY.c.database_id).where(_IDENTITY.c.id == IDENTITY_ROW)


def database_id(session: Session) -> str:
    """This database's identity (a lower-case UUID string), created on first use.

    The migration creates the row; a database made by create_all (tests) gets it here. Two
    first readers may race: the loser of the insert reads the winner's row.
    """
    value = session.execute(_READ).scalar()
    if value is not None:
        return value
    try:
        with session.begin_nested():
            session.execute(_IDENTITY.insert().values(
                id=IDENTITY_ROW, database_id=str(uuid.uuid4()), created_at=utcnow()))
    except IntegrityError:
        pass  # another transaction created it first
    return session.execute(_READ).scalar_one()


def renew_database_id(session: Session) -> str:
    """Give the database a new identity (after a restore); returns it. The caller commits."""
    new = str(uuid.uuid4())
    done = session.execute(update(_IDENTITY).where(_IDENTITY.c.id == IDENTITY_ROW)
                           .values(database_id=new, created_at=utcnow()))
    if done.rowcount == 0:
        session.execute(_IDENTITY.insert().values(id=IDENTITY_ROW, database_id=new,
                                                  created_at=utcnow()))
    return new
