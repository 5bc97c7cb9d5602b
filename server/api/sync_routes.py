"""POST /api/sync: push the phone's outbox, pull what changed (DESIGN §4)."""
import logging

from flask import current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from sync.engine import SyncActor, process_sync
from sync.identity import database_id
from sync.errors import ClientMismatch, EnvelopeError, MutationGap, is_database_outage

from . import bp
from .common import authenticated_client, json_body
from .device import assignment_payload
from ..errors import ApiError
from ..extensions import db
from ..models import utcnow
from ..operations import active_operation_map, operations_payload
from ..retention import purge_if_due

log = logging.getLogger(__name__)

MSG_DATABASE_UNAVAILABLE = ("Server sedang tidak dapat menyimpan data. Data tetap di HP dan "
                            "dikirim lagi nanti.")


@bp.post("/sync")
def sync():
    """Apply the batch of mutations in order and return results plus a page of changes.

    A database outage anywhere in the request is a 503 `database_unavailable` with nothing
    applied (the phone keeps its outbox and retries); any other fault of one mutation is that
    mutation's `server_rejected` (sync.engine).
    """
    try:
        response = _sync()
    except SQLAlchemyError as exc:
        if not is_database_outage(exc):
            raise
        db.session.rollback()
        log.warning("sync refused: database unavailable (%s)", type(exc).__name__)
        raise ApiError(503, "database_unavailable", MSG_DATABASE_UNAVAILABLE) from None
    purge_if_due(utcnow())  # after the commit: the phone's data never waits on it
    return response


def _sync():
    client, user = authenticated_client()
    body = json_body()
    actor = SyncActor(user_id=user.id, username=user.username, role=user.role,
                      kecamatan_code=user.kecamatan_code, desa_codes=user.desa_codes,
                      operations=active_operation_map(db.session, user.desa_codes))
    kecamatan, desa = assignment_payload(user)
    operations = operations_payload(db.session, user.desa_codes)
    try:
        response = process_sync(db.session, actor=actor, client=client, body=body,
                                now=utcnow(), page_size=current_app.config["SYNC_PAGE_SIZE"])
    except EnvelopeError as err:
        db.session.rollback()
        status = 413 if err.code == "payload_too_large" else 400
        raise ApiError(status, err.code, err.message, err.fields) from None
    except ClientMismatch:
        db.session.rollback()
        raise ApiError(403, "client_mismatch",
                       "client_id tidak cocok dengan token perangkat ini. Silakan login ulang.")
    except MutationGap as gap:
        db.session.commit()  # what was applied before the gap is acknowledged by last_mutation_id
        raise ApiError(409, "mutation_gap",
                       "Ada data yang terlewat; HP akan mengirim ulang mulai dari nomor berikutnya.",
                       last_mutation_id=gap.last_mutation_id,
                       database_id=database_id(db.session)) from None
    db.session.commit()
    response["changes"]["desa"] = desa
    response["changes"]["assignments"] = {"kecamatan": kecamatan,
                                          "desa_codes": [d["code"] for d in desa],
                                          "operations": operations}
    return jsonify(response)
