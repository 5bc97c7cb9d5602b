"""The "Pulihkan data HP" page: the office uploads a phone's "Unduh data yang belum terkirim" file (a lost
or broken phone) and its mutations and photos are applied exactly once (sync/recovery.py).

The file must come from a phone of the office user's kecamatan, and it is applied as that
phone's officer, under the phone's own client id and mutation ids: a second upload or a later
sync of the same phone answers "duplicate". Photos are stored through server/attachments.py as
if the officer had uploaded them (deduplicated by sha256). A refused file changes nothing.

A file applied answers with a redirect (303) to its result page, the summary kept in the
office user's session: reloading that page shows it again and never posts the file twice.
"""
import json

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from sync.context import SyncActor
from sync.models import Client, utcnow
from sync.recovery import (
    MUTATION_LABELS,
    RecoveryError,
    UnsentFile,
    apply_unsent,
    read_unsent_file,
)

from .. import attachments as store
from ..auth import audit, office_login_required
from ..extensions import db
from ..models import User
from ..operations import active_operation_map
from . import bp
from .submissions import once

DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # RECOVERY_MAX_BYTES unless configured: ~150 photos
MSG_NO_FILE = "Pilih berkas data HP (.json) yang diunduh dari aplikasi."
MSG_TOO_LARGE = "Berkas terlalu besar (paling banyak {mb} MB)."
MSG_UNKNOWN_DEVICE = ("Perangkat HP dalam berkas ini tidak dikenal server. Berkas hanya dapat "
                      "dipulihkan untuk HP yang pernah login ke server ini.")
MSG_OTHER_KECAMATAN = "Berkas ini berasal dari HP petugas kecamatan lain; tidak dapat dipulihkan di sini."
MSG_WRONG_OFFICER = ("Nama petugas dalam berkas tidak cocok dengan pemilik perangkat ini; "
                     "berkas tidak dipulihkan.")
MSG_NOT_OFFICER = "Perangkat dalam berkas ini bukan milik petugas lapangan."
MSG_DONE = ("Data HP dipulihkan: {applied} perubahan diterapkan, {duplicate} sudah pernah "
            "diterima, {rejected} ditolak; {photos} foto disimpan.")
STATUS_LABELS = {"applied": "Diterapkan", "duplicate": "Sudah pernah diterima",
                 "rejected": "Ditolak", "skipped": "Tidak diproses"}
RESULT_KEY = "recovery_result"  # the session key of the last file's summary
# The session is a signed cookie (~4 KB at most): a long summary keeps its refused rows only.
ROWS_KEPT_CHARS = 1500
REFUSED_ROWS_KEPT = 10
MESSAGE_CHARS = 150


class RecoveryForm(FlaskForm):
    """Upload one unsent-data file."""

    file = FileField("Berkas data HP (.json)", validators=[FileRequired(MSG_NO_FILE)])


def max_bytes():
    """The configured size cap of a recovery file, in bytes."""
    return int(current_app.config.get("RECOVERY_MAX_BYTES") or DEFAULT_MAX_BYTES)


@bp.url_value_preprocessor
def _allow_large_file(endpoint, values):
    # Runs before every before_request (CSRF reads the form there): only this upload may be
    # larger than the app's MAX_CONTENT_LENGTH, because its file carries photos.
    if endpoint == "web.recovery" and request.method == "POST":
        request.max_content_length = max_bytes()


@bp.route("/pemulihan", methods=("GET", "POST"))
@office_login_required
@once
def recovery():
    """The upload form; a POST applies the file and shows what happened to each change."""
    form = RecoveryForm()
    if request.method == "GET":
        return render_template("recovery.html", form=form, summary=None)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _refuse(form, MSG_NO_FILE, 400)
    with form.file.data.stream as stream:  # a large upload is spooled to a temporary file
        raw = stream.read(max_bytes() + 1)
    if len(raw) > max_bytes():
        return _refuse(form, MSG_TOO_LARGE.format(mb=max_bytes() // (1024 * 1024)), 413)
    try:
        unsent = read_unsent_file(raw)
        client, officer = _device_of(unsent)
        results = apply_unsent(db.session, actor=_actor(officer), client=client,
                               mutations=unsent.mutations, now=utcnow())
    except RecoveryError as err:
        return _refuse(form, err.message, 422)
    except _Refused as refused:
        return _refuse(form, refused.message, refused.status)
    photos = _store_photos(unsent, officer)
    summary = _summary(unsent, results, photos)
    audit("recover_phone_data", target=f"client:{client.client_id}", user=officer.id,
          applied=summary["counts"]["applied"], duplicate=summary["counts"]["duplicate"],
          rejected=summary["counts"]["rejected"], photos=photos["stored"])
    db.session.commit()
    flash(MSG_DONE.format(photos=photos["stored"], **summary["counts"]), "ok")
    session[RESULT_KEY] = {"client_id": client.client_id, "officer_id": officer.id,
                           "summary": _kept(summary)}
    return redirect(url_for("web.recovery_result"), code=303)


@bp.get("/pemulihan/hasil")
@office_login_required
def recovery_result():
    """The summary of the last file this office user applied (a GET: reloading it re-posts
    nothing); without one, the upload page."""
    kept = session.get(RESULT_KEY) or {}
    officer = db.session.get(User, kept.get("officer_id") or 0)
    client = db.session.get(Client, kept.get("client_id") or "")
    if officer is None or client is None or officer.kecamatan_code != g.user.kecamatan_code:
        return redirect(url_for("web.recovery"))
    return render_template("recovery.html", form=RecoveryForm(formdata=None),
                           summary=kept["summary"], officer=officer, client=client)


def _kept(summary):
    """The summary as the session keeps it: every row while short, else the refused rows
    (first REFUSED_ROWS_KEPT, messages shortened) and the number of rows left out."""
    rows = summary["rows"]
    if len(json.dumps(rows)) > ROWS_KEPT_CHARS:
        refused = [row for row in rows if row["status"] not in (
            STATUS_LABELS["applied"], STATUS_LABELS["duplicate"])][:REFUSED_ROWS_KEPT]
        rows = [{**row, "message": row["message"][:MESSAGE_CHARS]} for row in refused]
    photos = {**summary["photos"], "failed": summary["photos"]["failed"][:REFUSED_ROWS_KEPT]}
    return {**summary, "rows": rows, "hidden": len(summary["rows"]) - len(rows),
            "photos": photos}


class _Refused(Exception):
    def __init__(self, message, status):
        super().__init__(message)
        self.message, self.status = message, status


def _refuse(form, message, status):
    db.session.rollback()  # nothing of the file is kept; the refusal itself is audited
    audit("recovery_rejected", status=status)
    db.session.commit()
    flash(message, "error")
    return render_template("recovery.html", form=form, summary=None), status


def _device_of(unsent: UnsentFile):
    """(client, officer) of the file, checked against the office user's kecamatan."""
    client = db.session.get(Client, unsent.client_id)
    officer = db.session.get(User, client.user_id) if client is not None else None
    if officer is None:
        raise _Refused(MSG_UNKNOWN_DEVICE, 422)
    if officer.kecamatan_code != g.user.kecamatan_code:
        raise _Refused(MSG_OTHER_KECAMATAN, 403)
    if officer.role != "petugas":
        raise _Refused(MSG_NOT_OFFICER, 422)
    if unsent.username is not None and unsent.username != officer.username:
        raise _Refused(MSG_WRONG_OFFICER, 422)
    return client, officer


def _actor(officer):
    # The officer's assignment as it is now, as at a sync (a revoked phone is no obstacle: its
    # data is what is being rescued).
    return SyncActor(user_id=officer.id, username=officer.username, role=officer.role,
                     kecamatan_code=officer.kecamatan_code, desa_codes=officer.desa_codes,
                     operations=active_operation_map(db.session, officer.desa_codes))


def _store_photos(unsent, officer):
    """Store the file's photos as the officer's uploads; {stored, present, failed: [...]}."""
    config = current_app.config
    outcome = {"stored": 0, "present": 0, "failed": [], "missing": unsent.missing_photos}
    now = utcnow()
    for photo in unsent.photos:
        if store.completed(db.session, photo.sha256, officer.kecamatan_code) is not None:
            outcome["present"] += 1
            continue
        try:
            with db.session.begin_nested():
                store.put_chunk(
                    db.session, sha256=photo.sha256, body=photo.data, content_range=None,
                    content_type=photo.mime, user=officer, cap=store.max_bytes(config), now=now,
                    quota=store.partial_quota(config), retention=store.retention_days(config),
                    unreferenced=store.unreferenced_quota(config))
        except store.UploadError as err:
            outcome["failed"].append({"sha256": photo.sha256[:12], "message": err.message})
            continue
        outcome["stored"] += 1
    return outcome


def _summary(unsent, results, photos):
    names = {m["id"]: m.get("name") for m in unsent.mutations}
    counts = {"applied": 0, "duplicate": 0, "rejected": 0}
    rows = []
    for result in results:
        status = result["status"]
        if status == "duplicate" and result.get("code"):
            status = "rejected"  # rejected at its first arrival: still waiting for a fix
        counts[status if status in counts else "rejected"] += 1
        rows.append({"id": result["id"], "name": MUTATION_LABELS.get(names.get(result["id"]),
                                                                     names.get(result["id"])),
                     "status": STATUS_LABELS.get(status, status),
                     "message": result.get("message") or ""})
    return {"counts": counts, "rows": rows, "photos": photos, "needs_fix": unsent.needs_fix,
            "version": unsent.version}
