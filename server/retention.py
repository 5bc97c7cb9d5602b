"""Retention of personal data kept only for a while (docs/security.md, UU 27/2022 PDP):
rejected mutations (REJECTED_RETENTION_DAYS, default 90), unfinished photo uploads
(ATTACHMENT_PARTIAL_RETENTION_DAYS, server/attachments.py) and the office's one-time form
tokens (SUBMISSION_RETENTION_DAYS, default 30, server/web/submissions.py).

`pakkedes purge` runs it on demand (e.g. from cron); besides, each worker process runs it
after a sync at most once every RETENTION_PURGE_INTERVAL_HOURS (default 6; 0 turns that off),
so that an install nobody maintains still forgets on time. Both are plain indexed DELETEs.
"""
import logging
import threading
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete

from sync.retention import DEFAULT_REJECTED_RETENTION_DAYS, purge_rejected_mutations

from .attachments import purge_unfinished_uploads
from .auth import purge_expired_sessions
from .extensions import db
from .models import OfficeSubmission

log = logging.getLogger(__name__)
_LOCK = threading.Lock()
DEFAULT_SUBMISSION_RETENTION_DAYS = 30


def purge_expired(now: datetime) -> dict[str, int]:
    """Delete what is past its retention period at `now` (aware) and commit.

    Returns {"rejected_mutations": n, "unfinished_uploads": m, "office_sessions": k,
    "office_submissions": s} (rows deleted).
    """
    days = current_app.config.get("REJECTED_RETENTION_DAYS") or DEFAULT_REJECTED_RETENTION_DAYS
    counts = {
        "rejected_mutations": purge_rejected_mutations(db.session, now - timedelta(days=int(days))),
        "unfinished_uploads": purge_unfinished_uploads(now),
        "office_sessions": purge_expired_sessions(now),
        "office_submissions": purge_old_submissions(now),
    }
    db.session.commit()
    return counts


def purge_old_submissions(now: datetime) -> int:
    """Delete the office's submission tokens older than SUBMISSION_RETENTION_DAYS at `now`
    (aware); the caller commits. Returns the rows deleted. A form kept open longer than that
    and sent again is applied as a new submission."""
    days = (current_app.config.get("SUBMISSION_RETENTION_DAYS")
            or DEFAULT_SUBMISSION_RETENTION_DAYS)
    result = db.session.execute(delete(OfficeSubmission).where(
        OfficeSubmission.created_at < now - timedelta(days=int(days))))
    return result.rowcount or 0


def purge_if_due(now: datetime) -> None:
    """Run purge_expired when this process last did so over the interval ago; never raises
    (a failed purge is logged and tried again at the next interval)."""
    hours = current_app.config.get("RETENTION_PURGE_INTERVAL_HOURS")
    if not hours:
        return
    state = current_app.extensions.setdefault("cah_retention", {"last": None})
    with _LOCK:  # one purge per interval even with several threads in the worker
        if state["last"] is not None and now - state["last"] < timedelta(hours=hours):
            return
        state["last"] = now
    try:
        counts = purge_expired(now)
    except Exception as exc:  # the sync it follows has been committed and must still answer
        db.session.rollback()
        log.warning("retention purge failed: %s", type(exc).__name__)
        return
    if any(counts.values()):
        log.info("retention purge: %(rejected_mutations)d rejected mutations, "
                 "%(unfinished_uploads)d unfinished uploads, %(office_sessions)d ended "
                 "office sessions", counts)
