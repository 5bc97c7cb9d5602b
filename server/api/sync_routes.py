"""POST /api/sync: push the phone's outbox, pull what changed (DESIGN §4)."""
from flask import current_app, jsonify

from sync.engine import SyncActor, process_sync
from sync.errors import ClientMismatch, EnvelopeError, MutationGap

from . import bp
from .common import authenticated_client, json_body
from .device import assignment_payload
from ..errors import ApiError
from ..extensions import db
from ..models import utcnow
from ..operations import active_operation_map, operations_payload


@bp.post("/sync")
def sync():
    """Apply the batch of mutations in order and return results plus a page of changes."""
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
                       last_mutation_id=gap.last_mutation_id) from None
    db.session.commit()
    response["changes"]["desa"] = desa
    response["changes"]["assignments"] = {"kecamatan": kecamatan,
                                          "desa_codes": [d["code"] for d in desa],
                                          "operations": operations}
    return jsonify(response)
