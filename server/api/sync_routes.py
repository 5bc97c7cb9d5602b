"""POST /api/sync: push the phone's outbox, pull what changed (DESIGN §4)."""
from flask import current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from sync.context import SyncActor
from sync.engine import process_sync
from sync.models import utcnow

from ..errors import outage_error
from ..extensions import db
from ..operations import active_operation_map, operations_payload
from ..retention import purge_if_due
from . import bp
from .common import authenticated_client, json_body
from .device import assignment_payload


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
        outage = outage_error(exc)
        if outage is None:
            raise
        raise outage from None
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
    # A SyncError (envelope, client mismatch, mutation gap) is answered, with its commit or
    # rollback, by server.errors.sync_error_response.
    response = process_sync(db.session, actor=actor, client=client, body=body,
                            now=utcnow(), page_size=current_app.config["SYNC_PAGE_SIZE"])
    db.session.commit()
    response["changes"]["desa"] = desa
    response["changes"]["assignments"] = {"kecamatan": kecamatan,
                                          "desa_codes": [d["code"] for d in desa],
                                          "operations": operations}
    return jsonify(response)
