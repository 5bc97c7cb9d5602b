"""The kabupaten recap for Disdukcapil (issue #13): /disdukcapil/ and /disdukcapil/rekap.xlsx.

The data set: dashboard_kit's Batumandi cases plus cases, operations and batches made here in
Batumandi, Juai and Halong, and a kecamatan of another kabupaten. Every expected figure is
computed in this file from the case list (CASES below), never by server/registry/recap.py.
"""
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pytest
from flask import url_for
from openpyxl import load_workbook
from sqlalchemy import select

import dashboard_kit
from cah_testkit import forge_office_session
from office_kit import A, B, C, num, tables
from server.extensions import db
from server.models import AuditEntry, User, Wilayah
from server.operations import Operation, OperationDesa
from sync.models import Batch, BatchItem, Resident

NOW = datetime.now(timezone.utc)
DAY = timedelta(days=1)
BATUMANDI, JUAI, HALONG, LAIN = "631104", "631101", "631102", "631201"
JUAI_1, JUAI_2, HALONG_1, LAIN_1 = "6311012001", "6311012002", "6311022001", "6312012001"
BALANGAN_KECAMATAN = ["631101", "631102", "631103", "631104", "631105", "631106", "631107",
                      "631108"]
# Targets of the counted operations (the active one; Halong: the newest, none being active).
TARGETS = {BATUMANDI: sum(dashboard_kit.TARGETS.values()), JUAI: 7 + 3, HALONG: 2}
COUNTED_OPS = {"nov", "juai", "halong_new"}
FORWARD = ["found", "verified", "picked_up", "recorded", "sent_to_registry", "card_collected",
           "delivered"]


@dataclass
class Case:
    """A case made here: its operation (key), stage, batch and print/collection state."""

    name: str
    desa: str
    op: str | None
    stage: str
    batch: str | None = None
    ready: bool = False         # Disdukcapil marked the card ready (card_ready_at)
    received: bool = True       # in the physical batch (for batches with a receipt)
    mark: str | None = None     # the batch item's print_status
    outcome: str | None = None  # the batch item's collection outcome
    merged: bool = False
    rid: str = field(default_factory=lambda: str(uuid.uuid4()))


# batch key → (kecamatan, number, handed days ago, received days ago or None, collected?)
BATCHES = {
    "X1": (BATUMANDI, "BA/631104/2026/X1", 5, None, False),
    "X2": (BATUMANDI, "BA/631104/2026/X2", 4, 3, False),
    "X3": (BATUMANDI, "BA/631104/2026/X3", 9, 8, True),
    "LEGACY": (BATUMANDI, "BA/631104/2026/L", 30, None, True),  # collected without a receipt
    "J1": (JUAI, "BA/631101/2026/J1", 10, None, False),
    "J2": (JUAI, "BA/631101/2026/J2", 8, 6, False),
    "O1": (LAIN, "BA/631201/2026/O1", 12, None, False),
}

CASES = [
    # Batumandi, in the seeded active operation "nov"
    Case("Rina Tunggu", A, "nov", "sent_to_registry", batch="X1"),
    Case("Sari Tunggu", B, "nov", "sent_to_registry", batch="X1"),
    Case("Xena Gabung", B, "nov", "sent_to_registry", batch="X1", merged=True),
    Case("Tono Terima", A, "nov", "sent_to_registry", batch="X2"),
    Case("Umi Siap", C, "nov", "sent_to_registry", batch="X2", ready=True, mark="ready"),
    Case("Yoga Gabung", C, "nov", "sent_to_registry", batch="X2", merged=True),
    Case("Vivi Ambil", A, "nov", "card_collected", batch="X3", mark="ready", outcome="collected"),
    Case("Wawan Selisih", A, "nov", "card_collected", batch="X3", outcome="collected"),
    Case("Yuni Tertinggal", B, "nov", "sent_to_registry", batch="X3", ready=True, mark="ready"),
    Case("Zaki Gabung", B, "nov", "card_collected", batch="X3", outcome="collected", merged=True),
    Case("Lama Serah", C, "nov", "delivered", batch="LEGACY", received=None,
         outcome="collected"),
    # Juai: the active operation counts, the inactive one does not
    Case("Juai Data", JUAI_1, "juai", "found"),
    Case("Juai Impor", JUAI_1, "juai", "listed"),
    Case("Juai Tolak", JUAI_2, "juai", "rejected"),
    Case("Juai Rekam", JUAI_2, "juai", "recorded"),
    Case("Juai Kirim", JUAI_1, "juai", "sent_to_registry", batch="J1"),
    Case("Juai Terima", JUAI_1, "juai", "sent_to_registry", batch="J2"),
    Case("Juai Siap", JUAI_2, "juai", "sent_to_registry", batch="J2", ready=True, mark="ready"),
    Case("Juai Selesai", JUAI_2, "juai", "delivered"),
    Case("Juai Lama", JUAI_1, "juai_old", "delivered"),
    # Halong: no active operation; the newest one counts
    Case("Halong Baru", HALONG_1, "halong_new", "delivered"),
    Case("Halong Lama", HALONG_1, "halong_old", "recorded"),
    # another kabupaten
    Case("Warga Lain", LAIN_1, "lain", "sent_to_registry", batch="O1"),
]


def all_cases():
    """(kecamatan, op key, stage, ready, merged) of every case: dashboard_kit's and ours."""
    out = []
    for c in dashboard_kit.CASES:
        op = None if c.desa == dashboard_kit.JUAI_DESA else ("nov" if c.in_operation else "old")
        out.append((c.desa[:6], op, c.stage, False, c.merged))
    out += [(c.desa[:6], c.op, c.stage, c.ready, c.merged) for c in CASES]
    return out


def expected_rows():
    """{kecamatan: {target, found, recorded, sent, printed, delivered, differences}}."""
    rows = {k: dict(target=TARGETS.get(k, 0), found=0, recorded=0, sent=0, printed=0,
                    delivered=0, differences=0) for k in BALANGAN_KECAMATAN}
    for kec, op, stage, ready, merged in all_cases():
        if merged or op not in COUNTED_OPS:
            continue
        row = rows[kec]
        rank = FORWARD.index(stage) if stage in FORWARD else -1
        row["found"] += stage != "listed"
        row["recorded"] += rank >= FORWARD.index("recorded")
        row["sent"] += rank >= FORWARD.index("sent_to_registry")
        row["printed"] += ready or stage in ("card_collected", "delivered")
        row["delivered"] += stage == "delivered"
    # X3 was collected: Wawan collected without a ready mark, Yuni marked ready and left
    # behind (Zaki is merged: not counted). The legacy batch has no receipt: no differences.
    rows[BATUMANDI]["differences"] = 2
    total = {k: sum(r[k] for r in rows.values()) for k in next(iter(rows.values()))}
    return rows, total


def pct(part, whole):
    return dashboard_kit.pct(part, whole)


# ------------------------------------------------------------------------------ the data set

def _resident(c, op_ids, users, seq):
    start = NOW - 15 * DAY
    return Resident(
        resident_id=c.rid, desa_code=c.desa, name=c.name, name_key=c.name.lower(),
        nik=f"6311{seq:012d}", sex="male", birth_date=date(2007, 3, 9), marital_status="single",
        stage=c.stage, version=1, warnings=[], field_versions={},
        created_by_user_id=users["camat"].id, created_by_client_id="seed", created_at=start,
        updated_at=start, change_seq=1000 + seq, operation_id=op_ids.get(c.op),
        card_ready_at=NOW - 2 * DAY if c.ready else None)


def build_world(app):
    """Seed dashboard_kit's Batumandi, then the operations, cases and batches above."""
    nov_id = dashboard_kit.seed(app, NOW)
    with app.app_context():
        db.session.add_all([
            Wilayah(code="6312", name="Kabupaten Lain", level="kabupaten", parent_code="63"),
            Wilayah(code=LAIN, name="Kecamatan Lain", level="kecamatan", parent_code="6312"),
            Wilayah(code=LAIN_1, name="Desa Lain", level="desa", parent_code=LAIN)])
        users = {u.username: u for u in db.session.execute(select(User)).scalars()}
        today = NOW.date()

        def operation(kec, name, active, days_ago, targets):
            op = Operation(kecamatan_code=kec, name=name, active=active,
                           start_date=today - timedelta(days=days_ago), end_date=today,
                           step_minutes={})
            op.desa = [OperationDesa(desa_code=d, target=t) for d, t in targets.items()]
            db.session.add(op)
            db.session.flush()
            return op.id

        op_ids = {
            "nov": nov_id,
            "juai_old": operation(JUAI, "Aksi Juai Lama", False, 200, {JUAI_1: 50}),
            "juai": operation(JUAI, "Aksi Juai", True, 20, {JUAI_1: 7, JUAI_2: 3}),
            "halong_old": operation(HALONG, "Aksi Halong Lama", False, 300, {HALONG_1: 40}),
            "halong_new": operation(HALONG, "Aksi Halong", False, 100, {HALONG_1: 2}),
            "lain": operation(LAIN, "Aksi Lain", True, 10, {LAIN_1: 9}),
        }
        batch_ids = {}
        for key, (kec, number, handed, received, collected) in BATCHES.items():
            batch_ids[key] = str(uuid.uuid4())
            db.session.add(Batch(
                batch_id=batch_ids[key], number=number, kecamatan_code=kec,
                handed_at=NOW - timedelta(days=handed, hours=1), created_by_user_id=1,
                created_via="office", created_at=NOW - handed * DAY,
                received_at=NOW - timedelta(days=received, hours=1) if received else None,
                collected_at=NOW - DAY if collected else None))
        db.session.flush()
        for seq, c in enumerate(CASES, start=1):
            r = _resident(c, op_ids, users, seq)
            r.batch_id = batch_ids[c.batch] if c.batch else None
            db.session.add(r)
            db.session.flush()
            if c.batch:
                received = BATCHES[c.batch][3]
                db.session.add(BatchItem(
                    batch_id=batch_ids[c.batch], resident_id=c.rid,
                    received=c.received if received else None, print_status=c.mark,
                    print_marked_at=NOW - 2 * DAY if c.mark else None,
                    outcome=c.outcome, updated_at=NOW))
        first = CASES[0].rid
        for c in CASES:
            if c.merged:
                db.session.get(Resident, c.rid).merged_into = first
        disduk = User(username="disduk", full_name="Staf Disdukcapil Uji", role="disdukcapil",
                      kecamatan_code=None, kabupaten_code="6311", active=True)
        disduk.set_password("rahasia-disduk")
        other = User(username="disduk_lain", full_name="Staf Kabupaten Lain",
                     role="disdukcapil", kecamatan_code=None, kabupaten_code="6312", active=True)
        other.set_password("rahasia-lain")
        db.session.add_all([disduk, other])
        db.session.commit()
    return {"ops": op_ids, "batches": batch_ids}


@pytest.fixture
def world(app):
    return build_world(app)


def login_disduk(app, client, username="disduk"):
    forge_office_session(app, client, username)


def recap_rows(html):
    return tables(html).keys["recap-kecamatan"]


def row_cells(e):
    cells = [num(e["target"])]
    for key in ("found", "recorded", "sent", "printed", "delivered"):
        cells += [num(e[key]), pct(e[key], e["target"])]
    return cells + [num(e["differences"])]


# ------------------------------------------------------------------------------ the page

def test_recap_per_kecamatan_matches_the_data_made(client, app, world):
    login_disduk(app, client)
    res = client.get("/disdukcapil/")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    rows = recap_rows(html)
    expected, total = expected_rows()
    assert set(rows) == set(BALANGAN_KECAMATAN) | {"total"}  # all 8, and no other kabupaten
    for kec, e in list(expected.items()) + [("total", total)]:
        assert rows[kec][1:] == row_cells(e), kec
    # hand-counted spot checks, so the arithmetic above is checked too
    assert rows[JUAI][1:4] == ["10", "7", "70,0%"]          # Impor is listed, Lama elsewhere
    assert rows[HALONG][1:3] == ["2", "1"] and rows[HALONG][-3] == "1"  # newest op only
    assert rows[BATUMANDI][1] == "19" and rows[BATUMANDI][-1] == "2"
    # printed: Ani, Indah, Lama Serah (delivered), Vivi, Wawan (collected), Umi, Yuni (ready)
    assert rows[BATUMANDI][8] == "7"
    assert rows["631105"][1:4] == ["0", "0", "—"] and "belum ada aksi" in rows["631105"][0]
    assert "Kecamatan Lain" not in html and "BA/631201" not in html
    assert "style=" not in html and "<script" not in html


def test_waiting_batches_oldest_first_with_ages(client, app, world):
    login_disduk(app, client)
    html = client.get("/disdukcapil/").get_data(as_text=True)
    page = tables(html)
    assert page.tables["awaiting-receipt"][0] == [
        "Kecamatan", "Nomor berita acara", "Diserahkan", "Menunggu", "Jumlah warga"]
    assert page.tables["awaiting-marks"][0][:2] == ["Kecamatan", "Nomor berita acara"]
    receipt = page.tables["awaiting-receipt"][1:]
    # J1 (10 days), X1 (5 days); not the collected legacy batch, not another kabupaten's
    assert [r[:2] for r in receipt] == [["Juai", "BA/631101/2026/J1"],
                                        ["Batumandi", "BA/631104/2026/X1"]]
    assert [r[3:] for r in receipt] == [["10 hari", "1"], ["5 hari", "2"]]  # Xena is merged
    marks = page.tables["awaiting-marks"][1:]
    # J2 received 6 days ago (Juai Terima unmarked), X2 3 days ago (Tono; Yoga is merged)
    assert [r[:2] for r in marks] == [["Juai", "BA/631101/2026/J2"],
                                      ["Batumandi", "BA/631104/2026/X2"]]
    assert [r[3:] for r in marks] == [["6 hari", "1"], ["3 hari", "1"]]
    assert 'id="kpi-awaiting-receipt">2<' in html and 'id="kpi-awaiting-marks">2<' in html
    assert 'id="kpi-differences">2<' in html
    with app.test_request_context():
        if "registry.batch_detail" in app.view_functions:
            link = url_for("registry.batch_detail", batch_id=world["batches"]["X1"])
            assert f'href="{link}"' in html
        else:
            assert "BA/631104/2026/X1</a>" not in html


def test_batumandi_row_equals_the_camat_dashboard(client, app, auth, world):
    login_disduk(app, client)
    row = recap_rows(client.get("/disdukcapil/").get_data(as_text=True))[BATUMANDI]
    client.post("/logout")
    auth.login("camat")
    dash = tables(client.get(f"/dashboard?operation={world['ops']['nov']}")
                  .get_data(as_text=True)).keys["recap-desa"]["total"]
    # dashboard: Desa, Target, Belum Ditemukan, Terdata, Terverifikasi, Sudah Rekam,
    # Diserahkan, KTP Diserahkan, Ditolak, Capaian
    assert [row[1], row[2], row[4], row[6], row[10], row[11]] == [
        dash[1], dash[3], dash[5], dash[6], dash[7], dash[9]]


def test_another_kabupaten_sees_only_its_own(client, app, world):
    login_disduk(app, client, "disduk_lain")
    html = client.get("/disdukcapil/").get_data(as_text=True)
    rows = recap_rows(html)
    assert set(rows) == {LAIN, "total"}
    assert rows[LAIN][1:4] == ["9", "1", "11,1%"]
    receipt = tables(html).tables["awaiting-receipt"][1:]
    assert [r[1] for r in receipt] == ["BA/631201/2026/O1"]
    assert "Batumandi" not in html and "BA/631104" not in html


# ------------------------------------------------------------------------------ the XLSX

def test_recap_xlsx_has_the_same_figures_and_no_personal_data(client, app, world):
    login_disduk(app, client)
    before = (datetime.now(timezone.utc) + timedelta(hours=8)).date()
    res = client.get("/disdukcapil/rekap.xlsx")
    after = (datetime.now(timezone.utc) + timedelta(hours=8)).date()
    assert res.status_code == 200
    assert res.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = re.search(r'filename="([^"]+)"', res.headers["Content-Disposition"]).group(1)
    assert name in {f"rekap-kabupaten-balangan-{d.isoformat()}.xlsx" for d in (before, after)}
    book = load_workbook(io.BytesIO(res.data))
    assert book.sheetnames == ["Rekap Kecamatan", "Menunggu Diterima", "Menunggu Tanda Cetak"]
    sheet = book["Rekap Kecamatan"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(values) if r[0] == "Kecamatan")
    assert values[header][1:4] == ["Kode kecamatan", "Target", "Total Terdata"]
    expected, total = expected_rows()
    lines = {r[1] if r[0] != "Jumlah" else "total": r for r in values[header + 1:]}
    assert set(lines) == set(BALANGAN_KECAMATAN) | {"total"}
    for kec, e in list(expected.items()) + [("total", total)]:
        line = lines[kec]
        assert line[2] == e["target"], kec
        for i, key in enumerate(("found", "recorded", "sent", "printed", "delivered")):
            assert line[3 + 2 * i] == e[key], (kec, key)
            share = line[4 + 2 * i]
            if e["target"]:
                assert share == pytest.approx(e[key] / e["target"]), (kec, key)
            else:
                assert share is None
        assert line[13] == e["differences"], kec
    total_row = header + 1 + len(BALANGAN_KECAMATAN) + 1  # 1-based row of "Jumlah"
    assert sheet.cell(total_row, 5).number_format == "0.0%"
    receipt = [list(r) for r in book["Menunggu Diterima"].iter_rows(values_only=True)][1:]
    assert [(r[1], r[2], r[4], r[5]) for r in receipt] == [
        ("Juai", "BA/631101/2026/J1", 10, 1), ("Batumandi", "BA/631104/2026/X1", 5, 2)]
    marks = [list(r) for r in book["Menunggu Tanda Cetak"].iter_rows(values_only=True)][1:]
    assert [(r[2], r[4], r[5]) for r in marks] == [("BA/631101/2026/J2", 6, 1),
                                                   ("BA/631104/2026/X2", 3, 1)]
    cells = " ".join(v for ws in book.worksheets for r in ws.iter_rows(values_only=True)
                     for v in r if isinstance(v, str))
    for c in CASES + dashboard_kit.CASES:
        assert c.name not in cells
    assert not re.search(r"\d{16}", cells)  # no NIK or KK


# ------------------------------------------------------------------------------ who may open it

@pytest.mark.parametrize("path", ["/disdukcapil/", "/disdukcapil/rekap.xlsx"])
def test_office_and_field_roles_get_403(client, app, auth, path):
    for username in ("camat", "operator"):
        auth.login(username)
        assert client.get(path).status_code == 403, username
        client.post("/logout")
    forge_office_session(app, client, "petugas")
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/disdukcapil/", "/disdukcapil/rekap.xlsx"])
def test_anonymous_is_sent_to_login(client, path):
    res = client.get(path)
    assert res.status_code == 302
    assert "/login" in res.headers["Location"] and "next=" in res.headers["Location"]


def test_views_are_audited_without_personal_data(client, app, world):
    login_disduk(app, client)
    client.get("/disdukcapil/")
    client.get("/disdukcapil/rekap.xlsx")
    with app.app_context():
        entries = db.session.execute(select(AuditEntry).where(
            AuditEntry.target == "kabupaten:6311")).scalars().all()
        assert sorted(e.action for e in entries) == ["export_report", "view_dashboard"]
        assert all(not e.details or set(e.details) <= {"format"} for e in entries)


def test_recap_table_is_set_to_fit_the_page(client, app, world):
    """13 columns in the 1100px page of a 1280px screen: the kabupaten recap uses the compact
    table style of office.css (measured in Chromium: it fits without scrolling)."""
    login_disduk(app, client)
    html = client.get("/disdukcapil/").get_data(as_text=True)
    assert '<table class="data recap recap-wide" id="recap-kecamatan">' in html
    res = client.get("/static/office.css")
    css = res.get_data(as_text=True)
    res.close()  # a static file response holds the file open
    assert re.search(r"table\.data\.recap-wide \{ font-size: \.\d+em; \}", css)
