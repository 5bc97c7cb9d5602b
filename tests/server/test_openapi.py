"""The OpenAPI document is generated from the schemas and describes the API."""


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
