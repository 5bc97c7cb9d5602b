"""SOP step 7: the Laporan Hasil Aksi Pelayanan (HTML, XLSX, CSV) and the residents export,
checked against the seeded data set of dashboard_kit.py (expected figures computed there)."""
import csv
import io

import pytest
from openpyxl import load_workbook

from dashboard_kit import CASES, JUAI_DESA, TARGETS, counted, expected_recap, pct, seed
from office_kit import A, B, C, num, tables

INDICATORS = [("Warga belum ber-KTP-el yang terdata", "found"),
              ("Data warga terverifikasi", "verified"),
              ("Warga sudah rekam KTP-el", "recorded"),
              ("Data diserahkan ke Disdukcapil", "sent"),
              ("KTP-el diserahkan ke warga", "delivered")]
DESA_NAMES = {A: "Batumandi", B: "Tariwin", C: "Lok Batu"}


@pytest.fixture
def seeded(app):
    return seed(app)


def test_report_page_numbers(client, auth, seeded):
    auth.login()
    res = client.get(f"/reports/{seeded}")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "LAPORAN HASIL AKSI PELAYANAN" in html and "Aksi Uji November" in html
    page = tables(html)
    _, total = expected_recap()
    indicators = {row[1]: row[2:] for row in page.tables["indicators"][1:]}
    for label, key in INDICATORS:
        assert indicators[label] == [num(total["target"]), num(total[key]),
                                     pct(total[key], total["target"])], label
    expected, total = expected_recap()
    recap = page.keys["report-recap"]
    for desa, e in list(expected.items()) + [("total", total)]:
        assert recap[desa][1:] == [num(e[k]) for k in ("target", "found", "verified", "recorded",
                                                       "sent", "delivered", "rejected")] \
            + [pct(e["delivered"], e["target"])]
    rejected = [r[1:] for r in page.tables["report-rejected"][1:]]
    assert rejected == [["Citra Tolak", "Batumandi", "Sudah punya KTP-el"]]
    not_printed = [r[1:] for r in page.tables["report-not-printed"][1:]]
    assert not_printed == [["Dedi Blanko", "Batumandi", "Blanko habis"]]
    # a printable page: signature places, no scripts, no inline styles
    assert "Mengetahui," in html and "Camat Batumandi" in html and "NIP." in html
    assert "<script" not in html and "style=" not in html


def test_report_xlsx(client, auth, seeded):
    auth.login()
    res = client.get(f"/reports/{seeded}.xlsx")
    assert res.status_code == 200
    assert res.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in res.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(res.data))
    assert book.sheetnames == ["Indikator", "Rekap per Desa", "Per Petugas", "Waktu SOP", "Ditolak",
                               "KTP Belum Tercetak", "Selisih Pengambilan"]
    _, total = expected_recap()
    rows = {r[0]: r[1:4] for r in book["Indikator"].iter_rows(values_only=True) if r and r[0]}
    assert rows["Aksi"][0] == "Aksi Uji November"
    for label, key in INDICATORS:
        target, value, share = rows[label]
        assert (target, value) == (total["target"], total[key])
        assert share == pytest.approx(total[key] / total["target"])
    expected, total = expected_recap()
    recap = list(book["Rekap per Desa"].iter_rows(values_only=True))
    assert recap[0][:3] == ("Desa", "Kode desa", "Target")
    by_code = {r[1]: r for r in recap[1:]}
    for desa, e in expected.items():
        row = by_code[desa]
        assert row[0] == DESA_NAMES[desa]
        assert row[2:11] == (e["target"], e["listed"], e["found"], e["verified"], e["recorded"],
                             e["sent"], e["collected"], e["delivered"], e["rejected"])
        assert row[11] == pytest.approx(e["delivered"] / e["target"])
    last = recap[-1]
    assert last[0] == "Jumlah" and last[2] == sum(TARGETS.values()) and last[4] == total["found"]
    assert [r[1] for r in book["Ditolak"].iter_rows(min_row=2, values_only=True)] == ["Citra Tolak"]
    assert [r[1:] for r in book["KTP Belum Tercetak"].iter_rows(min_row=2, values_only=True)] == [
        ("Dedi Blanko", "Batumandi", "Blanko habis")]
    sop = {r[0]: r for r in book["Waktu SOP"].iter_rows(min_row=2, values_only=True)}
    assert sop[2][2:] == (60, 6, 50, pytest.approx(5 / 6))
    assert sop[4][2] is None  # unset standard stays empty


def test_report_csv(client, auth, seeded):
    auth.login()
    res = client.get(f"/reports/{seeded}.csv")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    text = res.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel reads the BOM as UTF-8
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Desa" and rows[0][-1] == "Capaian (%)"
    expected, total = expected_recap()
    by_code = {r[1]: r for r in rows[1:-1]}
    assert set(by_code) == set(TARGETS)
    for desa, e in expected.items():
        row = by_code[desa]
        assert [int(v) for v in row[2:6]] == [e["target"], e["listed"], e["found"], e["verified"]]
        assert int(row[6]) == e["recorded"] and int(row[7]) == e["sent"]
        assert int(row[9]) == e["delivered"] and int(row[10]) == e["rejected"]
        assert row[11] == pct(e["delivered"], e["target"]).rstrip("%")
    assert rows[-1][0] == "Jumlah" and int(rows[-1][2]) == total["target"]
    assert rows[-1][11] == "10,5"
    text = client.get(f"/reports/{seeded}.csv?part=indikator").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["No", "Indikator", "Target", "Realisasi", "Persentase Capaian (%)"]
    by_label = {r[1]: r[2:] for r in rows[1:]}
    for label, key in INDICATORS:
        assert by_label[label] == [str(total["target"]), str(total[key]),
                                   pct(total[key], total["target"]).rstrip("%")]


def test_residents_export_follows_the_filters(client, auth, seeded):
    auth.login()
    res = client.get(f"/residents/export.csv?desa={A}&operation={seeded}")
    rows = list(csv.reader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    names = sorted(r[1] for r in rows[1:])
    expected = sorted(c.name for c in counted() if c.desa == A)
    assert names == expected
    assert rows[0][:4] == ["No", "Nama", "NIK (disamarkan)", "Desa"]
    res = client.get("/residents/export.xlsx?vulnerable=any")
    book = load_workbook(io.BytesIO(res.data))
    names = sorted(r[1] for r in book.active.iter_rows(min_row=2, values_only=True))
    assert names == sorted(c.name for c in CASES if c.vulnerable)
    res = client.get("/residents/export.csv?stage=delivered")
    rows = list(csv.reader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert sorted(r[1] for r in rows[1:]) == ["Ani Lengkap", "Indah Dua"]
    assert {r[6] for r in rows[1:]} == {"KTP Diserahkan"}
    assert client.get("/residents/export.pdf").status_code == 404


def test_residents_export_masks_nik_and_defuses_formulas(client, auth, device, make_registration):
    phone = device.login()
    res = device.sync(phone, [
        make_registration(1, name="=HYPERLINK(\"http://x\")", nik="6311045403080001",
                          birth_date="2008-03-14"),
        make_registration(2, name="@SUM(A1)")])
    assert [r["status"] for r in res.get_json()["results"]] == ["applied", "applied"]
    auth.login()
    text = client.get("/residents/export.csv").get_data(as_text=True)
    assert "6311045403080001" not in text and "631104******0001" in text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert sorted(r[1] for r in rows[1:]) == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)"]
    book = load_workbook(io.BytesIO(client.get("/residents/export.xlsx").data))
    cells = [row[1] for row in book.active.iter_rows(min_row=2)]
    assert sorted(c.value for c in cells) == ["=HYPERLINK(\"http://x\")", "@SUM(A1)"]
    assert {c.data_type for c in cells} == {"s"}  # text, never a formula


def test_another_kecamatan_gets_no_report_or_export(client, auth, seeded):
    auth.login("camat_juai")
    for url in (f"/reports/{seeded}", f"/reports/{seeded}.csv", f"/reports/{seeded}.xlsx"):
        assert client.get(url).status_code == 404
    text = client.get("/residents/export.csv").get_data(as_text=True)
    names = [r[1] for r in list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))[1:]]
    assert names == [c.name for c in CASES if c.desa == JUAI_DESA]
    assert "Aksi Uji November" not in client.get("/reports").get_data(as_text=True)
