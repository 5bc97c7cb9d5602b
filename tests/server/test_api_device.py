"""Device login and logout: tokens, roles, rate limiting."""
import hashlib

import pytest
from sqlalchemy import select

from cah_testkit import PASSWORDS
from server.extensions import db
from server.models import User
from sync.models import Client


def test_device_login_returns_token_client_and_assignment(client, app):
    res = client.post("/api/auth/device", json={
        "username": "petugas", "password": PASSWORDS["petugas"], "device_label": "HP Andi"})
    assert res.status_code == 201
    body = res.get_json()
    assert body["user"]["username"] == "petugas" and body["user"]["role"] == "petugas"
    assert body["kecamatan"] == {"code": "631104", "name": "Batumandi"}
    assert [d["code"] for d in body["desa"]] == ["6311042001", "6311042005"]
    assert {d["name"] for d in body["desa"]} == {"Tariwin", "Batumandi"}
    with app.app_context():
        row = db.session.get(Client, body["client_id"])
        assert row.device_label == "HP Andi"
        # Only the hash is stored.
        assert row.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
        assert body["token"] not in (row.token_hash, row.client_id)


def test_each_login_is_a_new_client(device):
    a, b = device.login(), device.login()
    assert a["client_id"] != b["client_id"] and a["token"] != b["token"]


@pytest.mark.parametrize("username, password, status, code", [
    ("petugas", "salah-sekali", 401, "unauthorized"),
    ("tidak_ada", "apa-saja-123", 401, "unauthorized"),
    ("camat", PASSWORDS["camat"], 403, "wrong_role"),
    ("operator", PASSWORDS["operator"], 403, "wrong_role"),
])
def test_device_login_refusals(client, app, username, password, status, code):
    res = client.post("/api/auth/device", json={"username": username, "password": password})
    assert res.status_code == status
    assert res.get_json()["code"] == code
    assert res.get_json()["message"]
    with app.app_context():
        assert db.session.execute(select(Client)).first() is None


@pytest.mark.parametrize("body", [{}, {"username": "petugas"}, {"password": "x"},
                                  {"username": 5, "password": []}])
def test_device_login_validation(client, body):
    res = client.post("/api/auth/device", json=body)
    assert res.status_code == 400
    data = res.get_json()
    assert data["code"] == "validation_error" and data["fields"]


def test_device_login_is_rate_limited(client, app):
    for _ in range(app.config["LOGIN_RATE_LIMIT"]):
        res = client.post("/api/auth/device", json={"username": "petugas", "password": "salah-123"})
        assert res.status_code == 401
    res = client.post("/api/auth/device",
                      json={"username": "petugas", "password": PASSWORDS["petugas"]})
    assert res.status_code == 429
    assert res.get_json()["code"] == "rate_limited"


def test_logout_revokes_token_at_once(client, device):
    session = device.login()
    assert device.sync(session).status_code == 200
    res = client.delete("/api/auth/device", headers={"Authorization": f"Bearer {session['token']}"})
    assert res.status_code == 204
    res = device.sync(session)
    assert res.status_code == 401
    assert res.get_json()["code"] == "token_revoked"


def test_deactivated_user_token_stops_working(app, device):
    session = device.login()
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == "petugas")).scalar_one()
        user.active = False
        db.session.commit()
    assert device.sync(session).status_code == 401


@pytest.mark.parametrize("username", ["petugas", "tidak_ada"])
def test_lone_surrogate_password_is_the_same_clean_401_for_every_username(client, username):
    res = client.post("/api/auth/device", data='{"username": "%s", "password": "ab\\ud800cd", '
                      '"device_label": "HP"}' % username, content_type="application/json")
    assert res.status_code == 401
    assert res.get_json()["code"] == "unauthorized"


def test_password_reset_keeps_the_phone_unless_asked(client, auth, app, device):
    """A reset is mostly for a forgotten password: the phone's unsynced work must survive it."""
    phone = device.login()
    auth.login()
    with app.app_context():
        pid = db.session.execute(select(User.id).where(User.username == "petugas")).scalar_one()
    data = {"password": "sandi-petugas-baru-4", "password2": "sandi-petugas-baru-4"}
    res = client.post(f"/users/{pid}/password", data=data)
    assert res.status_code == 303
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "1 HP" in page and "tetap masuk" in page
    assert device.sync(phone).status_code == 200
    res = client.post(f"/users/{pid}/password", data={**data, "revoke_devices": "y"})
    assert res.status_code == 303
    res = device.sync(phone)
    assert res.status_code == 401 and res.get_json()["code"] == "token_revoked"
