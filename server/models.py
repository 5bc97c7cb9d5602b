"""Server-side tables: wilayah, users, officer-desa assignments, office sessions, login
throttling, audit, office form submissions."""
from datetime import datetime

from flask import current_app
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import generate_password_hash

from sync.models import utcnow

from .extensions import db
from .passwords import verify_password

ROLES = ("petugas", "camat", "operator", "disdukcapil")
ROLE_LABELS = {"petugas": "Petugas", "camat": "Camat", "operator": "Operator",
               "disdukcapil": "Disdukcapil"}
# Roles of one kabupaten (kabupaten_code set, kecamatan_code empty); the others work in one
# kecamatan (kecamatan_code set, kabupaten_code empty).
KABUPATEN_ROLES = ("disdukcapil",)
LEVELS = ("provinsi", "kabupaten", "kecamatan", "desa", "kelurahan")


class Wilayah(db.Model):
    """A Kemendagri region: provinsi, kabupaten, kecamatan, desa or kelurahan."""

    __tablename__ = "wilayah"
    code: Mapped[str] = mapped_column(String(10), primary_key=True)  # digits only
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10), index=True)
    parent_code: Mapped[str | None] = mapped_column(
        String(10), ForeignKey("wilayah.code"), index=True)

    @property
    def dotted_code(self):
        """The code as Kemendagri writes it, e.g. 63.11.04.2005."""
        c = self.code
        parts = [c[:2], c[2:4], c[4:6], c[6:]]
        return ".".join(p for p in parts if p)


class User(db.Model):
    """A person who logs in: a field officer, the camat or an operator of one kecamatan, or a
    Disdukcapil user of one kabupaten (issue #13)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    # Empty for the kabupaten roles: every kecamatan-scoped query then matches nothing.
    kecamatan_code: Mapped[str | None] = mapped_column(String(10), ForeignKey("wilayah.code"))
    kabupaten_code: Mapped[str | None] = mapped_column(String(10), ForeignKey("wilayah.code"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    kecamatan: Mapped[Wilayah | None] = relationship(foreign_keys=[kecamatan_code])
    kabupaten: Mapped[Wilayah | None] = relationship(foreign_keys=[kabupaten_code])
    assignments: Mapped[list["Assignment"]] = relationship(
        back_populates="user", cascade="all, delete-orphan")

    def set_password(self, password):
        """Store a salted hash of the password, never the password."""
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        """True when the password matches the stored hash (False for undecodable input)."""
        return verify_password(self.password_hash, password)

    @property
    def desa_codes(self):
        """Codes of the desa this officer is assigned to, inside their own kecamatan only (a
        stray assignment elsewhere must never open another kecamatan's residents)."""
        return frozenset(a.desa_code for a in self.assignments
                         if a.desa_code[:6] == self.kecamatan_code)


class Assignment(db.Model):
    """An officer assigned to work in one desa."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("user_id", "desa_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    desa_code: Mapped[str] = mapped_column(String(10), ForeignKey("wilayah.code"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(back_populates="assignments")
    desa: Mapped[Wilayah] = relationship()


class LoginThrottle(db.Model):
    """The current streak of login attempts of one account or one source address.

    A row is keyed by a keyed hash (never the typed username or the address in clear).
    `attempts` counts the streak's attempts that were not followed by a success; after the
    free allowance each one sets `blocked_until` further ahead (see server/security.py).
    """

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OfficeSession(db.Model):
    """One logged-in office browser. The cookie carries a random id; only its SHA-256 is kept
    here, so deleting the row ends that session at once whatever the cookie says."""

    __tablename__ = "office_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()


class AuditEntry(db.Model):
    """Who saw or changed what, and when (personal data access is logged, PDP law)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kecamatan_code: Mapped[str | None] = mapped_column(String(10), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(80))
    details: Mapped[dict | None] = mapped_column(JSON)



class OfficeSubmission(db.Model):
    """One office form submission, by the one-time token its form carried (server/web/
    submissions.py): the same submission arriving again (a double click, a resend after a lost
    answer, Back and resubmit) is answered as the first one was and applied once.

    The row is claimed (inserted and committed) before the form's action runs; `applied_at` is
    set in the action's own transaction, `result_url` (where the first answer redirected) right
    after. A claim never applied is released again; server/retention.py
    forgets the rows after SUBMISSION_RETENTION_DAYS.
    """

    __tablename__ = "office_submissions"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result_url: Mapped[str | None] = mapped_column(String(500))
