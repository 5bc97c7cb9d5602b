"""Step times in SOP order (issue #11 §3): a step time earlier than the case's previous step
time is applied (the field record is real) and flagged `time_order` in its event, never
dropped silently; the pull tells the phone the times its forms must not precede."""
from sqlalchemy import select

from sync.models import ResidentEvent
from sync_kit import collection_args, pipeline_args


def events(session, rid, kind):
    return session.scalars(select(ResidentEvent.payload).where(
        ResidentEvent.resident_id == rid, ResidentEvent.kind == kind)
        .order_by(ResidentEvent.id)).all()


def test_a_delivery_before_that_cards_collection_is_applied_and_flagged(session, kit):
    client = kit.client()
    rid = kit.found(client)
    kit.advance(client, rid, "card_collected")  # collected 03/12 11.00 WITA
    early = pipeline_args("deliver_card", rid, delivered_at="2026-12-03T10:00:00+08:00")
    assert kit.run(client, "deliver_card", early)["status"] == "applied"
    [payload] = events(session, rid, "delivered")
    assert payload["time_order"] == {"before": "card_collected", "previous_at": "2026-12-03T03:00:00Z",
                                     "at": "2026-12-03T02:00:00Z"}
    assert payload["stage_before"] == "card_collected"  # applied as always


def test_a_collection_before_its_batchs_handover_is_flagged(session, kit):
    client = kit.client()
    rid = kit.found(client)
    batch_id = kit.advance(client, rid, "sent_to_registry")  # handed over 29/11 09.00 WITA
    args = collection_args(batch_id, rid, collected_at="2026-11-29T08:59:00+08:00")
    assert kit.run(client, "record_collection", args)["status"] == "applied"
    [payload] = events(session, rid, "card_collected")
    assert payload["time_order"]["before"] == "batch_handed_over"
    assert payload["time_order"]["previous_at"] == "2026-11-29T01:00:00Z"


def test_recording_before_pickup_and_handover_before_recording_are_flagged(session, kit):
    client = kit.client()
    rid = kit.found(client)
    kit.advance(client, rid, "picked_up")  # picked up 28/11 08.00 WITA
    kit.run(client, "record_done", pipeline_args(
        "record_done", rid, recorded_at="2026-11-28T07:00:00+08:00"))
    assert events(session, rid, "recorded")[0]["time_order"]["before"] == "picked_up"
    kit.run(client, "handover_batch", pipeline_args(
        "handover_batch", rid, handed_at="2026-11-28T06:00:00+08:00"))
    assert events(session, rid, "batch_handed_over")[0]["time_order"] == {
        "before": "recorded", "previous_at": "2026-11-27T23:00:00Z", "at": "2026-11-27T22:00:00Z"}


def test_steps_in_order_or_in_the_same_minute_carry_no_flag(session, kit):
    client = kit.client()
    rid = kit.found(client)
    kit.advance(client, rid, "card_collected")
    same_minute = pipeline_args("deliver_card", rid, delivered_at="2026-12-03T11:00:40+08:00")
    assert kit.run(client, "deliver_card", same_minute)["status"] == "applied"
    payloads = session.scalars(select(ResidentEvent.payload).where(
        ResidentEvent.resident_id == rid)).all()
    assert len(payloads) == 7 and not any("time_order" in p for p in payloads)


def test_the_pull_carries_the_handover_and_collection_times(session, kit):
    client = kit.client()
    collected, sent = kit.found(client), kit.found(client)
    kit.advance(client, collected, "card_collected")
    kit.advance(client, sent, "sent_to_registry")
    pulled = {r["resident_id"]: r for r in kit.sync(client)["changes"]["residents"]}
    assert pulled[collected]["batch_handed_at"] == "2026-11-29T01:00:00Z"
    assert pulled[collected]["card_collected_at"] == "2026-12-03T03:00:00Z"
    assert pulled[sent]["batch_handed_at"] == "2026-11-29T01:00:00Z"
    assert pulled[sent]["card_collected_at"] is None
