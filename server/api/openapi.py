"""The OpenAPI 3 document of the JSON API, generated from the marshmallow schemas."""
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify

from sync import schemas as wire

from . import bp
from .schemas import DeviceLoginResponseSchema, DeviceLoginSchema, ErrorSchema


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


def _error(description):
    return {"description": description, **_json("Error")}


def build_spec():
    """Assemble the document: schemas from sync.schemas and server schemas, three paths."""
    spec = APISpec(title="CAH API", version="1", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "API aplikasi lapangan CAH (PAK KEDES). "
                                        "Lihat docs/sync-protocol.md."})
    spec.components.security_scheme("deviceToken", {"type": "http", "scheme": "bearer"})
    for name, schema in (
        ("Error", ErrorSchema), ("DeviceLogin", DeviceLoginSchema),
        ("DeviceLoginResponse", DeviceLoginResponseSchema),
        ("SyncRequest", wire.SyncRequestSchema), ("SyncResponse", wire.SyncResponseSchema),
        ("MutationGap", wire.MutationGapSchema),
        ("RegisterResidentArgs", wire.RegisterResidentArgsSchema),
        ("UpdateResidentArgs", wire.UpdateResidentArgsSchema),
    ):
        spec.components.schema(name, schema=schema)
    spec.path(path="/api/auth/device", operations={
        "post": {
            "summary": "Login perangkat (sekali per pemasangan, saat online)",
            "requestBody": {"required": True, **_json("DeviceLogin")},
            "responses": {
                "201": {"description": "Token perangkat", **_json("DeviceLoginResponse")},
                "400": _error("Isian tidak lengkap atau bukan JSON"),
                "401": _error("Nama pengguna atau kata sandi salah"),
                "403": _error("Bukan petugas"),
                "413": _error("Data terlalu besar"),
                "429": _error("Terlalu banyak percobaan"),
            },
        },
        "delete": {
            "summary": "Cabut token perangkat ini",
            "security": [{"deviceToken": []}],
            "responses": {"204": {"description": "Dicabut"},
                          "401": _error("Token tidak dikenal atau sudah dicabut"),
                          "403": _error("Bukan petugas")},
        },
    })
    spec.path(path="/api/sync", operations={"post": {
        "summary": "Kirim mutasi dari HP dan tarik perubahan (satu permintaan per sinkronisasi)",
        "description": "Body boleh dikirim dengan Content-Encoding: gzip. Argumen mutasi: "
                       "RegisterResidentArgs dan UpdateResidentArgs.",
        "security": [{"deviceToken": []}],
        "requestBody": {"required": True, **_json("SyncRequest")},
        "responses": {
            "200": {"description": "Hasil per mutasi dan perubahan", **_json("SyncResponse")},
            "400": _error("Amplop tidak sah"),
            "401": _error("Token tidak ada, tidak dikenal atau dicabut"),
            "403": _error("Peran salah atau client_id tidak cocok"),
            "409": {"description": "Ada mutasi yang terlewat", **_json("MutationGap")},
            "413": _error("Terlalu besar"),
            "415": _error("Pengodean tidak didukung"),
        },
    }})
    spec.path(path="/api/openapi.json", operations={"get": {
        "summary": "Dokumen ini", "responses": {"200": {"description": "OpenAPI 3"}}}})
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_document():
    """Serve the generated OpenAPI document (built once per app)."""
    spec = current_app.extensions.get("cah_openapi")
    if spec is None:
        spec = current_app.extensions["cah_openapi"] = build_spec()
    return jsonify(spec)
