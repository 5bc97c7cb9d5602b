"""Dashboard numbers against the seeded data set of dashboard_kit.py, whose expected figures
are computed there, independently of server/statistics.py (test_web_reports.py uses it too)."""
import re
from datetime import datetime

import pytest
from sqlalchemy import select

from dashboard_kit import STEP_MINUTES, counted, expected_recap, expected_steps, pct, seed
from office_kit import A, B, num, tables
from server.extensions import db
from server.models import User
from server.operations import Operation, OperationDesa
from sync.models import Resident


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
