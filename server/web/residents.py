"""Residents of the kecamatan: list with filters, detail with timeline."""
from flask import abort, g, render_template, request
from sqlalchemy import func, select

from sync.models import Client, Resident, ResidentEvent
from sync.stages import (DISABILITY_LABELS, MARITAL_STATUS_LABELS, SEX_LABELS, STAGE_LABELS,
                         STAGES, VULNERABLE_CATEGORY_LABELS)
from sync.validators import message as check_message

from ..auth import audit, office_login_required
from ..extensions import db
from ..models import User, Wilayah
from ..wilayah import desa_of
from . import bp
PAGE_SIZE = 50
LABELS = {"sex": SEX_LABELS, "marital": MARITAL_STATUS_LABELS,
          "vulnerable": VULNERABLE_CATEGORY_LABELS, "disability": DISABILITY_LABELS}
EVENT_LABELS = {"registered": "Didaftarkan", "updated": "Data diubah"}
FIELD_LABELS = {"phone": "Telepon", "address": "Alamat", "rt": "RT", "rw": "RW",
                "notes": "Catatan", "vulnerable_category": "Kategori rentan",
                "disability": "Disabilitas"}


def _in_kecamatan(query):
    """Scope a Resident query to the logged-in user's kecamatan."""
    return query.where(Resident.desa_code.like(g.user.kecamatan_code + "%"))


@bp.get("/residents")
@office_login_required
def residents():
    """The residents of the kecamatan, filtered by desa, stage and name."""
    desa_list = desa_of(db.session, g.user.kecamatan_code)
    desa_names = {d.code: d.name for d in desa_list}
    desa = request.args.get("desa", "")
    stage = request.args.get("stage", "")
    q = request.args.get("q", "").strip()[:80]
    page = max(request.args.get("page", 1, type=int), 1)

    query = _in_kecamatan(select(Resident))
    if desa in desa_names:
        query = query.where(Resident.desa_code == desa)
    if stage in STAGE_LABELS:
        query = query.where(Resident.stage == stage)
    if q:
        like = "%" + q.lower().replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(func.lower(Resident.name).like(like, escape="\\"))
    total = db.session.execute(
        select(func.count()).select_from(query.subquery())).scalar_one()
    residents = db.session.execute(
        query.order_by(Resident.updated_at.desc(), Resident.resident_id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()

    counts = dict(db.session.execute(
        _in_kecamatan(select(Resident.stage, func.count())).group_by(Resident.stage)).all())
    audit("view_resident_list", count=len(residents))
    db.session.commit()
    return render_template(
        "residents.html", residents=residents, total=total, page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), desa_list=desa_list,
        desa_names=desa_names, stages=STAGES, stage_labels=STAGE_LABELS, counts=counts,
        filters={"desa": desa, "stage": stage, "q": q},
        kecamatan=db.session.get(Wilayah, g.user.kecamatan_code))


@bp.get("/residents/<resident_id>")
@office_login_required
def resident_detail(resident_id):
    """One resident with the timeline of every accepted event."""
    resident = db.session.get(Resident, resident_id[:36])
    if resident is None or not resident.desa_code.startswith(g.user.kecamatan_code):
        abort(404)  # another kecamatan's resident does not exist for this user
    events = db.session.execute(
        select(ResidentEvent).where(ResidentEvent.resident_id == resident.resident_id)
        .order_by(ResidentEvent.server_at, ResidentEvent.id)).scalars().all()
    user_ids = {e.user_id for e in events} | {resident.created_by_user_id}
    users = {u.id: u for u in db.session.execute(
        select(User).where(User.id.in_(user_ids))).scalars()}
    client_ids = {e.client_id for e in events}
    clients = {c.client_id: c for c in db.session.execute(
        select(Client).where(Client.client_id.in_(client_ids))).scalars()}
    audit("view_resident", target=resident.resident_id)
    db.session.commit()
    return render_template(
        "resident_detail.html", r=resident, events=events, users=users, clients=clients,
        desa=db.session.get(Wilayah, resident.desa_code), stage_labels=STAGE_LABELS,
        labels=LABELS, event_labels=EVENT_LABELS, field_labels=FIELD_LABELS,
        warning_message=lambda code: check_message(code, resident.desa_code[:6]))
