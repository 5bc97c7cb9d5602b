"""Exceptions that refuse a whole sync request (the server maps each to an HTTP answer), and
the test that tells a database outage from a fault of one mutation."""
from __future__ import annotations

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    PendingRollbackError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


class SyncError(Exception):
    """Base of the errors that refuse a sync request (nothing of it is applied)."""

    code = "sync_error"
    http_status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class EnvelopeError(SyncError):
    """Malformed request (400), unknown mutation name (400) or too many mutations (413)."""

    def __init__(self, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.fields = dict(fields or {})
        self.http_status = 413 if code == "payload_too_large" else 400

    def to_dict(self) -> dict:
        """Return the JSON error body of docs/interfaces.md."""
        return {"code": self.code, "message": self.message, "fields": self.fields}


class ClientMismatch(SyncError):
    """The envelope's client_id is not the client of the bearer token (403)."""

    code = "client_mismatch"
    http_status = 403

    def __init__(self, message: str = "Token perangkat ini milik perangkat lain. Silakan masuk ulang.") -> None:
        super().__init__(message)

    def to_dict(self) -> dict:
        """Return the JSON error body of docs/interfaces.md."""
        return {"code": self.code, "message": self.message, "fields": {}}


class MutationGap(SyncError):
    """The first new mutation is beyond last + 1 (409): the phone must resend from last + 1."""

    code = "mutation_gap"
    http_status = 409

    def __init__(self, last_mutation_id: int) -> None:
        super().__init__(
            f"Server belum menerima perubahan nomor {last_mutation_id + 1}; "
            "kirim ulang mulai dari nomor itu."
        )
        self.last_mutation_id = last_mutation_id

    def to_dict(self) -> dict:
        """Return the 409 body: code, message, fields and last_mutation_id."""
        return {
            "code": self.code,
            "message": self.message,
            "fields": {},
            "last_mutation_id": self.last_mutation_id,
        }


class OfficeError(Exception):
    """A refused office action (sync/office.py): `code`, Indonesian `message`, `fields`.

    Codes: not_found (404), forbidden (403), invalid_transition, already_resolved,
    batch_exists (409), validation_error and import_rejected (400); see `http_status`.
    """

    STATUS = {"not_found": 404, "forbidden": 403, "invalid_transition": 409,
              "already_resolved": 409, "batch_exists": 409}

    def __init__(self, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.http_status = self.STATUS.get(code, 400)

    def to_dict(self) -> dict:
        """Return the JSON error body of docs/interfaces.md."""
        return {"code": self.code, "message": self.message, "fields": self.fields}


class ImportRejected(OfficeError):
    """An import refused as a whole; `errors` = [(row_number, field, Indonesian message)]."""

    def __init__(self, errors: list[tuple[int, str, str]], message: str | None = None) -> None:
        self.errors = sorted(errors, key=lambda error: (error[0], error[1]))
        rows = len({row for row, _, _ in self.errors})
        super().__init__("import_rejected", message or (
            f"Impor dibatalkan: {rows} baris bermasalah, tidak ada data yang disimpan. "
            "Perbaiki baris yang ditandai lalu unggah ulang."))


def is_database_outage(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be used right now (connection lost or
    refused, lock or statement timeout, serialization failure, deadlock, pool exhausted):
    the request must be retried as a whole rather than any part of it refused."""
    if isinstance(exc, (OperationalError, InterfaceError, DisconnectionError,
                        PoolTimeoutError, PendingRollbackError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
