"""Issue 8 part 3 (and part 5's zip bomb and no-store): no client mistake gets a 500.

Each example of the issue is here: JSON nested 7,000 deep, ids past the INTEGER column range,
huge page numbers, dates past the calendar, control characters in exported text, an XLSX
whose shared strings inflate to far more than any list of residents, and the pages that show
full NIKs being kept out of caches.
"""
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, update

from dashboard_kit import seed
from office_kit import (
    Phone,
    create,
    create_batch_form,
    csv_file,
    import_file,
    make_batch,
    operation_form,
    resident_rows,
)
from server.api.common import MAX_JSON_DEPTH
from server.extensions import db
from server.models import Assignment
from sync.models import Batch, Resident

TOO_BIG = ["2147483648", "9223372036854775808", "1" + "0" * 40]


def _deep(levels):
    return "[" * levels + "]" * levels


# ---------------------------------------------------------------- deep JSON

@pytest.mark.parametrize("body", [
    _deep(7000),
    '{"username": %s, "password": "x", "device_label": "HP"}' % _deep(7000),
    '{"username": "petugas", "password": %s, "device_label": "HP"}'
    % ('{"a":' * 1500 + "1" + "}" * 1500),
])
def test_deeply_nested_json_on_device_login_is_malformed_json(client, body):
    res = client.post("/api/auth/device", data=body, content_type="application/json")
    assert res.status_code == 400, res.get_data(as_text=True)[:200]
    assert res.get_json()["code"] == "malformed_json"


def test_json_depth_limit_is_exactly_max_json_depth(client):
    def login(levels):  # the outer object is one level
        body = '{"username": %s, "password": "x", "device_label": "HP"}' % _deep(levels - 1)
        return client.post("/api/auth/device", data=body, content_type="application/json")

    assert login(MAX_JSON_DEPTH).get_json()["code"] == "validation_error"
    assert login(MAX_JSON_DEPTH + 1).get_json()["code"] == "malformed_json"


@pytest.mark.parametrize("nested", [_deep(7000), _deep(200)])
def test_deeply_nested_json_on_sync_is_malformed_json(client, device, app, nested):
    phone = device.login()
    body = ('{"protocol": 1, "client_id": "%s", "app_version": "t", "sent_at": '
            '"2026-11-28T09:00:00+08:00", "cursor": null, "mutations": [{"id": 1, "name": '
            '"register_resident", "at": "2026-11-28T09:15:03+08:00", "args": {"name": %s}}]}'
            % (phone["client_id"], nested))
    res = client.post("/api/sync", data=body, content_type="application/json",
                      headers={"Authorization": f"Bearer {phone['token']}"})
    assert res.status_code == 400, res.get_data(as_text=True)[:200]
    assert res.get_json()["code"] == "malformed_json"
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Resident)).scalar_one() == 0


# ---------------------------------------------------------------- ids past the column range

@pytest.mark.parametrize("big", TOO_BIG)
def test_ids_past_the_column_range_are_404(client, auth, app, big):
    op_id = seed(app)
    auth.login()
    for path in (f"/users/{big}", f"/conflicts/{big}", f"/operations/{big}",
                 f"/operations/{big}/edit", f"/reports/{big}", f"/reports/{big}.csv",
                 f"/reports/{big}.xlsx", f"/operations/{big}/import-template.csv"):
        assert client.get(path).status_code == 404, path
    for path in (f"/users/{big}/password", f"/users/{big}/deactivate",
                 f"/users/{big}/activate", f"/conflicts/{big}", f"/operations/{big}/assign",
                 f"/operations/{op_id}/unassign/{big}", f"/operations/{big}/import"):
        assert client.post(path, data={"password": "x"}).status_code == 404, path


@pytest.mark.parametrize("method, path", [
    ("GET", "/residents/%00"), ("GET", "/residents/a%00b"), ("POST", "/residents/%00/reopen"),
    ("GET", "/batches/%00"), ("POST", "/batches/%00"), ("GET", "/batches/%00/manifest"),
    ("GET", "/residents/%07"), ("POST", "/devices/%00/revoke"), ("GET", "/attachments/%00")])
def test_control_characters_in_text_path_segments_are_404(client, auth, method, path):
    # PostgreSQL text cannot hold NUL: looked up as it is, it was a DataError and a 500.
    auth.login()
    res = client.open(path, method=method)
    assert res.status_code == 404, res.get_data(as_text=True)[:200]


@pytest.mark.parametrize("officer", [str(2 ** 70), str(2 ** 31), "-9223372036854775809"])
def test_assigning_an_officer_past_the_column_range_is_refused(client, auth, app, officer):
    op_id = seed(app)
    auth.login()

    def assignments():
        return db.session.execute(select(func.count()).select_from(Assignment))

    with app.app_context():
        before = assignments().scalar_one()
    res = client.post(f"/operations/{op_id}/assign",
                      data={"officer": officer, "desa_code": "6311042005"})
    assert res.status_code in (303, 400), res.status_code
    with app.app_context():
        assert assignments().scalar_one() == before


@pytest.mark.parametrize("path", ["/residents", "/batches", "/conflicts", "/audit"])
@pytest.mark.parametrize("page", ["9223372036854775807", "99999999999999999999999", "-3"])
def test_huge_page_numbers_are_capped(client, auth, path, page):
    auth.login()
    assert client.get(f"{path}?page={page}").status_code == 200


@pytest.mark.parametrize("query", [
    "officer=99999999999999999999", "operation=9223372036854775808", "officer=%C2%B2",
    "operation=%D9%A3"])
def test_numeric_filters_past_the_range_are_ignored(client, auth, app, query):
    seed(app)
    auth.login()
    for path in ("/residents/export.csv", "/residents/export.xlsx", "/residents"):
        assert client.get(f"{path}?{query}").status_code == 200, path


# ---------------------------------------------------------------- dates past the calendar

@pytest.mark.parametrize("query", ["to=9999-12-31", "from=0001-01-01", "from=9999-12-31",
                                   "to=0001-01-01&from=0001-01-01"])
def test_audit_dates_at_the_ends_of_the_calendar(client, auth, query):
    auth.login()
    assert client.get(f"/audit?{query}").status_code == 200


@pytest.mark.parametrize("day, hour", [("0001-01-01", "00.00"), ("01/01/0001", ""),
                                       ("9999-12-31", "23.59"), ("0001-01-01", "")])
def test_batch_forms_with_dates_past_the_calendar_are_400(client, auth, app, device, day, hour):
    phone = Phone(device)
    rids = phone.recorded(2)
    auth.login("operator")
    form = create_batch_form(rids[:1], day=day, hour=hour)
    res = client.post("/batches", data=form)
    assert res.status_code == 400
    assert "Tanggal" in res.get_data(as_text=True)
    batch_id = make_batch(client, rids[1:], number="BA/2")
    res = client.post(f"/batches/{batch_id}", data={"day": day, "hour": hour,
                                                    f"outcome-{rids[1]}": "collected"})
    assert res.status_code == 400
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Batch)).scalar_one() == 1
        assert db.session.get(Resident, rids[1]).stage == "sent_to_registry"


@pytest.mark.parametrize("start, end", [("0001-01-01", "0001-12-31"),
                                        ("2026-12-01", "9999-12-31")])
def test_operation_dates_past_the_calendar_are_400(client, auth, app, start, end):
    auth.login()
    res = client.post("/operations/new", data=operation_form(app, start=start, end=end))
    assert res.status_code == 400
    assert "Tanggal" in res.get_data(as_text=True)


# ---------------------------------------------------------------- control characters

def _poison(app):
    """Put control characters into a stored name and a stored reason (as data written before
    the input rules existed would hold them)."""
    with app.app_context():
        rejected = db.session.execute(select(Resident).where(
            Resident.name == "Citra Tolak")).scalar_one()
        rejected.name = "Citra\x07 Tolak\x1a"
        rejected.rejection = {**(rejected.rejection or {}), "reason_text": "Pindah\x0b domisili"}
        db.session.execute(update(Resident).where(Resident.name == "Dedi Blanko")
                           .values(name="=Dedi\x0bBlanko\x00"[:-1]))
        db.session.commit()


def test_control_characters_never_break_an_export(client, auth, app):
    op_id = seed(app)
    _poison(app)
    auth.login()
    for path in ("/residents/export.xlsx", f"/reports/{op_id}.xlsx"):
        res = client.get(path)
        assert res.status_code == 200, path
        book = load_workbook(io.BytesIO(res.data))
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row
                 if c.value is not None]
        texts = [str(c.value) for c in cells]
        assert "Citra Tolak" in texts, path
        assert not any(ch in t for t in texts for ch in "\x07\x0b\x1a"), path
        dedi = [c for c in cells if "Dedi" in str(c.value)]
        assert dedi and all(c.data_type == "s" for c in dedi), path  # text, not a formula
    for path in ("/residents/export.csv", f"/reports/{op_id}.csv"):
        res = client.get(path)
        assert res.status_code == 200, path
        assert not any(ch in res.get_data(as_text=True) for ch in "\x07\x0b\x1a"), path
    assert "Citra" in client.get("/residents/export.csv").get_data(as_text=True)


@pytest.mark.parametrize("change", [{"number": "BA\x07/1"}, {"notes": "Dikirim\x1a"},
                                    {"number": "BA/\x85"}])
def test_control_characters_are_refused_in_batch_forms(client, auth, app, device, change):
    phone = Phone(device)
    rids = phone.recorded(1)
    auth.login("operator")
    form = create_batch_form(rids)
    form.update(change)
    res = client.post("/batches", data=form)
    assert res.status_code == 400
    assert "karakter" in res.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Batch)).scalar_one() == 0


def test_control_characters_are_refused_in_collection_reasons(client, auth, app, device):
    phone = Phone(device)
    rids = phone.recorded(1)
    auth.login("operator")
    batch_id = make_batch(client, rids)
    res = client.post(f"/batches/{batch_id}", data={
        "day": "2026-11-27", f"outcome-{rids[0]}": "not_printed",
        f"reason-{rids[0]}": "other", f"reason_text-{rids[0]}": "Blanko\x07 habis"})
    assert res.status_code == 400 and "karakter" in res.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Resident, rids[0]).stage == "sent_to_registry"


@pytest.mark.parametrize("name", ["Aksi\x07 Desember", "Aksi\x1b[31m", "Aksi\x7f"])
def test_control_characters_are_refused_in_the_operation_form(client, auth, app, name):
    auth.login()
    res = client.post("/operations/new", data=operation_form(app, name=name))
    assert res.status_code == 400 and "karakter" in res.get_data(as_text=True)


def test_control_characters_are_refused_in_the_reopen_note(client, auth, app, device):
    phone = Phone(device)
    rid = phone.register(name="Warga Tolak")
    phone.reject(rid)
    auth.login("camat")
    res = client.post(f"/residents/{rid}/reopen", data={"note": "Salah\x07 tolak"})
    assert res.status_code == 400 and "karakter" in res.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Resident, rid).stage == "rejected"


def test_control_characters_are_refused_in_an_import(client, auth, app):
    auth.login()
    op_id = create(client, app)
    res = import_file(client, op_id, csv_file([["kode_desa", "nama"],
                                               ["6311042005", "Siti\x07 Daftar"]]), "d.csv")
    assert res.status_code == 422 and "karakter" in res.get_data(as_text=True)
    assert resident_rows(app) == []


# ---------------------------------------------------------------- XLSX zip bomb (part 5)

def _xlsx_with_shared_strings(inflated_mib):
    """A real workbook whose sharedStrings.xml is replaced by `inflated_mib` MiB of valid XML
    (a few hundred KiB once compressed)."""
    book = Workbook()
    book.active.append(["kode_desa", "nama"])
    book.active.append(["6311042005", "Siti Daftar"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    chunk = b"<si><t>a</t></si>" * (1024 * 1024 // 17)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "xl/sharedStrings.xml":
                dst.writestr(info, src.read(info.filename))
        with dst.open("xl/sharedStrings.xml", "w") as member:
            member.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                         b'spreadsheetml/2006/main">')
            for _ in range(inflated_mib):
                member.write(chunk)
            member.write(b"</sst>")
    out.seek(0)
    return out


@pytest.mark.parametrize("inflated_mib", [48, 5])  # past the size cap; past the ratio only
def test_an_xlsx_zip_bomb_is_refused_before_it_is_opened(client, auth, app, inflated_mib):
    auth.login()
    op_id = create(client, app)
    bomb = _xlsx_with_shared_strings(inflated_mib)
    assert len(bomb.getvalue()) < 1024 * 1024
    res = import_file(client, op_id, bomb, "daftar.xlsx")
    assert res.status_code == 422
    assert "terlalu besar" in res.get_data(as_text=True)
    assert resident_rows(app) == []


# ---------------------------------------------------------------- no-store (part 5)

def test_pages_with_full_niks_are_not_stored(client, auth, device):
    phone = Phone(device)
    rids = phone.recorded(1)
    auth.login("operator")
    batch_id = make_batch(client, rids)
    for path in (f"/residents/{rids[0]}", f"/batches/{batch_id}/manifest",
                 f"/batches/{batch_id}", "/residents"):
        res = client.get(path)
        assert res.status_code == 200
        assert "no-store" in res.headers.get("Cache-Control", ""), path

