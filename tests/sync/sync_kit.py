"""Test helpers of the sync engine (synthetic clients, actors, requests); imported by the
tests/sync modules as `sync_kit` (a unique name: every conftest is imported as "conftest")."""
import uuid
from datetime import datetime, timezone

from cah_testkit import reset_database  # noqa: F401  (re-exported for the fixtures)
from sync.engine import SyncActor, process_sync
from sync.models import Client



KECAMATAN = "631104"  # Batumandi
DESA_A = "6311042005"
DESA_B = "6311042006"
NOW = datetime(2026, 11, 28, 1, 15, 0, tzinfo=timezone.utc)  # 09:15 WITA


class SyncKit:
    """Builds synthetic clients, actors and requests, and runs process_sync."""

    def __init__(self, session):
        self.session = session
        self.next_ids = {}
        self.serial = 0

    def client(self, user_id=7):
        """Create and flush a device client for user_id."""
        client = Client(
            client_id=str(uuid.uuid4()), user_id=user_id, device_label="HP uji",
            token_hash=uuid.uuid4().hex + uuid.uuid4().hex, created_at=NOW,
        )
        self.session.add(client)
        self.session.flush()
        return client

    @staticmethod
    def actor(user_id=7, desa=(DESA_A,)):
        """A petugas assigned to the given desa."""
        return SyncActor(user_id=user_id, username=f"petugas{user_id}", role="petugas",
                         kecamatan_code=KECAMATAN, desa_codes=frozenset(desa))

    def register_args(self, **overrides):
        """Valid register_resident args with a fresh resident_id and a unique synthetic NIK."""
        self.serial += 1
        args = {
            "resident_id": str(uuid.uuid4()), "desa_code": DESA_A,
            "name": f"Warga Uji {self.serial}",
            "nik": f"631104120399{self.serial:04d}", "kk_number": "6311040101200001",
            "sex": "male", "birth_place": "Paringin", "birth_date": "1999-03-12",
            "marital_status": "single", "address": "Jl. Uji No. 1", "rt": "1", "rw": "02",
            "phone": "0812-3456-789", "vulnerable_category": None, "disability": None,
            "notes": "",
        }
        args.update(overrides)
        return args

    def mutation(self, client, name, args, mid=None, at="2026-11-28T09:10:00+08:00"):
        """One mutation numbered after the client's previous one (unless mid is given)."""
        if mid is None:
            mid = self.next_ids.get(client.client_id, 0) + 1
        self.next_ids[client.client_id] = max(mid, self.next_ids.get(client.client_id, 0))
        return {"id": mid, "name": name, "at": at, "args": args}

    @staticmethod
    def body(client, mutations=(), cursor=None, sent_at=None):
        """A sync envelope."""
        return {
            "protocol": 1, "client_id": client.client_id, "app_version": "1.0.0",
            "sent_at": sent_at or "2026-11-28T09:15:00+08:00", "cursor": cursor,
            "mutations": list(mutations),
        }

    def sync(self, client, mutations=(), *, actor=None, cursor=None, now=NOW, page_size=200,
             sent_at=None):
        """Run process_sync and commit, as the server does."""
        response = process_sync(
            self.session, actor=actor or self.actor(client.user_id), client=client,
            body=self.body(client, mutations, cursor, sent_at), now=now, page_size=page_size,
        )
        self.session.commit()
        return response

    def register(self, client, actor=None, **overrides):
        """Register one resident through a sync; return (args, response)."""
        args = self.register_args(**overrides)
        response = self.sync(client, [self.mutation(client, "register_resident", args)],
                             actor=actor)
        return args, response
