"""Dashboard numbers against a seeded data set whose expected figures are computed here,
independently of server/statistics.py. The data set is also used by test_web_reports.py."""
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

A, B, C = "6311042005", "6311042001", "6311042002"  # three desa of Batumandi
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
    from server.extensions import db
    from server.models import User
    from server.operations import Operation, OperationDesa
    from sync.models import Client, Conflict, Resident, ResidentEvent

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


# ------------------------------------------------------------------------------ HTML reading

class _Tables(HTMLParser):
    """Rows of the tables in a page: {table id: [[cell text, …], …]} and data-* row keys."""

    def __init__(self):
        super().__init__()
        self.tables, self.keys = {}, {}
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
            key = next((v for k, v in attrs.items() if k.startswith("data-")), None)
            self._key = key
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            if self._key:
                self.keys.setdefault(self._table, {})[self._key] = self._row
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(html):
    """Parse a page's tables."""
    parser = _Tables()
    parser.feed(html)
    return parser


def num(n):
    """1234 → '1.234' (independent of server/formatting.py)."""
    return f"{n:,}".replace(",", ".")


@pytest.fixture
def seeded(app):
    return seed(app)


# ------------------------------------------------------------------------------ tests

def test_dashboard_recap_per_desa_matches_the_data_set(client, auth, seeded):
    auth.login()
    res = client.get(f"/dashboard?operation={seeded}")
    assert res.status_code == 200
    page = tables(res.get_data(as_text=True))
    rows = page.keys["recap-desa"]
    expected, total = expected_recap()
    for desa, e in list(expected.items()) + [("total", total)]:
        row = rows[desa]
        assert row[1:] == [num(e["target"]), num(e["listed"]), num(e["found"]), num(e["verified"]),
                           num(e["recorded"]), num(e["sent"]), num(e["delivered"]),
                           num(e["rejected"]), pct(e["delivered"], e["target"])], desa
    # spot check against hand-counted figures, so the test's own arithmetic is checked too
    assert rows[A][1:4] == ["10", "1", "6"] and rows[A][-1] == "20,0%"
    assert rows["total"][1] == "19" and rows["total"][3] == "8"


def test_dashboard_kpis_and_funnel(client, auth, seeded):
    auth.login()
    html = client.get(f"/dashboard?operation={seeded}").get_data(as_text=True)
    _, total = expected_recap()
    assert f'id="kpi-target">{num(total["target"])}<' in html
    assert f'id="kpi-found">{num(total["found"])}<' in html
    assert f'id="kpi-delivered">{num(total["delivered"])}<' in html
    assert f'id="kpi-capaian">{pct(total["delivered"], total["target"])}<' in html
    assert 'id="kpi-conflicts">2<' in html
    # The funnel is an inline SVG with the numbers drawn as text, and no style attributes.
    svg = html[html.index('<svg class="chart chart-funnel"'):]
    svg = svg[:svg.index("</svg>")]
    assert f">{num(total['found'])} ({pct(total['found'], total['target'])})</text>" in svg
    assert "style=" not in html and "<script" not in html


def test_dashboard_per_officer(client, auth, app, seeded):
    from server.extensions import db
    from server.models import User
    with app.app_context():
        ids = {u.username: u.id for u in db.session.execute(select(User)).scalars()}
    expected = {}
    for c in counted():
        for kind, _m, who in c.events:
            if who.startswith("petugas"):
                expected.setdefault(who, {}).setdefault(kind, set()).add(c.rid)
    auth.login()
    rows = tables(client.get(f"/dashboard?operation={seeded}").get_data(as_text=True)).keys["recap-officer"]
    for who in ("petugas", "petugas2"):
        row = rows[str(ids[who])]
        kinds = expected[who]
        assert row[2:] == [num(len(kinds.get(k, ()))) for k in
                           ("registered", "verified", "rejected", "picked_up", "recorded", "delivered")]
    assert "Petugas Uji" in rows[str(ids["petugas"])][0]


def test_dashboard_sop_compliance(client, auth, seeded):
    auth.login()
    rows = tables(client.get(f"/dashboard?operation={seeded}").get_data(as_text=True)).keys["sop-compliance"]
    spans = expected_steps()
    for step in range(1, 7):
        row = rows[str(step)]
        values = spans[step]
        assert row[3] == num(len(values)), step
        standard = STEP_MINUTES.get(str(step))
        if standard is None:
            assert row[2] == "belum diisi" and row[5] == "—"
        else:
            within = sum(v <= standard for v in values)
            assert row[5].startswith(pct(within, len(values))), (step, row)
            assert f"({within} dari {len(values)})" in row[5]
    # hand-checked: step 2 spans 30, 90, 20, 45, 60, 55 → median 50 menit, 5 of 6 within 60
    assert rows["2"][4] == "50 menit" and rows["2"][5] == "83,3% (5 dari 6)"
    assert rows["7"][3] == "dilaporkan per aksi, bukan per kasus"


def test_dashboard_stuck_cases_devices_and_conflicts(client, auth, seeded):
    auth.login()
    html = client.get(f"/dashboard?operation={seeded}&stuck_days=7&sync_days=3").get_data(as_text=True)
    page = tables(html)
    stuck = [r[0] for r in page.tables["stuck"][1:]]
    # unfinished, last event more than 7 days ago: Budi (12 days), Hadi (10), Dedi (card not
    # printed 14 days ago); Eka, Fajar, Gita are recent; Ani, Indah delivered; Citra rejected
    assert stuck == ["Dedi Blanko", "Budi Rekam", "Hadi Macet"]
    assert "KTP belum tercetak" in html
    devices = [r[1] for r in page.tables["stale-devices"][1:]]
    assert devices == ["HP Lama"]  # HP Hilang is revoked, HP Baru synced yesterday
    conflicts = sorted(r[1] for r in page.tables["conflicts"][1:])
    assert conflicts == ["Budi Rekam", "Gita Tepat"]  # resolved and out-of-operation left out
    narrower = tables(client.get(f"/dashboard?operation={seeded}&stuck_days=11&sync_days=10")
                      .get_data(as_text=True))
    assert [r[0] for r in narrower.tables["stuck"][1:]] == ["Dedi Blanko", "Budi Rekam"]
    assert narrower.tables["stale-devices"][1:][0][0].startswith("Semua HP aktif")


def test_dashboard_defaults_to_the_active_operation_and_handles_none(client, auth, app, seeded):
    auth.login()
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Aksi Uji November" in html and 'id="recap-desa"' in html
    assert client.get("/dashboard?operation=999999&stuck_days=abc").status_code == 200
    auth.logout()
    auth.login("camat_juai")
    html = client.get(f"/dashboard?operation={seeded}").get_data(as_text=True)
    assert "Aksi Uji November" not in html and "Ani Lengkap" not in html
    assert "Belum ada aksi pelayanan" in html


def test_dashboard_counts_a_registration_synced_from_a_phone(client, auth, device, app,
                                                            make_registration):
    """The real path: an operation exists, the phone registers, the dashboard counts it."""
    from server.extensions import db
    from server.operations import Operation, OperationDesa
    from sync.models import Resident
    with app.app_context():
        op = Operation(kecamatan_code="631104", name="Aksi Sinkron", active=True,
                       start_date=datetime(2026, 11, 1).date(), end_date=datetime(2026, 12, 31).date(),
                       step_minutes={})
        op.desa = [OperationDesa(desa_code=A, target=4)]
        db.session.add(op)
        db.session.commit()
        op_id = op.id
    phone = device.login()
    reg = make_registration(1, name="Warga Sinkron", desa=A)
    other = make_registration(2, name="Warga Desa Lain", desa=B)  # B is in no operation
    res = device.sync(phone, [reg, other])
    assert [r["status"] for r in res.get_json()["results"]] == ["applied", "applied"]
    with app.app_context():
        assert db.session.get(Resident, reg["args"]["resident_id"]).operation_id == op_id
        assert db.session.get(Resident, other["args"]["resident_id"]).operation_id is None
    auth.login()
    rows = tables(client.get(f"/dashboard?operation={op_id}").get_data(as_text=True)).keys["recap-desa"]
    assert rows[A][1:4] == ["4", "0", "1"] and rows[A][-1] == "0,0%"
    assert re.search(r"1\s+kasus di kecamatan ini tidak termasuk aksi", client.get(
        f"/dashboard?operation={op_id}").get_data(as_text=True))
