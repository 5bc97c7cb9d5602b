"""Per-user storage bounds of photo uploads (issue #8 §5, docs/security.md §5).

Two bounds, each checked while holding a lock on the uploader's ``users`` row, so that parallel
requests of one user are counted one after the other (on PostgreSQL as on SQLite):

- unfinished uploads: *starting* one reserves its declared total, and all the user's
  unfinished uploads together may reserve ATTACHMENT_PARTIAL_QUOTA_BYTES. A chunk of an upload
  already started is never refused for the quota, so an upload in progress cannot stall;
- complete photos that no record of the uploader's kecamatan refers to: at most
  ATTACHMENT_UNREFERENCED_QUOTA_BYTES (stored bytes) per user. The phone uploads a photo after
  the sync that carried the mutation naming it, so a referenced photo is normal data and is
  never refused; an unreferenced one is (not yet) anybody's evidence.

Finding references means reading JSON columns of a whole kecamatan, so it is done only when
the cheap count (photos not yet marked referenced) would pass the bound, and what it finds is
remembered in ``attachments.referenced_at``. Unreferenced photos are bounded, never deleted:
a mutation naming one may still arrive (e.g. resent after a restore from a backup).
"""
from datetime import datetime

from sqlalchemy import func, select, union, update
from sqlalchemy.orm import Session

from sync.models import Conflict, Resident, ResidentEvent

from .attachment_models import Attachment, AttachmentUpload
from .models import User

DEFAULT_MAX_BYTES = 3 * 1024 * 1024  # ATTACHMENT_MAX_BYTES unless configured
# ATTACHMENT_PARTIAL_QUOTA_BYTES unless configured: four photos of the default size, so that a
# user with two phones, each cut off mid-upload, still has room to start another.
DEFAULT_PARTIAL_QUOTA_BYTES = 4 * DEFAULT_MAX_BYTES
# ATTACHMENT_UNREFERENCED_QUOTA_BYTES unless configured: eight photos of the largest size, some
# 100 photos as the phone makes them (1280 px, JPEG 0.7: ~150-300 KiB). The phone uploads only
# photos of accepted mutations, so this fills only when references are missed or by abuse.
DEFAULT_UNREFERENCED_QUOTA_BYTES = 8 * DEFAULT_MAX_BYTES


def max_bytes(config) -> int:
    """The configured size cap of one attachment, in bytes."""
    return int(config.get("ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def partial_quota(config) -> int:
    """Bytes one user's unfinished uploads may reserve together. Never below one photo of the
    allowed size, so that a quota set too low cannot make every chunked upload impossible."""
    quota = int(config.get("ATTACHMENT_PARTIAL_QUOTA_BYTES") or DEFAULT_PARTIAL_QUOTA_BYTES)
    return max(quota, max_bytes(config))


def unreferenced_quota(config) -> int:
    """Stored bytes of one user's complete photos that nothing refers to; never below one
    photo of the allowed size."""
    quota = int(config.get("ATTACHMENT_UNREFERENCED_QUOTA_BYTES")
                or DEFAULT_UNREFERENCED_QUOTA_BYTES)
    return max(quota, max_bytes(config))


def lock_uploader(session: Session, user_id: int) -> None:
    """Hold the user's row until the transaction ends: a no-op UPDATE, because it locks on both
    backends (SQLite ignores SELECT … FOR UPDATE, but a write takes its database lock)."""
    session.execute(update(User).where(User.id == user_id).values(active=User.active),
                    execution_options={"synchronize_session": False})


def reserved_by(session: Session, user_id: int) -> int:
    """Bytes reserved by the user's unfinished uploads: the sum of their declared totals."""
    per_upload = (select(func.max(AttachmentUpload.total).label("total"))
                  .where(AttachmentUpload.user_id == user_id)
                  .group_by(AttachmentUpload.sha256).subquery())
    return int(session.execute(select(func.coalesce(func.sum(per_upload.c.total), 0))
                               ).scalar_one())


def may_start_upload(session: Session, user_id: int, total: int, quota: int) -> bool:
    """Lock the user, then tell whether an upload of `total` bytes fits the partial quota."""
    lock_uploader(session, user_id)
    return reserved_by(session, user_id) + total <= quota


def _photo_references(kecamatan_code: str):
    """A select of every photo hash (column ``sha``) that a case, its history or a conflict of
    the kecamatan names: the KK photo and the delivery photo, as sync/ stores them."""
    in_kecamatan = Resident.desa_code.startswith(kecamatan_code, autoescape=True)
    of_resident = (Resident.kk_photo, Resident.verification["kk_photo"].as_string(),
                   Resident.delivery["photo"].as_string())
    of_event = (ResidentEvent.payload[("verification", "kk_photo")].as_string(),
                ResidentEvent.payload[("delivery", "photo")].as_string())
    of_conflict = (Conflict.details[("verification", "kk_photo")].as_string(),
                   Conflict.details[("first", "photo")].as_string(),
                   Conflict.details[("second", "photo")].as_string())
    parts = [select(path.label("sha")).where(in_kecamatan, path.is_not(None))
             for path in of_resident]
    parts += [select(path.label("sha")).join(Resident,
                                             Resident.resident_id == ResidentEvent.resident_id)
              .where(in_kecamatan, path.is_not(None)) for path in of_event]
    parts += [select(path.label("sha")).where(Conflict.kecamatan_code == kecamatan_code,
                                              path.is_not(None)) for path in of_conflict]
    return union(*parts).subquery()


def _unreferenced_bytes(session, user_id, kecamatan_code):
    return int(session.execute(
        select(func.coalesce(func.sum(Attachment.stored_size), 0))
        .where(Attachment.user_id == user_id, Attachment.kecamatan_code == kecamatan_code,
               Attachment.referenced_at.is_(None))).scalar_one())


def mark_referenced(session: Session, user_id: int, kecamatan_code: str, now: datetime) -> int:
    """Set referenced_at on the user's photos of the kecamatan that a record now names.
    Returns the number of photos marked."""
    refs = _photo_references(kecamatan_code)
    result = session.execute(
        update(Attachment)
        .where(Attachment.user_id == user_id, Attachment.kecamatan_code == kecamatan_code,
               Attachment.referenced_at.is_(None), Attachment.sha256.in_(select(refs.c.sha)))
        .values(referenced_at=now), execution_options={"synchronize_session": False})
    return result.rowcount


def is_referenced(session: Session, sha256: str, kecamatan_code: str) -> bool:
    """True when a record of the kecamatan names this photo hash."""
    refs = _photo_references(kecamatan_code)
    return session.execute(select(refs.c.sha).where(refs.c.sha == sha256).limit(1)
                           ).first() is not None


def admit_photo(session: Session, *, user, sha256: str, stored_size: int, quota: int,
                now: datetime) -> tuple[bool, bool]:
    """May `user` store a new complete photo of `stored_size` bytes? Locks the user first.

    Returns (allowed, referenced): referenced is True when a record of the user's kecamatan is
    known to name the photo (then it is always allowed); False means not checked or not named.
    """
    lock_uploader(session, user.id)
    kecamatan = user.kecamatan_code
    if _unreferenced_bytes(session, user.id, kecamatan) + stored_size <= quota:
        return True, False
    mark_referenced(session, user.id, kecamatan, now)
    if _unreferenced_bytes(session, user.id, kecamatan) + stored_size <= quota:
        return True, False
    referenced = is_referenced(session, sha256, kecamatan)
    return referenced, referenced
