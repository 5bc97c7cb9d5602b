"""The OpenAPI document is generated from the schemas and describes the API."""
from server.api.schemas import DeviceLoginResponseSchema
from sync.schemas import SyncResponseSchema


def test_openapi_document(client):
    res = client.get("/api/openapi.json")
    assert res.status_code == 200
    doc = res.get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/sync", "/api/auth/device"} <= set(doc["paths"])
    schemas = doc["components"]["schemas"]
    assert "mutations" in schemas["SyncRequest"]["properties"]
    assert "resident_id" in schemas["RegisterResidentArgs"]["properties"]
    assert set(schemas["Error"]["properties"]) >= {"code", "message", "fields"}
    assert "409" in doc["paths"]["/api/sync"]["post"]["responses"]


def test_sync_answer_and_device_login_match_the_document(client, device, make_registration):
    res = client.post("/api/auth/device", json={"username": "petugas",
                                                "password": "rahasia-petugas"})
    assert DeviceLoginResponseSchema().validate(res.get_json()) == {}
    answer = device.sync(res.get_json(), [make_registration(1)]).get_json()
    assert SyncResponseSchema().validate(answer) == {}
    doc = client.get("/api/openapi.json").get_json()
    assert "operations" in doc["components"]["schemas"]["DeviceLoginResponse"]["properties"]
