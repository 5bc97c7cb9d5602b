"""Disdukcapil's batches (issue #13, SOP step 4 seen from Paringin): the batches every
kecamatan of the user's kabupaten handed over, one batch with the identity data needed to
print the cards, the receipt (sync.registry.confirm_receipt), the print marks
(sync.registry.mark_cards) and the printable berita acara of the receipt.

Least privilege (UU PDP): these pages read only the name, NIK, KK number, sex, birth place,
birth date and desa of a resident — never phone, address, GPS, photos, signatures or notes.
The query selects those columns only (`_rows`), so no template can show more.
"""
from datetime import date, datetime, time, timedelta, timezone
from typing import NamedTuple

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms.validators import InputRequired, ValidationError

from sync.errors import OfficeError
from sync.models import WITA, Batch, BatchItem, Resident, as_utc, utcnow
from sync.registry import (
    confirm_receipt,
    in_kabupaten,
    mark_cards,
    marked_ready_after,
    registry_batch,
)
from sync.stages import NOT_PRINTED_REASON_LABELS, SEX_LABELS

from ..bounds import MSG_BAD_CHARACTER, bad_character
from ..extensions import db
from ..formatting import MONTHS, terbilang
from ..models import AuditEntry, User, Wilayah
from ..web.common import ClockField, DayField, paginate
from ..web.submissions import once
from . import bp, registry_actor, registry_login_required
from .batch_status import STATUS_LABELS, batch_counts, batch_status, status_condition

PAGE_SIZE = 50
MARK_LABELS = {"ready": "Sudah dicetak, siap diambil", "not_printed": "Belum dicetak"}
MSG_DATE = "Tanggal penerimaan wajib diisi: hari/bulan/tahun, contoh 28/11/2026."
MSG_FUTURE = "Tanggal penerimaan tidak boleh di masa depan."
MSG_LATER_TODAY = ("Jam {hour} WITA belum lewat (sekarang pukul {now} WITA). "
                   "Isi jam yang sebenarnya.")
MSG_UNKNOWN_ACTION = "Formulir tidak dikenal. Muat ulang halaman lalu coba lagi."
MSG_NOT_IN_BATCH = "Ada warga yang tidak tercantum dalam berkas ini. Muat ulang halaman."
MSG_BAD_MARK = "Pilihan tanda cetak tidak valid."
MSG_NEED_REASON = "Pilih alasan mengapa KTP {name} belum dicetak."
MSG_NEED_TEXT = "Jelaskan alasan 'Lainnya' untuk KTP {name}."
MSG_TEXT_LONG = "Keterangan paling banyak 500 karakter."
MSG_NO_MARKS = "Pilih tanda cetak minimal untuk satu KTP."
MSG_NONE_OPEN = "Tidak ada KTP yang belum ditandai."
MSG_NOT_RECEIVED = "Berkas ini belum diterima: konfirmasi penerimaannya dulu."


class ReceiptForm(FlaskForm):
    """The receipt: a date (dd/mm/yyyy) and an optional 24-hour time (WITA); the missing
    residents are the checked `missing` boxes, read from the form."""

    day = DayField("Tanggal diterima", validators=[InputRequired(MSG_DATE)])
    hour = ClockField("Jam (WITA, 24 jam)")

    def when(self, now, handed_at, received_at=None):
        """The receipt moment in UTC. Without a time: the recorded receipt `received_at` when
        it is on that day (the same form posted again from a stale tab is the same receipt),
        else now to the minute if today, else 12.00 WITA, but never before the handover on
        its own day (a receipt the same afternoon). Raises ValidationError for a day or hour
        still to come."""
        day, clock = self.day.data, self.hour.data
        local_now = as_utc(now).astimezone(WITA)
        if day > local_now.date():
            raise ValidationError(MSG_FUTURE)
        if clock is None and received_at is not None and (
                as_utc(received_at).astimezone(WITA).date() == day):
            return as_utc(received_at)
        if clock is None:
            # to the minute, like a typed time: a re-post within the minute is the same receipt
            moment = local_now.replace(second=0, microsecond=0) if day == local_now.date() \
                else datetime.combine(day, time(12, 0), tzinfo=WITA)
            handed = as_utc(handed_at).astimezone(WITA)
            if handed.date() == day and moment < handed:
                moment = handed
        else:
            moment = datetime.combine(day, clock, tzinfo=WITA)
            if moment > local_now + timedelta(minutes=1):
                raise ValidationError(MSG_LATER_TODAY.format(
                    hour=moment.strftime("%H.%M"), now=local_now.strftime("%H.%M")))
        # In UTC, and no later than the server clock (SQLite drops the offset).
        return min(moment, local_now).astimezone(timezone.utc)


def _audit(batch, action, **details):
    """An audit entry of a Disdukcapil action on a batch, in the batch's kecamatan (the
    camat's audit log shows it); details are counts, never names or NIKs."""
    db.session.add(AuditEntry(user_id=g.user.id, kecamatan_code=batch.kecamatan_code,
                              action=action, target=f"batch:{batch.batch_id}",
                              details=details or None))


def _batch_or_404(batch_id):
    try:
        return registry_batch(db.session, registry_actor(), batch_id[:36])
    except OfficeError:
        abort(404)  # another kabupaten's batch does not exist for this user


def _kecamatan_names():
    return {w.code: w.name for w in db.session.execute(
        select(Wilayah).where(Wilayah.parent_code == g.user.kabupaten_code,
                              Wilayah.level == "kecamatan").order_by(Wilayah.code)).scalars()}


@bp.get("/berkas")
@registry_login_required
def batches():
    """The batches handed over by the kecamatan of the user's kabupaten, newest first;
    ?kecamatan=<code> and ?status=<key of STATUS_LABELS> filter (unknown values are ignored)."""
    names = _kecamatan_names()
    kecamatan = request.args.get("kecamatan", "")
    kecamatan = kecamatan if kecamatan in names else ""
    status = request.args.get("status", "")
    status = status if status in STATUS_LABELS else ""
    query = select(Batch).where(in_kabupaten(registry_actor()))
    if kecamatan:
        query = query.where(Batch.kecamatan_code == kecamatan)
    if status:
        query = query.where(status_condition(status))
    listed = paginate(query.order_by(Batch.handed_at.desc(), Batch.batch_id), PAGE_SIZE)
    counts = batch_counts([b.batch_id for b in listed.items])
    rows = [(b, counts.get(b.batch_id, {}), batch_status(b, counts.get(b.batch_id, {"open": 0})))
            for b in listed.items]
    filters = {k: v for k, v in (("kecamatan", kecamatan), ("status", status)) if v}
    return render_template(
        "registry_batches.html", rows=rows, kecamatan_names=names, kecamatan=kecamatan,
        status=status, status_labels=STATUS_LABELS, filters=filters, total=listed.total,
        page=listed.page, pages=listed.pages,
        kabupaten=db.session.get(Wilayah, g.user.kabupaten_code))


class Identity(NamedTuple):
    """What Disdukcapil sees of a resident: identity data, and the case's stage and batch
    (whether their card still waits at Disdukcapil)."""

    resident_id: str
    name: str
    nik: str | None
    kk_number: str | None
    sex: str | None
    birth_place: str | None
    birth_date: date | None
    desa_code: str
    stage: str
    batch_id: str | None
    merged_into: str | None  # a case merged into another waits for nothing


IDENTITY_COLUMNS = [getattr(Resident, field) for field in Identity._fields]


def _rows(batch):
    """[(BatchItem, Identity)] of the batch, by desa and name."""
    rows = db.session.execute(
        select(BatchItem, *IDENTITY_COLUMNS)
        .join(Resident, Resident.resident_id == BatchItem.resident_id)
        .where(BatchItem.batch_id == batch.batch_id)
        .order_by(Resident.desa_code, Resident.name)
        .execution_options(populate_existing=True)).all()
    return [(row[0], Identity(*row[1:])) for row in rows]


def _waiting(batch, item, person):
    """Whether the card may be marked: received, and still waiting at Disdukcapil."""
    return (item.received is True and person.stage == "sent_to_registry"
            and person.batch_id == batch.batch_id and person.merged_into is None)


def _desa_names(rows):
    codes = sorted({person.desa_code for _item, person in rows})
    if not codes:
        return {}
    return {w.code: w.name for w in db.session.execute(
        select(Wilayah).where(Wilayah.code.in_(codes))).scalars()}


@bp.route("/berkas/<batch_id>", methods=("GET", "POST"))
@registry_login_required
@once
def batch_detail(batch_id):
    """One batch: its residents (identity data only), the receipt form until the receipt,
    then the print mark of each card. POST `action`: receipt | marks | all_ready."""
    batch = _batch_or_404(batch_id)
    form = ReceiptForm()
    now = utcnow()
    status = 200
    rows = _rows(batch)
    if request.method == "POST":
        action = request.form.get("action", "")
        handler = {"receipt": _receipt, "marks": _marks, "all_ready": _all_ready}.get(action)
        if handler is None:
            flash(MSG_UNKNOWN_ACTION, "error")
            status = 400
        else:
            status = handler(batch, form, rows, now)
            if status is None:
                return redirect(url_for("registry.batch_detail", batch_id=batch.batch_id))
            batch = _batch_or_404(batch_id)
            rows = _rows(batch)
    elif not form.day.data:
        form.day.data = as_utc(now).astimezone(WITA).date()
    counts = batch_counts([batch.batch_id]).get(batch.batch_id, {"open": 0})
    _audit(batch, "registry_view_batch", count=len(rows))
    db.session.commit()
    return render_template(
        "registry_batch.html", batch=batch, rows=rows, form=form, counts=counts,
        state=batch_status(batch, counts), desa_names=_desa_names(rows),
        waiting={person.resident_id for item, person in rows if _waiting(batch, item, person)},
        # the team's "not there" that still stands (not one of a trip before the ready mark)
        reported={item.resident_id for item, _person in rows if item.outcome == "not_printed"
                  and not marked_ready_after(item, item.outcome_at or batch.collected_at)},
        kecamatan=db.session.get(Wilayah, batch.kecamatan_code),
        creator=db.session.get(User, batch.created_by_user_id),
        receiver=(db.session.get(User, batch.received_by_user_id)
                  if batch.received_by_user_id else None),
        sex_labels=SEX_LABELS, mark_labels=MARK_LABELS, reason_labels=NOT_PRINTED_REASON_LABELS,
        posted=request.form if request.method == "POST" else {}), status


def _flash(messages):
    for message in messages:
        flash(message, "error")


def _refused(err):
    """Flash an OfficeError; its HTTP status (nothing of the action is kept)."""
    db.session.rollback()
    flash(err.message, "error")
    return err.http_status


def _receipt(batch, form, rows, now):
    """Validate and record the receipt; None on success, else the HTTP status."""
    if not form.validate():
        _flash(m for errors in form.errors.values() for m in errors)
        return 400
    try:
        received_at = form.when(now, batch.handed_at, batch.received_at)
    except ValidationError as err:
        _flash([str(err)])
        return 400
    known = {person.resident_id for _item, person in rows}
    missing = set(request.form.getlist("missing"))
    if not missing <= known:
        _flash([MSG_NOT_IN_BATCH])
        return 400
    try:
        confirm_receipt(db.session, registry_actor(), batch.batch_id, received_at=received_at,
                        missing=sorted(missing), now=now)
    except OfficeError as err:
        return _refused(err)
    # confirm_receipt re-reads the batch: a receipt recorded by another request (another tab
    # with its own form token) keeps that request's time — the same receipt again, nothing
    # changed, nothing to audit.
    if as_utc(batch.receipt_recorded_at) != as_utc(now):
        db.session.rollback()
        flash("Penerimaan berkas ini sudah dicatat sebelumnya.", "info")
        return None
    _audit(batch, "registry_receipt", received=len(known) - len(missing), missing=len(missing))
    db.session.commit()
    flash(f"Penerimaan berkas {batch.number} dicatat: {len(known) - len(missing)} warga "
          f"diterima, {len(missing)} tidak ada dalam berkas fisik.", "ok")
    return None


def _posted_marks(batch, rows):
    """The marks chosen in the form: ([mark dicts for mark_cards], [problems])."""
    people = {person.resident_id: person for _item, person in rows}
    posted = {key.split("-", 1)[1] for key in request.form if key.startswith("mark-")}
    if posted - set(people):
        return [], [MSG_NOT_IN_BATCH]
    marks, problems = [], []
    for rid in sorted(posted, key=lambda r: people[r].name):
        status = request.form.get(f"mark-{rid}", "").strip()
        if not status:
            continue
        name = people[rid].name
        if status not in MARK_LABELS:
            problems.append(MSG_BAD_MARK)
            continue
        reason = request.form.get(f"reason-{rid}", "").strip() or None
        text = " ".join(request.form.get(f"reason_text-{rid}", "").split()) or None
        if status == "ready":
            reason = text = None
        elif reason not in NOT_PRINTED_REASON_LABELS:
            problems.append(MSG_NEED_REASON.format(name=name))
        elif reason == "other" and not text:
            problems.append(MSG_NEED_TEXT.format(name=name))
        if text and len(text) > 500:
            problems.append(MSG_TEXT_LONG)
        elif text and bad_character(text):
            problems.append(MSG_BAD_CHARACTER)
        marks.append({"resident_id": rid, "status": status, "reason": reason,
                      "reason_text": text if reason == "other" else None})
    if not marks and not problems:
        problems.append(MSG_NO_MARKS)
    return marks, problems


def _apply_marks(batch, marks, now, **extra):
    try:
        changed = mark_cards(db.session, registry_actor(), batch.batch_id, marks=marks, now=now)
    except OfficeError as err:
        return _refused(err)
    if not changed:  # the same marks again
        db.session.rollback()
        flash("Tidak ada tanda cetak yang berubah.", "info")
        return None
    ready = sum(1 for m in marks if m["status"] == "ready")
    _audit(batch, "registry_marks", changed=changed, ready=ready,
           not_printed=len(marks) - ready, **extra)
    db.session.commit()
    flash(f"Tanda cetak disimpan untuk {changed} KTP.", "ok")
    return None


def _marks(batch, _form, rows, now):
    """Validate and save the per-card marks; None on success, else the HTTP status."""
    if batch.received_at is None:
        _flash([MSG_NOT_RECEIVED])
        return 409
    marks, problems = _posted_marks(batch, rows)
    if problems:
        _flash(problems)
        return 400
    return _apply_marks(batch, marks, now)


def _all_ready(batch, _form, rows, now):
    """Mark every received card still waiting and not yet marked as printed and ready."""
    if batch.received_at is None:
        _flash([MSG_NOT_RECEIVED])
        return 409
    marks = [{"resident_id": person.resident_id, "status": "ready"} for item, person in rows
             if _waiting(batch, item, person) and item.print_status is None]
    if not marks:
        _flash([MSG_NONE_OPEN])
        return 409
    return _apply_marks(batch, marks, now, bulk=True)


@bp.get("/berkas/<batch_id>/berita-acara")
@registry_login_required
def batch_manifest(batch_id):
    """Disdukcapil's printable copy of the berita acara: the kecamatan's handover and the
    receipt, the missing residents named, the verification code (A4). 409 before the
    receipt."""
    batch = _batch_or_404(batch_id)
    if batch.received_at is None:
        return render_template("error.html", status=409, message=MSG_NOT_RECEIVED), 409
    rows = _rows(batch)
    handed_local = as_utc(batch.handed_at).astimezone(WITA)
    received_local = as_utc(batch.received_at).astimezone(WITA)
    _audit(batch, "registry_view_manifest", count=len(rows))
    db.session.commit()
    return render_template(
        "registry_manifest.html", batch=batch, rows=rows, desa_names=_desa_names(rows),
        received=[(item, p) for item, p in rows if item.received is not False],
        missing=[(item, p) for item, p in rows if item.received is False],
        creator=db.session.get(User, batch.created_by_user_id),
        receiver=(db.session.get(User, batch.received_by_user_id)
                  if batch.received_by_user_id else None),
        kecamatan=db.session.get(Wilayah, batch.kecamatan_code),
        handed_local=handed_local, received_local=received_local, terbilang=terbilang,
        month_name=MONTHS[received_local.month - 1])
