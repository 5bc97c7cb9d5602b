"""Conflicts of the kecamatan: the list (open first) and one conflict with the camat's decision.

Both sides of a conflict are shown with who, when (phone clock and server clock, WITA) and
which phone. Deciding is the camat's job (docs/interfaces-pipeline.md); the operator sees the
same pages without the decision form.
"""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import case, func, select
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from sync.models import Client, Conflict, Resident, ResidentEvent, utcnow
from sync.office import OfficeError, resolve_conflict
from sync.resolutions import conflict_in_kecamatan
from sync.stages import (
    CONFLICT_DECISION_LABELS,
    CONFLICT_DECISIONS,
    CONFLICT_KIND_LABELS,
    CONFLICT_STATUS_LABELS,
    REJECTION_REASON_LABELS,
    SEX_LABELS,
    STAGE_LABELS,
    VERIFICATION_CHECK_LABELS,
)

from ..auth import audit, office_login_required
from ..bounds import PlainText
from ..extensions import db
from ..formatting import mask_nik, tanggal, wita
from ..models import User, Wilayah
from . import bp
from .common import FIELD_LABELS, gps_text, office_actor, paginate, parse_time, signature_markup
from .submissions import once

PAGE_SIZE = 50
MSG_CAMAT_ONLY = "Hanya camat yang dapat memutuskan konflik."
MSG_BAD_DECISION = "Pilih salah satu keputusan yang tersedia untuk konflik ini."
MSG_ALREADY = "Konflik ini sudah diselesaikan sebelumnya."
NOW_STANDS = " (berlaku sekarang)"
MERGED = " — digabungkan ke data lain"
DUPLICATE_REASON_LABELS = {"same_nik": "NIK sama",
                           "same_name_birth_date_desa": "Nama, tanggal lahir dan desa sama"}


class DecisionForm(FlaskForm):
    """The camat's decision (one button per allowed decision) and an optional note."""

    decision = StringField("Keputusan", validators=[DataRequired(MSG_BAD_DECISION),
                                                    Length(max=30)])
    note = TextAreaField("Catatan keputusan (opsional)", validators=[
        Length(max=1000, message="Catatan paling banyak 1000 karakter."),
        PlainText(multiline=True)])


def _conflict_or_404(conflict_id):
    # Another kecamatan's conflict, or one naming another kecamatan's resident, does not
    # exist for this user (sync.resolutions checks the same again when deciding).
    conflict = db.session.execute(select(Conflict).where(
        Conflict.id == conflict_id, conflict_in_kecamatan(g.user.kecamatan_code))).scalar()
    if conflict is None:
        abort(404)
    return conflict


@bp.get("/conflicts")
@office_login_required
def conflicts():
    """Every conflict of the kecamatan: open ones first, newest first within each group."""
    status = request.args.get("status", "")
    query = select(Conflict).where(conflict_in_kecamatan(g.user.kecamatan_code))
    if status in CONFLICT_STATUS_LABELS:
        query = query.where(Conflict.status == status)
    listed = paginate(query.order_by(case((Conflict.status == "open", 0), else_=1),
                                     Conflict.created_at.desc(), Conflict.id.desc()), PAGE_SIZE)
    open_count = db.session.execute(
        select(func.count()).select_from(Conflict).where(
            conflict_in_kecamatan(g.user.kecamatan_code), Conflict.status == "open")
    ).scalar_one()
    context = _Context()
    items = [context.describe(c) for c in listed.items]
    audit("view_conflict_list", count=len(items))
    db.session.commit()
    return render_template(
        "conflicts.html", items=items, total=listed.total, open_count=open_count,
        page=listed.page, pages=listed.pages, status=status,
        status_labels=CONFLICT_STATUS_LABELS,
        kecamatan=db.session.get(Wilayah, g.user.kecamatan_code))


@bp.route("/conflicts/<int:conflict_id>", methods=("GET", "POST"))
@office_login_required
@once
def conflict_detail(conflict_id):
    """One conflict, both sides, and (for the camat) the decision buttons."""
    conflict = _conflict_or_404(conflict_id)
    form = DecisionForm()
    choices = CONFLICT_DECISIONS.get(conflict.kind, ())
    status = 200
    if request.method == "POST":
        status = _decide(conflict, form, choices)
        if status is None:
            return redirect(url_for("web.conflict_detail", conflict_id=conflict.id))
    item = _Context().describe(conflict, full=True)
    audit("view_conflict", target=str(conflict.id))
    db.session.commit()
    return render_template(
        "conflict_detail.html", item=item, form=form,
        choices=[(code, CONFLICT_DECISION_LABELS.get(code, code)) for code in choices],
        may_decide=g.user.role == "camat" and conflict.status == "open",
        decision_labels=CONFLICT_DECISION_LABELS, sex_labels=SEX_LABELS), status


def _decide(conflict, form, choices):
    """Apply the camat's decision; None on success, else the HTTP status of the error page."""
    if g.user.role != "camat":
        flash(MSG_CAMAT_ONLY, "error")
        return 403
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return 400
    decision = form.decision.data
    if decision not in choices:
        form.decision.errors = [MSG_BAD_DECISION]
        flash(MSG_BAD_DECISION, "error")
        return 400
    if conflict.status != "open":
        flash(MSG_ALREADY, "error")
        return 409
    try:
        resolve_conflict(db.session, office_actor(), conflict_id=conflict.id, decision=decision,
                         note=(form.note.data or "").strip(), now=utcnow())
    except OfficeError as err:  # the form again, with the refusal as a message
        db.session.rollback()
        flash(err.message, "error")
        return err.http_status
    audit("resolve_conflict", target=str(conflict.id), decision=decision, kind=conflict.kind)
    db.session.commit()
    flash(f"Konflik diselesaikan: {CONFLICT_DECISION_LABELS.get(decision, decision)}.", "ok")
    return None


class _Context:
    """Looks up the residents, events, users and phones behind conflicts (one page's worth)."""

    def __init__(self):
        self.users, self.clients, self.desa = {}, {}, {}

    def user(self, user_id):
        if user_id is None:
            return None
        if user_id not in self.users:
            self.users[user_id] = db.session.get(User, user_id)
        return self.users[user_id]

    def client(self, client_id):
        if not client_id:
            return None
        if client_id not in self.clients:
            self.clients[client_id] = db.session.get(Client, client_id)
        return self.clients[client_id]

    def desa_name(self, code):
        if code not in self.desa:
            row = db.session.get(Wilayah, code)
            self.desa[code] = row.name if row else code
        return self.desa[code]

    def events(self, resident_id, kinds=None):
        query = select(ResidentEvent).where(ResidentEvent.resident_id == resident_id)
        if kinds:
            query = query.where(ResidentEvent.kind.in_(kinds))
        return db.session.execute(query.order_by(ResidentEvent.id)).scalars().all()

    def side(self, title, event=None, *, user_id=None, client_id=None, lines=()):
        """One side of a conflict: who, which phone, when, and what it says."""
        if event is not None:
            user_id = event.user_id if user_id is None else user_id
            client_id = event.client_id if client_id is None else client_id
        who = self.user(user_id)
        phone = self.client(client_id)
        if client_id == "office":
            phone_label = "Tampilan kantor"
        elif phone is not None:
            phone_label = phone.device_label or "HP tanpa nama"
        else:
            phone_label = "—"
        return {"title": title, "who": who.full_name if who else "—",
                "phone": phone_label,
                "device_at": event.device_at if event is not None else None,
                "server_at": event.server_at if event is not None else None,
                "lines": [line for line in lines if line]}

    def resident_summary(self, resident):
        if resident is None:
            return None
        registered = next(iter(self.events(resident.resident_id, ("registered", "listed"))),
                          None)
        stage = STAGE_LABELS.get(resident.stage, resident.stage)
        return {"r": resident, "desa": self.desa_name(resident.desa_code),
                "stage": stage + (MERGED if resident.merged_into else ""),
                "merged": resident.merged_into is not None,
                "registered": self.side("Didaftarkan", registered) if registered else None}

    def describe(self, conflict, full=False):
        """Everything the list and the detail page show about one conflict."""
        resident = db.session.get(Resident, conflict.resident_id)
        other = (db.session.get(Resident, conflict.other_resident_id)
                 if conflict.other_resident_id else None)
        details = conflict.details or {}
        builder = getattr(self, "_sides_" + conflict.kind, self._sides_generic)
        sides = builder(conflict, resident, other, details)
        resolution = conflict.resolution or None
        if resolution:
            by = self.user(resolution.get("by"))
            resolution = dict(resolution, by_name=by.full_name if by else "—",
                              at_dt=parse_time(resolution.get("at")),
                              label=CONFLICT_DECISION_LABELS.get(resolution.get("decision"),
                                                                 resolution.get("decision")))
        return {"c": conflict, "kind": CONFLICT_KIND_LABELS.get(conflict.kind, conflict.kind),
                "reason": DUPLICATE_REASON_LABELS.get(details.get("reason"))
                if conflict.kind == "possible_duplicate" else None,
                "status": CONFLICT_STATUS_LABELS.get(conflict.status, conflict.status),
                "resident": self.resident_summary(resident),
                "other": self.resident_summary(other), "sides": sides,
                "field": FIELD_LABELS.get(conflict.field or details.get("field"),
                                          conflict.field or details.get("field")),
                "resolution": resolution}

    # -- one builder per kind: a list of two sides --------------------------------------

    def _sides_concurrent_edit(self, conflict, resident, _other, details):
        field = conflict.field or details.get("field")
        label = FIELD_LABELS.get(field, field)
        overwritten = details.get("overwritten") or {}
        applied = details.get("applied") or {}
        updates = self.events(conflict.resident_id, ("updated", "registered"))

        def find(stamp):
            version = stamp.get("version")
            for event in updates:
                payload = event.payload or {}
                v = 1 if event.kind == "registered" else payload.get("version")
                if v == version and event.client_id == stamp.get("client_id"):
                    return event
            return None

        if _decision(conflict) == "restore_previous":
            titles = ("Nilai sebelumnya" + NOW_STANDS + ", dikembalikan camat",
                      "Nilai yang dibatalkan camat")
        else:
            titles = ("Nilai yang tertimpa", "Nilai yang berlaku sekarang")
        return [
            self.side(titles[0], find(overwritten),
                      user_id=overwritten.get("user_id"), client_id=overwritten.get("client_id"),
                      lines=[f"{label}: {_text(overwritten.get('value'))}"]),
            self.side(titles[1], find(applied),
                      user_id=applied.get("user_id"), client_id=applied.get("client_id"),
                      lines=[f"{label}: {_text(applied.get('value'))}",
                             f"Diubah dari data versi {applied.get('base_version')}"
                             if applied.get("base_version") else ""]),
        ]

    def _sides_possible_duplicate(self, conflict, resident, other, details):
        sides = []
        for title, person in (("Data yang sudah ada", other), ("Data baru", resident)):
            if person is None:
                continue
            first = next(iter(self.events(person.resident_id, ("registered", "listed"))), None)
            sides.append(self.side(title, first, lines=[
                person.name, f"Desa {self.desa_name(person.desa_code)}",
                f"Lahir {tanggal(person.birth_date)}" if person.birth_date else "",
                f"NIK {mask_nik(person.nik)}" if person.nik else "Tanpa NIK"]))
        return sides

    def stamped_side(self, resident_id, title, stamp, lines=()):
        """A side described by a stamp {by, client_id, mutation_id, at} kept in the details."""
        stamp = stamp or {}
        event = None
        if stamp.get("client_id") and stamp.get("mutation_id") is not None:
            event = db.session.execute(
                select(ResidentEvent).where(ResidentEvent.resident_id == resident_id,
                                            ResidentEvent.client_id == stamp["client_id"],
                                            ResidentEvent.mutation_id == stamp["mutation_id"])
                .limit(1)).scalar_one_or_none()
        side = self.side(title, event, user_id=stamp.get("by"), client_id=stamp.get("client_id"),
                         lines=lines)
        if event is None and stamp.get("at"):
            side["device_at"] = parse_time(stamp["at"])
        return side

    def _sides_verify_vs_reject(self, conflict, resident, _other, details):
        verification = details.get("verification") or {}
        rejection = details.get("rejection") or {}
        # What stands now: the camat's decision, else what the engine kept when it arose.
        kept = {"keep_verified": "verified", "keep_rejected": "rejected"}.get(
            _decision(conflict), details.get("kept"))
        checks = [VERIFICATION_CHECK_LABELS.get(k, k)
                  for k, v in sorted((verification.get("checks") or {}).items()) if v]
        reason = REJECTION_REASON_LABELS.get(rejection.get("reason"), rejection.get("reason"))
        return [
            self.stamped_side(conflict.resident_id, "Diverifikasi" + (
                NOW_STANDS if kept == "verified" else ""), verification, lines=[
                    "Pemeriksaan: " + ("; ".join(checks) if checks else "tidak ada yang dicentang"),
                    "Foto KK: ada" if verification.get("kk_photo") else "Foto KK: tidak ada",
                    f"Catatan: {verification['notes']}" if verification.get("notes") else ""]),
            self.stamped_side(conflict.resident_id, "Ditolak" + (
                NOW_STANDS if kept == "rejected" else ""), rejection, lines=[
                    f"Alasan: {reason}" if reason else "",
                    f"Keterangan: {rejection['reason_text']}" if rejection.get("reason_text")
                    else ""]),
        ]

    def _sides_double_delivery(self, conflict, resident, _other, details):
        sides = []
        current = "second" if _decision(conflict) == "keep_second" else "first"
        for key, title in (("first", "Penyerahan pertama"), ("second", "Penyerahan kedua")):
            title += NOW_STANDS if key == current else ""
            delivery = details.get(key) or {}
            if not delivery:
                continue
            if delivery.get("recipient") == "proxy":
                who = (f"Diwakilkan kepada {delivery.get('proxy_name') or '—'} "
                       f"({delivery.get('proxy_relation') or '—'})")
            else:
                who = "Diterima sendiri oleh pemilik KTP"
            gps = gps_text(delivery.get("gps"))
            side = self.stamped_side(conflict.resident_id, title, delivery, lines=[
                who, f"Waktu penyerahan: {_wita_text(delivery.get('delivered_at'))}",
                f"Lokasi: {gps}" if gps else "Lokasi: tidak ada",
                f"Kode bukti: {delivery.get('proof_hash', '')[:16]}…"
                if delivery.get("proof_hash") else ""])
            side["svg"] = signature_markup(delivery.get("signature_data"))
            side["photo"] = delivery.get("photo")
            sides.append(side)
        return sides

    def _sides_generic(self, conflict, resident, _other, details):
        return [self.side("Rincian", lines=[f"{k}: {_text(v)}" for k, v in sorted(details.items())
                                           if not isinstance(v, (dict, list))])]


def _decision(conflict):
    """The camat's decision on a resolved conflict ("keep_rejected" …), else None."""
    return (conflict.resolution or {}).get("decision") if conflict.status != "open" else None


def _wita_text(text):
    moment = parse_time(text)
    return wita(moment) if moment else "—"


def _text(value):
    if value is None or value == "":
        return "(kosong)"
    return str(value)
