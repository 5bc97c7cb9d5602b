"""Pipeline mutations of one phone: every mutation from every stage, and what a refusal leaves."""
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sync.changeseq import counter_value
from sync.models import Conflict, Resident, ResidentEvent
from sync.office import OfficeActor, import_listed_residents
from sync.pull import resident_to_dict
from sync.schemas import SyncResponseSchema
from sync_kit import DESA_A, DESA_B, KECAMATAN, NOW, collection_args, pipeline_args, uid

# The stage-transition vectors, shared with the phone's tests and docs/sync-protocol.md.
VECTORS = json.loads((Path(__file__).resolve().parent.parent / "vectors"
                      / "stage_transitions.json").read_text("utf-8"))
STAGES = tuple(VECTORS["stages"])
CAMAT = OfficeActor(user_id=3, role="camat", kecamatan_code=KECAMATAN)

# mutation → {stage before: stage after, "!code" (refused), or "~conflict_kind" (kept, stage as is)}
MATRIX = VECTORS["transitions"]


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def snapshot(session, rid):
    """Everything a refused mutation must leave as it was."""
    session.expire_all()
    return (resident_to_dict(session.get(Resident, rid)), count(session, ResidentEvent),
            count(session, Conflict), counter_value(session, KECAMATAN))


def case_state(session, rid):
    """A resident's row, events and conflicts (what a refusal must leave as it was)."""
    return (resident_to_dict(session.get(Resident, rid)),
            count(session, ResidentEvent, ResidentEvent.resident_id == rid),
            count(session, Conflict, Conflict.resident_id == rid))


def residents_at_every_stage(kit, session, client):
    """{stage: (resident id, its batch)} through real mutations, plus a batch none is in."""
    [listed] = import_listed_residents(session, CAMAT, operation_id=1, now=NOW, rows=[
        {"desa_code": DESA_A, "name": f"Warga Daftar {uid()[:8]}", "nik": ""}])
    session.commit()
    ids = kit.found_many(client, len(STAGES))  # the last one hosts a batch none of the others is in
    cases, mutations = {"listed": (listed, None)}, []
    for stage, rid in zip(STAGES[1:], ids):
        if stage == "rejected":
            batch_id, path = None, [kit.mutation(client, "reject_resident",
                                                 pipeline_args("reject_resident", rid))]
        else:
            batch_id, path = kit.path(client, rid, stage)
        mutations += path
        cases[stage] = (rid, batch_id)
    host_batch, path = kit.path(client, ids[-1], "sent_to_registry")
    kit.apply_all(client, mutations + path)
    return cases, host_batch


def args_for(name, rid, batch_id, host_batch):
    if name == "record_collection":
        return collection_args(batch_id or host_batch, rid)
    return pipeline_args(name, rid)


@pytest.mark.parametrize("name", MATRIX)
def test_every_mutation_from_every_stage(session, kit, name):
    client = kit.client()
    cases, host_batch = residents_at_every_stage(kit, session, client)
    before = {stage: case_state(session, rid) for stage, (rid, _) in cases.items()}
    last = kit.next_ids[client.client_id]
    # One request with the mutation for every stage: each touches only its own resident.
    response = kit.sync(client, [kit.mutation(client, name, args_for(name, rid, batch, host_batch))
                                 for rid, batch in cases.values()], page_size=1)
    assert response["last_mutation_id"] == last + len(STAGES)  # refusals advance it too
    session.expire_all()
    for (stage, (rid, _)), result in zip(cases.items(), response["results"]):
        expected = MATRIX[name][stage]
        resident = session.get(Resident, rid)
        if expected.startswith("!"):
            assert (result["status"], result["code"]) == ("rejected", expected[1:]), (stage, result)
            assert result["message"] and rid in result["fields"], result
            assert case_state(session, rid) == before[stage], stage  # nothing changed
            continue
        assert result["status"] == "applied", (stage, result)
        kinds = [c.kind for c in session.scalars(select(Conflict).where(Conflict.resident_id == rid))]
        if expected.startswith("~"):
            assert resident.stage == stage and kinds == [expected[1:]], (stage, name)
        else:
            assert resident.stage == expected and kinds == [], (stage, name)
        # each accepted event: a new version, a new change_seq and one more event
        assert resident.version == before[stage][0]["version"] + 1
        assert case_state(session, rid)[1] == before[stage][1] + 1


def test_refusals_are_stored_and_repeated_on_resend(session, kit):
    client = kit.client()
    rid = kit.found(client)
    mutation = kit.mutation(client, "pick_up", pipeline_args("pick_up", rid))
    first = kit.sync(client, [mutation])["results"][0]
    assert first["code"] == "invalid_transition"
    assert first["message"] == "Warga ini masih berstatus Terdata; verifikasi dulu sebelum dijemput."
    again = kit.sync(client, [mutation])["results"][0]
    assert again["status"] == "duplicate" and again["code"] == "invalid_transition"


def test_verify_keeps_the_evidence_and_travels(session, kit):
    client = kit.client()
    rid = kit.found(client)
    photo = "AB" * 32
    args = pipeline_args("verify_resident", rid, kk_photo=photo, notes="KK asli dilihat",
                         checks={"kk_copy_seen": False, "age_eligible": True,
                                 "marital_eligible": True})
    response = kit.sync(client, [kit.mutation(client, "verify_resident", args)])
    assert response["results"][0]["status"] == "applied"
    assert SyncResponseSchema().validate(response) == {}
    [pulled] = response["changes"]["residents"]
    assert (pulled["stage"], pulled["stage_label"], pulled["kk_photo"]) == (
        "verified", "Terverifikasi", photo.lower())
    assert pulled["verification"]["checks"] == args["checks"]
    assert pulled["verification"]["by"] == 7 and pulled["verification"]["notes"] == "KK asli dilihat"
    event = session.scalars(select(ResidentEvent).where(ResidentEvent.kind == "verified")).one()
    assert event.payload["stage_before"] == "found" and event.mutation_id == 2


@pytest.mark.parametrize("name, args, code, field", [
    ("verify_resident", {"checks": {"kk_copy_seen": False, "age_eligible": True,
                                    "marital_eligible": False}}, "missing_kk_evidence", "kk_photo"),
    ("verify_resident", {"checks": {"kk_copy_seen": 1, "age_eligible": True,
                                    "marital_eligible": True}}, "validation_error",
     "checks.kk_copy_seen"),
    ("verify_resident", {"kk_photo": "abc"}, "validation_error", "kk_photo"),
    ("verify_resident", {"checks": None}, "validation_error", "checks"),
    ("reject_resident", {"reason": "other"}, "validation_error", "reason_text"),
    ("reject_resident", {"reason": "lazy"}, "validation_error", "reason"),
    ("pick_up", {"resident_ids": []}, "validation_error", "resident_ids"),
    ("pick_up", {"picked_up_at": "2026-11-28T08:00:00"}, "validation_error", "picked_up_at"),
    ("pick_up", {"pickup_point": "  "}, "validation_error", "pickup_point"),
    ("cancel_pickup", {"reason": ""}, "validation_error", "reason"),
    ("record_done", {"recorded_at": "besok"}, "validation_error", "recorded_at"),
    ("record_failed", {"reason": "other", "reason_text": ""}, "validation_error", "reason_text"),
    ("handover_batch", {"number": ""}, "validation_error", "number"),
    ("deliver_card", {"recipient": "proxy"}, "validation_error", "proxy_name"),
    ("deliver_card", {"gps": {"lat": 200, "lon": 0}}, "validation_error", "gps.lat"),
    ("verify_resident", {"resident_id": "7b0c6a6e-0000-4000-8000-000000000000"},
     "resident_not_found", "resident_id"),
])
def test_argument_refusals(session, kit, name, args, code, field):
    client = kit.client()
    rid = kit.found(client)
    before = snapshot(session, rid)
    result = kit.run(client, name, pipeline_args(name, rid, **args))
    assert kit.sync(client, page_size=1)["last_mutation_id"] == 2
    assert (result["status"], result["code"]) == ("rejected", code)
    assert field in result["fields"], result["fields"]
    assert snapshot(session, rid) == before


def test_pick_up_is_all_or_nothing_and_names_who_blocks(session, kit):
    client = kit.client()
    ready = kit.found_many(client, 2, stage="verified")
    blocked = kit.found(client, name="Siti Belum Verifikasi")
    before = [snapshot(session, rid) for rid in ready]
    result = kit.run(client, "pick_up", pipeline_args("pick_up", ready[0],
                                                      resident_ids=ready + [blocked]))
    assert result["code"] == "invalid_transition"
    assert list(result["fields"]) == [blocked]
    assert result["fields"][blocked].startswith("Siti Belum Verifikasi: masih berstatus Terdata")
    assert [snapshot(session, rid) for rid in ready] == before


def test_pick_up_gives_each_resident_its_own_event_and_seq(session, kit):
    client = kit.client()
    ids = kit.found_many(client, 3, stage="verified")
    args = pipeline_args("pick_up", ids[0], resident_ids=ids)
    response = kit.sync(client, [kit.mutation(client, "pick_up", args)], cursor="0")
    residents = [session.get(Resident, rid) for rid in ids]
    assert {r.stage for r in residents} == {"picked_up"}
    assert len({r.change_seq for r in residents}) == 3
    assert {r.pickup["pickup_id"] for r in residents} == {args["pickup_id"]}
    assert residents[0].pickup["at"] == "2026-11-28T00:00:00Z"
    events = session.scalars(select(ResidentEvent).where(ResidentEvent.kind == "picked_up")).all()
    assert sorted(e.resident_id for e in events) == sorted(ids)
    assert {e.mutation_id for e in events} == {kit.next_ids[client.client_id]}
    assert {r["pickup"]["point"] for r in response["changes"]["residents"]
            if r["resident_id"] in ids} == {"Balai Desa"}


@pytest.mark.parametrize("ids, code", [
    (lambda rid: [rid, "7b0c6a6e-0000-4000-8000-000000000000"], "resident_not_found"),
    (lambda rid: [rid, rid], "validation_error"),
    (lambda rid: [rid] + [uid() for _ in range(50)], "validation_error"),
])
def test_pick_up_refusals(session, kit, ids, code):
    client = kit.client()
    rid = kit.found(client)
    kit.advance(client, rid, "verified")
    result = kit.run(client, "pick_up", pipeline_args("pick_up", rid, resident_ids=ids(rid)))
    assert result["code"] == code and session.get(Resident, rid).stage == "verified"


def test_mutations_outside_the_officers_desa_are_refused(session, kit):
    both = kit.actor(user_id=7, desa=(DESA_A, DESA_B))
    a = kit.client(user_id=7)
    rid = kit.found(a, actor=both, desa_code=DESA_B)
    other = kit.client(user_id=8)  # desa A only
    for name in ("verify_resident", "reject_resident", "pick_up"):
        result = kit.run(other, name, pipeline_args(name, rid))
        assert result["code"] == "desa_not_assigned", name
    assert session.get(Resident, rid).stage == "found"


def test_cancel_and_failed_recording_go_back_and_keep_history(session, kit):
    client = kit.client()
    rid = kit.found(client)
    kit.advance(client, rid, "picked_up")
    assert kit.run(client, "cancel_pickup", pipeline_args("cancel_pickup", rid))["status"] == "applied"
    resident = session.get(Resident, rid)
    assert (resident.stage, resident.pickup) == ("verified", None)
    kit.run(client, "pick_up", pipeline_args("pick_up", rid))
    kit.run(client, "record_failed", pipeline_args("record_failed", rid, reason="resident_absent"))
    session.expire_all()
    resident = session.get(Resident, rid)
    assert (resident.stage, resident.pickup) == ("verified", None)
    assert resident.recording["failed"] == "resident_absent"
    kinds = session.scalars(select(ResidentEvent.kind).where(ResidentEvent.resident_id == rid)
                            .order_by(ResidentEvent.id)).all()
    assert kinds == ["registered", "verified", "picked_up", "pickup_cancelled", "picked_up",
                     "recording_failed"]
    # the resident comes to the office alone the next day
    kit.run(client, "record_done", pipeline_args("record_done", rid))
    session.expire_all()
    resident = session.get(Resident, rid)
    assert resident.stage == "recorded" and resident.recording["at"] == "2026-11-28T02:00:00Z"
    assert "failed" not in resident.recording


def test_operation_of_the_desa_is_stamped_at_registration(session, kit):
    client = kit.client()
    actor = kit.actor()
    actor = type(actor)(**{**actor.__dict__, "operations": {DESA_A: 12}})
    rid = kit.found(client, actor=actor)
    assert session.get(Resident, rid).operation_id == 12
    assert session.get(Resident, kit.found(client)).operation_id is None


def two_phones(kit):
    return kit.client(user_id=7), kit.client(user_id=8)


@pytest.mark.parametrize("first", ["verify", "reject"])
def test_verify_and_reject_from_two_phones_conflict_in_either_order(session, kit, first):
    a, b = two_phones(kit)
    rid = kit.found(a)
    steps = [(a, "verify_resident"), (b, "reject_resident")]
    for client, name in (steps if first == "verify" else steps[::-1]):
        assert kit.run(client, name, pipeline_args(name, rid))["status"] == "applied"
    resident = session.get(Resident, rid)
    assert resident.stage == ("verified" if first == "verify" else "rejected")
    [conflict] = session.scalars(select(Conflict)).all()
    assert (conflict.kind, conflict.status, conflict.kecamatan_code) == (
        "verify_vs_reject", "open", KECAMATAN)
    assert conflict.details["kept"] == resident.stage
    assert conflict.details["verification"]["by"] == 7
    assert conflict.details["rejection"]["by"] == 8
    assert conflict.details["rejection"]["reason"] == "moved_away"
    kinds = session.scalars(select(ResidentEvent.kind).where(ResidentEvent.resident_id == rid)
                            .order_by(ResidentEvent.id)).all()
    assert sorted(kinds[1:]) == ["rejected", "verified"]  # both kept


FORWARD_PAIRS = [
    ("verified", "verify_resident", "verify_resident", "verified"),
    ("verified", "pick_up", "record_done", "recorded"),
    ("picked_up", "record_done", "record_done", "recorded"),
    ("sent_to_registry", "record_collection", "deliver_card", "delivered"),
    ("card_collected", "record_collection", "deliver_card", "delivered"),
]


@pytest.mark.parametrize("reverse", [False, True], ids=["in order", "out of order"])
@pytest.mark.parametrize("start, one, two, stage", FORWARD_PAIRS,
                         ids=[f"{p[1]}+{p[2]}" for p in FORWARD_PAIRS])
def test_forward_events_from_two_phones_never_conflict(session, kit, start, one, two, stage,
                                                       reverse):
    a, b = two_phones(kit)
    rid = kit.found(a)
    batch_id = kit.advance(a, rid, start)
    sends = [(a, one), (b, two)]
    for client, name in (sends[::-1] if reverse else sends):
        result = kit.run(client, name, args_for(name, rid, batch_id, None))
        assert result["status"] == "applied", (name, result)
    session.expire_all()
    assert session.get(Resident, rid).stage == stage
    assert session.scalars(select(Conflict)).all() == []
