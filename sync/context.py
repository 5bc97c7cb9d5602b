"""What the engine hands a mutation handler: the officer behind the device (SyncActor) and the
MutationContext of one mutation.

Imported by sync/engine.py and by every sync/handlers_*.py module, so that neither imports the
other. A handler either returns (applied), raises records.Rejection (a business refusal the
officer must fix) or raises records.NothingToChange (accepted, but there is nothing to write);
the engine runs each one inside its own SAVEPOINT and undoes it on either exception.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

from sqlalchemy.orm import Session

from .models import Client, Resident
from .records import Author, Rejection, in_kecamatan, not_found

MSG_DESA_NOT_ASSIGNED = "Desa ini tidak ditugaskan kepada Anda. Hubungi operator kecamatan."


@dataclass(frozen=True)
class SyncActor:
    """The officer behind the device token, with the desa they are assigned to."""

    user_id: int
    username: str
    role: str
    kecamatan_code: str
    desa_codes: frozenset[str]
    # desa code → id of that desa's active operation (server/operations.py); a registration
    # is counted towards it. hash=False: a dict is unhashable and identity is the rest.
    operations: Mapping[str, int] = field(default_factory=dict, hash=False)


@dataclass
class MutationContext:
    """What a handler may use: the session, who sent it, and when."""

    session: Session
    actor: SyncActor
    client: Client
    mutation_id: int  # a replay's: the id it had under its origin client
    device_at: datetime
    now: datetime
    # A phone healing a restored server resends a mutation under a new client: it is written
    # as its first sender (that client id), so a second replay finds it and history reads
    # as it happened.
    origin_client_id: str | None = None

    @property
    def client_id(self) -> str:
        """The client this change is written as (the origin of a replay, else the sender)."""
        return self.origin_client_id or self.client.client_id

    @property
    def author(self) -> Author:
        """The writer of this mutation's events."""
        return Author(self.session, user_id=self.actor.user_id, client_id=self.client_id,
                      mutation_id=self.mutation_id, device_at=self.device_at, now=self.now)

    def scope(self, resident: Resident) -> None:
        """Refuse a resident outside the officer's desa: resident_not_found when it lies in
        another kecamatan (as if it did not exist), desa_not_assigned inside their own."""
        if not in_kecamatan(resident, self.actor.kecamatan_code):
            raise not_found()
        if resident.desa_code not in self.actor.desa_codes:
            raise Rejection("desa_not_assigned", MSG_DESA_NOT_ASSIGNED,
                            {"desa_code": MSG_DESA_NOT_ASSIGNED})

    def may_register_in(self, desa_code: str) -> bool:
        """True when the officer may create a case in this desa (assigned, own kecamatan)."""
        return desa_code in self.actor.desa_codes and desa_code[:6] == self.actor.kecamatan_code
