"""Test helpers of the sync engine (synthetic clients, actors, requests); imported by the
tests/sync modules as `sync_kit` (a unique name: every conftest is imported as "conftest")."""
import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

from cah_testkit import reset_database  # noqa: F401  (re-exported for the fixtures)
from sync.context import SyncActor
from sync.engine import process_sync
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
        """A petugas assigned to the given desa (their kecamatan is the first desa's)."""
        return SyncActor(user_id=user_id, username=f"petugas{user_id}", role="petugas",
                         kecamatan_code=desa[0][:6] if desa else KECAMATAN,
                         desa_codes=frozenset(desa))

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

    def run(self, client, name, args, **kwargs):
        """Send one mutation; return its result (a one-row pull page: only results matter)."""
        kwargs.setdefault("page_size", 1)
        return self.sync(client, [self.mutation(client, name, args)], **kwargs)["results"][0]

    def path(self, client, resident_id, stage):
        """The mutations that move a found resident to `stage`, and the batch it ends up in."""
        batch_id, mutations = None, []
        for name in PATH_TO[stage]:
            if name == "record_collection":
                args = collection_args(batch_id, resident_id)
            else:
                args = pipeline_args(name, resident_id)
                batch_id = args.get("batch_id", batch_id)
            mutations.append(self.mutation(client, name, args))
        return batch_id, mutations

    def apply_all(self, client, mutations, actor=None):
        """Send mutations in one sync and assert every one applied."""
        if mutations:
            results = self.sync(client, mutations, actor=actor, page_size=1)["results"]
            assert {r["status"] for r in results} == {"applied"}, results

    def advance(self, client, resident_id, stage, actor=None):
        """Move a found resident to `stage` with real mutations in one sync; return its batch."""
        batch_id, mutations = self.path(client, resident_id, stage)
        self.apply_all(client, mutations, actor)
        return batch_id

    def found(self, client, actor=None, **overrides):
        """Register a resident; return its id."""
        args = self.register_args(**overrides)
        result = self.run(client, "register_resident", args, actor=actor)
        assert result["status"] == "applied", result
        return args["resident_id"]

    def found_many(self, client, count, actor=None, stage="found"):
        """Register `count` residents and move them to `stage`, in two syncs; return their ids."""
        args = [self.register_args() for _ in range(count)]
        self.apply_all(client, [self.mutation(client, "register_resident", a) for a in args], actor)
        ids = [a["resident_id"] for a in args]
        self.apply_all(client, [m for rid in ids for m in self.path(client, rid, stage)[1]], actor)
        return ids


# ---------------------------------------------------------------- pipeline helpers
VECTORS = Path(__file__).resolve().parent.parent / "vectors"
SIGNATURES = json.loads((VECTORS / "signatures.json").read_text("utf-8"))
SIGNED = next(v for v in SIGNATURES["valid"] if v["case"].startswith("three strokes"))
FEW_POINTS = next(v for v in SIGNATURES["valid"] if v["case"] == "one short line")  # 4 points

# The mutations that bring a found resident to each stage, in order (args builders below).
PATH_TO = {
    "found": (),
    "verified": ("verify_resident",),
    "picked_up": ("verify_resident", "pick_up"),
    "recorded": ("verify_resident", "pick_up", "record_done"),
    "sent_to_registry": ("verify_resident", "pick_up", "record_done", "handover_batch"),
    "card_collected": ("verify_resident", "pick_up", "record_done", "handover_batch",
                       "record_collection"),
    "delivered": ("verify_resident", "pick_up", "record_done", "handover_batch",
                  "record_collection", "deliver_card"),
}


def uid():
    """A fresh lower-case UUID string."""
    return str(uuid.uuid4())


def pipeline_args(name, resident_id, /, **overrides):
    """Valid args of a pipeline mutation for one resident (override any key)."""
    builders = {
        "verify_resident": lambda: {
            "resident_id": resident_id, "notes": "",
            "checks": {"kk_copy_seen": True, "age_eligible": True, "marital_eligible": False},
            "kk_photo": None},
        "reject_resident": lambda: {"resident_id": resident_id, "reason": "moved_away",
                                    "reason_text": None},
        "pick_up": lambda: {"pickup_id": uid(), "resident_ids": [resident_id],
                            "picked_up_at": "2026-11-28T08:00:00+08:00",
                            "pickup_point": "Balai Desa", "vehicle": "Mobil kecamatan"},
        "cancel_pickup": lambda: {"resident_id": resident_id, "reason": "Warga sakit"},
        "record_done": lambda: {"resident_id": resident_id,
                                "recorded_at": "2026-11-28T10:00:00+08:00"},
        "record_failed": lambda: {"resident_id": resident_id, "reason": "device_down",
                                  "reason_text": None},
        "handover_batch": lambda: {"batch_id": uid(), "number": "BA/001/2026",
                                   "handed_at": "2026-11-29T09:00:00+08:00",
                                   "resident_ids": [resident_id], "notes": None},
        "deliver_card": lambda: {
            "delivery_id": uid(), "resident_id": resident_id,
            "delivered_at": "2026-12-05T10:30:00+08:00", "recipient": "owner",
            "proxy_name": None, "proxy_relation": None,
            "signature": {"data": SIGNED["base64"], "sha256": SIGNED["sha256"]},
            "photo": None, "gps": {"lat": -2.35, "lon": 115.5, "accuracy_m": 12}},
    }
    args = builders[name]()
    args.update(overrides)
    return args


def collection_args(batch_id, *resident_ids, outcome="collected", reason=None, **overrides):
    """record_collection args: the same outcome for every resident given."""
    args = {"batch_id": batch_id, "collected_at": "2026-12-03T11:00:00+08:00",
            "items": [{"resident_id": rid, "outcome": outcome, "reason": reason,
                       "reason_text": None} for rid in resident_ids]}
    args.update(overrides)
    return args
