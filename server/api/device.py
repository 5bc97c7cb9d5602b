"""Device login (once per install, online) and device logout."""
import secrets
import uuid

from flask import jsonify
from marshmallow import ValidationError

from sync.identity import database_id
from sync.models import Client, utcnow

from .. import security
from ..auth import LoginFailed, check_login
from ..errors import ApiError
from ..extensions import db
from ..models import Wilayah
from ..operations import operations_payload
from . import bp
from .common import authenticated_client, hash_token, json_body
from .schemas import DeviceLoginSchema, place


def assignment_payload(user):
    """The officer's kecamatan and assigned desa, as the phone stores them."""
    own = user.desa_codes  # only desa of the officer's own kecamatan
    desa = sorted((a.desa for a in user.assignments if a.desa_code in own), key=lambda w: w.code)
    kecamatan = db.session.get(Wilayah, user.kecamatan_code)
    return place(kecamatan), [place(d) for d in desa]


@bp.post("/auth/device")
def device_login():
    """Exchange username and password for a device token and a new client id."""
    body = json_body(max_bytes=16 * 1024)
    try:
        data = DeviceLoginSchema().load(body)
    except ValidationError as err:
        raise ApiError(400, "validation_error", "Isian login tidak lengkap.",
                       _flatten(err.messages)) from None
    try:
        user = check_login(data["username"], data["password"], "device")
    except security.Throttled as refused:
        raise ApiError(429, "rate_limited", "Terlalu banyak percobaan login yang gagal. "
                       + security.wait_text(refused.retry_after)) from None
    except LoginFailed:
        raise ApiError(401, "unauthorized", "Nama pengguna atau kata sandi salah.") from None
    if user.role != "petugas":
        raise ApiError(403, "wrong_role",
                       "Aplikasi HP hanya untuk petugas lapangan. Camat, operator dan "
                       "Disdukcapil memakai tampilan kantor di /login.")
    token = secrets.token_urlsafe(32)
    client = Client(client_id=str(uuid.uuid4()), user_id=user.id,
                    device_label=data["device_label"].strip()[:80],
                    token_hash=hash_token(token), created_at=utcnow(), last_mutation_id=0)
    db.session.add(client)
    kecamatan, desa = assignment_payload(user)
    db.session.commit()
    return jsonify({
        "token": token, "client_id": client.client_id,
        "user": {"id": user.id, "username": user.username, "full_name": user.full_name,
                 "role": user.role},
        "kecamatan": kecamatan, "desa": desa,
        "operations": operations_payload(db.session, user.desa_codes),
        # A phone logging in again compares it with the one it knew: a restored server
        # lacks what the phone sent since the backup, and the phone resends its log.
        "database_id": database_id(db.session),
    }), 201


@bp.delete("/auth/device")
def device_logout():
    """Revoke the caller's own device token."""
    client, _user = authenticated_client()
    client.revoked_at = utcnow()
    db.session.commit()
    return "", 204


def _flatten(messages):
    """marshmallow's {field: [msg, …]} as {field: "msg"}."""
    out = {}
    for key, value in messages.items():
        if isinstance(value, list):
            out[key] = " ".join(str(v) for v in value)
        elif isinstance(value, dict):
            out[key] = "; ".join(f"{k}: {v}" for k, v in _flatten(value).items())
        else:
            out[key] = str(value)
    return out
