"""The OpenAPI 3 document of the JSON API, generated from the marshmallow schemas."""
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify

from sync import schemas as wire
from sync.mutations import MUTATORS

from . import bp
from .schemas import DeviceLoginResponseSchema, DeviceLoginSchema, ErrorSchema


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


def _error(description):
    return {"description": description, **_json("Error")}


def build_spec():
    """Assemble the document: schemas from sync.schemas, the args schema of every mutation of
    sync.mutations.MUTATORS, server schemas, and the paths."""
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
    ):
        spec.components.schema(name, schema=schema)
    _mutation_args(spec)
    _attachment_paths(spec)
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
                       "komponen *Args (RegisterResidentArgs, UpdateResidentArgs, "
                       "VerifyResidentArgs, DeliverCardArgs, …), satu per nama mutasi.",
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
            "503": _error("Basis data tidak tersedia; tidak ada yang diterapkan, kirim ulang nanti"),
        },
    }})
    _health_path(spec)
    spec.path(path="/api/openapi.json", operations={"get": {
        "summary": "Dokumen ini", "responses": {"200": {"description": "OpenAPI 3"}}}})
    return spec.to_dict()


def _mutation_args(spec):
    """One component per mutation, named after its schema class: RegisterResidentArgsSchema →
    RegisterResidentArgs (the names the sync path's description mentions)."""
    for mutator in MUTATORS.values():
        schema = mutator.args_schema
        spec.components.schema(schema.__name__.removesuffix("Schema"), schema=schema)


def _health_path(spec):
    """GET /api/health (docs/deploy.md, Monitoring): no login, never cached."""
    nullable = {"type": "string", "nullable": True}
    spec.components.schema("Health", {"type": "object", "required": [
        "status", "database", "version", "schema_revision"], "properties": {
        "status": {"type": "string", "enum": ["ok", "error"]},
        "database": {"type": "string", "enum": ["ok", "unreachable"]},
        "version": nullable, "schema_revision": nullable}})
    no_store = {"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}}
    spec.path(path="/api/health", operations={"get": {
        "summary": "Keadaan server untuk pemantauan (tanpa login)",
        "description": "schema_revision: revisi skema (Alembic) tempat basis data berada; "
                       "null bila belum punya revisi (mis. dibuat oleh 0.1.0, sebelum "
                       "`pakkedes init`).",
        "security": [],
        "responses": {
            "200": {"description": "Server dan basis data berjalan", "headers": no_store,
                    **_json("Health")},
            "503": {"description": "Basis data tidak dapat dihubungi", "headers": no_store,
                    **_json("Health")},
        },
    }})


def _attachment_paths(spec):
    """PUT/HEAD /api/attachments/{sha256} (docs/interfaces-pipeline.md, Attachments)."""
    spec.components.schema("AttachmentComplete", {"type": "object", "properties": {
        "sha256": {"type": "string"}, "size": {"type": "integer"},
        "complete": {"type": "boolean", "enum": [True]}}})
    spec.components.schema("AttachmentPartial", {"type": "object", "properties": {
        "sha256": {"type": "string"}, "received": {"type": "integer"},
        "complete": {"type": "boolean", "enum": [False]}}})
    sha_param = {"name": "sha256", "in": "path", "required": True,
                 "description": "SHA-256 (hex) dari byte foto seperti yang dikirim HP",
                 "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}}
    offset = {"Upload-Offset": {"description": "Byte yang sudah diterima server",
                                "schema": {"type": "integer"}}}
    spec.path(path="/api/attachments/{sha256}", operations={
        "put": {
            "summary": "Unggah foto (KK atau penyerahan), utuh atau per bagian",
            "description": "Byte mentah JPEG/PNG. Header opsional Content-Range: bytes "
                           "START-END/TOTAL; START harus sama dengan Upload-Offset. Metadata "
                           "(EXIF, teks PNG) dibuang dari salinan yang disimpan.",
            "security": [{"deviceToken": []}],
            "parameters": [sha_param, {
                "name": "Content-Range", "in": "header", "required": False,
                "schema": {"type": "string", "example": "bytes 0-65535/250000"}}],
            "requestBody": {"required": True, "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {
                "200": {"description": "Sudah lengkap sebelumnya (idempoten)",
                        **_json("AttachmentComplete")},
                "201": {"description": "Lengkap; hash cocok", **_json("AttachmentComplete")},
                "202": {"description": "Bagian diterima", "headers": offset,
                        **_json("AttachmentPartial")},
                "400": _error("Content-Range atau hash tidak sah"),
                "401": _error("Token tidak ada, tidak dikenal atau dicabut"),
                "403": _error("Bukan petugas"),
                "404": _error("Alamat tidak dikenal (hash berisi karakter yang tidak sah)"),
                "409": {"description": "START tidak sama dengan yang sudah diterima",
                        "headers": offset, **_json("Error")},
                "413": _error("Lebih besar dari ATTACHMENT_MAX_BYTES"),
                "415": _error("Bukan JPEG/PNG (dicek dari byte awal)"),
                "422": _error("hash_mismatch (data sebagian dibuang) atau invalid_image"),
                "429": _error("upload_quota_exceeded: unggahan yang belum selesai dari pengguna "
                              "ini melebihi ATTACHMENT_PARTIAL_QUOTA_BYTES, atau foto lengkap "
                              "yang belum dipakai data mana pun melebihi "
                              "ATTACHMENT_UNREFERENCED_QUOTA_BYTES; coba lagi nanti"),
            },
        },
        "head": {
            "summary": "Berapa byte foto ini yang sudah ada di server",
            "security": [{"deviceToken": []}],
            "parameters": [sha_param],
            "responses": {
                "200": {"description": "Ada (lengkap atau sebagian)", "headers": {
                    **offset, "Upload-Complete": {"description": "1 lengkap, 0 sebagian",
                                                  "schema": {"type": "integer"}}}},
                "400": {"description": "Hash bukan 64 digit heksadesimal"},
                "401": {"description": "Token tidak ada, tidak dikenal atau dicabut"},
                "403": {"description": "Bukan petugas"},
                "404": {"description": "Belum ada apa pun untuk hash ini"},
            },
        },
    })


@bp.get("/openapi.json")
def openapi_document():
    """Serve the generated OpenAPI document (built once per app)."""
    spec = current_app.extensions.get("cah_openapi")
    if spec is None:
        spec = current_app.extensions["cah_openapi"] = build_spec()
    return jsonify(spec)
