"""Helpers shared by the API routes: bearer-token lookup and safe body decoding."""
import hashlib
import json
import zlib

from flask import current_app, request
from sqlalchemy import select

from sync.models import Client

from ..errors import ApiError
from ..extensions import db
from ..models import User

# The deepest real body (envelope → mutations → args → signature/gps) nests 5 levels; deeper
# JSON only serves to exhaust the recursion of the decoder, marshmallow or the JSON column.
MAX_JSON_DEPTH = 32


def hash_token(token):
    """SHA-256 of a device token: the only form the server keeps."""
    return hashlib.sha256(token.encode()).hexdigest()


def authenticated_client():
    """The (client, user) of the request's bearer token, or a 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Token perangkat tidak ada. Silakan login ulang.")
    client = db.session.execute(
        select(Client).where(Client.token_hash == hash_token(token.strip()))
    ).scalar_one_or_none()
    if client is None:
        raise ApiError(401, "unauthorized", "Token perangkat tidak dikenal. Silakan login ulang.")
    if client.revoked_at is not None:
        raise ApiError(401, "token_revoked",
                       "Perangkat ini sudah dicabut aksesnya. Hubungi operator kecamatan.")
    user = db.session.get(User, client.user_id)
    if user is None or not user.active:
        raise ApiError(401, "token_revoked", "Akun ini tidak aktif. Hubungi operator kecamatan.")
    if user.role != "petugas":
        raise ApiError(403, "wrong_role", "Aplikasi HP hanya untuk petugas lapangan.")
    return client, user


def json_body(max_bytes=None):
    """The request's JSON object (a dict), gunzipped when sent with Content-Encoding: gzip.

    max_bytes: the limit after gunzip (default SYNC_MAX_BODY_BYTES). Raises ApiError 400
    malformed_json (not UTF-8 JSON, not an object, nested deeper than MAX_JSON_DEPTH),
    413 payload_too_large, 415 for another Content-Encoding.
    """
    max_bytes = max_bytes or current_app.config["SYNC_MAX_BODY_BYTES"]
    raw = request.get_data(cache=False)
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding == "gzip":
        raw = _gunzip(raw, max_bytes)
    elif encoding not in ("", "identity"):
        raise ApiError(415, "unsupported_media_type",
                       "Pengodean data tidak didukung (gunakan gzip atau tanpa pengodean).")
    if len(raw) > max_bytes:
        raise ApiError(413, "payload_too_large",
                       "Data yang dikirim terlalu besar. Kirim dalam beberapa bagian.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "malformed_json", "Data yang dikirim bukan JSON yang sah.") from None
    if json_depth(body) > MAX_JSON_DEPTH:
        raise ApiError(400, "malformed_json", "Data JSON bersarang terlalu dalam "
                       f"(paling banyak {MAX_JSON_DEPTH} tingkat).")
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", "Data yang dikirim harus berupa objek JSON.")
    return body


def json_depth(value):
    """How deeply lists and objects nest in a decoded JSON value (a scalar is 0).

    Iterative: walking a hostile document must not itself recurse.
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_JSON_DEPTH:
            return deepest  # no need to walk the rest
        stack.extend((child, level + 1) for child in children)
    return deepest


def _gunzip(raw, max_bytes):
    # Bounded inflate: a tiny gzip bomb must not exhaust memory.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, max_bytes + 1)
    except zlib.error:
        raise ApiError(400, "malformed_json", "Data gzip rusak atau terpotong.") from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise ApiError(413, "payload_too_large",
                       "Data yang dikirim terlalu besar. Kirim dalam beberapa bagian.")
    if not inflater.eof:
        raise ApiError(400, "malformed_json", "Data gzip rusak atau terpotong.")
    return out
