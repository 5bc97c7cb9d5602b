"""Office view: login, the residents list with filters and masking, detail with timeline."""
import pytest

from cah_testkit import registration
from server import create_app


def _register(device, phone, *mutations):
    res = device.sync(phone, list(mutations))
    assert res.status_code == 200, res.get_json()
    assert all(r["status"] == "applied" for r in res.get_json()["results"]), res.get_json()
    return res.get_json()


def test_login_page_and_redirect(client):
    assert client.get("/login").status_code == 200
    res = client.get("/")
    assert res.status_code == 302 and "/login" in res.headers["Location"]


@pytest.mark.parametrize("username, status", [("camat", 302), ("operator", 302),
                                              ("petugas", 403)])
def test_who_may_log_in_to_the_office_view(auth, username, status):
    assert auth.login(username).status_code == status


def test_wrong_password(auth):
    res = auth.login("camat", "salah-salah")
    assert res.status_code == 401
    assert "salah" in res.get_data(as_text=True)


def test_office_login_rate_limited(auth, app):
    for _ in range(app.config["LOGIN_RATE_LIMIT"]):
        auth.login("camat", "salah-salah")
    assert auth.login("camat").status_code == 429


def test_list_filters_search_and_masks_nik(client, auth, device):
    phone = device.login()
    _register(device, phone,
              registration(1, name="Siti Uji", nik="6311045403080001", birth_date="2008-03-14"),
              registration(2, name="Ahmad Uji", desa="6311042001"),
              registration(3, name="Budi Coba"))
    auth.login()
    page = client.get("/residents").get_data(as_text=True)
    assert "Siti Uji" in page and "Ahmad Uji" in page and "Budi Coba" in page
    assert "6311045403080001" not in page and "631104******0001" in page
    page = client.get("/residents?desa=6311042001").get_data(as_text=True)
    assert "Ahmad Uji" in page and "Siti Uji" not in page
    page = client.get("/residents?q=uji").get_data(as_text=True)
    assert "Siti Uji" in page and "Ahmad Uji" in page and "Budi Coba" not in page
    page = client.get("/residents?stage=verified").get_data(as_text=True)
    assert "Siti Uji" not in page
    page = client.get("/residents?stage=found&q=budi").get_data(as_text=True)
    assert "Budi Coba" in page and "Siti Uji" not in page


def test_detail_shows_timeline_with_both_clocks(client, auth, device, make_registration):
    phone = device.login()
    reg = make_registration(1, name="Rahmah Uji", phone="081234567890")
    _register(device, phone, reg)
    rid = reg["args"]["resident_id"]
    res = device.sync(phone, [{"id": 2, "name": "update_resident", "at": "2026-11-28T10:00:00+08:00",
                               "args": {"resident_id": rid, "base_version": 1,
                                        "fields": {"phone": "081299998888"}}}])
    assert res.get_json()["results"][0]["status"] == "applied"
    auth.login()
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert "Rahmah Uji" in page
    assert "Didaftarkan" in page and "Data diubah" in page
    assert "Petugas Uji" in page
    assert "28/11/2026 09.15 WITA" in page  # the phone's clock, shown in WITA
    assert "Diterima server" in page
    assert "081234567890" in page and "081299998888" in page  # history kept


def test_camat_of_another_kecamatan_sees_nothing(client, auth, device, make_registration):
    phone = device.login()
    reg = make_registration(1, name="Rahasia Batumandi")
    _register(device, phone, reg)
    auth.login("camat_juai")
    assert "Rahasia Batumandi" not in client.get("/residents").get_data(as_text=True)
    assert "Rahasia Batumandi" not in client.get("/residents?q=rahasia").get_data(as_text=True)
    assert client.get(f"/residents/{reg['args']['resident_id']}").status_code == 404


def test_unknown_resident_is_404(client, auth):
    auth.login()
    assert client.get("/residents/00000000-0000-0000-0000-000000000000").status_code == 404


def test_security_headers(client):
    res = client.get("/login")
    assert "default-src 'self'" in res.headers["Content-Security-Policy"]
    assert res.headers["X-Frame-Options"] == "DENY"
    assert res.headers["X-Content-Type-Options"] == "nosniff"


def test_logout(client, auth):
    auth.login()
    assert client.get("/residents").status_code == 200
    auth.logout()
    assert client.get("/").status_code == 302


def test_forms_require_csrf(db_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "web-csrf-key-8Pz2Wn5Qt1Lx7Hv4Rm9Cs3Gd6"})
    res = app.test_client().post("/login", data={"username": "camat", "password": "x"})
    assert res.status_code == 400


@pytest.mark.parametrize("username", ["cam\x00at", "camat\x07"])
def test_control_characters_in_login_are_a_clear_4xx(auth, username):
    res = auth.login(username, "apa-saja-123")
    assert 400 <= res.status_code < 500
