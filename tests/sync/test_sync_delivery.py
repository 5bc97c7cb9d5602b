"""Steps 4–6 from the phones: batches, card collection, delivery with signature and proof hash."""
import hashlib
import json

import pytest
from sqlalchemy import func, select

from sync.handlers_delivery import proof_hash
from sync.models import Batch, BatchItem, Conflict, Resident, ResidentEvent
from sync.schemas import SyncResponseSchema
from sync_kit import FEW_POINTS, KECAMATAN, SIGNED, collection_args, pipeline_args


def recorded(kit, client, n):
    return kit.found_many(client, n, stage="recorded")


def test_handover_creates_the_batch_and_moves_everyone(session, kit):
    client = kit.client()
    ids = recorded(kit, client, 3)
    args = pipeline_args("handover_batch", ids[0], resident_ids=ids, notes="Berita acara 1")
    assert kit.run(client, "handover_batch", args)["status"] == "applied"
    batch = session.get(Batch, args["batch_id"])
    assert (batch.number, batch.kecamatan_code, batch.created_via, batch.created_by_user_id) == (
        "BA/001/2026", KECAMATAN, "phone", 7)
    assert batch.handed_at.replace(tzinfo=None).isoformat() == "2026-11-29T01:00:00"
    items = session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.batch_id)).all()
    assert sorted(i.resident_id for i in items) == sorted(ids) and {i.outcome for i in items} == {None}
    residents = [session.get(Resident, rid) for rid in ids]
    assert {(r.stage, r.batch_id) for r in residents} == {("sent_to_registry", batch.batch_id)}
    assert len({r.change_seq for r in residents}) == 3
    assert session.scalar(select(func.count()).select_from(ResidentEvent).where(
        ResidentEvent.kind == "batch_handed_over")) == 3


def test_handover_is_all_or_nothing(session, kit):
    client = kit.client()
    ids = recorded(kit, client, 2)
    late = kit.found(client, name="Budi Belum Rekam")
    kit.advance(client, late, "picked_up")
    args = pipeline_args("handover_batch", ids[0], resident_ids=ids + [late])
    result = kit.run(client, "handover_batch", args)
    assert result["code"] == "invalid_transition" and list(result["fields"]) == [late]
    assert "masih berstatus Dijemput" in result["fields"][late]
    assert session.get(Batch, args["batch_id"]) is None
    assert {session.get(Resident, rid).stage for rid in ids} == {"recorded"}


def test_a_batch_id_is_used_once(session, kit):
    client = kit.client()
    first, second = recorded(kit, client, 2)
    args = pipeline_args("handover_batch", first)
    kit.run(client, "handover_batch", args)
    again = kit.run(client, "handover_batch", dict(args, resident_ids=[second]))
    assert again["code"] == "validation_error" and "batch_id" in again["fields"]
    assert session.get(Resident, second).stage == "recorded"


def test_collection_marks_collected_and_not_printed(session, kit):
    client = kit.client()
    ids = recorded(kit, client, 3)
    handover = pipeline_args("handover_batch", ids[0], resident_ids=ids)
    kit.run(client, "handover_batch", handover)
    batch_id = handover["batch_id"]
    args = collection_args(batch_id, ids[0], ids[1])
    args["items"][1].update(outcome="not_printed", reason="blanko_habis")
    assert kit.run(client, "record_collection", args)["status"] == "applied"
    collected, waiting, untouched = (session.get(Resident, rid) for rid in ids)
    assert collected.stage == "card_collected" and collected.card_issue is None
    assert waiting.stage == "sent_to_registry"
    assert waiting.card_issue == {"reason": "blanko_habis", "reason_text": None,
                                  "batch_id": batch_id, "at": "2026-12-03T03:00:00Z"}
    assert untouched.stage == "sent_to_registry" and untouched.card_issue is None
    items = {i.resident_id: i for i in session.scalars(select(BatchItem))}
    assert (items[ids[0]].outcome, items[ids[1]].outcome, items[ids[2]].outcome) == (
        "collected", "not_printed", None)
    assert items[ids[1]].reason == "blanko_habis"
    assert session.get(Batch, batch_id).collected_at is not None

    # printed a week later: the issue is cleared
    kit.run(client, "record_collection", collection_args(batch_id, ids[1]))
    session.expire_all()
    waiting = session.get(Resident, ids[1])
    assert waiting.stage == "card_collected" and waiting.card_issue is None
    # a late "not printed" from another phone does not undo a collection (forward wins)
    other = kit.client(user_id=8)
    late = collection_args(batch_id, ids[0], outcome="not_printed", reason="duplicate_record")
    assert kit.run(other, "record_collection", late)["status"] == "applied"
    session.expire_all()
    assert session.get(Resident, ids[0]).stage == "card_collected"
    assert session.get(Resident, ids[0]).card_issue is None


@pytest.mark.parametrize("change, code, field", [
    ({"batch_id": "7b0c6a6e-0000-4000-8000-000000000000"}, "batch_not_found", "batch_id"),
    ({"items": [{"outcome": "not_printed", "reason": None}]}, "validation_error", "items.0.reason"),
    ({"items": [{"outcome": "not_printed", "reason": "other"}]}, "validation_error",
     "items.0.reason_text"),
    ({"items": []}, "validation_error", "items"),
])
def test_collection_refusals(session, kit, change, code, field):
    client = kit.client()
    [rid] = recorded(kit, client, 1)
    handover = pipeline_args("handover_batch", rid)
    kit.run(client, "handover_batch", handover)
    args = collection_args(handover["batch_id"], rid)
    for key, value in change.items():
        if key == "items" and value:
            args["items"][0].update(value[0])
        else:
            args[key] = value
    result = kit.run(client, "record_collection", args)
    assert (result["code"], field in result["fields"]) == (code, True), result
    assert session.get(Resident, rid).stage == "sent_to_registry"


def test_another_kecamatans_batch_does_not_exist(session, kit):
    client = kit.client()
    [rid] = recorded(kit, client, 1)
    handover = pipeline_args("handover_batch", rid)
    kit.run(client, "handover_batch", handover)
    elsewhere = kit.actor(user_id=9)
    elsewhere = type(elsewhere)(**{**elsewhere.__dict__, "kecamatan_code": "631101"})
    stranger = kit.client(user_id=9)
    result = kit.run(stranger, "record_collection", collection_args(handover["batch_id"], rid),
                     actor=elsewhere)
    assert result["code"] == "batch_not_found"


def delivered(kit, client):
    rid = kit.found(client)
    kit.advance(client, rid, "card_collected")
    return rid


def test_delivery_keeps_the_proof_and_sends_no_strokes(session, kit):
    client = kit.client()
    rid = delivered(kit, client)
    args = pipeline_args("deliver_card", rid, recipient="proxy", proxy_name="Ibu Aminah",
                         proxy_relation="Ibu kandung", photo="CD" * 32)
    response = kit.sync(client, [kit.mutation(client, "deliver_card", args)], cursor="0")
    assert response["results"][0]["status"] == "applied"
    resident = session.get(Resident, rid)
    assert resident.stage == "delivered"
    stored = resident.delivery
    assert stored["signature_data"] == SIGNED["base64"]  # kept for the office's SVG
    expected = {"resident_id": rid, "delivery_id": args["delivery_id"],
                "delivered_at": "2026-12-05T10:30:00+08:00",
                "gps": {"lat": -2.35, "lon": 115.5, "accuracy_m": 12}, "user_id": 7,
                "recipient": "proxy", "proxy_name": "Ibu Aminah",
                "signature_sha256": SIGNED["sha256"], "photo": "cd" * 32}
    canonical = json.dumps(expected, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert stored["proof_hash"] == hashlib.sha256(canonical.encode()).hexdigest()

    assert SyncResponseSchema().validate(response) == {}
    [pulled] = [r for r in response["changes"]["residents"] if r["resident_id"] == rid]
    assert "signature_data" not in json.dumps(pulled)
    assert pulled["delivery"]["signature_sha256"] == SIGNED["sha256"]
    assert pulled["delivery"]["proof_hash"] == stored["proof_hash"]
    assert (pulled["delivery"]["proxy_relation"], pulled["delivery"]["by"]) == ("Ibu kandung", 7)


def test_proof_hash_is_stable():
    proof = {"resident_id": "0b6f2c1e-7d3a-4c55-9a0e-2f1b7c9d8e01",
             "delivery_id": "5f0c9a7e-1b2d-4e3f-8a9b-0c1d2e3f4a5b",
             "delivered_at": "2026-12-05T10:30:00+08:00",
             "gps": {"lat": -2.35, "lon": 115.5, "accuracy_m": 12}, "user_id": 7,
             "recipient": "owner", "proxy_name": None, "signature_sha256": SIGNED["sha256"],
             "photo": None}
    assert proof_hash(proof) == "3828b6fc994cacaf5fd1552dc87b396606455a27242ccacf5128c90df0860b90"
    assert proof_hash(dict(reversed(list(proof.items())))) == proof_hash(proof)
    assert proof_hash({**proof, "extra": 1}) == proof_hash(proof)  # only the contract's fields
    assert proof_hash({**proof, "proxy_name": "Ani"}) != proof_hash(proof)


@pytest.mark.parametrize("signature, code", [
    ({"data": "@@@@", "sha256": SIGNED["sha256"]}, "signature_invalid"),
    ({"data": SIGNED["base64"], "sha256": "0" * 64}, "signature_invalid"),
    ({"data": FEW_POINTS["base64"], "sha256": FEW_POINTS["sha256"]}, "signature_empty"),
])
def test_signature_refusals(session, kit, signature, code):
    client = kit.client()
    rid = delivered(kit, client)
    result = kit.run(client, "deliver_card", pipeline_args("deliver_card", rid, signature=signature))
    assert (result["code"], list(result["fields"])) == (code, ["signature"])
    assert session.get(Resident, rid).stage == "card_collected"


def test_same_delivery_resent_is_applied_once(session, kit):
    client = kit.client()
    rid = delivered(kit, client)
    args = pipeline_args("deliver_card", rid)
    kit.run(client, "deliver_card", args)
    reinstalled = kit.client()
    assert kit.run(reinstalled, "deliver_card", dict(args))["status"] == "applied"
    assert session.scalar(select(func.count()).select_from(ResidentEvent).where(
        ResidentEvent.kind == "delivered")) == 1
    assert session.scalars(select(Conflict)).all() == []


def test_two_deliveries_of_one_card_are_a_conflict(session, kit):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    rid = delivered(kit, a)
    first = pipeline_args("deliver_card", rid)
    second = pipeline_args("deliver_card", rid, recipient="proxy", proxy_name="Pak RT",
                           proxy_relation="Ketua RT")
    assert kit.run(a, "deliver_card", first)["status"] == "applied"
    assert kit.run(b, "deliver_card", second)["status"] == "applied"  # kept, not dropped
    session.expire_all()
    resident = session.get(Resident, rid)
    assert resident.stage == "delivered" and resident.delivery["delivery_id"] == first["delivery_id"]
    [conflict] = session.scalars(select(Conflict)).all()
    assert conflict.kind == "double_delivery" and conflict.status == "open"
    assert conflict.details["first"]["delivery_id"] == first["delivery_id"]
    assert conflict.details["second"]["delivery_id"] == second["delivery_id"]
    assert conflict.details["second"]["signature_data"] == SIGNED["base64"]
    assert conflict.details["second"]["by"] == 8
    events = session.scalars(select(ResidentEvent).where(ResidentEvent.kind == "delivered")).all()
    assert [e.payload.get("conflict") for e in events] == [None, "double_delivery"]


def test_delivery_accepted_before_the_collection_arrives(session, kit):
    """Phone A collected the cards but has not synced; phone B delivers one: stage is the max."""
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    rid = kit.found(a)
    batch_id = kit.advance(a, rid, "sent_to_registry")
    assert kit.run(b, "deliver_card", pipeline_args("deliver_card", rid))["status"] == "applied"
    assert kit.run(a, "record_collection", collection_args(batch_id, rid))["status"] == "applied"
    session.expire_all()
    assert session.get(Resident, rid).stage == "delivered"
    assert session.scalars(select(Conflict)).all() == []
