"""Perekaman di kantor: the operator or camat marks the residents of a day's pick-up recorded
or not (with the reason) in one form, as the office changes of sync/office_recording.py that
the phones receive at their next sync; the officer's phone need not be at the desk.

When the recording took place: the hour the operator types (optional), else now for today's
pick-up and, for an earlier day, 12.00 WITA or the resident's pick-up time when that is later —
never before the pick-up, whose order sync/step_order.py checks ("Urutan waktu tidak wajar")."""
from datetime import datetime, time, timezone

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from wtforms import Form

from sync.models import WITA, Resident, as_utc, utcnow
from sync.office import OfficeError
from sync.office_recording import MAX_ENTRIES, awaiting_recording, record_at_office
from sync.stages import RECORD_FAILED_REASON_LABELS

from ..auth import audit, office_login_required
from ..bounds import date_in_range
from ..extensions import db
from ..wilayah import desa_of
from . import bp
from .common import MSG_DAY_RANGE, ClockField, office_actor, parse_day, parse_time
from .submissions import once

MSG_NEED_REASON = "Pilih alasan perekaman gagal untuk {name}."
MSG_BAD_REASON = "Pilihan alasan tidak valid."
MSG_NEED_TEXT = "Jelaskan alasan \u201cLainnya\u201d untuk {name}."
MSG_TEXT_LONG = "Keterangan paling banyak 500 karakter."
MSG_NOTHING = "Pilih hasil perekaman (berhasil atau gagal) minimal untuk satu warga."
MSG_BAD_DAY = "Tanggal tidak sah. Tulis hari/bulan/tahun, seperti 28/11/2026."
MSG_FUTURE = "Tanggal penjemputan tidak boleh di masa depan."
MSG_HOUR_FUTURE = "Jam perekaman tidak boleh di masa depan."
MSG_BEFORE_PICKUP = ("Jam perekaman {hour} lebih awal dari penjemputan {name} ({pickup} WITA). "
                     "Tulis jam setelah penjemputan, atau kosongkan jam.")
NOON = time(12, 0)
MSG_SAVED = ("Perekaman dicatat: {done} berhasil, {failed} gagal. HP petugas menerimanya saat "
             "sinkron berikutnya.")


def _today():
    return as_utc(utcnow()).astimezone(WITA).date()


class HourForm(Form):
    """The optional hour of the recording (the day is the pick-up's)."""

    hour = ClockField("Jam perekaman (WITA, 24 jam)")


def _choice(source):
    """(day or None, the message when the typed day is refused, desa code or "", {code: name})
    of the query string or the posted form."""
    raw = (source.get("day") or "").strip()
    day = parse_day(raw) if raw else _today()
    message = MSG_BAD_DAY if day is None else None
    if day is not None and not date_in_range(day):
        day, message = None, MSG_DAY_RANGE  # year 1 or 9999 would overflow the day arithmetic
    codes = {d.code: d.name for d in desa_of(db.session, g.user.kecamatan_code)}
    desa = source.get("desa", "")
    return day, message, desa if desa in codes else "", codes


def _recorded_times(day, hour, entries, rows):
    """({resident id: when its recording took place (aware UTC)}, {resident id: message}).

    hour: the typed time (WITA) or None. rows: {resident id: (name, pickup dict)}. A typed
    hour before a resident's pick-up (to the minute) or in the future is refused; without one,
    today is now and an earlier day 12.00 WITA, or the pick-up time when that is later.
    """
    now = as_utc(utcnow())
    times, errors = {}, {}
    for entry in entries:
        if entry["outcome"] != "done":
            continue  # a failed recording carries no time
        rid = entry["resident_id"]
        name, pickup = rows.get(rid, ("warga ini", None))
        picked = parse_time((pickup or {}).get("at"))
        picked = as_utc(picked) if picked is not None and picked.tzinfo else None
        if hour is not None:
            at = datetime.combine(day, hour, WITA).astimezone(timezone.utc)
            if at > now:
                errors[rid] = MSG_HOUR_FUTURE
            elif picked is not None and _minute(at) < _minute(picked):
                errors[rid] = MSG_BEFORE_PICKUP.format(
                    hour=hour.strftime("%H.%M"), name=name,
                    pickup=picked.astimezone(WITA).strftime("%H.%M"))
            times[rid] = at
        elif day >= now.astimezone(WITA).date():
            times[rid] = now
        else:
            noon = datetime.combine(day, NOON, WITA).astimezone(timezone.utc)
            times[rid] = max(noon, picked) if picked is not None else noon
    return times, errors


def _minute(moment):
    return moment.replace(second=0, microsecond=0)


def _page(day, desa, names, errors=None, posted=None, status=200, hour_form=None):
    residents = awaiting_recording(db.session, g.user.kecamatan_code, day, desa or None) \
        if day is not None else []
    trips = _pickup_officers(residents)
    return render_template(
        "perekaman.html", day=day, day_text=(request.values.get("day") or "").strip(),
        desa=desa, desa_names=names, residents=residents[:MAX_ENTRIES],
        more=max(len(residents) - MAX_ENTRIES, 0), reasons=RECORD_FAILED_REASON_LABELS,
        errors=errors or {}, posted=posted or {}, trips=trips, parse_time=parse_time,
        hour_form=hour_form or HourForm()), status


def _pickup_officers(residents):
    """{resident id: the pick-up's point and vehicle} for the table."""
    return {r.resident_id: " · ".join(v for v in ((r.pickup or {}).get("point"),
                                                   (r.pickup or {}).get("vehicle")) if v)
            for r in residents}


@bp.get("/perekaman")
@office_login_required
def perekaman():
    """Residents picked up on a day (default today) still awaiting perekaman, with the form."""
    day, message, desa, names = _choice(request.args)
    if day is None:
        flash(message, "error")
        return _page(None, desa, names, status=400)
    return _page(day, desa, names)


@bp.post("/perekaman")
@office_login_required
@once
def perekaman_save():
    """Apply the chosen results as office events; all or nothing."""
    day, message, desa, names = _choice(request.form)
    if day is None or day > _today():
        flash(message or MSG_FUTURE, "error")
        return _page(day, desa, names, status=400)
    hour_form = HourForm(request.form)
    if not hour_form.validate():
        for message in hour_form.hour.errors:
            flash(message, "error")
        return _page(day, desa, names, posted=_entries(request.form)[2], status=400,
                     hour_form=hour_form)
    entries, errors, posted, rows = _entries(request.form)
    times, late = _recorded_times(day, hour_form.hour.data, entries, rows)
    errors.update(late)
    if not entries and not errors:
        errors["_form"] = MSG_NOTHING
    if errors:
        for message in dict.fromkeys(errors.values()):
            flash(message, "error")
        return _page(day, desa, names, errors, posted, status=400, hour_form=hour_form)
    entries = [{**e, "recorded_at": times[e["resident_id"]]} if e["resident_id"] in times else e
               for e in entries]
    try:
        written = record_at_office(db.session, office_actor(), entries=entries,
                                   recorded_at=as_utc(utcnow()), now=utcnow())
    except OfficeError as err:
        db.session.rollback()
        flash(err.message, "error")
        return _page(day, desa, names, dict(err.fields), posted, status=err.http_status,
                     hour_form=hour_form)
    done = sum(1 for e in entries if e["outcome"] == "done")
    audit("record_at_office", count=written, done=done, failed=len(entries) - done,
          day=day.strftime("%d/%m/%Y"))
    db.session.commit()
    flash(MSG_SAVED.format(done=done, failed=len(entries) - done), "ok")
    return redirect(url_for("web.perekaman", day=day.strftime("%d/%m/%Y"), desa=desa or None),
                    code=303)


def _entries(form):
    """([{resident_id, outcome, reason, reason_text}], {resident id: message}, posted values,
    {resident id: (name, pickup dict)} of the kecamatan's residents named)."""
    entries, errors, posted = [], {}, {}
    ids = [key[len("outcome-"):] for key in form if key.startswith("outcome-")]
    rows = {rid: (name, pickup) for rid, name, pickup in db.session.execute(
        select(Resident.resident_id, Resident.name, Resident.pickup).where(
            Resident.resident_id.in_(ids[:MAX_ENTRIES + 1]),
            Resident.desa_code.startswith(g.user.kecamatan_code, autoescape=True))).all()}
    names = {rid: name for rid, (name, _pickup) in rows.items()}
    for rid in ids[:MAX_ENTRIES + 1]:
        outcome = form.get(f"outcome-{rid}", "")
        reason = form.get(f"reason-{rid}", "")
        text = (form.get(f"text-{rid}", "") or "").strip()
        posted[rid] = {"outcome": outcome, "reason": reason, "text": text}
        if outcome not in ("done", "failed"):
            continue
        name = names.get(rid, "warga ini")
        if outcome == "failed":
            if not reason:
                errors[rid] = MSG_NEED_REASON.format(name=name)
                continue
            if reason not in RECORD_FAILED_REASON_LABELS:
                errors[rid] = MSG_BAD_REASON
                continue
            if reason == "other" and not text:
                errors[rid] = MSG_NEED_TEXT.format(name=name)
                continue
            if len(text) > 500:
                errors[rid] = MSG_TEXT_LONG
                continue
        entries.append({"resident_id": rid, "outcome": outcome,
                        "reason": reason if outcome == "failed" else None,
                        "reason_text": text if outcome == "failed" and text else None})
    return entries, errors, posted, rows
