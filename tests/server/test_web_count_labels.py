"""Counts that share a label share a meaning (issue #11 §6): on every office page a stage label
(Terdata, Sudah Rekam …) counts the cases at that stage now, "Total <stage>" counts the cases
that reached it or went further, "Kasus" counts every case of an operation — and a duplicate
merged into another case is never counted. The expected figures are computed here from the
residents' rows, independently of server/statistics.py."""
import re

from sqlalchemy import select

from office_kit import Phone, create, tables
from server.extensions import db
from sync.models import Conflict, Resident
from sync.stages import STAGE_LABELS

FORWARD = ["found", "verified", "picked_up", "recorded", "sent_to_registry", "card_collected",
           "delivered"]
BY_LABEL = {label: stage for stage, label in STAGE_LABELS.items()}


def _seed(client, auth, app, device):
    """One operation with cases at several stages and a merged duplicate; its id."""
    auth.login("camat")
    op_id = create(client, app)
    auth.logout()
    a = Phone(device, "petugas", label="HP A")
    b = Phone(device, "petugas2", label="HP B")
    a.register(name="Fajar Terdata")
    verified = a.register(name="Vina Verif")
    a.verify(verified)
    a.recorded(2, names=["Rudi Rekam", "Rina Rekam"])
    rejected = a.register(name="Tono Tolak")
    a.reject(rejected)
    a.register(name="Siti Ganda", nik="6311045403080001", birth_date="2008-03-14")
    b.register(name="Siti Ganda", nik="6311045403080001", birth_date="2008-03-14")
    with app.app_context():
        conflict_id = db.session.execute(select(Conflict.id).where(
            Conflict.kind == "possible_duplicate")).scalar_one()
    auth.login("camat")
    assert client.post(f"/conflicts/{conflict_id}", data={"decision": "merge"}).status_code == 302
    return op_id


def _cases(app, op_id):
    """The stages of the operation's cases that count (merged ones left out), by hand."""
    with app.app_context():
        rows = db.session.execute(select(Resident.stage, Resident.merged_into)
                                  .where(Resident.operation_id == op_id)).all()
    assert any(merged for _stage, merged in rows), "the seed has a merged duplicate"
    return [stage for stage, merged in rows if merged is None]


def _meaning(label, stages):
    """The figure a label must show, or None for a label that is not a count of cases."""
    if label == "Kasus":
        return len(stages)
    if label in BY_LABEL:  # a stage label: the cases at that stage now
        return sum(1 for s in stages if s == BY_LABEL[label])
    if label.startswith("Total ") and label[6:] in BY_LABEL:  # reached it or went further
        stage = BY_LABEL[label[6:]]
        if stage == "found":
            return sum(1 for s in stages if s != "listed")
        return sum(1 for s in stages if s in FORWARD and FORWARD.index(s) >= FORWARD.index(stage))
    return None


def _number(text):
    return int(text.replace(".", ""))


def _figures(client, op_id):
    """[(page, label, figure)] of every count with a label on the office pages."""
    out = []
    dashboard = client.get(f"/dashboard?operation={op_id}").get_data(as_text=True)
    for label, value in re.findall(
            r'<span class="label">([^<]+)</span><strong id="kpi-[a-z]+">([\d.]+)<', dashboard):
        out.append(("dasbor (ringkasan)", label, _number(value)))
    for page, path, table in (("dasbor", f"/dashboard?operation={op_id}", "recap-desa"),
                              ("laporan", f"/reports/{op_id}", "report-recap")):
        parsed = tables(client.get(path).get_data(as_text=True))
        header, total = parsed.tables[table][0], parsed.keys[table]["total"]
        for label, value in zip(header[1:], total[1:]):
            if re.fullmatch(r"[\d.]+", value):
                out.append((page, label, _number(value)))
    residents = client.get("/residents").get_data(as_text=True)
    for label, value in re.findall(r'<span class="label">([^<]+)</span> <strong>([\d.]+)</strong>',
                                   residents):
        out.append(("data penduduk", label, _number(value)))
    parsed = tables(client.get("/operations").get_data(as_text=True))
    header = parsed.tables["table0"][0]
    row = next(r for r in parsed.tables["table0"][1:] if r[0] == "Aksi Desember")
    out.append(("aksi", header[header.index("Kasus")], _number(row[header.index("Kasus")])))
    detail = tables(client.get(f"/operations/{op_id}").get_data(as_text=True))
    rows = detail.tables["assignments"]
    column = rows[0].index("Kasus")
    out.append(("rincian aksi", "Kasus", sum(_number(r[column]) for r in rows[1:])))
    return out


def test_a_label_means_the_same_count_on_every_page(client, auth, app, device):
    op_id = _seed(client, auth, app, device)
    stages = _cases(app, op_id)
    figures = _figures(client, op_id)
    checked = set()
    for page, label, value in figures:
        expected = _meaning(label, stages)
        if expected is None:
            continue
        checked.add(label)
        assert value == expected, f"{page}: {label} = {value}, means {expected}"
    # the seed has cases both at a stage and beyond it, so "now" and "reached" differ
    assert {"Terdata", "Sudah Rekam", "Kasus", "Ditolak", "Total Terdata"} <= checked, checked


def test_no_label_has_two_meanings(client, auth, app, device):
    """Where one label shows two different figures at the same moment, one of them is wrong."""
    op_id = _seed(client, auth, app, device)
    seen = {}
    for page, label, value in _figures(client, op_id):
        if label in ("Target",):
            continue
        seen.setdefault(label, set()).add((value, page))
    for label, values in seen.items():
        assert len({v for v, _page in values}) == 1, f"{label}: {sorted(values)}"


def test_operations_count_leaves_out_a_merged_duplicate(client, auth, app, device):
    """The reported case: /operations counted the merged duplicate, the dashboard did not."""
    op_id = _seed(client, auth, app, device)
    figures = {(page, label): value for page, label, value in _figures(client, op_id)}
    on_dashboard = figures[("dasbor", "Belum Ditemukan")] + figures[("dasbor", "Total Terdata")]
    assert figures[("aksi", "Kasus")] == figures[("rincian aksi", "Kasus")] == on_dashboard
    assert on_dashboard == len(_cases(app, op_id))
