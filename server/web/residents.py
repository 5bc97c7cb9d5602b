"""Residents of the kecamatan: list with filters, detail with timeline."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from sync.models import Batch, BatchItem, Client, Resident, ResidentEvent, utcnow
from sync.office import reopen_case
from sync.records import in_kecamatan
from sync.stages import (
    COLLECTION_OUTCOME_LABELS,
    DISABILITY_LABELS,
    EVENT_KIND_LABELS,
    MARITAL_STATUS_LABELS,
    NOT_PRINTED_REASON_LABELS,
    RECIPIENT_LABELS,
    RECORD_FAILED_REASON_LABELS,
    REJECTION_REASON_LABELS,
    SEX_LABELS,
    STAGE_LABELS,
    STAGES,
    VERIFICATION_CHECK_LABELS,
    VULNERABLE_CATEGORY_LABELS,
)
from sync.validators import message as check_message

from ..attachment_models import Attachment
from ..auth import audit, office_login_required
from ..bounds import MSG_BAD_CHARACTER, bad_character
from ..extensions import db
from ..models import User, Wilayah
from ..operations import filter_residents, operations_of, petugas_of
from ..wilayah import desa_of
from . import bp
from .common import (
    FIELD_LABELS,
    gps_text,
    office_actor,
    own_resident_or_404,
    paginate,
    parse_time,
    signature_markup,
)
from .identity_form import correction_form
from .reports import resident_filters
from .submissions import once

PAGE_SIZE = 50
LABELS = {"sex": SEX_LABELS, "marital": MARITAL_STATUS_LABELS,
          "vulnerable": VULNERABLE_CATEGORY_LABELS, "disability": DISABILITY_LABELS}


def _in_kecamatan(query):
    """Scope a Resident query to the logged-in user's kecamatan."""
    return query.where(Resident.desa_code.like(g.user.kecamatan_code + "%"))


@bp.get("/residents")
@office_login_required
def residents():
    """The residents of the kecamatan, filtered by desa, stage, officer, vulnerable category,
    operation and name (server.operations.filter_residents, shared with the export)."""
    desa_list = desa_of(db.session, g.user.kecamatan_code)
    desa_names = {d.code: d.name for d in desa_list}
    filters = resident_filters()  # desa, stage, officer, vulnerable, operation, q
    officers = petugas_of(db.session, g.user.kecamatan_code, active_only=False)
    operations = operations_of(db.session, g.user.kecamatan_code)
    valid = {"desa": set(desa_names), "stage": set(STAGE_LABELS),
             "officer": {str(u.id) for u in officers},
             "vulnerable": set(VULNERABLE_CATEGORY_LABELS) | {"any"},
             "operation": {str(o.id) for o in operations}}
    filters = {k: (v if k == "q" or v in valid[k] else "") for k, v in filters.items()}

    query = filter_residents(select(Resident), g.user.kecamatan_code, filters, set(desa_names))
    listed = paginate(query.order_by(Resident.updated_at.desc(), Resident.resident_id),
                      PAGE_SIZE)

    counts = dict(db.session.execute(
        _in_kecamatan(select(Resident.stage, func.count())).where(Resident.merged_into.is_(None))
        .group_by(Resident.stage)).all())
    audit("view_resident_list", count=len(listed.items))
    db.session.commit()
    return render_template(
        "residents.html", residents=listed.items, total=listed.total, page=listed.page,
        pages=listed.pages, desa_list=desa_list,
        desa_names=desa_names, stages=STAGES, stage_labels=STAGE_LABELS, counts=counts,
        filters=filters, active_filters={k: v for k, v in filters.items() if v},
        officers=officers, operations=operations,
        vulnerable_labels=VULNERABLE_CATEGORY_LABELS,
        kecamatan=db.session.get(Wilayah, g.user.kecamatan_code))


@bp.get("/residents/<resident_id>")
@office_login_required
def resident_detail(resident_id):
    """One resident with the timeline of every accepted event."""
    return detail_page(own_resident_or_404(resident_id))


def detail_page(resident, correction=None, status=200):
    """The detail page of a resident of the user's kecamatan (audited as viewed); correction:
    the identity form as refused (server/web/identity.py), else the case's values."""
    events = db.session.execute(
        select(ResidentEvent).where(ResidentEvent.resident_id == resident.resident_id)
        .order_by(ResidentEvent.server_at, ResidentEvent.id)).scalars().all()
    user_ids = {e.user_id for e in events} | {resident.created_by_user_id}
    users = {u.id: u for u in db.session.execute(
        select(User).where(User.id.in_(user_ids))).scalars()}
    client_ids = {e.client_id for e in events}
    clients = {c.client_id: c for c in db.session.execute(
        select(Client).where(Client.client_id.in_(client_ids))).scalars()}
    evidence = _pipeline_evidence(resident, users)  # verification … delivery, for the camat
    audit("view_resident", target=resident.resident_id)
    db.session.commit()
    return render_template(
        "resident_detail.html", r=resident, events=events, users=users, clients=clients,
        desa=db.session.get(Wilayah, resident.desa_code), stage_labels=STAGE_LABELS,
        labels=LABELS, event_labels=EVENT_KIND_LABELS,
        field_labels=FIELD_LABELS, ev=evidence,
        correction=correction or correction_form(resident),
        warning_message=lambda code: check_message(code, resident.desa_code[:6])), status


# ---------------------------------------------------------------- pipeline evidence (detail)

def _pipeline_evidence(resident, users):
    """What the detail page shows of SOP steps 2–6: checks, photos, pickup, recording, batch,
    card issue, delivery (signature as inline SVG), plus labels; fills `users` as needed."""

    def who(part):
        user_id = (part or {}).get("by")
        if user_id is not None and user_id not in users:
            users[user_id] = db.session.get(User, user_id)
        user = users.get(user_id)
        return user.full_name if user else "—"

    def photo(sha256):
        if not sha256:
            return None
        # Only this resident's kecamatan's copy: the same hash uploaded elsewhere is not theirs.
        held = db.session.execute(select(Attachment.mime).where(
            Attachment.sha256 == sha256,
            Attachment.kecamatan_code == resident.desa_code[:6])).scalar_one_or_none()
        return {"sha256": sha256, "uploaded": held is not None}

    delivery = dict(resident.delivery or {})
    batch = db.session.get(Batch, resident.batch_id) if resident.batch_id else None
    item = (db.session.get(BatchItem, (resident.batch_id, resident.resident_id))
            if batch is not None else None)
    merged_into = (db.session.get(Resident, resident.merged_into)
                   if resident.merged_into else None)
    if merged_into is not None and not in_kecamatan(merged_into, g.user.kecamatan_code):
        merged_into = None  # a merge never crosses a kecamatan; older data must not show one
    collected = db.session.execute(
        select(ResidentEvent.payload).where(ResidentEvent.resident_id == resident.resident_id,
                                            ResidentEvent.kind == "card_collected")
        .order_by(ResidentEvent.id.desc()).limit(1)).scalar_one_or_none()
    parts = {key: getattr(resident, key) or None for key in (
        "verification", "rejection", "pickup", "recording", "card_issue")}
    return {
        **parts, "delivery": delivery or None, "who": who, "when": parse_time,
        "kk_photo": photo(resident.kk_photo), "delivery_photo": photo(delivery.get("photo")),
        "signature_svg": signature_markup(delivery.get("signature_data")), "gps": gps_text(delivery.get("gps")), "batch": batch,
        "batch_item": item, "merged_into": merged_into,
        "collected_at": parse_time((collected or {}).get("collected_at")),
        "may_reopen": g.user.role == "camat" and resident.stage == "rejected",
        "check_labels": VERIFICATION_CHECK_LABELS, "rejection_labels": REJECTION_REASON_LABELS,
        "failed_labels": RECORD_FAILED_REASON_LABELS, "issue_labels": NOT_PRINTED_REASON_LABELS,
        "outcome_labels": COLLECTION_OUTCOME_LABELS, "recipient_labels": RECIPIENT_LABELS,
    }


@bp.post("/residents/<resident_id>/reopen")
@office_login_required
@once
def resident_reopen(resident_id):
    """The camat reopens a rejected case (back to Terdata), with an optional note."""
    resident = own_resident_or_404(resident_id)
    if g.user.role != "camat":
        abort(403)
    note = request.form.get("note", "").strip()
    if len(note) > 1000:
        return render_template("error.html", status=400,
                               message="Catatan paling banyak 1000 karakter."), 400
    if bad_character(note, multiline=True):
        return render_template("error.html", status=400, message=MSG_BAD_CHARACTER), 400
    # An OfficeError is answered by server.errors (the error page, its status, a rollback).
    reopen_case(db.session, office_actor(), resident_id=resident.resident_id, note=note or None,
                now=utcnow())
    audit("reopen_case", target=resident.resident_id)
    db.session.commit()
    flash("Kasus dibuka kembali; statusnya sekarang Terdata.", "ok")
    return redirect(url_for("web.resident_detail", resident_id=resident.resident_id))
