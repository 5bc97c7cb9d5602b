"""Recovery of a phone's "Unduh data yang belum terkirim" file in the office (issue #11 §6).

A lost or broken phone's unsent mutations reach the server through the office instead of a
sync: the operator uploads the file, and its outbox is applied by the sync engine itself
(process_sync) under the phone's ORIGINAL client id and mutation ids, as the phone's officer.
So the usual rules hold and the file counts exactly once: a second upload of it, or a later
sync of the same phone, answers "duplicate" for every mutation already applied.

This module reads the file (format below, docs/phone-app.md "The unsent-data file") and applies
the mutations; the photos it carries are decoded and checked here but stored by the caller
(server/attachments.py owns photo storage). Nothing here commits: on RecoveryError the caller
rolls back and nothing was changed.

The file (JSON object):
  format "cah-belum-terkirim", format_version 2 (a file without `format` is version 1, from
  an app that did not carry photos yet); client_id (the phone's), user (its officer's
  username), outbox [{id, name, at, args, origin?} …] (the phone's queued mutations),
  perlu_perbaikan [...] (rejected mutations waiting for a fix on the phone: not applied),
  foto_belum_terkirim [{sha256, mime, size, kind, data?} …]: data is the photo's bytes in
  base64 (version 2).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .context import SyncActor
from .engine import process_sync
from .errors import EnvelopeError, MutationGap
from .models import Client, as_utc
from .schemas import MAX_MUTATIONS, PROTOCOL_VERSION, iso_utc

FORMAT = "cah-belum-terkirim"
FORMAT_VERSION = 2
KNOWN_VERSIONS = (1, 2)
APP_VERSION = "pemulihan-kantor"  # what the engine's envelope needs; never kept (see apply)
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

MSG_NOT_JSON = "Berkas ini bukan berkas data HP (bukan JSON yang sah)."
MSG_NOT_UNSENT = ("Berkas ini bukan hasil \u201cUnduh data yang belum terkirim\u201d dari "
                  "aplikasi HP.")
MSG_VERSION = ("Versi berkas {version} tidak dikenal server ini. Perbarui server atau unduh "
               "ulang dari aplikasi HP.")
MSG_NO_CLIENT = "Berkas ini tidak memuat kode perangkat HP (client_id)."
MSG_BAD_OUTBOX = "Daftar perubahan dalam berkas ini rusak (outbox)."
MSG_BAD_PHOTO = "Foto ke-{n} dalam berkas ini rusak: {why}."
MSG_EMPTY = "Berkas ini tidak memuat data yang belum terkirim."
MSG_GAP = ("Berkas ini tidak lengkap: perubahan sebelum nomor {first} dari HP ini belum "
           "pernah diterima server. Unduh ulang berkas dari HP bila masih bisa.")
MSG_ENVELOPE = "Isi berkas tidak dapat diproses: {message}"
MSG_SKIPPED = "Tidak diproses: nomor perubahan sebelumnya tidak ada dalam berkas."

MUTATION_LABELS = {
    "register_resident": "Pendaftaran warga", "update_resident": "Perubahan data warga",
    "verify_resident": "Verifikasi", "reject_resident": "Penolakan",
    "pick_up": "Penjemputan", "cancel_pickup": "Pembatalan penjemputan",
    "record_done": "Perekaman berhasil", "record_failed": "Perekaman gagal",
    "handover_batch": "Serah terima ke Disdukcapil", "record_collection": "Pengambilan KTP",
    "deliver_card": "Penyerahan KTP", "correct_identity": "Koreksi data identitas",
}


class RecoveryError(Exception):
    """The file cannot be applied (a 4xx for the office): an Indonesian message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Photo:
    """One photo carried by the file, its bytes checked against its sha256."""

    sha256: str
    mime: str
    data: bytes


@dataclass
class UnsentFile:
    """A parsed unsent-data file: whose it is, its mutations (wire form) and photos."""

    version: int
    client_id: str
    username: str | None
    mutations: list[dict[str, Any]]
    photos: list[Photo] = field(default_factory=list)
    missing_photos: int = 0  # listed in the file without bytes (version 1)
    needs_fix: int = 0  # perlu_perbaikan records: rejected earlier, fixed only on the phone


def read_unsent_file(raw: bytes) -> UnsentFile:
    """Parse and check an uploaded file; raises RecoveryError (nothing applied yet).

    raw: the file's bytes (the caller bounds their size). Mutations are checked by the
    engine's envelope schema when applied; here only their shape as a list of objects.
    """
    try:
        body = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RecoveryError(MSG_NOT_JSON) from None
    if not isinstance(body, dict) or not isinstance(body.get("outbox"), list):
        raise RecoveryError(MSG_NOT_UNSENT)
    version = _version(body)
    client_id = _client_id(body.get("client_id"))
    outbox = body["outbox"]
    if not all(isinstance(e, dict) and type(e.get("id")) is int for e in outbox):
        raise RecoveryError(MSG_BAD_OUTBOX)
    mutations = [_wire(e) for e in sorted(outbox, key=lambda e: e["id"])]
    listed = body.get("foto_belum_terkirim") or []
    if not isinstance(listed, list):
        raise RecoveryError(MSG_BAD_PHOTO.format(n=1, why="daftar foto bukan daftar"))
    photos, missing = _photos(listed, version)
    needs_fix = body.get("perlu_perbaikan")
    username = body.get("user")
    result = UnsentFile(version=version, client_id=client_id,
                        username=username if isinstance(username, str) else None,
                        mutations=mutations, photos=photos, missing_photos=missing,
                        needs_fix=len(needs_fix) if isinstance(needs_fix, list) else 0)
    if not mutations and not photos:
        raise RecoveryError(MSG_EMPTY)
    return result


def _version(body: dict) -> int:
    if "format" not in body:
        return 1
    version = body.get("format_version")
    if body.get("format") != FORMAT:
        raise RecoveryError(MSG_NOT_UNSENT)
    if type(version) is not int or version not in KNOWN_VERSIONS:
        raise RecoveryError(MSG_VERSION.format(version=str(version)[:20]))
    return version


def _client_id(value: Any) -> str:
    # Absent, empty or not a uuid: the file names no device (never "unknown device").
    try:
        if value:
            return str(uuid.UUID(str(value)))
    except ValueError:
        pass
    raise RecoveryError(MSG_NO_CLIENT)


def _wire(entry: dict) -> dict[str, Any]:
    # Only what the phone would send (outbox-rules.js wireMutation): local keys stay out.
    wire = {key: entry.get(key) for key in ("id", "name", "at", "args")}
    if entry.get("origin") is not None:
        wire["origin"] = entry["origin"]
    return wire


def _photos(listed: list, version: int) -> tuple[list[Photo], int]:
    photos: dict[str, Photo] = {}
    missing = 0
    for n, item in enumerate(listed, start=1):
        if not isinstance(item, dict):
            raise RecoveryError(MSG_BAD_PHOTO.format(n=n, why="bukan objek"))
        sha = str(item.get("sha256") or "").lower()
        if not _SHA256.match(sha):
            raise RecoveryError(MSG_BAD_PHOTO.format(n=n, why="kode sha256 tidak sah"))
        if item.get("data") is None and version == 1:
            missing += 1
            continue
        mime = item.get("mime")
        if mime not in PHOTO_TYPES:
            raise RecoveryError(MSG_BAD_PHOTO.format(n=n, why="bukan JPEG atau PNG"))
        try:
            data = base64.b64decode(str(item.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise RecoveryError(MSG_BAD_PHOTO.format(n=n, why="isi base64 rusak")) from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise RecoveryError(MSG_BAD_PHOTO.format(n=n, why="isi tidak cocok dengan sha256"))
        photos[sha] = Photo(sha256=sha, mime=mime, data=data)
    return list(photos.values()), missing


_KEPT = ("last_sync_at", "last_sent_at", "clock_skew_seconds", "clock_skew_flagged",
         "app_version", "scope_key")


def apply_unsent(session: Session, *, actor: SyncActor, client: Client, mutations: list[dict],
                 now: datetime) -> list[dict[str, Any]]:
    """Apply the file's mutations through process_sync as `client` (the phone's own client,
    checked by the caller to belong to `actor`); returns the engine's results in id order
    ({id, status: applied|duplicate|rejected|skipped, code?, message?}).

    The client's clock, app version and pull scope are left as the phone's last sync set
    them: an office upload says nothing about the phone. Raises RecoveryError for a file
    the engine refuses as a whole (a gap before its first mutation, an unknown mutation name,
    a malformed envelope); flushes, never commits.
    """
    kept = {name: getattr(client, name) for name in _KEPT}
    results: list[dict[str, Any]] = []
    for start in range(0, len(mutations), MAX_MUTATIONS):
        body = {"protocol": PROTOCOL_VERSION, "client_id": client.client_id,
                "app_version": APP_VERSION, "sent_at": iso_utc(as_utc(now)),
                "cursor": None, "mutations": mutations[start:start + MAX_MUTATIONS]}
        try:
            answer = process_sync(session, actor=actor, client=client, body=body, now=now,
                                  page_size=1)
        except MutationGap as gap:
            if results:
                break  # what came before the gap stays applied; the rest is skipped below
            first = min((m["id"] for m in mutations if m["id"] > gap.last_mutation_id),
                        default=0)
            raise RecoveryError(MSG_GAP.format(first=first)) from None
        except EnvelopeError as err:
            details = "; ".join(str(v) for v in (err.fields or {}).values())[:300]
            raise RecoveryError(MSG_ENVELOPE.format(message=details or err.message)) from None
        results.extend(answer["results"])
    for name, value in kept.items():
        setattr(client, name, value)
    session.flush()
    # The engine stops at a gap inside the list (after applying what came before it).
    answered = {r["id"] for r in results}
    results.extend({"id": m["id"], "status": "skipped", "message": MSG_SKIPPED}
                   for m in mutations if m["id"] not in answered)
    return results
