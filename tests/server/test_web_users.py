"""Users (create, change, deactivate, reset password, assign desa) and devices (list, revoke a
lost phone: its token stops working at once)."""
from sqlalchemy import select

from cah_testkit import PASSWORDS
from server.extensions import db
from server.models import User

A, B, C = "6311042005", "6311042001", "6311042002"


def uid(app, username):
    with app.app_context():
        return db.session.execute(select(User.id).where(User.username == username)).scalar_one()


def user_state(app, username):
    with app.app_context():
        u = db.session.execute(select(User).where(User.username == username)).scalar_one()
        return {"role": u.role, "active": u.active, "desa": sorted(u.desa_codes),
                "kecamatan": u.kecamatan_code, "full_name": u.full_name}


def new_user(**overrides):
    data = {"username": "petugas3", "full_name": "Petugas Tiga", "role": "petugas",
            "password": "kata-sandi-baru", "password2": "kata-sandi-baru", "desa": [A, C]}
    data.update(overrides)
    return data


def test_camat_creates_an_officer_who_can_log_in_a_phone(client, auth, app, device):
    auth.login()
    res = client.post("/users/new", data=new_user())
    assert res.status_code == 303
    assert "Akun petugas3 (Petugas) dibuat." in client.get("/users").get_data(as_text=True)
    assert user_state(app, "petugas3") == {"role": "petugas", "active": True, "desa": sorted([A, C]),
                                           "kecamatan": "631104", "full_name": "Petugas Tiga"}
    answer = device.login("petugas3", "kata-sandi-baru")
    assert {d["code"] for d in answer["desa"]} == {A, C}


def test_user_form_errors(client, auth, app):
    auth.login()
    cases = [(new_user(username="petugas"), "Nama pengguna ini sudah dipakai."),
             (new_user(password2="lain-lain-lain"), "Kedua kata sandi tidak sama."),
             (new_user(password="pendek", password2="pendek"), "Kata sandi minimal 10 karakter."),
             (new_user(username="Huruf Besar"), "Hanya huruf kecil"),
             (new_user(role="superadmin"), "Pilihan tidak sah."),
             (new_user(desa=["6311012001"]), "Desa ini bukan bagian dari kecamatan Anda.")]
    for data, message in cases:
        res = client.post("/users/new", data=data)
        assert res.status_code == 400, data
        assert message in res.get_data(as_text=True), message


def test_operator_cannot_create_or_touch_a_camat(client, auth, app):
    auth.login("operator")
    assert client.post("/users/new", data=new_user(username="camat2", role="camat")).status_code == 400
    camat = uid(app, "camat")
    assert client.get(f"/users/{camat}").status_code == 403
    for action in ("deactivate", "activate", "password"):
        assert client.post(f"/users/{camat}/{action}",
                           data={"password": "x" * 10, "password2": "x" * 10}).status_code == 403
    assert user_state(app, "camat")["active"] is True
    # ... but manages officers
    res = client.post("/users/new", data=new_user(username="operator2", role="operator", desa=[]))
    assert res.status_code == 303


def test_edit_assigns_desa_and_the_phone_follows(client, auth, app, device):
    phone = device.login()
    auth.login()
    pid = uid(app, "petugas")
    page = client.get(f"/users/{pid}").get_data(as_text=True)
    assert 'value="6311042005" checked' in page or 'checked id="desa-' in page
    res = client.post(f"/users/{pid}", data={"full_name": "Petugas Uji Baru", "role": "petugas",
                                             "desa": [B, C]})
    assert res.status_code == 303
    assert user_state(app, "petugas")["desa"] == [B, C]
    answer = device.sync(phone).get_json()
    assert sorted(answer["changes"]["assignments"]["desa_codes"]) == [B, C]


def test_nobody_changes_their_own_role_or_locks_themselves_out(client, auth, app):
    auth.login()
    me = uid(app, "camat")
    res = client.post(f"/users/{me}", data={"full_name": "Camat", "role": "operator"})
    assert res.status_code == 400 and "peran akun Anda sendiri" in res.get_data(as_text=True)
    res = client.post(f"/users/{me}/deactivate")
    assert res.status_code == 303 and user_state(app, "camat")["active"] is True


def test_deactivate_stops_logins_and_revokes_the_phone(client, auth, app, device):
    phone = device.login()
    auth.login()
    pid = uid(app, "petugas")
    assert client.post(f"/users/{pid}/deactivate").status_code == 303
    assert user_state(app, "petugas")["active"] is False
    res = device.sync(phone)
    assert res.status_code == 401 and res.get_json()["code"] == "token_revoked"
    res = client.post("/api/auth/device", json={"username": "petugas", "password": PASSWORDS["petugas"],
                                                "device_label": "x"})
    assert res.status_code == 401
    assert client.post(f"/users/{pid}/activate").status_code == 303
    res = device.sync(phone)  # the old token stays revoked; the officer logs in again
    assert res.status_code == 401
    assert device.login()["token"]


def test_reset_password(client, auth, app):
    auth.login()
    oid = uid(app, "operator")
    res = client.post(f"/users/{oid}/password", data={"password": "sandi-baru-123",
                                                      "password2": "sandi-baru-456"})
    assert res.status_code == 303
    assert "Kedua kata sandi tidak sama." in client.get(res.headers["Location"]).get_data(as_text=True)
    res = client.post(f"/users/{oid}/password", data={"password": "sandi-baru-123",
                                                      "password2": "sandi-baru-123"})
    assert res.status_code == 303
    auth.logout()
    assert auth.login("operator", PASSWORDS["operator"]).status_code == 401
    assert auth.login("operator", "sandi-baru-123").status_code == 302


def test_devices_list_and_revoke(client, auth, app, device):
    phone = device.login(label="HP Samsung Pak Rudi")
    assert device.sync(phone).status_code == 200
    other = device.login("petugas2", label="HP Petugas Dua")
    auth.login()
    page = client.get("/devices").get_data(as_text=True)
    assert "HP Samsung Pak Rudi" in page and "HP Petugas Dua" in page
    assert "tidak dapat dipulihkan" in page
    assert "belum pernah" in page  # petugas2's phone has not synced yet
    confirm = client.get(f"/devices/{phone['client_id']}/revoke").get_data(as_text=True)
    assert "tidak dapat dipulihkan" in confirm and "Ya, cabut perangkat ini" in confirm
    res = client.post(f"/devices/{phone['client_id']}/revoke")
    assert res.status_code == 303
    assert "tidak dapat dipulihkan" in client.get(res.headers["Location"]).get_data(as_text=True)
    res = device.sync(phone)  # at once
    assert res.status_code == 401 and res.get_json()["code"] == "token_revoked"
    assert device.sync(other).status_code == 200  # the other phone is untouched
    assert "Dicabut" in client.get("/devices").get_data(as_text=True)


def test_another_kecamatan_cannot_see_or_revoke(client, auth, app, device):
    phone = device.login(label="HP Batumandi")
    auth.login("camat_juai")
    assert "HP Batumandi" not in client.get("/devices").get_data(as_text=True)
    assert client.get(f"/devices/{phone['client_id']}/revoke").status_code == 404
    assert client.post(f"/devices/{phone['client_id']}/revoke").status_code == 404
    assert client.get("/devices/not-a-client/revoke").status_code == 404
    assert device.sync(phone).status_code == 200
    users = client.get("/users").get_data(as_text=True)
    assert "petugas_juai" in users and ">petugas<" not in users
    assert client.get(f"/users/{uid(app, 'petugas')}").status_code == 404
    assert client.post(f"/users/{uid(app, 'petugas')}/deactivate").status_code == 404
    assert user_state(app, "petugas")["active"] is True
