"""The audit log: who viewed, exported or changed what, and when (PDP law, DESIGN §6)."""
from datetime import datetime, time, timedelta

from flask import g, render_template, request, url_for
from sqlalchemy import select

from sync.models import WITA, Batch, Client, Resident
from sync.stages import CONFLICT_DECISION_LABELS, CONFLICT_KIND_LABELS, STAGE_LABELS

from ..auth import audit, office_login_required
from ..bounds import date_in_range, id_value
from ..extensions import db
from ..formatting import tanggal_panjang
from ..models import ROLE_LABELS, AuditEntry, User
from ..operations import Operation
from . import bp
from .common import FIELD_LABELS, MSG_DAY, paginate, parse_day

PAGE_SIZE = 100
ACTION_LABELS = {
    "login": "Masuk",
    "login_failed": "Gagal masuk",
    "view_dashboard": "Melihat dasbor",
    "view_resident_list": "Melihat daftar penduduk",
    "view_resident": "Melihat data penduduk",
    "view_report": "Melihat laporan",
    "view_audit": "Melihat log audit",
    "export_report": "Mengunduh laporan",
    "export_residents": "Mengunduh daftar penduduk",
    "create_operation": "Membuat aksi",
    "update_operation": "Mengubah aksi",
    "assign_officer": "Menugaskan petugas",
    "unassign_officer": "Mencabut penugasan",
    "import_residents": "Mengimpor daftar warga",
    "import_rejected": "Impor ditolak",
    "create_user": "Membuat akun",
    "update_user": "Mengubah akun",
    "reset_password": "Mengganti kata sandi",
    "deactivate_user": "Menonaktifkan akun",
    "activate_user": "Mengaktifkan akun",
    "revoke_device": "Mencabut perangkat",
    "create_batch": "Membuat berkas serah terima",
    "record_collection": "Mencatat pengambilan KTP",
    "resolve_conflict": "Menyelesaikan konflik",
    "reopen_case": "Membuka kembali kasus",
    "correct_identity": "Mengoreksi data identitas",
    "record_at_office": "Mencatat perekaman di kantor",
    "recover_phone_data": "Memulihkan data HP",
    "recovery_rejected": "Pemulihan data HP ditolak",
    "view_attachment": "Melihat lampiran",
    "view_conflict_list": "Melihat daftar konflik",
    "view_conflict": "Melihat konflik",
    "view_batch_list": "Melihat daftar serah terima",
    "view_batch": "Melihat berkas serah terima",
    "view_batch_manifest": "Melihat berita acara",
    # Disdukcapil's actions on a batch of this kecamatan (server/registry/batches.py)
    "registry_view_batch": "Melihat berkas (Disdukcapil)",
    "registry_view_manifest": "Melihat berita acara (Disdukcapil)",
    "registry_receipt": "Menerima berkas (Disdukcapil)",
    "registry_marks": "Menandai cetak KTP (Disdukcapil)",
}
DETAIL_LABELS = {"count": "jumlah", "rows": "baris", "errors": "kesalahan", "format": "format",
                 "desa": "desa", "role": "peran", "operation": "aksi", "user": "akun",
                 "reason": "alasan", "devices_revoked": "perangkat dicabut",
                 "target_total": "target", "active": "aktif", "filters": "saringan",
                 "part": "bagian", "kind": "jenis", "decision": "keputusan",
                 "channel": "saluran", "username_hmac": "sidik nama pengguna",
                 "sessions_ended": "sesi diakhiri", "fields": "kolom",
                 "applied": "diterapkan", "duplicate": "sudah pernah diterima",
                 "rejected": "ditolak", "photos": "foto disimpan", "done": "berhasil",
                 "failed": "gagal", "day": "tanggal", "stage": "tahap", "officer": "petugas",
                 "vulnerable": "rentan", "status": "kode jawaban", "received": "diterima",
                 "missing": "tidak ada dalam berkas", "changed": "diubah",
                 "ready": "siap diambil", "not_printed": "belum dicetak", "bulk": "sekaligus"}
# Codes stored in the details, shown in words (keyed by the detail's name; inside a list or a
# dict of filters too): "keputusan: Gabungkan data", not "decision: merge".
VALUE_LABELS = {
    "decision": CONFLICT_DECISION_LABELS, "kind": CONFLICT_KIND_LABELS, "role": ROLE_LABELS,
    "stage": STAGE_LABELS, "fields": FIELD_LABELS,
    "channel": {"web": "kantor", "device": "HP"},
    "reason": {"inactive": "akun nonaktif", "office": "dicabut dari kantor",
               "role_changed": "peran diubah", "password_reset": "kata sandi diganti",
               "user_deactivated": "akun dinonaktifkan"},
    "vulnerable": {"any": "semua kategori"},
}


def _value_text(key, value):
    labels = VALUE_LABELS.get(key, {})
    return labels.get(value, value) if isinstance(value, str) else value


def _details_text(details):
    if not details:
        return ""
    parts = []
    for key, value in details.items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(_value_text(key, v)) for v in value) or "—"
        elif isinstance(value, dict):
            value = ", ".join(f"{DETAIL_LABELS.get(k, k)}={_value_text(k, v)}"
                              for k, v in value.items()) or "—"
        elif isinstance(value, str):
            value = _value_text(key, value)
        elif value is True:
            value = "ya"
        elif value is False:
            value = "tidak"
        parts.append(f"{DETAIL_LABELS.get(key, key)}: {value}")
    return "; ".join(parts)


def _targets(entries, users):
    """{target: (text, link or None)} for the targets on the page."""
    out = {}
    for entry in entries:
        t = entry.target
        if not t or t in out:
            continue
        kind, sep, ref = t.partition(":")
        text, link = t, None
        ref_id = id_value(ref)
        if kind == "user" and ref_id is not None:
            user = users.get(ref_id) or db.session.get(User, ref_id)
            text = f"Akun: {user.username}" if user else t
        elif kind == "operation" and ref_id is not None:
            op = db.session.get(Operation, ref_id)
            text = f"Aksi: {op.name}" if op else t
        elif kind == "client":
            client = db.session.get(Client, ref[:36])
            text = f"Perangkat: {client.device_label or 'HP'}" if client else "Perangkat"
        elif kind == "batch":  # Disdukcapil's entries: "batch:<id>"
            batch = db.session.get(Batch, ref[:36])
            if batch is not None and batch.kecamatan_code == g.user.kecamatan_code:
                text = f"Serah terima no. {batch.number}"
        elif not sep and t.isdigit() and "conflict" in entry.action:
            text = f"Konflik #{t}"
        elif not sep and len(t) == 36:
            resident = db.session.get(Resident, t)
            batch = db.session.get(Batch, t) if resident is None else None
            if resident is not None and resident.desa_code.startswith(g.user.kecamatan_code):
                text, link = f"Penduduk: {resident.name}", url_for("web.resident_detail", resident_id=t)
            elif batch is not None and batch.kecamatan_code == g.user.kecamatan_code:
                text = f"Serah terima no. {batch.number}"
        out[t] = (text, link)
    return out


@bp.get("/audit")
@office_login_required
def audit_log():
    """The kecamatan's audit entries, newest first, filtered by user, action and dates."""
    users = db.session.execute(select(User).where(User.kecamatan_code == g.user.kecamatan_code)
                               .order_by(User.full_name)).scalars().all()
    by_id = {u.id: u for u in users}
    query = select(AuditEntry).where(AuditEntry.kecamatan_code == g.user.kecamatan_code)
    user_id = request.args.get("user", type=int)
    if user_id in by_id:
        query = query.where(AuditEntry.user_id == user_id)
    action = request.args.get("action", "")
    if action in ACTION_LABELS:
        query = query.where(AuditEntry.action == action)
    typed = {key: request.args.get(key, "").strip()[:20] for key in ("from", "to")}
    days = {key: parse_day(text) for key, text in typed.items()}
    days = {key: day if date_in_range(day) else None for key, day in days.items()}
    start, end = days["from"], days["to"]
    if start:  # dates are WITA days
        query = query.where(AuditEntry.at >= datetime.combine(start, time(), WITA))
    if end:
        query = query.where(AuditEntry.at < datetime.combine(end + timedelta(days=1), time(), WITA))
    listed = paginate(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()), PAGE_SIZE)
    entries = listed.items
    # Disdukcapil users act on this kecamatan's batches from the kabupaten: named too, though
    # not in the user filter (they are no user of the kecamatan).
    others = {e.user_id for e in entries if e.user_id is not None} - set(by_id)
    shown = dict(by_id)
    if others:
        shown.update({u.id: u for u in db.session.execute(select(User).where(
            User.id.in_(others), User.role == "disdukcapil")).scalars()})
    targets = _targets(entries, by_id)
    audit("view_audit", count=len(entries))
    db.session.commit()
    filters = {"user": str(user_id) if user_id in by_id else "",
               "action": action if action in ACTION_LABELS else "",
               **{key: day.strftime("%d/%m/%Y") if day else typed[key]
                  for key, day in days.items()}}
    # the dates in words beside the filters; an unreadable one is said so (and not applied)
    filter_words = {key: tanggal_panjang(day) if day else MSG_DAY if typed[key] else ""
                    for key, day in days.items()}
    return render_template(
        "audit.html", entries=entries, users=users, by_id=shown, labels=ACTION_LABELS,
        details_text=_details_text, targets=targets, total=listed.total, page=listed.page,
        pages=listed.pages, filters=filters, filter_words=filter_words)
