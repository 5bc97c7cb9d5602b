"""The audit log: views, exports and changes are recorded without personal data, shown in
Indonesian, filtered, and scoped to the kecamatan."""
from sqlalchemy import select

from dashboard_kit import seed
from office_kit import tables
from server.extensions import db
from server.models import AuditEntry, User


def entries(app):
    with app.app_context():
        return [(e.action, e.target, e.details, e.kecamatan_code) for e in db.session.execute(
            select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_views_exports_and_changes_are_logged(client, auth, app, device):
    op = seed(app)
    phone = device.login()
    auth.login()
    client.get(f"/dashboard?operation={op}")
    client.get(f"/reports/{op}")
    client.get(f"/reports/{op}.xlsx")
    client.get("/residents/export.csv?q=Ani+Lengkap&desa=6311042005")
    with app.app_context():
        pid = db.session.execute(select(User.id).where(User.username == "petugas2")).scalar_one()
    client.post(f"/operations/{op}/assign", data={"officer": pid, "desa_code": "6311042001"})
    client.post(f"/devices/{phone['client_id']}/revoke")
    log = entries(app)
    actions = [a for a, *_ in log]
    for action in ("login", "view_dashboard", "view_report", "export_report", "export_residents",
                   "assign_officer", "revoke_device"):
        assert action in actions, action
    export = next(e for e in log if e[0] == "export_residents")
    assert export[2]["filters"] == {"desa": "6311042005"} and export[2]["format"] == "csv"
    assert "Ani" not in str(log)  # the search words (names) are never stored
    assert {k for *_, k in log} == {"631104"}

    page = client.get("/audit").get_data(as_text=True)
    rows = tables(page).tables["audit"][1:]
    shown = [r[2] for r in rows]
    for label in ("Masuk", "Melihat dasbor", "Melihat laporan", "Mengunduh laporan",
                  "Mengunduh daftar penduduk", "Menugaskan petugas", "Mencabut perangkat"):
        assert label in shown, label
    assert any(r[3] == "Aksi: Aksi Uji November" for r in rows)
    assert any(r[3] == "Perangkat: HP uji" for r in rows)
    assert all(r[1] == "Camat Uji (camat)" for r in rows)
    assert "format: xlsx" in page
    # newest first, and viewing the log is itself logged
    assert rows[0][2] == "Mencabut perangkat"
    assert entries(app)[-1][0] == "view_audit"


def test_filters_and_scope(client, auth, app):
    auth.login()
    client.get("/dashboard")
    auth.logout()
    auth.login("operator")
    client.get("/reports")
    page = client.get("/audit?action=login").get_data(as_text=True)
    rows = tables(page).tables["audit"][1:]
    assert [r[2] for r in rows] == ["Masuk", "Masuk"]
    with app.app_context():
        camat = db.session.execute(select(User.id).where(User.username == "camat")).scalar_one()
    rows = tables(client.get(f"/audit?user={camat}").get_data(as_text=True)).tables["audit"][1:]
    assert {r[1] for r in rows} == {"Camat Uji (camat)"}
    assert client.get("/audit?from=2000-01-01&to=2000-01-02").get_data(as_text=True).count(
        "Tidak ada catatan.") == 1
    assert client.get("/audit?from=bukan-tanggal&user=abc&page=0").status_code == 200
    auth.logout()
    auth.login("camat_juai")
    rows = tables(client.get("/audit").get_data(as_text=True)).tables["audit"][1:]
    assert [r[1] for r in rows] == ["camat_juai (camat_juai)"]  # only their own login
