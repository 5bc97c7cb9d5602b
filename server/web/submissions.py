"""Office writes happen once: every office form carries a one-time submission token.

The same submission can reach the server twice — a double click, a resend after an answer
lost on the office's link, the browser's Back and resubmit. Like the phones' mutation ids
(sync/engine.py), the token makes the second arrival a replay: it changes nothing and is
answered as the first one was (the same redirect, with a note that nothing was saved twice).

How: `submission_field()` (a template global) renders a hidden field with a fresh random token.
A view decorated with `once` first claims the token (an INSERT, committed at once, so a second
arrival finds it or waits on its key), marks it applied inside the view's own transaction and
stores where the first answer redirected. A view that answers with a page instead (a form
error), redirects with an "error" flash (a refusal) or fails before its commit releases the
claim, so a corrected or retried form is accepted. A POST without
a token (scripts, tests) is handled as before: each arrival applies.
"""
import functools
import logging
import re
import secrets
import time
from datetime import timedelta

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from markupsafe import Markup
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from sync.models import as_utc, utcnow

from ..extensions import db
from ..models import OfficeSubmission
from . import bp

log = logging.getLogger(__name__)
FIELD = "submission_id"
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
# A claim never marked applied after this long belongs to a worker that died mid-request
# (longer than any worker timeout, so a slow first arrival is never taken over).
ABANDONED_AFTER = timedelta(minutes=10)
WAIT_SECONDS = 10.0  # how long a replay waits for the first arrival's answer
MSG_REPLAYED = "Formulir ini sudah dikirim sebelumnya; tidak disimpan dua kali."
MSG_BUSY = ("Formulir ini sedang diproses dari pengiriman sebelumnya. Tunggu sebentar, lalu "
            "muat ulang halaman untuk melihat hasilnya.")
MSG_REFUSED = ("Pengiriman sebelumnya tidak tersimpan. Kembali ke halaman formulir, muat "
               "ulang, lalu isi dan kirim lagi.")
MSG_FOREIGN = "Formulir ini bukan milik sesi Anda. Muat ulang halaman lalu isi lagi."
REDIRECTS = (301, 302, 303, 307, 308)


@bp.app_context_processor
def submission_helpers():
    """`submission_field()`: the hidden one-time token every office write form carries."""
    return {"submission_field": submission_field}


def submission_field():
    """Markup of a hidden input with a fresh token (URL-safe characters only)."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{secrets.token_urlsafe(24)}">')


def once(view):
    """Decorate an office POST view (inside office_login_required) so that one submission
    token is applied at most once; see the module docstring."""
    @functools.wraps(view)
    def wrapped(**kwargs):
        token = request.form.get(FIELD, "") if request.method == "POST" else ""
        if not TOKEN.fullmatch(token):
            return view(**kwargs)
        earlier = _claim(token)
        if earlier is not None:
            return _replay(earlier)
        flashed_before = len(session.get("_flashes", []))
        try:
            claim = db.session.get(OfficeSubmission, token)
            claim.applied_at = utcnow()  # commits with the action's own transaction
            response = current_app.make_response(view(**kwargs))
        except BaseException:
            db.session.rollback()
            try:
                if not _applied(token):  # an action that committed keeps its claim
                    _release(token)
            except Exception:  # the view's own error is the one to answer with
                db.session.rollback()
                log.warning("office submission not released", exc_info=True)
            raise
        # A refusal answers with the form page or with a redirect that flashes an "error": it
        # frees the token, so the corrected form is applied (a refusal may have committed an
        # audit row, and the applied mark with it).
        refused = any(category == "error"
                      for category, _ in session.get("_flashes", [])[flashed_before:])
        if response.status_code in REDIRECTS and response.location and not refused:
            claim = db.session.get(OfficeSubmission, token)
            if claim is not None:
                claim.applied_at = claim.applied_at or utcnow()
                claim.result_url = response.location[:500]
                db.session.commit()
        else:
            _release(token)
        return response
    return wrapped


def _claim(token):
    """None when this request now owns the token, else the earlier submission's row."""
    for _attempt in range(2):
        db.session.add(OfficeSubmission(token=token, user_id=g.user.id, created_at=utcnow()))
        try:
            db.session.commit()
            return None
        except IntegrityError:
            db.session.rollback()
        earlier = db.session.get(OfficeSubmission, token)
        if earlier is None:
            continue  # released meanwhile: claim it again
        if (earlier.applied_at is None and earlier.result_url is None
                and as_utc(earlier.created_at) < utcnow() - ABANDONED_AFTER):
            db.session.execute(delete(OfficeSubmission).where(
                OfficeSubmission.token == token, OfficeSubmission.applied_at.is_(None),
                OfficeSubmission.created_at == earlier.created_at))
            db.session.commit()
            db.session.expire_all()
            continue
        return earlier
    # Claimed and released twice meanwhile: answer as to a replay still under way.
    return OfficeSubmission(token=token, user_id=g.user.id)


def _replay(earlier):
    """The answer to a token already claimed: the first answer's redirect, once known."""
    if earlier.user_id != g.user.id:
        return render_template("error.html", status=409, message=MSG_FOREIGN), 409
    token = earlier.token
    deadline = time.monotonic() + WAIT_SECONDS
    while earlier is not None and earlier.result_url is None:
        if (earlier.applied_at is not None
                and as_utc(earlier.created_at) < utcnow() - ABANDONED_AFTER):
            break  # applied by a worker that died before noting its answer
        if time.monotonic() >= deadline:
            return render_template("error.html", status=409, message=MSG_BUSY), 409
        time.sleep(0.1)
        db.session.rollback()  # a fresh snapshot: the first arrival commits meanwhile
        earlier = db.session.get(OfficeSubmission, token)
    if earlier is None:  # the first arrival was refused and released
        return render_template("error.html", status=409, message=MSG_REFUSED), 409
    flash(MSG_REPLAYED, "info")
    return redirect(earlier.result_url or url_for("web.index"), code=303)


def _applied(token):
    """Whether the token's applied mark is committed (read in a fresh transaction)."""
    db.session.rollback()
    claim = db.session.get(OfficeSubmission, token)
    return claim is not None and claim.applied_at is not None


def _release(token):
    db.session.execute(delete(OfficeSubmission).where(OfficeSubmission.token == token))
    db.session.commit()

