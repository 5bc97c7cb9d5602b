"""sync/registry.py: Disdukcapil's receipt of a batch, its print marks, what the collection
found against them, and the ready count the kecamatan and the phones see (issue #13)."""
import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.changeseq import counter_value
from sync.models import Base, Batch, BatchItem, Resident, ResidentEvent
from sync.office import OfficeActor, OfficeError, create_batch, record_collection
from sync.registry import (
    RegistryActor,
    collection_differences,
    confirm_receipt,
    mark_cards,
    ready_count,
    registry_batch,
    verification_code,
)
from sync_kit import (
    DESA_A,
    DESA_B,
    KECAMATAN,
    SyncKit,
    collection_args,
    pipeline_args,
    reset_database,
    uid,
)

DISDUK = RegistryActor(user_id=40, kabupaten_code="6311")  # Balangan
OTHER_DISDUK = RegistryActor(user_id=41, kabupaten_code="6308")  # Hulu Sungai Utara
OPERATOR = OfficeActor(user_id=4, role="operator", kecamatan_code=KECAMATAN)
HANDED = datetime(2026, 11, 29, 1, 0, tzinfo=timezone.utc)  # the phone's handover, 09:00 WITA
RECEIVED = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
COLLECTED = datetime(2026, 12, 3, 3, 0, tzinfo=timezone.utc)
READY, NOT_PRINTED = "ready", "not_printed"


# ---------------------------------------------------------------- helpers
def hand_over(kit, phone, count=3, desa=(DESA_A,), actor=None):
    """`count` residents handed over in one batch by the phone; (batch id, resident ids)."""
    ids = []
    for i in range(count):
        rid = kit.found(phone, actor=actor, desa_code=desa[i % len(desa)])
        kit.advance(phone, rid, "recorded", actor=actor)
        ids.append(rid)
    args = pipeline_args("handover_batch", ids[0], resident_ids=ids)
    assert kit.run(phone, "handover_batch", args, actor=actor)["status"] == "applied"
    return args["batch_id"], ids


def hand_over_existing(kit, phone, ids, actor=None):
    """The recorded residents `ids` handed over again in a new batch; (batch id, ids)."""
    args = pipeline_args("handover_batch", ids[0], resident_ids=list(ids))
    assert kit.run(phone, "handover_batch", args, actor=actor)["status"] == "applied"
    return args["batch_id"], list(ids)


def receive(session, batch_id, missing=(), at=RECEIVED, now=LATER):
    batch = confirm_receipt(session, DISDUK, batch_id, received_at=at, missing=missing, now=now)
    session.commit()
    return batch


def mark(session, batch_id, *marks, now=LATER):
    changed = mark_cards(session, DISDUK, batch_id, marks=list(marks), now=now)
    session.commit()
    return changed


def ready(rid):
    return {"resident_id": rid, "status": READY}


def not_printed(rid, reason="blanko_habis", text=None):
    return {"resident_id": rid, "status": NOT_PRINTED, "reason": reason, "reason_text": text}


def events(session, rid, kind=None):
    query = select(ResidentEvent).where(ResidentEvent.resident_id == rid)
    if kind:
        query = query.where(ResidentEvent.kind == kind)
    return session.scalars(query.order_by(ResidentEvent.id)).all()


def state(session):
    """Everything a registry action may write: residents, items, batches, events, counters."""
    session.expire_all()
    residents = sorted((r.resident_id, r.stage, r.batch_id, r.change_seq, r.version,
                        r.card_ready_at, repr(r.card_issue)) for r in session.scalars(
        select(Resident)))
    items = sorted((i.batch_id, i.resident_id, i.received, i.print_status, i.print_reason,
                    i.print_reason_text, i.print_marked_at, i.outcome)
                   for i in session.scalars(select(BatchItem)))
    batches = sorted((b.batch_id, b.received_at, b.received_by_user_id, b.verification_code,
                      b.collected_at) for b in session.scalars(select(Batch)))
    return (residents, items, batches, session.scalar(select(func.count(ResidentEvent.id))),
            counter_value(session, KECAMATAN))


def refused(session, code, call):
    """Run call: it must raise OfficeError `code` and, rolled back, leave nothing changed."""
    before = state(session)
    with pytest.raises(OfficeError) as info:
        call()
    session.rollback()
    assert info.value.code == code, info.value.to_dict()
    assert info.value.message
    assert state(session) == before
    return info.value


# ---------------------------------------------------------------- receipt
def test_receipt_of_the_whole_batch(session, kit):
    phone = kit.client()
    batch_id, ids = hand_over(kit, phone)
    seqs = {rid: session.get(Resident, rid).change_seq for rid in ids}
    batch = receive(session, batch_id)
    assert (as_utc(batch.received_at), batch.received_by_user_id) == (RECEIVED, 40)
    assert as_utc(batch.receipt_recorded_at) == LATER
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}", batch.verification_code)
    for rid in ids:
        resident = session.get(Resident, rid)
        assert (resident.stage, resident.batch_id, resident.change_seq) == (
            "sent_to_registry", batch_id, seqs[rid])  # nothing the phones show changed
        assert session.get(BatchItem, (batch_id, rid)).received is True
        [event] = events(session, rid, "batch_received")
        assert (event.user_id, event.client_id, event.mutation_id) == (40, "office", None)
        assert event.payload == {"batch_id": batch_id, "number": "BA/001/2026",
                                 "received_at": "2026-11-30T02:00:00Z"}


def test_missing_residents_go_back_to_recorded_and_reach_the_phone(session, kit):
    phone = kit.client()
    batch_id, (kept, gone, also_kept) = hand_over(kit, phone)
    cursor = kit.sync(phone)["cursor"]
    global_counter = counter_value(session)
    batch = receive(session, batch_id, missing=[gone])

    resident = session.get(Resident, gone)
    assert (resident.stage, resident.batch_id) == ("recorded", None)
    # Numbered from the batch's kecamatan counter, not the global one (sync/changeseq.py).
    assert resident.change_seq == counter_value(session, KECAMATAN) > int(cursor)
    assert counter_value(session) == global_counter
    item = session.get(BatchItem, (batch_id, gone))
    assert item.received is False
    [event] = events(session, gone, "batch_item_missing")
    assert (event.user_id, event.client_id) == (40, "office")
    assert not events(session, gone, "batch_received")
    assert [len(events(session, rid, "batch_received")) for rid in (kept, also_kept)] == [1, 1]
    assert batch.verification_code == verification_code(batch, [kept, also_kept], [gone])

    pulled = kit.sync(phone, cursor=cursor)["changes"]["residents"]
    assert [(r["resident_id"], r["stage"], r["batch_id"], r["batch_number"]) for r in pulled] \
        == [(gone, "recorded", None, None)]

    # The kecamatan hands them over again in a new batch ...
    again = uid()
    create_batch(session, OPERATOR, batch_id=again, number="BA/002/2026", handed_at=LATER,
                 resident_ids=[gone], notes=None, now=LATER)
    session.commit()
    assert session.get(Resident, gone).batch_id == again
    # ... and the old batch's collection no longer reaches them.
    refused(session, "invalid_transition", lambda: record_collection(
        session, OPERATOR, batch_id=batch_id, collected_at=COLLECTED, now=COLLECTED,
        items=[{"resident_id": gone, "outcome": "collected"}]))


def test_the_verification_code_is_the_receipts(session, kit):
    phone = kit.client()
    batch_id, (a, b, c) = hand_over(kit, phone)
    code = receive(session, batch_id, missing=[c]).verification_code
    session.expire_all()
    batch = session.get(Batch, batch_id)
    # Recomputed from the stored receipt (any order): the same code on both copies.
    assert verification_code(batch, [b, a], [c]) == code
    assert verification_code(batch, [a], [b, c]) != code
    assert verification_code(batch, [a, b, c], []) != code
    batch.received_at = RECEIVED + timedelta(minutes=1)
    assert verification_code(batch, [a, b], [c]) != code
    session.rollback()


def test_the_same_receipt_again_changes_nothing_a_different_one_is_refused(session, kit):
    phone = kit.client()
    batch_id, (a, b, _c) = hand_over(kit, phone)
    code = receive(session, batch_id, missing=[b]).verification_code
    before = state(session)
    # A replayed form, later and with the ids in another shape: no event, no number.
    assert receive(session, batch_id, missing=(b, b), now=COLLECTED).verification_code == code
    assert state(session) == before
    for change in ({"missing": []}, {"missing": [a, b]},
                   {"missing": [b], "at": RECEIVED + timedelta(minutes=5)}):
        error = refused(session, "already_received", lambda: receive(session, batch_id, **change))
        assert error.http_status == 409 and error.message == (
            "Berkas ini sudah diterima pada 30/11/2026 10.00 WITA; "
            "penerimaan tidak dapat diubah.")


@pytest.mark.parametrize("at, field", [
    (HANDED - timedelta(minutes=1), "received_at"),  # before the handover
    (LATER + timedelta(minutes=1), "received_at"),  # after now
])
def test_receipt_times_out_of_order_are_refused(session, kit, at, field):
    phone = kit.client()
    batch_id, _ids = hand_over(kit, phone)
    error = refused(session, "validation_error", lambda: receive(session, batch_id, at=at))
    assert set(error.fields) == {field}
    assert session.get(Batch, batch_id).received_at is None


def test_receipt_without_a_time_is_refused(session, kit):
    phone = kit.client()
    batch_id, _ids = hand_over(kit, phone, count=1)
    error = refused(session, "validation_error", lambda: receive(session, batch_id, at=None))
    assert set(error.fields) == {"received_at"}


def test_a_form_time_without_zone_is_wita_and_one_id_is_one_resident(session, kit):
    phone = kit.client()
    batch_id, (a, b) = hand_over(kit, phone, count=2)
    batch = receive(session, batch_id, at=datetime(2026, 11, 30, 10, 0), missing=b)
    assert as_utc(batch.received_at) == RECEIVED  # 10:00 WITA
    assert [session.get(BatchItem, (batch_id, rid)).received for rid in (a, b)] == [True, False]


def test_receipt_at_the_handover_minute_is_accepted(session, kit):
    phone = kit.client()
    batch_id, _ids = hand_over(kit, phone, count=1)
    assert as_utc(receive(session, batch_id, at=HANDED).received_at) == HANDED


def test_missing_must_name_residents_of_the_batch(session, kit):
    phone = kit.client()
    batch_id, _ids = hand_over(kit, phone, count=2)
    error = refused(session, "validation_error", lambda: receive(session, batch_id,
                                                                 missing=[uid()]))
    assert "missing" in error.fields


def test_a_batch_whose_documents_are_all_missing_goes_back_whole(session, kit):
    """No dead end: the whole batch returns to the kecamatan, which hands it over again."""
    phone = kit.client()
    batch_id, ids = hand_over(kit, phone, count=2)
    batch = receive(session, batch_id, missing=ids)
    assert batch.received_at is not None and batch.verification_code
    assert {session.get(Resident, rid).stage for rid in ids} == {"recorded"}
    assert ready_count(session, kecamatan_code=KECAMATAN) == 0
    again, _ = hand_over_existing(kit, phone, ids)
    assert {session.get(Resident, rid).batch_id for rid in ids} == {again}


def test_a_missing_resident_leaves_the_old_batch_s_card_issue_behind(session, kit):
    phone = kit.client()
    batch_id, (a, b) = hand_over(kit, phone, count=2)
    record_collection(session, OPERATOR, batch_id=batch_id, collected_at=COLLECTED,
                      now=COLLECTED, items=[{"resident_id": a, "outcome": "not_printed",
                                             "reason": "blanko_habis"}])
    session.commit()
    assert session.get(Resident, a).card_issue["reason"] == "blanko_habis"
    receive(session, batch_id, missing=[a], now=COLLECTED + timedelta(hours=1))
    resident = session.get(Resident, a)
    assert (resident.stage, resident.card_issue, resident.batch_id) == ("recorded", None, None)


def test_cards_collected_before_a_late_receipt_are_no_differences(session, kit):
    """The kecamatan collected before Disdukcapil recorded the receipt: nobody could mark."""
    phone = kit.client()
    batch_id, (a, b) = hand_over(kit, phone, count=2)
    record_collection(session, OPERATOR, batch_id=batch_id, collected_at=COLLECTED,
                      now=COLLECTED, items=[{"resident_id": a, "outcome": "collected"}])
    session.commit()
    receive(session, batch_id, now=COLLECTED + timedelta(hours=2))
    assert collection_differences(session, [batch_id]) == {}
    # b still waits and is marked; a later collection without taking it is a difference.
    mark(session, batch_id, ready(b), now=COLLECTED + timedelta(hours=3))
    record_collection(session, OPERATOR, batch_id=batch_id,
                      collected_at=COLLECTED + timedelta(hours=4),
                      now=COLLECTED + timedelta(hours=4),
                      items=[{"resident_id": b, "outcome": "not_printed", "reason": "other",
                              "reason_text": "Tidak ada di loket"}])
    session.commit()
    assert collection_differences(session, [batch_id]) == {
        batch_id: [{"resident_id": b, "kind": "ready_not_collected"}]}


def test_a_missing_card_already_collected_is_refused(session, kit):
    """A receipt recorded late, after the kecamatan collected (legacy order)."""
    phone = kit.client()
    batch_id, (a, b) = hand_over(kit, phone, count=2)
    record_collection(session, OPERATOR, batch_id=batch_id, collected_at=COLLECTED,
                      now=COLLECTED, items=[{"resident_id": a, "outcome": "collected"}])
    session.commit()
    error = refused(session, "invalid_transition", lambda: receive(
        session, batch_id, missing=[a], now=COLLECTED))
    assert set(error.fields) == {a}
    receive(session, batch_id, missing=[b], now=COLLECTED)  # the waiting one may be missing
    assert session.get(Resident, b).stage == "recorded"


def test_another_kabupaten_sees_no_batch(session, kit):
    phone = kit.client()
    batch_id, ids = hand_over(kit, phone, count=1)
    unknown = refused(session, "not_found", lambda: registry_batch(session, DISDUK, uid()))
    for call in (
        lambda: registry_batch(session, OTHER_DISDUK, batch_id),
        lambda: confirm_receipt(session, OTHER_DISDUK, batch_id, received_at=RECEIVED,
                                missing=[], now=LATER),
        lambda: mark_cards(session, OTHER_DISDUK, batch_id, marks=[ready(ids[0])], now=LATER),
    ):
        error = refused(session, "not_found", call)
        # Word for word the answer about a batch that does not exist.
        assert (error.http_status, error.message, error.fields) == (
            404, unknown.message, unknown.fields)
    assert registry_batch(session, DISDUK, batch_id).batch_id == batch_id


def test_balangan_sees_no_batch_of_another_kabupaten(session, kit):
    """A batch of Kecamatan Amuntai Tengah (Hulu Sungai Utara, 630801) and its own Disdukcapil."""
    desa = "6308012001"
    actor = kit.actor(user_id=50, desa=(desa,))
    phone = kit.client(user_id=50)
    batch_id, [rid] = hand_over(kit, phone, count=1, desa=(desa,), actor=actor)
    refused(session, "not_found", lambda: confirm_receipt(
        session, DISDUK, batch_id, received_at=RECEIVED, missing=[], now=LATER))
    confirm_receipt(session, OTHER_DISDUK, batch_id, received_at=RECEIVED, missing=[],
                    now=LATER)
    session.commit()
    refused(session, "not_found", lambda: mark_cards(session, DISDUK, batch_id,
                                                     marks=[ready(rid)], now=LATER))
    assert ready_count(session, kecamatan_code="630801") == 0
    assert mark_cards(session, OTHER_DISDUK, batch_id, marks=[ready(rid)], now=LATER) == 1
    session.commit()
    # Numbered from that kecamatan's counter, not Batumandi's.
    assert session.get(Resident, rid).change_seq == counter_value(session, "630801")
    assert ready_count(session, kecamatan_code="630801") == 1
    assert ready_count(session, kecamatan_code=KECAMATAN) == 0


def test_registry_actor_needs_a_kabupaten_code():
    for code in ("", "63", "631104", "63a1"):
        with pytest.raises(ValueError):
            RegistryActor(user_id=1, kabupaten_code=code)


# ---------------------------------------------------------------- print marks
def test_marks_ready_and_not_printed(session, kit):
    phone = kit.client()
    batch_id, (a, b, c) = hand_over(kit, phone)
    receive(session, batch_id)
    seqs = {rid: session.get(Resident, rid).change_seq for rid in (a, b, c)}
    assert mark(session, batch_id, ready(a), not_printed(b, "duplicate_record"),
                not_printed(c, "other", "  Sidik jari\n tidak terbaca ")) == 3

    resident = session.get(Resident, a)
    assert (as_utc(resident.card_ready_at), resident.card_issue) == (LATER, None)
    item = session.get(BatchItem, (batch_id, a))
    assert (item.print_status, item.print_reason, as_utc(item.print_marked_at),
            item.print_marked_by_user_id) == (READY, None, LATER, 40)
    [event] = events(session, a, "card_ready")
    assert (event.user_id, event.client_id, event.payload) == (
        40, "office", {"batch_id": batch_id, "at": "2026-12-01T02:00:00Z"})

    issue = {"reason": "duplicate_record", "reason_text": None, "batch_id": batch_id,
             "at": "2026-12-01T02:00:00Z", "by": "disdukcapil"}
    resident = session.get(Resident, b)
    assert (resident.card_ready_at, resident.card_issue) == (None, issue)
    [event] = events(session, b, "card_not_printed")
    assert event.payload == {**issue}
    assert session.get(Resident, c).card_issue["reason_text"] == "Sidik jari tidak terbaca"
    assert session.get(BatchItem, (batch_id, c)).print_reason_text == "Sidik jari tidak terbaca"
    for rid in (a, b, c):
        resident = session.get(Resident, rid)
        assert resident.stage == "sent_to_registry"  # still waiting to be collected
        assert resident.change_seq > seqs[rid]
        assert resident.change_seq <= counter_value(session, KECAMATAN)


def test_a_mark_may_be_changed_and_a_replay_changes_nothing(session, kit):
    phone = kit.client()
    batch_id, (a, b) = hand_over(kit, phone, count=2)
    receive(session, batch_id)
    mark(session, batch_id, ready(a), not_printed(b, "other", "Rusak"))
    before = state(session)
    assert mark(session, batch_id, ready(a), not_printed(b, "other", " Rusak "),
                now=COLLECTED) == 0
    assert state(session) == before
    # Changed: the other way round.
    assert mark(session, batch_id, not_printed(a), ready(b), now=COLLECTED) == 2
    first, second = session.get(Resident, a), session.get(Resident, b)
    assert first.card_ready_at is None and first.card_issue["reason"] == "blanko_habis"
    assert as_utc(second.card_ready_at) == COLLECTED and second.card_issue is None
    assert [e.kind for e in events(session, a)][-2:] == ["card_ready", "card_not_printed"]
    # A changed reason is a change too.
    assert mark(session, batch_id, not_printed(a, "enrolment_failed"), now=COLLECTED) == 1


@pytest.mark.parametrize("bad, field", [
    ({"status": "printed"}, "rid"),
    ({"status": NOT_PRINTED, "reason": None}, "rid"),
    ({"status": NOT_PRINTED, "reason": "lost"}, "rid"),
    ({"status": NOT_PRINTED, "reason": "other", "reason_text": "   "}, "rid"),
    ({"status": NOT_PRINTED, "reason": "other", "reason_text": "x" * 501}, "rid"),
    ({"resident_id": None}, "marks"),
    ("missing", "rid"),  # the resident Disdukcapil found missing
    ("twice", "rid"),
    ("stranger", "rid"),  # a resident of no batch
])
def test_a_bad_mark_changes_nothing(session, kit, bad, field):
    phone = kit.client()
    batch_id, (good, other, gone) = hand_over(kit, phone)
    receive(session, batch_id, missing=[gone])
    marks = [ready(good)]
    if bad == "missing":
        marks.append(ready(gone))
        rid = gone
    elif bad == "twice":
        marks += [ready(other), not_printed(other)]
        rid = other
    elif bad == "stranger":
        rid = kit.found(phone)
        marks.append(ready(rid))
    else:
        rid = other
        marks.append({"resident_id": other, **bad})
    error = refused(session, "validation_error", lambda: mark_cards(
        session, DISDUK, batch_id, marks=marks, now=LATER))
    assert set(error.fields) == {rid if field == "rid" else field}
    assert not events(session, good, "card_ready")


def test_no_marks_before_the_receipt_nor_after_the_collection(session, kit):
    phone = kit.client()
    batch_id, (a, b) = hand_over(kit, phone, count=2)
    error = refused(session, "not_received", lambda: mark_cards(
        session, DISDUK, batch_id, marks=[ready(a)], now=LATER))
    assert error.http_status == 409
    receive(session, batch_id)
    error = refused(session, "validation_error", lambda: mark_cards(
        session, DISDUK, batch_id, marks=[], now=LATER))
    assert set(error.fields) == {"marks"}
    mark(session, batch_id, ready(a))
    record_collection(session, OPERATOR, batch_id=batch_id, collected_at=COLLECTED,
                      now=COLLECTED, items=[{"resident_id": a, "outcome": "collected"}])
    session.commit()
    # All or nothing: b alone would be fine.
    error = refused(session, "invalid_transition", lambda: mark_cards(
        session, DISDUK, batch_id, marks=[ready(b), not_printed(a)], now=COLLECTED))
    assert set(error.fields) == {a}
    assert session.get(Resident, a).stage == "card_collected"


def test_a_card_not_found_at_collection_is_no_longer_ready_until_marked_again(session, kit):
    phone = kit.client()
    batch_id, [rid] = hand_over(kit, phone, count=1)
    receive(session, batch_id)
    mark(session, batch_id, ready(rid))
    assert ready_count(session, kecamatan_code=KECAMATAN) == 1
    record_collection(session, OPERATOR, batch_id=batch_id, collected_at=COLLECTED,
                      now=COLLECTED, items=[{"resident_id": rid, "outcome": "not_printed",
                                             "reason": "blanko_habis"}])
    session.commit()
    resident = session.get(Resident, rid)
    assert (resident.card_ready_at, resident.card_issue["reason"]) == (None, "blanko_habis")
    assert ready_count(session, kecamatan_code=KECAMATAN) == 0
    assert collection_differences(session, [batch_id]) == {
        batch_id: [{"resident_id": rid, "kind": "ready_not_collected"}]}
    # Printed after all: marking it ready again is a change, not a replay.
    later = COLLECTED + timedelta(days=1)
    assert mark(session, batch_id, ready(rid), now=later) == 1
    assert as_utc(session.get(Resident, rid).card_ready_at) == later
    assert ready_count(session, kecamatan_code=KECAMATAN) == 1
    # ... and the team's "not printed" no longer stands against it: it waits for the next trip.
    assert collection_differences(session, [batch_id]) == {}


# ---------------------------------------------------------------- the pull
def test_the_pull_carries_the_marks(session, kit):
    phone = kit.client()
    batch_id, (a, b) = hand_over(kit, phone, count=2)
    receive(session, batch_id)
    cursor = kit.sync(phone)["cursor"]
    mark(session, batch_id, ready(a), not_printed(b, "enrolment_failed"))
    pulled = {r["resident_id"]: r for r in kit.sync(phone, cursor=cursor)["changes"]["residents"]}
    assert set(pulled) == {a, b}
    assert (pulled[a]["card_ready_at"], pulled[a]["card_issue"]) == ("2026-12-01T02:00:00Z", None)
    assert (pulled[a]["stage"], pulled[a]["batch_number"]) == ("sent_to_registry", "BA/001/2026")
    assert pulled[b]["card_ready_at"] is None
    assert pulled[b]["card_issue"] == {
        "reason": "enrolment_failed", "reason_text": None, "batch_id": batch_id,
        "at": "2026-12-01T02:00:00Z", "by": "disdukcapil"}
    # A replayed mark sends nothing again.
    cursor = kit.sync(phone, cursor=cursor)["cursor"]
    mark(session, batch_id, ready(a))
    assert kit.sync(phone, cursor=cursor)["changes"]["residents"] == []


# ---------------------------------------------------------------- collection differences
def test_collection_differences_both_kinds(session, kit):
    phone = kit.client()
    batch_id, (fine, left, unmarked, refused_card, late) = hand_over(kit, phone, count=5)
    receive(session, batch_id)
    mark(session, batch_id, ready(fine), ready(left), not_printed(refused_card))
    legacy_id, legacy = hand_over(kit, phone, count=1)
    unreceived_id, _unreceived = hand_over(kit, phone, count=1)
    for batch, items in ((batch_id, [(fine, "collected"), (unmarked, "collected"),
                                     (refused_card, "collected"), (left, "not_printed")]),
                         (legacy_id, [(legacy[0], "collected")])):
        record_collection(session, OPERATOR, batch_id=batch, collected_at=COLLECTED,
                          now=COLLECTED, items=[
                              {"resident_id": rid, "outcome": outcome,
                               "reason": "blanko_habis" if outcome == "not_printed" else None}
                              for rid, outcome in items])
        session.commit()
    # Marked ready after the collection: the next trip's card, not a difference.
    mark(session, batch_id, ready(late), now=COLLECTED + timedelta(hours=1))
    found = collection_differences(session, [batch_id, legacy_id, unreceived_id, uid()])
    assert list(found) == [batch_id]  # no receipt, no differences (legacy batches)
    assert sorted((d["resident_id"], d["kind"]) for d in found[batch_id]) == sorted([
        (left, "ready_not_collected"), (unmarked, "collected_not_ready"),
        (refused_card, "collected_not_ready")])
    assert collection_differences(session, []) == {}


def test_no_differences_before_a_collection(session, kit):
    phone = kit.client()
    batch_id, (a, _b) = hand_over(kit, phone, count=2)
    receive(session, batch_id)
    mark(session, batch_id, ready(a))
    assert collection_differences(session, [batch_id]) == {}


def test_a_batch_without_receipt_is_still_collected(session, kit):
    """Kecamatan whose Disdukcapil does not use CAH keep working as before."""
    phone = kit.client()
    batch_id, (a, b) = hand_over(kit, phone, count=2)
    result = kit.run(phone, "record_collection", collection_args(batch_id, a))
    assert result["status"] == "applied", result
    record_collection(session, OPERATOR, batch_id=batch_id, collected_at=COLLECTED,
                      now=COLLECTED, items=[{"resident_id": b, "outcome": "not_printed",
                                             "reason": "blanko_habis"}])
    session.commit()
    assert [session.get(Resident, rid).stage for rid in (a, b)] == [
        "card_collected", "sent_to_registry"]
    assert session.get(BatchItem, (batch_id, a)).received is None


# ---------------------------------------------------------------- ready count
def test_ready_count_by_kecamatan_and_by_desa(session, kit):
    phone = kit.client()
    batch_id, (a1, b1, a2, b2) = hand_over(kit, phone, count=4, desa=(DESA_A, DESA_B),
                                           actor=kit.actor(7, (DESA_A, DESA_B)))
    receive(session, batch_id)
    assert ready_count(session, kecamatan_code=KECAMATAN) == 0
    mark(session, batch_id, ready(a1), ready(b1), ready(a2), not_printed(b2))
    assert ready_count(session, kecamatan_code=KECAMATAN) == 3
    assert ready_count(session, desa_codes=[DESA_A]) == 2
    assert ready_count(session, desa_codes=[DESA_B, DESA_B]) == 1
    assert ready_count(session, desa_codes=[DESA_A, DESA_B]) == 3
    assert ready_count(session, desa_codes=[]) == 0
    assert ready_count(session, kecamatan_code="631101") == 0
    for bad in (None, "", "6311", "63110%"):
        assert ready_count(session, kecamatan_code=bad) == 0
    # A collected card keeps its card_ready_at (history) but is no longer waiting.
    record_collection(session, OPERATOR, batch_id=batch_id, collected_at=COLLECTED,
                      now=COLLECTED, items=[{"resident_id": a1, "outcome": "collected"}])
    session.commit()
    assert session.get(Resident, a1).card_ready_at is not None
    assert ready_count(session, kecamatan_code=KECAMATAN) == 2
    assert ready_count(session, desa_codes=[DESA_A]) == 1


def as_utc(value):
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value



# ---------------------------------------------------------------- two receipts at once (PG)
def test_two_receipts_at_once_cannot_both_be_written(pg_url):
    """PostgreSQL only: a receipt being written is waited for. The second form (another
    missing resident) read the batch as not received yet; it must not overwrite the first."""
    engine = reset_database(pg_url, Base.metadata)
    try:
        with Session(engine) as setup:
            kit = SyncKit(setup)
            batch_id, (_a, b) = hand_over(kit, kit.client(), count=2)
            setup.commit()
        first, second = Session(engine), Session(engine)
        outcome = {}
        try:
            confirm_receipt(first, DISDUK, batch_id, received_at=RECEIVED, missing=[],
                            now=LATER)
            first.flush()  # the batch row is now locked by the first writer

            def other_form():
                try:
                    confirm_receipt(second, DISDUK, batch_id, received_at=RECEIVED,
                                    missing=[b], now=LATER)
                    second.commit()
                    outcome["result"] = "written"
                except OfficeError as error:
                    second.rollback()
                    outcome["result"] = error.code

            thread = threading.Thread(target=other_form)
            thread.start()
            thread.join(1.0)
            assert thread.is_alive(), "the second receipt did not wait for the first"
            first.commit()
            thread.join(30)
            assert outcome == {"result": "already_received"}
        finally:
            first.close()
            second.close()
        with Session(engine) as check:
            assert check.get(Resident, b).stage == "sent_to_registry"
            assert check.get(BatchItem, (batch_id, b)).received is True
    finally:
        engine.dispose()


def test_a_card_marked_within_the_minute_of_the_collection_was_ready_for_it(session, kit):
    """The team enters the collection time to the minute (09.50); a mark at 09.50.09 came
    before the trip ended, so a ready card the collection did not take is a difference."""
    phone = kit.client()
    batch_id, (taken, left) = hand_over(kit, phone, count=2)
    receive(session, batch_id)
    minute = COLLECTED.replace(second=0, microsecond=0)
    mark(session, batch_id, ready(taken), ready(left), now=minute + timedelta(seconds=9))
    record_collection(session, OPERATOR, batch_id=batch_id, collected_at=minute,
                      now=minute + timedelta(seconds=30),
                      items=[{"resident_id": taken, "outcome": "collected"}])
    session.commit()
    assert collection_differences(session, [batch_id]) == {
        batch_id: [{"resident_id": left, "kind": "ready_not_collected"}]}


def test_a_trip_entered_late_does_not_undo_a_later_ready_mark(session, kit):
    """Trip at 10.00 (card not there), ready mark at 11.00, the trip entered at 12.00: the card
    still waits for the next trip, and no difference stands against it."""
    phone = kit.client()
    batch_id, (card,) = hand_over(kit, phone, count=1)
    receive(session, batch_id)
    trip = COLLECTED
    mark(session, batch_id, ready(card), now=trip + timedelta(hours=1))
    record_collection(session, OPERATOR, batch_id=batch_id, collected_at=trip,
                      now=trip + timedelta(hours=2),
                      items=[{"resident_id": card, "outcome": "not_printed",
                              "reason": "blanko_habis"}])
    session.commit()
    resident = session.get(Resident, card)
    assert resident.card_ready_at is not None and resident.card_issue is None
    assert ready_count(session, kecamatan_code=KECAMATAN) == 1
    assert collection_differences(session, [batch_id]) == {}
    kinds = [e.kind for e in session.scalars(
        select(ResidentEvent).where(ResidentEvent.resident_id == card))]
    assert kinds[-1] == "card_not_printed"  # what the team reported stays in the history


def test_an_earlier_trip_entered_afterwards_keeps_the_latest_trip(session, kit):
    phone = kit.client()
    batch_id, (taken, left) = hand_over(kit, phone, count=2)
    receive(session, batch_id)
    mark(session, batch_id, ready(left), now=COLLECTED - timedelta(days=1))
    record_collection(session, OPERATOR, batch_id=batch_id, collected_at=COLLECTED,
                      now=COLLECTED, items=[{"resident_id": taken, "outcome": "collected"}])
    session.commit()
    expected = sorted([(taken, "collected_not_ready"), (left, "ready_not_collected")])

    def found():
        return sorted((d["resident_id"], d["kind"])
                      for d in collection_differences(session, [batch_id])[batch_id])
    assert found() == expected
    # A phone that synced late brings an older trip (nothing taken that day).
    record_collection(session, OPERATOR, batch_id=batch_id,
                      collected_at=COLLECTED - timedelta(days=2), now=COLLECTED,
                      items=[{"resident_id": taken, "outcome": "collected"}])
    session.commit()
    assert as_utc(session.get(Batch, batch_id).collected_at) == COLLECTED
    assert found() == expected


def test_a_late_receipt_does_not_excuse_collecting_a_card_marked_not_printed(session, kit):
    phone = kit.client()
    batch_id, (card,) = hand_over(kit, phone, count=1)
    receive(session, batch_id, now=COLLECTED)
    mark(session, batch_id, not_printed(card), now=COLLECTED)
    record_collection(session, OPERATOR, batch_id=batch_id,
                      collected_at=COLLECTED - timedelta(days=2), now=COLLECTED,
                      items=[{"resident_id": card, "outcome": "collected"}])
    session.commit()
    assert collection_differences(session, [batch_id]) == {
        batch_id: [{"resident_id": card, "kind": "collected_not_ready"}]}
