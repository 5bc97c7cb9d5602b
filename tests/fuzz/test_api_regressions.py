"""Inputs the fuzzers found that made the server answer 500 (DESIGN §6: bad input gets a clear
error and changes nothing; it never gets a 500) or answer outside its OpenAPI document. Kept as
plain examples on both databases."""
import pytest

from cah_testkit import PASSWORDS

TIME_LIMIT = 60


@pytest.mark.parametrize("sent_at", [
    "5897-06-10T04:22:33.71370Z",      # skew beyond a 32-bit number of seconds
    "0201-08-30T01:00:35Z",
    "0001-01-01T00:00:01+00:02",       # before year 1 once in UTC
    "9999-12-31T23:59:59-01:00",       # after year 9999 once in UTC
])
def test_absurd_device_clock_is_never_a_server_error(sent_at, device):
    session = device.login()
    res = device.sync(session, sent_at=sent_at)
    assert res.status_code in (200, 400), res.get_json()
    if res.status_code == 200:
        assert res.get_json()["clock_skew_flagged"] is True


@pytest.mark.parametrize("field", ["username", "password", "device_label"])
def test_nul_character_in_device_login_is_never_a_server_error(field, client):
    body = {"username": "petugas", "password": PASSWORDS["petugas"], "device_label": "HP"}
    body[field] = body[field] + "\x00"
    res = client.post("/api/auth/device", json=body)
    assert res.status_code in (201, 400, 401), res.get_json()


@pytest.mark.parametrize("field", ["name", "notes", "address", "birth_place"])
def test_nul_character_in_a_registration_is_rejected_not_a_server_error(
        field, device, make_registration):
    session = device.login()
    bad = make_registration(1)
    bad["args"][field] = "Warga\x00Uji"
    good = make_registration(2, name="Warga Baik")
    res = device.sync(session, [bad, good])
    assert res.status_code == 200, res.get_json()
    results = {r["id"]: r for r in res.get_json()["results"]}
    assert results[1]["status"] in ("rejected", "applied")
    assert results[2]["status"] == "applied"


@pytest.mark.parametrize("method", ["put", "head"])
@pytest.mark.parametrize("sha", ["abc%0Adef", "%F3%BD%AE%9F%0A", "abc"])
def test_malformed_attachment_id_gets_a_documented_status(method, sha, client, device):
    """schemathesis found PUT /api/attachments/<id with a newline> answered 404, which the
    document does not list for PUT (a malformed id without a newline gets 400)."""
    session = device.login()
    res = getattr(client, method)(f"/api/attachments/{sha}", data=b"\xff\xd8\xff\xe0",
                                  headers={"Authorization": f"Bearer {session['token']}",
                                           "Content-Type": "image/jpeg"})
    doc = client.get("/api/openapi.json").get_json()
    documented = doc["paths"]["/api/attachments/{sha256}"][method]["responses"]
    assert res.status_code < 500
    assert str(res.status_code) in documented, (res.status_code, sorted(documented))
