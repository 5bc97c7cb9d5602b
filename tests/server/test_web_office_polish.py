"""Small office-view items of issue #11 §6: audit details in Indonesian, a favicon, and the
import errors summarised at the top of the page."""
import re

from office_kit import A, B, create, csv_file, import_file, tables
from server.extensions import db
from server.models import AuditEntry


def test_audit_details_are_in_indonesian(client, auth, app):
    auth.login()
    with app.app_context():
        for action, details in (
                ("resolve_conflict", {"decision": "merge", "kind": "possible_duplicate"}),
                ("create_user", {"role": "petugas", "desa": ["6311042005"]}),
                ("revoke_device", {"reason": "user_deactivated"}),
                ("export_residents", {"format": "csv", "filters": {"stage": "picked_up"}}),
                ("recover_phone_data", {"applied": 2, "duplicate": 0, "rejected": 1})):
            db.session.add(AuditEntry(user_id=None, kecamatan_code="631104", action=action,
                                      target=None, details=details))
        db.session.commit()
    page = client.get("/audit").get_data(as_text=True)
    details = [row[4] for row in tables(page).tables["audit"][1:]]
    assert "keputusan: Gabungkan data; jenis: Kemungkinan data ganda" in details
    assert "peran: Petugas; desa: 6311042005" in details
    assert "alasan: akun dinonaktifkan" in details
    assert "format: csv; saringan: tahap=Dijemput" in details
    assert "diterapkan: 2; sudah pernah diterima: 0; ditolak: 1" in details
    assert "Memulihkan data HP" in page
    assert not re.search(r"\b(merge|possible_duplicate|user_deactivated|picked_up)\b",
                         " ".join(details))


def test_office_pages_have_a_favicon(client, auth):
    for page in (client.get("/login"), (auth.login(), client.get("/audit"))[1]):
        href = re.search(r'<link rel="icon"[^>]* href="([^"]+)"', page.get_data(as_text=True))
        assert href, "no favicon link"
        icon = client.get(href.group(1))
        assert icon.status_code == 200 and icon.mimetype == "image/png"
    res = client.get("/favicon.ico")
    assert res.status_code == 301 and res.location.endswith(href.group(1))


def test_import_errors_are_summarised_at_the_top(client, auth, app):
    auth.login()
    op_id = create(client, app)
    rows = [["kode_desa", "nama", "jenis_kelamin"]]
    rows += [[A, "", "P"] for _ in range(4)] + [[B, "Desa Lain", "P"]]
    res = import_file(client, op_id, csv_file(rows), "daftar.csv")
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    summary = html.index('id="import-summary"')
    assert summary < html.index("Penugasan petugas per desa")  # before the page's sections
    top = html[summary:html.index("</div>", summary)]
    assert "5 kesalahan" in top
    assert top.count("<li>") == 3 and "Baris 2, Nama: Nama wajib diisi." in top
    assert 'href="#import-errors"' in top
