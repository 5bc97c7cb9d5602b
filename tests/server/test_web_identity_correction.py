"""Issue #11 §1, the office side: "Koreksi data identitas" on the resident's page — camat and
operator, a required reason, audited, applied once, and the phones pull the corrected case."""
import re

import pytest
from sqlalchemy import select

from cah_testkit import forge_office_session
from office_kit import A, C, Phone, audits, create, csv_file, import_file
from server.extensions import db
from server.models import AuditEntry
from server.web.identity import MSG_CORRECTED
from server.web.submissions import FIELD, MSG_REPLAYED
from sync.models import Conflict, Resident, ResidentEvent

NIK_MALE = "6311041203990001"  # born 12-03-1999, coded as a man's


def form(resident, **changes):
    """The correction form as the page fills it in, with `changes` typed over it."""
    data = {"name": resident["name"], "nik": resident["nik"] or "",
            "kk_number": resident["kk_number"] or "", "sex": resident["sex"],
            "birth_place": resident["birth_place"] or "", "birth_date": resident["birth_date"],
            "marital_status": resident["marital_status"], "desa_code": resident["desa_code"],
            "reason": "Sesuai KK asli yang diperlihatkan warga"}
    data.update(changes)
    return data


def case(app, rid):
    with app.app_context():
        r = db.session.get(Resident, rid)
        return {"name": r.name, "nik": r.nik, "kk_number": r.kk_number, "sex": r.sex,
                "birth_place": r.birth_place, "birth_date": r.birth_date.isoformat(),
                "marital_status": r.marital_status, "desa_code": r.desa_code,
                "version": r.version, "warnings": list(r.warnings or [])}


def corrections(app, rid):
    with app.app_context():
        return db.session.execute(select(ResidentEvent.payload).where(
            ResidentEvent.resident_id == rid, ResidentEvent.kind == "identity_corrected")
            .order_by(ResidentEvent.id)).scalars().all()


@pytest.fixture
def verified(device):
    """A phone and a case it registered (a misspelt name, sex not matching the NIK) and
    verified: only the office may correct it now."""
    phone = Phone(device)
    rid = phone.register(name="Salah Ketik Namaa", nik=NIK_MALE, sex="female",
                         birth_date="1999-03-12")
    phone.verify(rid)
    return phone, rid


@pytest.mark.parametrize("username, status", [("camat", 302), ("operator", 302),
                                              ("camat_juai", 404), ("petugas", 403)])
def test_who_may_correct(app, client, auth, verified, username, status):
    _, rid = verified
    if username == "petugas":
        forge_office_session(app, client, username)
    else:
        auth.login(username)
    before = case(app, rid)
    page = client.get(f"/residents/{rid}")
    assert ("Koreksi data identitas" in page.get_data(as_text=True)) == (status == 302)
    res = client.post(f"/residents/{rid}/identity", data=form(before, name="Salah Ketik Nama"))
    assert res.status_code == status
    after = case(app, rid)
    assert after["name"] == ("Salah Ketik Nama" if status == 302 else "Salah Ketik Namaa")
    assert audits(app, "correct_identity") == (1 if status == 302 else 0)


def test_a_correction_is_audited_and_in_the_history(app, client, auth, verified):
    _, rid = verified
    auth.login("operator")
    before = case(app, rid)
    res = client.post(f"/residents/{rid}/identity",
                      data=form(before, name="Salah Ketik Nama", sex="male",
                                kk_number="6311 0401 0120 0002"))
    assert res.status_code == 302
    assert MSG_CORRECTED in client.get(res.headers["Location"]).get_data(as_text=True)
    after = case(app, rid)
    assert (after["name"], after["sex"], after["kk_number"]) == (
        "Salah Ketik Nama", "male", "6311040101200002")
    assert after["version"] == before["version"] + 1
    assert "nik_sex" not in after["warnings"]
    [payload] = corrections(app, rid)
    assert payload["reason"] == "Sesuai KK asli yang diperlihatkan warga"
    assert payload["changes"]["sex"] == {"old": "female", "new": "male"}
    with app.app_context():
        entry = db.session.execute(select(AuditEntry).where(
            AuditEntry.action == "correct_identity")).scalar_one()
        # Field names only: the values are personal data.
        assert (entry.target, entry.details) == (rid, {"fields": ["kk_number", "name", "sex"]})
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert "Data identitas dikoreksi" in page and "Alasan koreksi: Sesuai KK asli" in page
    assert "Salah Ketik Namaa → Salah Ketik Nama" in page


@pytest.mark.parametrize("changes, message", [
    ({"reason": "  "}, "Alasan koreksi wajib diisi."),
    ({"name": "Sama Saja", "reason": ""}, "Alasan koreksi wajib diisi."),
    ({"nik": "12345"}, "NIK harus 16 digit angka."),
    ({"birth_date": "2099-01-01"}, "Tanggal lahir tidak boleh di masa depan."),
    ({"desa_code": "6311012001"}, "Desa harus berada di kecamatan Anda."),
    ({"desa_code": "6311049999"}, "Desa harus berada di kecamatan Anda."),  # no such desa
    ({}, "Tidak ada data identitas yang berubah."),
])
def test_refusals_change_nothing(app, client, auth, verified, changes, message):
    _, rid = verified
    auth.login("camat")
    before = case(app, rid)
    res = client.post(f"/residents/{rid}/identity", data=form(before, **changes))
    assert res.status_code == 400
    assert message in res.get_data(as_text=True)
    assert case(app, rid) == before
    assert corrections(app, rid) == []
    assert audits(app, "correct_identity") == 0


def test_the_same_form_posted_twice_corrects_once(app, client, auth, verified):
    _, rid = verified
    auth.login("camat")
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    token = re.search(r'action="/residents/[^"]+/identity">\s*<input type="hidden" name="'
                      + FIELD + r'" value="([^"]+)"', page).group(1)
    data = form(case(app, rid), name="Salah Ketik Nama", **{FIELD: token})
    first = client.post(f"/residents/{rid}/identity", data=data)
    second = client.post(f"/residents/{rid}/identity", data=data)
    assert first.status_code == 302 and second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert MSG_REPLAYED in client.get(second.headers["Location"]).get_data(as_text=True)
    assert len(corrections(app, rid)) == 1
    assert audits(app, "correct_identity") == 1


def test_the_phones_pull_the_corrected_case(app, client, auth, device, verified):
    phone, rid = verified
    cursor = device.sync(phone.session).get_json()["cursor"]
    auth.login("camat")
    assert client.post(f"/residents/{rid}/identity",
                       data=form(case(app, rid), name="Salah Ketik Nama")).status_code == 302
    pulled = device.sync(phone.session, cursor=cursor).get_json()["changes"]["residents"]
    assert [(r["resident_id"], r["name"]) for r in pulled] == [(rid, "Salah Ketik Nama")]
    # Too late for the phone: the case is verified, the office corrects it.
    refused = phone.send("correct_identity", {"resident_id": rid, "base_version": 3,
                                              "fields": {"name": "Nama Lain"}})
    assert (refused["status"], refused["code"]) == ("rejected", "invalid_transition")


def test_a_corrected_nik_is_checked_for_duplicates(app, client, auth, device):
    phone = Phone(device)
    first = phone.register(name="Warga Pertama", nik=NIK_MALE, sex="male",
                           birth_date="1999-03-12")
    second = phone.register(name="Warga Kedua", desa=A)
    auth.login("camat")
    res = client.post(f"/residents/{second}/identity",
                      data=form(case(app, second), nik=NIK_MALE, sex="male",
                                birth_date="1999-03-12"))
    assert res.status_code == 302
    with app.app_context():
        [conflict] = db.session.execute(select(Conflict).where(
            Conflict.kind == "possible_duplicate")).scalars().all()
        assert (conflict.resident_id, conflict.other_resident_id) == (second, first)


def test_a_control_character_in_the_reason_is_named(app, client, auth, verified):
    _, rid = verified
    auth.login("camat")
    res = client.post(f"/residents/{rid}/identity",
                      data=form(case(app, rid), name="Nama Baru", reason="alasan\x07"))
    assert res.status_code == 400
    assert "Alasan koreksi: Teks berisi karakter yang tidak diizinkan" in res.get_data(as_text=True)
    assert corrections(app, rid) == []


@pytest.fixture
def listed(app, client, auth):
    """A case imported from a list with a name and desa only (no sex, birth date, marital
    status), as the camat sees it."""
    auth.login("camat")
    op_id = create(client, app)
    res = import_file(client, op_id, csv_file([["kode_desa", "nama"], [A, "Warga Daftar"]]),
                      "daftar.csv")
    assert res.status_code == 303, res.get_data(as_text=True)
    with app.app_context():
        return db.session.scalars(select(Resident.resident_id).where(
            Resident.name == "Warga Daftar")).one()


def blank_form(**changes):
    """The correction form of a listed case as the page fills it in: empty selects and date."""
    return {"name": "Warga Daftar", "nik": "", "kk_number": "", "sex": "", "birth_place": "",
            "birth_date": "", "marital_status": "", "desa_code": A,
            "reason": "Sesuai KK asli yang diperlihatkan warga", **changes}


def test_a_listed_case_with_empty_fields_is_corrected(app, client, listed):
    page = client.get(f"/residents/{listed}").get_data(as_text=True)
    form_html = page[page.index('class="identity-correction"'):page.index("Simpan koreksi")]
    assert 'type="date"' not in form_html
    assert not re.search(r'<select[^>]*name="(sex|marital_status)"[^>]*required', form_html)
    assert 'name="birth_date"' in form_html and "data-date" in form_html
    res = client.post(f"/residents/{listed}/identity", data=blank_form(name="Warga Daftar Baru"))
    assert res.status_code == 302, res.get_data(as_text=True)
    [payload] = corrections(app, listed)
    assert list(payload["changes"]) == ["name"]  # the empty fields were not compared
    # Filled in later: the birth date typed day first, passed on as a date.
    res = client.post(f"/residents/{listed}/identity",
                      data=blank_form(name="Warga Daftar Baru", birth_date="13/03/1999",
                                      sex="female"))
    assert res.status_code == 302, res.get_data(as_text=True)
    with app.app_context():
        r = db.session.get(Resident, listed)
        assert (r.birth_date.isoformat(), r.sex) == ("1999-03-13", "female")
    page = client.get(f"/residents/{listed}").get_data(as_text=True)
    assert 'value="13/03/1999"' in page and "Sabtu, 13 Maret 1999" in page
    # Once set, the birth date cannot be emptied again: named as missing.
    res = client.post(f"/residents/{listed}/identity",
                      data=blank_form(name="Warga Daftar Baru", sex="female"))
    assert res.status_code == 400 and "Tanggal lahir: Wajib diisi." in res.get_data(as_text=True)


@pytest.mark.parametrize("typed, message", [
    ("31/02/1999", "Tanggal tidak sah. Tulis hari/bulan/tahun"),
    ("01/01/9999", "Tanggal harus antara tahun 1900 dan 2099"),
])
def test_an_unreadable_birth_date_is_refused(app, client, listed, typed, message):
    res = client.post(f"/residents/{listed}/identity", data=blank_form(birth_date=typed))
    assert res.status_code == 400
    page = res.get_data(as_text=True)
    assert message in page and f'value="{typed}"' in page
    assert corrections(app, listed) == []


def test_a_refused_correction_shows_the_page_again_with_what_was_typed(app, client, auth,
                                                                       verified):
    _, rid = verified
    auth.login("camat")
    before = case(app, rid)
    res = client.post(f"/residents/{rid}/identity",
                      data=form(before, name="Nama Diketik Ulang", nik="12345",
                                birth_date="13/03/1999", desa_code=C,
                                reason="Alasan yang sudah diketik"))
    assert res.status_code == 400
    page = res.get_data(as_text=True)
    assert "Riwayat" in page and "<details class=\"identity-correction\" open>" in page
    assert 'value="Nama Diketik Ulang"' in page and 'value="12345"' in page
    assert 'value="13/03/1999"' in page and "Alasan yang sudah diketik</textarea>" in page
    assert re.search(rf'<option value="{C}" selected>', page)
    assert '<span class="error" id="ic-nik-error">NIK harus 16 digit angka.</span>' in page
    assert case(app, rid) == before and corrections(app, rid) == []
