"""Every class of client mistake gets the one JSON error shape, a 4xx, and changes nothing."""
import gzip
import json

import pytest
from sqlalchemy import func, select

from server.extensions import db
from sync.models import Client, RejectedMutation, Resident, ResidentEvent


def _state(app):
    def count(model):
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()

    with app.app_context():
        lasts = sorted(db.session.execute(select(Client.last_mutation_id)).scalars())
        return count(Resident), count(ResidentEvent), count(RejectedMutation), lasts


def _assert_error_shape(res, status, code=None):
    assert res.status_code == status, res.get_data(as_text=True)
    body = res.get_json()
    assert set(body) >= {"code", "message", "fields"}
    assert isinstance(body["message"], str) and body["message"]
    if code:
        assert body["code"] == code
    return body


def _post(client, phone, data, headers=None):
    h = {"Authorization": f"Bearer {phone['token']}", "Content-Type": "application/json"}
    h.update(headers or {})
    return client.post("/api/sync", data=data, headers=h)


def test_malformed_json(client, app, phone):
    before = _state(app)
    _assert_error_shape(_post(client, phone, b"{not json"), 400, "malformed_json")
    _assert_error_shape(_post(client, phone, b"[1, 2]"), 400, "malformed_json")
    _assert_error_shape(_post(client, phone, b"\xff\xfe"), 400, "malformed_json")
    assert _state(app) == before


def test_broken_gzip(client, app, phone):
    before = _state(app)
    _assert_error_shape(_post(client, phone, b"not gzip", {"Content-Encoding": "gzip"}), 400)
    _assert_error_shape(_post(client, phone, b"x", {"Content-Encoding": "br"}), 415)
    assert _state(app) == before


def test_gzip_body_is_accepted(client, app, phone, make_registration):
    body = {"protocol": 1, "client_id": phone["client_id"], "app_version": "t",
            "sent_at": "2026-11-28T09:00:00+08:00", "cursor": None,
            "mutations": [make_registration(1)]}
    res = _post(client, phone, gzip.compress(json.dumps(body).encode()),
                {"Content-Encoding": "gzip"})
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["results"] == [{"id": 1, "status": "applied"}]


@pytest.mark.parametrize("change", [
    {"protocol": 2}, {"protocol": "1"}, {"client_id": "bukan-uuid"}, {"mutations": "semua"},
    {"mutations": [{"id": "satu", "name": "register_resident", "at": "x", "args": {}}]},
    {"mutations": [{"id": 1, "name": "register_resident", "at": "x", "args": []}]},
    {"cursor": "abc"}, {"sent_at": 12},
])
def test_wrong_types_in_envelope(device, app, phone, make_registration, change):
    before = _state(app)
    body = {"mutations": [make_registration(1)]}
    body.update(change)
    res = device.sync(phone, **body)
    data = _assert_error_shape(res, 400)
    assert data["fields"]
    assert _state(app) == before


def test_unknown_mutation_changes_nothing(device, app, phone, make_registration):
    before = _state(app)
    res = device.sync(phone, [make_registration(1),
                              {"id": 2, "name": "drop_tables", "at": "2026-11-28T09:00:00+08:00",
                               "args": {}}])
    _assert_error_shape(res, 400, "unknown_mutation")
    assert _state(app) == before


def test_body_too_large(client, app, phone):
    before = _state(app)
    big = b'{"x": "' + b"a" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    _assert_error_shape(_post(client, phone, big), 413)
    assert _state(app) == before


def test_gzip_bomb_is_refused(client, app, phone):
    before = _state(app)
    bomb = gzip.compress(b" " * (app.config["SYNC_MAX_BODY_BYTES"] + 1000))
    assert len(bomb) < app.config["MAX_CONTENT_LENGTH"]
    _assert_error_shape(_post(client, phone, bomb, {"Content-Encoding": "gzip"}), 413)
    assert _state(app) == before


def test_too_many_mutations(device, app, phone, make_registration):
    before = _state(app)
    res = device.sync(phone, [make_registration(i) for i in range(1, 502)])
    _assert_error_shape(res, 413, "payload_too_large")
    assert _state(app) == before


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer salah", "Basic abc", "token"])
def test_missing_or_unknown_token(client, app, header):
    headers = {"Authorization": header} if header else {}
    res = client.post("/api/sync", json={}, headers=headers)
    _assert_error_shape(res, 401)


def test_client_id_of_another_device(device, app, make_registration):
    a, b = device.login(), device.login()
    before = _state(app)
    res = device.sync({"token": a["token"], "client_id": b["client_id"]}, [make_registration(1)])
    _assert_error_shape(res, 403, "client_mismatch")
    assert _state(app) == before


def test_wrong_method_and_unknown_path_are_json(client):
    _assert_error_shape(client.get("/api/sync"), 405, "method_not_allowed")
    _assert_error_shape(client.get("/api/tidak-ada"), 404, "not_found")


def test_business_rejection_is_200_with_field_messages(device, app, phone, make_registration):
    res = device.sync(phone, [make_registration(1, nik="123")])
    assert res.status_code == 200
    result = res.get_json()["results"][0]
    assert result["status"] == "rejected" and "nik" in result["fields"]
    assert res.get_json()["last_mutation_id"] == 1


def test_sync_answer_is_gzipped_when_accepted(client, phone, make_registration):
    body = {"protocol": 1, "client_id": phone["client_id"], "app_version": "t",
            "sent_at": "2026-11-28T09:00:00+08:00", "cursor": None,
            "mutations": [make_registration(i) for i in range(1, 6)]}
    headers = {"Authorization": f"Bearer {phone['token']}"}
    plain = client.post("/api/sync", json=body, headers=headers)
    assert "Content-Encoding" not in plain.headers
    again = client.post("/api/sync", json=body,
                        headers={**headers, "Accept-Encoding": "gzip, deflate"})
    assert again.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in again.headers["Vary"]
    answer = json.loads(gzip.decompress(again.get_data()))
    assert [r["status"] for r in answer["results"]] == ["duplicate"] * 5
    assert len(again.get_data()) < len(plain.get_data()) / 2


def test_shell_assets_carry_no_document_headers_but_pages_do(client):
    page = client.get("/app/")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    script = client.get("/app/js/app.js")
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in script.headers
    worker = client.get("/app/sw.js")
    assert "default-src 'self'" in worker.headers["Content-Security-Policy"]
    assert "icons/icon-512.png" not in worker.get_data(as_text=True)
    assert "icons/icon-192.png" in worker.get_data(as_text=True)
    assert client.get("/app/icons/icon-512.png").status_code == 200
