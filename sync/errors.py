"""The domain errors and their one mapping to an answer: each error carries its code, its
Indonesian message, its fields, its HTTP status and any extra keys of its JSON body
(docs/interfaces.md); the server registers one handler per family (server/errors.py) and
never re-derives them. Also the test that tells a database outage from a fault of one
mutation."""
from __future__ import annotations

from typing import Any

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    PendingRollbackError,
    TimeoutError as PoolTimeoutError,
)


class SyncError(Exception):
    """Base of the errors that refuse a sync request as a whole.

    keeps_applied: False — nothing of the request may be kept (the caller rolls back);
    True — the mutations applied before the refusal stay (the caller commits them).
    names_database: the answer also carries the database identity (sync.identity), which
    only the caller's session can read.
    """

    code = "sync_error"
    http_status = 400
    keeps_applied = False
    names_database = False

    def __init__(self, message: str = "", fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})

    def extra(self) -> dict[str, Any]:
        """Keys of the JSON body beyond code, message and fields."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body of docs/interfaces.md: code, message, fields, extras."""
        return {"code": self.code, "message": self.message, "fields": self.fields,
                **self.extra()}


class EnvelopeError(SyncError):
    """Malformed request (400), unknown mutation name (400) or too many mutations (413)."""

    def __init__(self, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message, fields)
        self.code = code
        self.http_status = 413 if code == "payload_too_large" else 400


MSG_CLIENT_MISMATCH = "client_id tidak cocok dengan token perangkat ini. Silakan login ulang."


class ClientMismatch(SyncError):
    """The envelope's client_id is not the client of the bearer token (403)."""

    code = "client_mismatch"
    http_status = 403

    def __init__(self, message: str = MSG_CLIENT_MISMATCH) -> None:
        super().__init__(message)


MSG_MUTATION_GAP = "Ada data yang terlewat; HP akan mengirim ulang mulai dari nomor berikutnya."


class MutationGap(SyncError):
    """The first new mutation is beyond last + 1 (409): the phone must resend from last + 1.

    What was applied before the gap is kept and acknowledged by last_mutation_id; the
    database identity tells the phone whether that number belongs to the server it knows.
    """

    code = "mutation_gap"
    http_status = 409
    keeps_applied = True
    names_database = True

    def __init__(self, last_mutation_id: int) -> None:
        super().__init__(MSG_MUTATION_GAP)
        self.last_mutation_id = last_mutation_id

    def extra(self) -> dict[str, Any]:
        """last_mutation_id: the last mutation the server holds (the phone resends after it)."""
        return {"last_mutation_id": self.last_mutation_id}


# Office refusals by code; any other code is a 400. Codes starting with "already" are 409.
OFFICE_STATUS = {
    "forbidden": 403,
    "not_found": 404, "resident_not_found": 404, "batch_not_found": 404,
    "conflict_not_found": 404,
    "invalid_transition": 409, "already_resolved": 409, "conflict_resolved": 409,
    "batch_exists": 409, "duplicate_number": 409, "not_rejected": 409, "stale": 409,
    "already_received": 409, "not_received": 409,
}


class OfficeError(Exception):
    """A refused office action (sync/office.py): `code`, Indonesian `message`, `fields`.

    `http_status`: 403 wrong role, 404 unknown object (not_found, …_not_found), 409 wrong
    state (invalid_transition, already_…, batch_exists, …; see OFFICE_STATUS), else 400
    (validation_error, import_rejected, …).
    """

    def __init__(self, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = dict(fields or {})

    @property
    def http_status(self) -> int:
        """The HTTP status of this refusal (see the class docstring)."""
        if self.code.startswith("already"):
            return 409
        return OFFICE_STATUS.get(self.code, 400)

    def to_dict(self) -> dict[str, Any]:
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
