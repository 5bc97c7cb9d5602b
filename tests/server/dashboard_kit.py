"""The seeded data set of the dashboard and report tests: cases in every stage, an operation
with targets, conflicts and devices, and the figures expected of them, computed here
independently of server/statistics.py."""
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from office_kit import A, B, C
from server.extensions import db
from server.models import User
from server.operations import Operation, OperationDesa
from sync.models import Client, Conflict, Resident, ResidentEvent

JUAI_DESA = "6311012001"
TARGETS = {A: 10, B: 4, C: 5}
STEP_MINUTES = {"1": 180, "2": 60, "3": 180, "7": 60}
PIPELINE = ["found", "verified", "picked_up", "recorded", "sent_to_registry", "card_collected",
            "delivered"]


@dataclass
class Case:
    """One seeded case: where it is, who did what and when (minutes after its start)."""

    name: str
    desa: str
    stage: str
    events: list  # [(kind, minutes after start, officer username)]
    start_days_ago: float = 20
    rejection: dict | None = None
    card_issue: dict | None = None
    vulnerable: str | None = None
    in_operation: bool = True
    merged: bool = False
    rid: str = field(default_factory=lambda: str(uuid.uuid4()))


DAY = 24 * 60
CASES = [
    Case("Ani Lengkap", A, "delivered", [
        ("registered", 0, "petugas"), ("verified", 30, "petugas"), ("picked_up", 60, "petugas"),
        ("recorded", 200, "petugas"), ("batch_handed_over", 2 * DAY, "operator"),
        ("card_collected", 5 * DAY, "operator"), ("delivered", 6 * DAY, "petugas")]),
    Case("Budi Rekam", A, "recorded", [
        ("registered", 0, "petugas"), ("verified", 90, "petugas"), ("recorded", 150, "petugas")],
        start_days_ago=12, vulnerable="remote_community"),
    Case("Citra Tolak", A, "rejected", [("registered", 0, "petugas"), ("rejected", 20, "petugas")],
         rejection={"reason": "has_ktp_el", "reason_text": None}),
    Case("Dedi Blanko", A, "sent_to_registry", [
        ("registered", 0, "petugas"), ("verified", 45, "petugas"), ("recorded", 400, "petugas"),
        ("batch_handed_over", 3 * DAY, "operator"), ("card_not_printed", 6 * DAY, "operator")],
        card_issue={"reason": "blanko_habis", "reason_text": None}),
    Case("Eka Daftar", A, "listed", [("listed", 0, "camat")], start_days_ago=2),
    Case("Fajar Impor", A, "found", [("listed", 0, "camat"), ("registered", 240, "petugas")],
         start_days_ago=3),
    Case("Gita Tepat", B, "verified", [("registered", 0, "petugas"), ("verified", 60, "petugas")],
         start_days_ago=1, vulnerable="natural_disaster"),
    Case("Hadi Macet", B, "found", [("registered", 0, "petugas")], start_days_ago=10),
    Case("Indah Dua", A, "delivered", [
        ("registered", 0, "petugas2"), ("verified", 55, "petugas2"), ("recorded", 170, "petugas2"),
        ("batch_handed_over", 1 * DAY, "operator"), ("card_collected", 2 * DAY, "operator"),
        ("delivered", 2 * DAY + 30, "petugas2")]),
    # not counted: merged into another case, outside the operation, another kecamatan
    Case("Joko Gabung", A, "found", [("registered", 0, "petugas")], merged=True),
    Case("Kiki Luar Aksi", A, "verified", [("registered", 0, "petugas"), ("verified", 10, "petugas")],
         in_operation=False),
    Case("Lina Juai", JUAI_DESA, "found", [("registered", 0, "petugas_juai")]),
]


def counted():
    return [c for c in CASES if c.in_operation and not c.merged and c.desa != JUAI_DESA]


def expected_recap():
    """{desa: {...}} computed from the case list (cumulative stage counts)."""
    out = {d: dict(target=t, listed=0, found=0, verified=0, recorded=0, sent=0, collected=0,
                   delivered=0, rejected=0) for d, t in TARGETS.items()}
    for c in counted():
        row = out[c.desa]
        if c.stage == "listed":
            row["listed"] += 1
            continue
        row["found"] += 1
        if c.stage == "rejected":
            row["rejected"] += 1
            continue
        rank = PIPELINE.index(c.stage)
        row["verified"] += rank >= PIPELINE.index("verified")
        row["recorded"] += rank >= PIPELINE.index("recorded")
        row["sent"] += rank >= PIPELINE.index("sent_to_registry")
        row["collected"] += rank >= PIPELINE.index("card_collected")
        row["delivered"] += c.stage == "delivered"
    total = {k: sum(r[k] for r in out.values()) for k in next(iter(out.values()))}
    return out, total


def pct(part, whole):
    """85,5% the Indonesian way (computed independently of the server's filter)."""
    return "—" if not whole else f"{part * 100 / whole:.1f}".replace(".", ",") + "%"


def expected_steps():
    """{step: [minutes]} per SOP step definition in docs/office-view.md."""
    spans = {n: [] for n in range(1, 7)}
    pairs = {1: ({"listed"}, {"registered"}), 2: ({"registered"}, {"verified", "rejected"}),
             3: ({"verified"}, {"recorded"}), 4: ({"recorded"}, {"batch_handed_over"}),
             5: ({"batch_handed_over"}, {"card_collected"}), 6: ({"card_collected"}, {"delivered"})}
    for c in counted():
        at = {}
        for kind, minutes, _who in c.events:
            at.setdefault(kind, minutes)
        for step, (starts, ends) in pairs.items():
            s = [at[k] for k in starts if k in at]
            e = [at[k] for k in ends if k in at]
            if s and e:
                spans[step].append(min(e) - min(s))
    return spans


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


# ------------------------------------------------------------------------------ seeding

def seed(app, now=None):
    """Write the cases, an operation, conflicts and devices straight into the database."""
    now = now or datetime.now(timezone.utc)
    with app.app_context():
        users = {u.username: u for u in db.session.execute(select(User)).scalars()}
        op = Operation(kecamatan_code="631104", name="Aksi Uji November", active=True,
                       start_date=(now - timedelta(days=30)).date(),
                       end_date=(now + timedelta(days=30)).date(),
                       step_minutes=dict(STEP_MINUTES), created_by=users["camat"].id)
        op.desa = [OperationDesa(desa_code=d, target=t) for d, t in TARGETS.items()]
        other = Operation(kecamatan_code="631104", name="Aksi Lama", active=False,
                          start_date=(now - timedelta(days=90)).date(),
                          end_date=(now - timedelta(days=60)).date(), step_minutes={})
        other.desa = [OperationDesa(desa_code=A, target=3)]
        db.session.add_all([op, other])
        db.session.flush()
        seq = 0
        for c in CASES:
            start = now - timedelta(days=c.start_days_ago)
            seq += 1
            r = Resident(
                resident_id=c.rid, desa_code=c.desa, name=c.name, name_key=c.name.lower(),
                sex="female", birth_date=datetime(2008, 5, 17).date(), marital_status="single",
                stage=c.stage, version=1, warnings=[], field_versions={},
                created_by_user_id=users[c.events[0][2]].id, created_by_client_id="seed",
                created_at=start, updated_at=start, change_seq=seq,
                operation_id=(op.id if c.in_operation else other.id) if c.desa != JUAI_DESA else None,
                rejection=c.rejection, card_issue=c.card_issue,
                vulnerable_category=c.vulnerable)
            db.session.add(r)
            db.session.flush()
            for kind, minutes, who in c.events:
                at = start + timedelta(minutes=minutes)
                db.session.add(ResidentEvent(resident_id=c.rid, kind=kind, user_id=users[who].id,
                                             client_id="seed", mutation_id=None, device_at=at,
                                             server_at=at + timedelta(minutes=5), payload={}))
        merged = next(c for c in CASES if c.merged)
        db.session.get(Resident, merged.rid).merged_into = CASES[0].rid
        by_name = {c.name: c for c in CASES}
        db.session.add_all([
            Conflict(kind="verify_vs_reject", resident_id=by_name["Budi Rekam"].rid,
                     status="open", kecamatan_code="631104", details={}),
            Conflict(kind="possible_duplicate", resident_id=by_name["Gita Tepat"].rid,
                     other_resident_id=by_name["Hadi Macet"].rid, status="open",
                     kecamatan_code="631104", details={}),
            Conflict(kind="concurrent_edit", resident_id=by_name["Citra Tolak"].rid,
                     status="resolved", kecamatan_code="631104", details={}),
            Conflict(kind="concurrent_edit", resident_id=by_name["Kiki Luar Aksi"].rid,
                     status="open", kecamatan_code="631104", details={}),
        ])
        for label, user, days, revoked in (("HP Lama", "petugas", 5, False),
                                           ("HP Baru", "petugas2", 1, False),
                                           ("HP Hilang", "petugas", 9, True)):
            db.session.add(Client(client_id=str(uuid.uuid4()), user_id=users[user].id,
                                  device_label=label, token_hash=uuid.uuid4().hex * 2,
                                  created_at=now - timedelta(days=20),
                                  last_sync_at=now - timedelta(days=days),
                                  revoked_at=now - timedelta(days=1) if revoked else None,
                                  last_mutation_id=0))
        db.session.commit()
        return op.id
