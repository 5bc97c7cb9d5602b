"""Handovers to Disdukcapil (SOP steps 4 and 5): batches, card collection, the berita acara.

A batch is made from recorded residents of the kecamatan (sync.office.create_batch); at
Disdukcapil each card is either collected or "not printed yet" with a reason
(sync.office.record_collection). Camat and operator may both do this.
"""
import uuid
from datetime import datetime, time, timedelta, timezone

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from sync.models import WITA, Batch, BatchItem, Resident, ResidentEvent, as_utc, utcnow
from sync.office import OfficeError, create_batch, record_collection
from sync.stages import (
    BATCH_ORIGIN_LABELS,
    COLLECTION_OUTCOME_LABELS,
    NOT_PRINTED_REASON_LABELS,
    STAGE_LABELS,
)
from sync.step_order import time_order_flag

from ..auth import audit, office_login_required
from ..bounds import MSG_BAD_CHARACTER, PlainText, bad_character
from ..extensions import db
from ..formatting import wita
from ..models import User, Wilayah
from ..wilayah import desa_of
from . import batch_receipt, bp
from .common import ClockField, DayField, office_actor, paginate, parse_time
from .submissions import once

PAGE_SIZE = 50
MAX_BATCH = 500
MSG_NUMBER = "Nomor berita acara wajib diisi."
MSG_NUMBER_USED = "Nomor berita acara ini sudah dipakai untuk serah terima lain di kecamatan ini."
MSG_DATE = "Tanggal wajib diisi: hari/bulan/tahun, contoh 28/11/2026."
MSG_FUTURE = "Tanggal serah terima tidak boleh di masa depan."
MSG_LATER_TODAY = ("Jam {hour} WITA belum lewat (sekarang pukul {now} WITA). "
                   "Isi jam yang sebenarnya.")
MSG_BEFORE_HANDOVER = ("Waktu pengambilan ({at}) lebih awal dari serah terima berkas ini "
                       "({handed}). Periksa tanggal dan jam.")
MSG_NO_RESIDENTS = "Pilih minimal satu warga yang sudah rekam."
MSG_TOO_MANY = f"Satu berita acara paling banyak {MAX_BATCH} warga."
MSG_NOT_RECORDED = ("Ada warga yang tidak dapat diserahkan (belum berstatus Sudah Rekam atau "
                    "bukan warga kecamatan ini). Muat ulang halaman lalu pilih lagi.")
MSG_NO_OUTCOME = "Pilih hasil pengambilan minimal untuk satu KTP."
MSG_BAD_OUTCOME = "Pilihan hasil pengambilan tidak valid."
MSG_NEED_REASON = "Pilih alasan mengapa KTP {name} belum dicetak."
MSG_BAD_REASON = "Pilihan alasan tidak valid."
MSG_NEED_TEXT = "Jelaskan alasan 'Lainnya' untuk KTP {name}."
MSG_TEXT_LONG = "Keterangan paling banyak 500 karakter."
MSG_NOT_IN_BATCH = "Ada warga yang tidak tercantum dalam berita acara ini."


class _WhenForm(FlaskForm):
    """A date (dd/mm/yyyy) and an optional 24-hour time (WITA), as one aware datetime in
    .when()."""

    day = DayField("Tanggal", validators=[InputRequired(MSG_DATE)])
    hour = ClockField("Jam (WITA, 24 jam)")

    def when(self, now):
        """The chosen moment in UTC; without a time: now if today, else 12.00 WITA."""
        day, clock = self.day.data, self.hour.data
        local_now = as_utc(now).astimezone(WITA)
        if clock is None:
            clock = local_now.time() if day == local_now.date() else time(12, 0)
        moment = datetime.combine(day, clock, tzinfo=WITA)
        if day > local_now.date():
            raise ValidationError(MSG_FUTURE)
        if moment > local_now + timedelta(minutes=1):  # a typed hour later today: refused
            raise ValidationError(MSG_LATER_TODAY.format(hour=moment.strftime("%H.%M"),
                                                         now=local_now.strftime("%H.%M")))
        moment = min(moment, local_now)  # the current minute: no later than the office clock
        # In UTC: SQLite keeps a datetime's wall time and drops its offset.
        return moment.astimezone(timezone.utc)


class BatchForm(_WhenForm):
    """Create a batch: number, date, notes and the chosen residents."""

    number = StringField("Nomor berita acara", validators=[
        DataRequired(MSG_NUMBER), PlainText(),
        Length(max=50, message="Nomor paling banyak 50 karakter.")])
    day = DayField("Tanggal serah terima", validators=[InputRequired(MSG_DATE)])
    notes = TextAreaField("Catatan (opsional)", validators=[
        PlainText(multiline=True),
        Length(max=1000, message="Catatan paling banyak 1000 karakter.")])


class CollectionForm(_WhenForm):
    """Record the collection at Disdukcapil; the per-card choices are read from the form."""

    day = DayField("Tanggal pengambilan", validators=[InputRequired(MSG_DATE)])


def _batch_or_404(batch_id):
    batch = db.session.get(Batch, batch_id[:36])
    if batch is None or batch.kecamatan_code != g.user.kecamatan_code:
        abort(404)  # another kecamatan's batch does not exist for this user
    return batch


def _recorded_residents(desa_code=None):
    query = (select(Resident)
             .where(Resident.desa_code.like(g.user.kecamatan_code + "%"),
                    Resident.stage == "recorded", Resident.merged_into.is_(None)))
    if desa_code:
        query = query.where(Resident.desa_code == desa_code)
    return db.session.execute(query.order_by(Resident.desa_code, Resident.name)).scalars().all()


def _suggested_number(now):
    year = as_utc(now).astimezone(WITA).year
    count = db.session.execute(select(func.count()).select_from(Batch).where(
        Batch.kecamatan_code == g.user.kecamatan_code)).scalar_one()
    return f"BA/{g.user.kecamatan_code}/{year}/{count + 1:03d}"


def _flash_errors(form, extra=()):
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")
    for message in extra:
        flash(message, "error")


@bp.route("/batches", methods=("GET", "POST"))
@office_login_required
@once
def batches():
    """The kecamatan's batches and the form to hand recorded residents over to Disdukcapil."""
    desa_list = desa_of(db.session, g.user.kecamatan_code)
    desa_names = {d.code: d.name for d in desa_list}
    desa = request.values.get("desa", "")
    desa = desa if desa in desa_names else ""
    form = BatchForm()
    now = utcnow()
    status = 200
    chosen = set()
    if request.method == "POST":
        chosen = set(request.form.getlist("resident_ids"))
        status = _create_batch(form, chosen, now)
        if isinstance(status, str):
            return redirect(url_for("web.batch_detail", batch_id=status))
    elif not form.number.data:
        form.number.data = _suggested_number(now)
        form.day.data = as_utc(now).astimezone(WITA).date()

    shown = batch_receipt.list_filter()  # ?tampil=: ready cards, differences, waiting
    listed = paginate(batch_receipt.filter_batches(
        select(Batch).where(Batch.kecamatan_code == g.user.kecamatan_code), shown, now)
        .order_by(Batch.handed_at.desc(), Batch.created_at.desc()), PAGE_SIZE)
    rows = listed.items
    counts = _outcome_counts([b.batch_id for b in rows])
    users = _users({b.created_by_user_id for b in rows})
    recorded = _recorded_residents(desa or None)
    groups = {}
    for resident in recorded:
        groups.setdefault(resident.desa_code, []).append(resident)
    audit("view_batch_list", count=len(rows))
    db.session.commit()
    return render_template(
        "batches.html", batches=rows, counts=counts, users=users, total=listed.total,
        page=listed.page, pages=listed.pages, form=form, groups=groups,
        desa_list=desa_list, desa_names=desa_names, desa=desa, chosen=chosen,
        origin_labels=BATCH_ORIGIN_LABELS, shown=shown, list_filters=batch_receipt.LIST_FILTERS,
        statuses=batch_receipt.list_statuses(rows),
        kecamatan=db.session.get(Wilayah, g.user.kecamatan_code)), status


def _create_batch(form, chosen, now):
    """Validate and create; the new batch id on success, else the HTTP status to answer."""
    problems = []
    valid = form.validate()
    handed_at = None
    if valid:
        try:
            handed_at = form.when(now)
        except ValidationError as err:
            problems.append(str(err))
    if not chosen:
        problems.append(MSG_NO_RESIDENTS)
    elif len(chosen) > MAX_BATCH:
        problems.append(MSG_TOO_MANY)
    else:
        allowed = {r.resident_id for r in _recorded_residents()}
        if not chosen <= allowed:
            problems.append(MSG_NOT_RECORDED)
    number = (form.number.data or "").strip()
    if valid and number and db.session.execute(select(Batch.batch_id).where(
            Batch.kecamatan_code == g.user.kecamatan_code, Batch.number == number)).first():
        problems.append(MSG_NUMBER_USED)
    if not valid or problems:
        _flash_errors(form, problems)
        return 400
    batch_id = str(uuid.uuid4())
    try:
        create_batch(db.session, office_actor(), batch_id=batch_id, number=number,
                     handed_at=handed_at, resident_ids=sorted(chosen),
                     notes=(form.notes.data or "").strip(), now=now)
    except OfficeError as err:  # the form again, with the refusal as a message
        db.session.rollback()
        flash(err.message, "error")
        return err.http_status
    audit("create_batch", target=batch_id, count=len(chosen))
    db.session.commit()
    flash(f"Berita acara {number} dibuat untuk {len(chosen)} warga.", "ok")
    return batch_id


def _outcome_counts(batch_ids):
    counts = {}
    if not batch_ids:
        return counts
    for batch_id, outcome, n in db.session.execute(
            select(BatchItem.batch_id, BatchItem.outcome, func.count())
            .where(BatchItem.batch_id.in_(batch_ids))
            .group_by(BatchItem.batch_id, BatchItem.outcome)):
        entry = counts.setdefault(batch_id, {"total": 0, "collected": 0, "not_printed": 0,
                                             "pending": 0})
        entry["total"] += n
        entry[outcome or "pending"] = entry.get(outcome or "pending", 0) + n
    return counts


def _users(ids):
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()}


_items = batch_receipt.batch_items


@bp.route("/batches/<batch_id>", methods=("GET", "POST"))
@office_login_required
@once
def batch_detail(batch_id):
    """One batch: its residents, the exceptions (cards not printed) and the collection form."""
    batch = _batch_or_404(batch_id)
    form = CollectionForm()
    now = utcnow()
    status = 200
    items = _items(batch)
    if request.method == "POST":
        status = _record_collection(batch, form, items, now)
        if status is None:
            return redirect(url_for("web.batch_detail", batch_id=batch.batch_id))
        items = _items(batch)
    elif not form.day.data:
        form.day.data = as_utc(now).astimezone(WITA).date()
    desa_names = {d.code: d.name for d in desa_of(db.session, g.user.kecamatan_code)}
    exceptions = [(item, r) for item, r in items if item.outcome == "not_printed"]
    counts = _outcome_counts([batch.batch_id]).get(batch.batch_id, {})
    collected_at = _collection_times(batch, [r.resident_id for _item, r in items])
    audit("view_batch", target=batch.batch_id)
    db.session.commit()
    return render_template(
        "batch_detail.html", batch=batch, items=items, exceptions=exceptions, counts=counts,
        form=form, desa_names=desa_names, creator=db.session.get(User, batch.created_by_user_id),
        outcome_labels=COLLECTION_OUTCOME_LABELS, reason_labels=NOT_PRINTED_REASON_LABELS,
        stage_labels=STAGE_LABELS, origin_labels=BATCH_ORIGIN_LABELS, collected_at=collected_at,
        handed_local=as_utc(batch.handed_at).astimezone(WITA),
        posted=request.form if request.method == "POST" else {},
        **batch_receipt.detail_context(batch, items)), status


def _collection_times(batch, resident_ids):
    """resident id → when their card was collected (as entered), from the card_collected events."""
    if not resident_ids:
        return {}
    times = {}
    for rid, payload in db.session.execute(
            select(ResidentEvent.resident_id, ResidentEvent.payload)
            .where(ResidentEvent.resident_id.in_(resident_ids),
                   ResidentEvent.kind == "card_collected").order_by(ResidentEvent.id)):
        if (payload or {}).get("batch_id") == batch.batch_id:
            moment = parse_time(payload.get("collected_at"))
            if moment is not None:
                times[rid] = moment
    return times


def _record_collection(batch, form, items, now):
    """Validate the per-card choices and record them; None on success, else an HTTP status."""
    names = {item.resident_id: resident.name
             for item, resident in batch_receipt.collectable(items)}
    problems = []
    valid = form.validate()
    collected_at = None
    if valid:
        try:
            collected_at = form.when(now)
        except ValidationError as err:
            problems.append(str(err))
        if collected_at and time_order_flag("card_collected", collected_at, batch.handed_at):
            problems.append(MSG_BEFORE_HANDOVER.format(at=wita(collected_at),
                                                       handed=wita(batch.handed_at)))
    chosen = []
    known = set(names)
    posted_ids = {key.split("-", 1)[1] for key in request.form if key.startswith("outcome-")}
    if posted_ids - known:
        problems.append(MSG_NOT_IN_BATCH)
    for rid in sorted(known & posted_ids, key=lambda r: names[r]):
        outcome = request.form.get(f"outcome-{rid}", "").strip()
        if not outcome:
            continue
        if outcome not in COLLECTION_OUTCOME_LABELS:
            problems.append(MSG_BAD_OUTCOME)
            continue
        reason = request.form.get(f"reason-{rid}", "").strip() or None
        text = request.form.get(f"reason_text-{rid}", "").strip() or None
        if outcome == "collected":
            reason = text = None
        else:
            if reason is None:
                problems.append(MSG_NEED_REASON.format(name=names[rid]))
            elif reason not in NOT_PRINTED_REASON_LABELS:
                problems.append(MSG_BAD_REASON)
            elif reason == "other" and not text:
                problems.append(MSG_NEED_TEXT.format(name=names[rid]))
            if text and len(text) > 500:
                problems.append(MSG_TEXT_LONG)
            elif text and bad_character(text):
                problems.append(MSG_BAD_CHARACTER)
        chosen.append({"resident_id": rid, "outcome": outcome, "reason": reason,
                       "reason_text": text})
    if not chosen and not problems:
        problems.append(MSG_NO_OUTCOME)
    if not valid or problems:
        _flash_errors(form, problems)
        return 400
    try:
        record_collection(db.session, office_actor(), batch_id=batch.batch_id, items=chosen,
                          collected_at=collected_at, now=now)
    except OfficeError as err:  # the form again, with the refusal as a message
        db.session.rollback()
        flash(err.message, "error")
        return err.http_status
    audit("record_collection", target=batch.batch_id, count=len(chosen))
    db.session.commit()
    done = sum(1 for c in chosen if c["outcome"] == "collected")
    flash(f"Hasil pengambilan disimpan: {done} KTP diambil, {len(chosen) - done} belum dicetak.",
          "ok")
    return None


@bp.get("/batches/<batch_id>/manifest")
@office_login_required
def batch_manifest(batch_id):
    """The printable berita acara serah terima (A4), with the full NIKs Disdukcapil needs."""
    batch = _batch_or_404(batch_id)
    context = batch_receipt.manifest_context(batch)  # both parties, the code (issue #13)
    audit("view_batch_manifest", target=batch.batch_id, count=len(context["items"]))
    db.session.commit()
    return render_template("batch_manifest.html", **context)

