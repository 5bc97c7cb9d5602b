"""The demo data of `pakkedes demo`: one operation with targets, synthetic residents (made-up
names and NIKs) brought through the real sync engine, and one batch the office hands over to
Disdukcapil (sync.office.create_batch), so the demo's Disdukcapil user has a receipt to do.
Every seed function is idempotent: running the demo again adds nothing."""
import uuid
from datetime import date, datetime

from sqlalchemy import select

from sync.context import SyncActor
from sync.engine import process_sync
from sync.errors import OfficeError
from sync.models import Batch, Client, Resident, as_utc, utcnow
from sync.office import create_batch
from sync.office_common import OfficeActor

from .extensions import db
from .models import AuditEntry, User
from .operations import DEFAULT_STEP_MINUTES, Operation, OperationDesa, active_operation_map

DEMO_KECAMATAN = "631104"
DEMO_OPERATION_NAME = "Aksi PAK KEDES Akhir Tahun 2026 (demo)"
DEMO_TARGETS = {"6311042005": 40, "6311042001": 25, "6311042002": 30}

# (name, sex, birth date, NIK or None, desa code, marital status, vulnerable category)
DEMO_RESIDENTS = (
    ("Siti Aminah (contoh)", "female", "2008-03-14", "6311045403080001", "6311042005", "single", None),
    ("Ahmad Fauzi (contoh)", "male", "2007-11-02", "6311040211070002", "6311042005", "single", None),
    ("Rahmah Wati (contoh)", "female", "1961-06-20", None, "6311042001", "widowed", "remote_community"),
    ("Muhammad Rizki (contoh)", "male", "2009-01-09", "6311040901090003", "6311042002", "single", None),
    ("Nur Hasanah (contoh)", "female", "1995-08-30", "6311017008950004", "6311042002", "married", "natural_disaster"),
)
# Demo residents (1-based numbers of DEMO_RESIDENTS) verified, picked up and recorded by the
# demo officer; of those, the ones the office hands over in the demo batch. Rahmah Wati stays
# `recorded` (something for the operator to hand over), Nur Hasanah stays `found`.
DEMO_RECORDED = (1, 2, 3, 4)
DEMO_HANDED_OVER = (1, 2, 4)
DEMO_BATCH_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "cah-demo-batch-1"))
DEMO_BATCH_NUMBER = "BA/631104/2026/001"
DEMO_BATCH_HANDED_AT = "2026-11-06T09:00:00+08:00"  # WITA


def resident_id(number):
    """The fixed resident id of demo resident `number` (1-based), the same on every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cah-demo-{number}"))


def demo_mutations():
    """The demo officer's mutations with fixed ids and numbers, so re-seeding applies nothing:
    1…n register_resident, then verify_resident, one pick_up and record_done for
    DEMO_RECORDED. Returns (mutations, ids of the register_resident mutations)."""
    mutations = []
    for number, (name, sex, born, nik, desa, marital, vulnerable) in enumerate(DEMO_RESIDENTS, 1):
        mutations.append({
            "id": number, "name": "register_resident", "at": "2026-11-02T09:00:00+08:00",
            "args": {
                "resident_id": resident_id(number),
                "desa_code": desa, "name": name, "nik": nik, "kk_number": None, "sex": sex,
                "birth_place": "Balangan", "birth_date": born, "marital_status": marital,
                "address": f"Jalan Contoh No. {number}", "rt": "001", "rw": "002",
                "phone": None, "vulnerable_category": vulnerable, "disability": None,
                "notes": "Data contoh untuk demo; bukan orang sungguhan.",
            },
        })
    registrations = {m["id"] for m in mutations}
    rids = [resident_id(n) for n in DEMO_RECORDED]

    def add(name, at, args):
        mutations.append({"id": len(mutations) + 1, "name": name, "at": at, "args": args})

    for rid in rids:
        add("verify_resident", "2026-11-03T10:00:00+08:00", {
            "resident_id": rid, "checks": {"kk_copy_seen": True, "age_eligible": True,
                                           "marital_eligible": True},
            "kk_photo": None, "notes": "Data contoh: KK asli dilihat."})
    add("pick_up", "2026-11-05T08:00:00+08:00", {
        "pickup_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "cah-demo-pickup-1")),
        "resident_ids": rids, "picked_up_at": "2026-11-05T08:00:00+08:00",
        "pickup_point": "Balai Desa (contoh)", "vehicle": "Mobil kecamatan (contoh)"})
    for rid in rids:
        add("record_done", "2026-11-05T11:00:00+08:00",
            {"resident_id": rid, "recorded_at": "2026-11-05T11:00:00+08:00"})
    return mutations, registrations


def _user(username):
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def seed_demo_operation():
    """One demo operation with targets for the demo officer's desa; idempotent."""
    existing = db.session.execute(select(Operation).where(
        Operation.kecamatan_code == DEMO_KECAMATAN, Operation.name == DEMO_OPERATION_NAME)).scalar()
    if existing is not None:
        return existing
    operation = Operation(kecamatan_code=DEMO_KECAMATAN, name=DEMO_OPERATION_NAME,
                          start_date=date(2026, 11, 1), end_date=date(2026, 12, 31),
                          step_minutes=dict(DEFAULT_STEP_MINUTES),
                          created_by=_user("camat").id, active=True)
    operation.desa = [OperationDesa(desa_code=code, target=target)
                      for code, target in DEMO_TARGETS.items()]
    db.session.add(operation)
    db.session.commit()
    return operation


def seed_demo_residents():
    """Register the demo residents and bring some to `recorded` through the real sync engine,
    as the demo officer's phone would; idempotent. Returns the number of residents new in
    this run."""
    user = _user("petugas")
    client_id = str(uuid.UUID(int=user.id))  # a fixed seed client: re-running applies nothing
    client = db.session.get(Client, client_id)
    if client is None:
        client = Client(client_id=client_id, user_id=user.id, device_label="data demo",
                        token_hash=uuid.uuid4().hex + uuid.uuid4().hex, last_mutation_id=0,
                        created_at=utcnow(), revoked_at=utcnow())
        db.session.add(client)
        db.session.flush()
    actor = SyncActor(user_id=user.id, username=user.username, role=user.role,
                      kecamatan_code=user.kecamatan_code, desa_codes=user.desa_codes,
                      operations=active_operation_map(db.session, user.desa_codes))
    mutations, registrations = demo_mutations()
    body = {"protocol": 1, "client_id": client_id, "app_version": "demo",
            "sent_at": utcnow().isoformat(), "cursor": None, "mutations": mutations}
    result = process_sync(db.session, actor=actor, client=client, body=body, now=utcnow())
    db.session.commit()
    return sum(1 for r in result["results"]
               if r["status"] == "applied" and r["id"] in registrations)


def seed_demo_batch():
    """The demo operator hands DEMO_HANDED_OVER over to Disdukcapil in one batch, as the
    office's "Serah Terima Disdukcapil" page would (sync.office.create_batch, audited
    create_batch); it then waits for the Disdukcapil user's receipt.

    Idempotent: the batch has a fixed id and number; nothing is made when it exists, when its
    number is taken, or when none of its residents is still `recorded` (someone worked the
    demo by hand). Returns the new Batch, or None when nothing was made.
    """
    if db.session.get(Batch, DEMO_BATCH_ID) is not None or db.session.execute(
            select(Batch.batch_id).where(Batch.kecamatan_code == DEMO_KECAMATAN,
                                         Batch.number == DEMO_BATCH_NUMBER)).first():
        return None
    wanted = [resident_id(n) for n in DEMO_HANDED_OVER]
    recorded = sorted(db.session.scalars(select(Resident.resident_id).where(
        Resident.resident_id.in_(wanted), Resident.stage == "recorded",
        Resident.batch_id.is_(None))))
    if not recorded:
        return None
    operator = _user("operator")
    now = utcnow()
    handed_at = min(as_utc(datetime.fromisoformat(DEMO_BATCH_HANDED_AT)), now)
    try:
        batch = create_batch(
            db.session, OfficeActor(user_id=operator.id, role=operator.role,
                                    kecamatan_code=operator.kecamatan_code),
            batch_id=DEMO_BATCH_ID, number=DEMO_BATCH_NUMBER, handed_at=handed_at,
            resident_ids=recorded, notes="Berkas contoh untuk demo.", now=now)
    except OfficeError:
        db.session.rollback()  # the demo still starts; the batch can be made by hand
        return None
    db.session.add(AuditEntry(user_id=operator.id, kecamatan_code=operator.kecamatan_code,
                              action="create_batch", target=DEMO_BATCH_ID,
                              details={"count": len(recorded)}))
    db.session.commit()
    return batch
