"""Tables of photo attachments: complete photos and the chunks of unfinished uploads.

Kept apart from server/attachments.py (the upload logic) so that the storage bounds in
server/attachment_quota.py can use them without an import cycle; server/attachments.py
re-exports both classes.
"""
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from sync.models import utcnow

from .extensions import db


class Attachment(db.Model):
    """A complete, verified, metadata-stripped image of one kecamatan, keyed by the sha256 the
    phone computed and the uploader's kecamatan."""

    __tablename__ = "attachments"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kecamatan_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    mime: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)  # bytes as uploaded (what the hash covers)
    stored_size: Mapped[int] = mapped_column(Integer)  # bytes kept after stripping
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When a record of the kecamatan was first found to refer to the photo; NULL while none
    # is known to, which is what the uploader's quota of unreferenced photos counts
    # (server/attachment_quota.py). Set lazily, so NULL may be stale; never cleared.
    referenced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AttachmentUpload(db.Model):
    """One received chunk of one user's unfinished upload (deleted when the upload completes,
    fails, or passes the retention period)."""

    __tablename__ = "attachment_uploads"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    length: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(20))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    kecamatan_code: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
