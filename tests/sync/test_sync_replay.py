"""A phone heals a restored server (issue #9): it resends acknowledged mutations under a new
client with their `origin`, and the server holds every record exactly once, nothing rejected.

The restore itself is tests/server/test_backup.py and tests/e2e/test_restore.py; here the
"restored" database is one that holds only the first part of what the phone sent.
"""
from sqlalchemy import select

from sync.identity import database_id, renew_database_id
from sync.models import Batch, BatchItem, Conflict, RejectedMutation, Resident, ResidentEvent
from sync_kit import collection_args, pipeline_args


def _history(kit, client):
    """Every mutation of one resident's whole life, numbered for client: register, verify,
    pick up, cancel the pick-up, pick up again, record, hand over, collect, deliver, edit."""
    args = kit.register_args()
    rid = args["resident_id"]
    handover = pipeline_args("handover_batch", rid)
    steps = [
        ("register_resident", args),
        ("verify_resident", pipeline_args("verify_resident", rid)),
        ("pick_up", pipeline_args("pick_up", rid)),
        ("cancel_pickup", pipeline_args("cancel_pickup", rid)),
        ("pick_up", pipeline_args("pick_up", rid)),
        ("record_done", pipeline_args("record_done", rid)),
        ("handover_batch", handover),
        ("record_collection", collection_args(handover["batch_id"], rid)),
        ("deliver_card", pipeline_args("deliver_card", rid)),
        ("update_resident", {"resident_id": rid, "base_version": 9,
                             "fields": {"phone": "081234567890"}}),
    ]
    return rid, [kit.mutation(client, name, a) for name, a in steps]


def _replayed(mutations, origin_client, first_id):
    """The same mutations renumbered for a new client, each carrying where it came from."""
    return [{**m, "id": first_id + i, "origin": {"client_id": origin_client.client_id,
                                                 "id": m["id"]}}
            for i, m in enumerate(mutations)]


def _trail(session, rid):
    rows = session.execute(select(ResidentEvent.kind, ResidentEvent.client_id,
                                  ResidentEvent.mutation_id)
                           .where(ResidentEvent.resident_id == rid).order_by(ResidentEvent.id))
    return [tuple(row) for row in rows]


def _state(session, rid):
    resident = session.get(Resident, rid, populate_existing=True)
    return {key: getattr(resident, key) for key in (
        "stage", "version", "verification", "pickup", "recording", "batch_id", "delivery",
        "phone", "field_versions", "created_by_client_id")}


def test_a_replay_of_what_the_server_already_holds_changes_nothing(kit, session):
    first = kit.client()
    rid, mutations = _history(kit, first)
    kit.apply_all(first, mutations)
    trail, state = _trail(session, rid), _state(session, rid)

    # The phone logged in again (new client) and resends its whole log: every mutation is a
    # duplicate, including the cancelled pick-up and the handover whose batch exists.
    second = kit.client()
    response = kit.sync(second, _replayed(mutations, first, 1))
    assert [r["status"] for r in response["results"]] == ["duplicate"] * len(mutations)
    assert response["last_mutation_id"] == len(mutations)
    assert _trail(session, rid) == trail
    assert _state(session, rid) == state
    assert session.scalars(select(RejectedMutation)).all() == []
    assert session.scalars(select(Conflict)).all() == []
    assert len(session.scalars(select(Batch)).all()) == 1


def test_a_replay_onto_an_older_copy_restores_each_record_once_as_first_written(kit, session):
    first = kit.client()
    rid, mutations = _history(kit, first)
    kit.apply_all(first, mutations)
    expected_trail, expected_state = _trail(session, rid), _state(session, rid)

    # The "restored" database: the same phone, but only the first four mutations arrived.
    for table in (BatchItem, Batch, Conflict, ResidentEvent, Resident):
        session.execute(table.__table__.delete())
    first.last_mutation_id = 0
    session.commit()
    kit.apply_all(first, [{**m} for m in mutations[:4]])

    second = kit.client()
    response = kit.sync(second, _replayed(mutations, first, 1))
    statuses = [r["status"] for r in response["results"]]
    assert statuses == ["duplicate"] * 4 + ["applied"] * (len(mutations) - 4)
    # The history reads as written the first time: same kinds, same client and mutation ids.
    assert _trail(session, rid) == expected_trail
    assert _state(session, rid) == expected_state
    assert session.scalars(select(RejectedMutation)).all() == []


def test_an_origin_of_another_officers_client_is_refused(kit, session):
    other = kit.client(user_id=8)
    mine = kit.client()
    mutation = kit.mutation(mine, "register_resident", kit.register_args())
    mutation["origin"] = {"client_id": other.client_id, "id": 1}
    result = kit.sync(mine, [mutation])["results"][0]
    assert result["status"] == "rejected" and result["code"] == "validation_error"
    assert "origin" in result["fields"]


def test_an_origin_of_the_sending_client_itself_is_ignored(kit, session):
    # Honouring it could write events under an id this client will use again later.
    client = kit.client()
    args = kit.register_args()
    mutation = kit.mutation(client, "register_resident", args)
    mutation["origin"] = {"client_id": client.client_id, "id": 7}
    assert kit.sync(client, [mutation])["results"][0]["status"] == "applied"
    assert _trail(session, args["resident_id"]) == [("registered", client.client_id, 1)]


def test_the_sync_answer_carries_the_database_identity(kit, session):
    client = kit.client()
    first = kit.sync(client)["database_id"]
    assert first == kit.sync(client)["database_id"] == database_id(session)
    renewed = renew_database_id(session)
    session.commit()
    assert renewed != first
    assert kit.sync(client)["database_id"] == renewed


def test_another_officer_cannot_pre_empt_a_lost_clients_replay(kit, session):
    # B's client was lost with the restore (backup older than B's login). A, who pulled B's
    # client id from a shared case, claims (B's client, 1..2) first — a lost id cannot be
    # told from a new one, so that is written as A's — yet B's own replay is still applied.
    lost = kit.client(user_id=7)
    args = kit.register_args()
    original = kit.mutation(lost, "register_resident", args)
    session.delete(lost)
    session.commit()

    officer_a = kit.client(user_id=8)
    claims = [kit.mutation(officer_a, "register_resident", kit.register_args())
              for _ in range(2)]
    for number, claim in enumerate(claims, start=1):
        claim["origin"] = {"client_id": lost.client_id, "id": number}
    kit.sync(officer_a, claims, actor=kit.actor(8))

    officer_b = kit.client(user_id=7)
    replay = {**original, "id": 1, "origin": {"client_id": lost.client_id, "id": 1}}
    assert kit.sync(officer_b, [replay])["results"][0]["status"] == "applied"
    assert session.get(Resident, args["resident_id"]) is not None
    # ... and a second replay of it (a lost answer) is B's duplicate
    assert kit.sync(officer_b, [{**replay, "id": 2}])["results"][0]["status"] == "duplicate"


def test_a_replayed_update_that_changed_nothing_is_not_applied_again(kit, session):
    # An update that found the value already there wrote no event; replayed after a later
    # change it would put the old value back (with no conflict: same client).
    first = kit.client()
    rid = kit.found(first)
    phone = session.get(Resident, rid, populate_existing=True).phone
    noop = kit.mutation(first, "update_resident", {"resident_id": rid, "base_version": 1,
                                                   "fields": {"phone": phone}})
    later = kit.mutation(first, "update_resident", {"resident_id": rid, "base_version": 1,
                                                    "fields": {"phone": "+6281299990000"}})
    assert [r["status"] for r in kit.sync(first, [noop, later])["results"]] == ["applied"] * 2

    second = kit.client()  # the officer logged in again after the restore: the log is resent
    replay = _replayed([noop, later], first, 1)
    assert [r["status"] for r in kit.sync(second, replay)["results"]] == ["duplicate"] * 2
    assert session.get(Resident, rid, populate_existing=True).phone == "+6281299990000"
