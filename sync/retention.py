"""Retention of rejected mutations (personal data, UU 27/2022): kept for a period, then deleted.

A stored rejection only serves a re-sent mutation (its code, message and fields come back)
and the officer's typed data in case the phone is lost; after the retention period a re-sent
mutation is answered as a plain duplicate, and the phone keeps its own "perlu perbaikan" copy.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from .models import RejectedMutation, as_utc

DEFAULT_REJECTED_RETENTION_DAYS = 90


def purge_rejected_mutations(session: Session, before: datetime) -> int:
    """Delete the rejections stored before `before` (aware, or naive UTC); return how many.

    Flushes, never commits: the caller commits.
    """
    result = session.execute(
        delete(RejectedMutation).where(RejectedMutation.created_at < as_utc(before)),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0
