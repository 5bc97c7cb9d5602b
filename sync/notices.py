"""Conflict notices: the officer whose change lost a conflict, or whose registration looks
like a duplicate, is told so at the next pull.

A conflict (sync.models.Conflict) is the camat's to decide, but the officer whose delivery,
verification, rejection or edit was not kept must learn it too, or the phone keeps saying
"Sinkron berhasil" over a case that now shows the other officer's data. The notices travel in
`changes.notices` next to the residents they concern (the conflict's change of the case makes
the case travel), so they reach exactly the phones that pull that case, and nothing else.

Repeated pulls send the same notice again (same `id`): the phone keeps each id once and never
shows a dismissed one again. Nothing beyond the officer's scope is named: the other side is
"petugas lain" (or "Anda, dari HP lain" for the same officer on a second phone), and values
are those of a case the officer already holds.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import WITA, Conflict, as_utc
from .schemas import iso_utc
from .stages import RECIPIENT_LABELS, REJECTION_REASON_LABELS

# Older conflicts are not re-announced by a full re-pull (a new phone, a restored server).
NOTICE_DAYS = 30
NOTICE_KINDS = ("double_delivery", "verify_vs_reject", "concurrent_edit", "possible_duplicate")
# Why a registration was linked to another case (sync/handlers_registration.py): never who.
_DUPLICATE_REASONS = {
    "same_nik": "NIK-nya sama dengan data warga lain di kecamatan ini",
    "same_name_birth_date_desa": "nama, tanggal lahir dan desanya sama dengan data warga lain",
}

# Resident fields as the registration form labels them (pwa/js/labels.js FIELD_LABELS).
_FIELD_LABELS = {
    "desa_code": "Desa", "name": "Nama lengkap", "nik": "NIK", "kk_number": "Nomor KK",
    "sex": "Jenis kelamin", "birth_place": "Tempat lahir", "birth_date": "Tanggal lahir",
    "marital_status": "Status perkawinan", "address": "Alamat", "rt": "RT", "rw": "RW",
    "phone": "Nomor HP", "vulnerable_category": "Kategori rentan", "disability": "Disabilitas",
    "notes": "Catatan",
}


def notices_for(session: Session, user_id: int, resident_ids: Iterable[str],
                now: datetime) -> list[dict[str, Any]]:
    """Notices for `user_id` about conflicts on `resident_ids` that their change lost.

    Returns [{id: conflict id (int), kind, resident_id, created_at: ISO UTC, message:
    Indonesian sentence}], oldest first; [] when none. Read-only; never raises on odd details.
    """
    ids = sorted(set(resident_ids))
    if not ids:
        return []
    since = as_utc(now) - timedelta(days=NOTICE_DAYS)
    rows = session.scalars(
        select(Conflict)
        .where(Conflict.resident_id.in_(ids), Conflict.kind.in_(NOTICE_KINDS),
               Conflict.created_at >= since)
        .order_by(Conflict.id))
    notices = []
    for row in rows:
        message = _message(row.kind, row.details or {}, user_id)
        if message:
            notices.append({"id": row.id, "kind": row.kind, "resident_id": row.resident_id,
                            "created_at": iso_utc(as_utc(row.created_at)), "message": message})
    return notices


def _message(kind: str, details: dict[str, Any], user_id: int) -> str | None:
    """The sentence for the loser of the conflict (or the officer whose registration looks
    like a duplicate), or None when it is not `user_id`'s to hear."""
    if kind == "possible_duplicate":
        if details.get("user_id") != user_id:
            return None
        why = _DUPLICATE_REASONS.get(details.get("reason"), "mirip dengan data warga lain")
        return (f"Kemungkinan data ganda: warga ini {why}. Camat akan memeriksa dan "
                "memutuskan; jangan didaftarkan ulang.")
    if kind == "double_delivery":
        first, second = details.get("first") or {}, details.get("second") or {}
        if second.get("by") != user_id:
            return None
        return (f"Penyerahan Anda kalah: KTP sudah diserahkan oleh {_who(first, user_id)} "
                f"kepada {_recipient(first)} pada {_when(first.get('delivered_at'))}. "
                f"Penyerahan Anda ({_recipient(second)}) tidak dipakai; camat akan memeriksanya.")
    if kind == "verify_vs_reject":
        verification = details.get("verification") or {}
        rejection = details.get("rejection") or {}
        if details.get("kept") == "rejected" and verification.get("by") == user_id:
            reason = REJECTION_REASON_LABELS.get(rejection.get("reason"), "alasan lain")
            return (f"Verifikasi Anda kalah: warga ini sudah ditolak ({reason}) oleh "
                    f"{_who(rejection, user_id)} pada {_when(rejection.get('at'))}. "
                    "Status tetap Ditolak; camat akan memeriksanya.")
        if details.get("kept") == "verified" and rejection.get("by") == user_id:
            return (f"Penolakan Anda kalah: warga ini sudah diverifikasi oleh "
                    f"{_who(verification, user_id)} pada {_when(verification.get('at'))}. "
                    "Status tetap Terverifikasi; camat akan memeriksanya.")
        return None
    if kind == "concurrent_edit":
        overwritten = details.get("overwritten") or {}
        applied = details.get("applied") or {}
        if overwritten.get("user_id") != user_id:
            return None
        field = _FIELD_LABELS.get(details.get("field") or "", details.get("field") or "data")
        who = "Anda, dari HP lain" if applied.get("user_id") == user_id else "petugas lain"
        return (f"Perubahan Anda tertimpa: {field} diubah oleh {who} dari "
                f"\u201c{_value(overwritten.get('value'))}\u201d menjadi "
                f"\u201c{_value(applied.get('value'))}\u201d. Periksa data warga ini.")
    return None


def _who(part: dict[str, Any], user_id: int) -> str:
    return "Anda, dari HP lain" if part.get("by") == user_id else "petugas lain"


def _recipient(delivery: dict[str, Any]) -> str:
    if delivery.get("recipient") == "proxy":
        name = delivery.get("proxy_name")
        return f"wakil ({name})" if name else "wakil"
    return RECIPIENT_LABELS.get(delivery.get("recipient"), "pemilik").lower()


def _when(value: Any) -> str:
    """An ISO instant as '06/12/2026 10.15 WITA'; 'waktu tidak tercatat' when unreadable."""
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return as_utc(at).astimezone(WITA).strftime("%d/%m/%Y %H.%M WITA")
    except (TypeError, ValueError, OverflowError):
        return "waktu tidak tercatat"


def _value(value: Any) -> str:
    return "kosong" if value in (None, "") else str(value)
