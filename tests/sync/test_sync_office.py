"""sync/office.py: batches, conflict decisions (merge → removed), reopening, list import."""
from datetime import datetime

import pytest
from sqlalchemy import func, select

from sync.models import Batch, Conflict, Resident, ResidentEvent
from sync.office import (
    ImportRejected,
    OfficeActor,
    OfficeError,
    create_batch,
    import_listed_residents,
    record_collection,
    reopen_case,
    resolve_conflict,
)
from sync.schemas import SyncResponseSchema
from sync_kit import DESA_A, DESA_B, KECAMATAN, NOW, pipeline_args, uid

CAMAT = OfficeActor(user_id=3, role="camat", kecamatan_code=KECAMATAN)
OPERATOR = OfficeActor(user_id=4, role="operator", kecamatan_code=KECAMATAN)
OTHER_CAMAT = OfficeActor(user_id=5, role="camat", kecamatan_code="631101")


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def at(kit, client, stage, **overrides):
    rid = kit.found(client, **overrides)
    kit.advance(client, rid, stage)
    return rid


def office_events(session, rid):
    return session.scalars(select(ResidentEvent).where(
        ResidentEvent.resident_id == rid, ResidentEvent.client_id == "office")
        .order_by(ResidentEvent.id)).all()


# ---------------------------------------------------------------- batches
def test_office_batch_and_collection_reach_the_phones(session, kit):
    phone = kit.client()
    ids = [at(kit, phone, "recorded") for _ in range(2)]
    cursor = kit.sync(phone)["cursor"]
    batch_id = uid()
    batch = create_batch(session, OPERATOR, batch_id=batch_id, number="BA/7/2026",
                         handed_at=datetime(2026, 11, 30, 9, 0), resident_ids=ids, notes="",
                         now=NOW)
    session.commit()
    assert (batch.created_via, batch.created_by_user_id, batch.notes) == ("office", 4, None)
    # a form's datetime without zone is WITA
    assert batch.handed_at.replace(tzinfo=None).isoformat() == "2026-11-30T01:00:00"
    pulled = kit.sync(phone, cursor=cursor)
    assert {(r["resident_id"], r["stage"], r["batch_id"]) for r in pulled["changes"]["residents"]} \
        == {(rid, "sent_to_registry", batch_id) for rid in ids}

    record_collection(session, CAMAT, batch_id=batch_id, collected_at=NOW, now=NOW, items=[
        {"resident_id": ids[0], "outcome": "collected", "reason": "", "reason_text": ""},
        {"resident_id": ids[1], "outcome": "not_printed", "reason": "enrolment_failed"}])
    session.commit()
    assert [session.get(Resident, rid).stage for rid in ids] == ["card_collected", "sent_to_registry"]
    events = office_events(session, ids[1])
    assert [(e.kind, e.user_id, e.mutation_id) for e in events] == [
        ("batch_handed_over", 4, None), ("card_not_printed", 3, None)]


@pytest.mark.parametrize("actor, change, code", [
    (OfficeActor(user_id=9, role="petugas", kecamatan_code=KECAMATAN), {}, "forbidden"),
    (OTHER_CAMAT, {}, "not_found"),
    (CAMAT, {"resident_ids": []}, "validation_error"),
    (CAMAT, {"number": " "}, "validation_error"),
    (CAMAT, {"stage": "picked_up"}, "invalid_transition"),
])
def test_create_batch_refusals(session, kit, actor, change, code):
    phone = kit.client()
    change = dict(change)  # shared by both backends' runs
    rid = at(kit, phone, change.pop("stage", "recorded"))
    args = {"batch_id": uid(), "number": "BA/1", "handed_at": NOW, "resident_ids": [rid],
            "notes": None, **change}
    with pytest.raises(OfficeError) as info:
        create_batch(session, actor, now=NOW, **args)
    assert info.value.code == code and info.value.message
    session.rollback()
    assert count(session, Batch) == 0


def test_batch_id_twice_and_foreign_batch(session, kit):
    phone = kit.client()
    first, second = at(kit, phone, "recorded"), at(kit, phone, "recorded")
    batch_id = uid()
    create_batch(session, CAMAT, batch_id=batch_id, number="1", handed_at=NOW,
                 resident_ids=[first], notes=None, now=NOW)
    session.commit()
    with pytest.raises(OfficeError) as info:
        create_batch(session, CAMAT, batch_id=batch_id, number="2", handed_at=NOW,
                     resident_ids=[second], notes=None, now=NOW)
    assert (info.value.code, info.value.http_status) == ("batch_exists", 409)
    session.rollback()
    with pytest.raises(OfficeError) as info:
        record_collection(session, OTHER_CAMAT, batch_id=batch_id, collected_at=NOW, now=NOW,
                          items=[{"resident_id": first, "outcome": "collected"}])
    assert (info.value.code, info.value.http_status) == ("not_found", 404)


# ---------------------------------------------------------------- conflicts
def verify_vs_reject(kit, session, first):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    rid = kit.found(a)
    order = [("verify_resident", a), ("reject_resident", b)]
    for name, client in (order if first == "verify" else order[::-1]):
        assert kit.run(client, name, pipeline_args(name, rid))["status"] == "applied"
    return rid, session.scalars(select(Conflict)).one()


@pytest.mark.parametrize("first", ["verify", "reject"])
@pytest.mark.parametrize("decision, stage", [("keep_verified", "verified"),
                                             ("keep_rejected", "rejected")])
def test_verify_vs_reject_decisions(session, kit, first, decision, stage):
    rid, conflict = verify_vs_reject(kit, session, first)
    resolved = resolve_conflict(session, CAMAT, conflict_id=conflict.id, decision=decision,
                                note="Sudah dicek ke desa", now=NOW)
    session.commit()
    resident = session.get(Resident, rid)
    assert resident.stage == stage
    assert (resident.rejection is None) == (stage == "verified")
    assert resident.verification is not None or stage == "rejected"
    assert resolved.status == "resolved"
    assert resolved.resolution == {"decision": decision, "note": "Sudah dicek ke desa", "by": 3,
                                   "at": "2026-11-28T01:15:00Z"}
    [event] = office_events(session, rid)
    assert event.kind == "conflict_resolved" and event.payload["decision"] == decision
    with pytest.raises(OfficeError) as info:
        resolve_conflict(session, CAMAT, conflict_id=conflict.id, decision=decision, note=None,
                         now=NOW)
    assert info.value.code == "already_resolved"


@pytest.mark.parametrize("decision", ["keep_first", "keep_second"])
def test_double_delivery_decisions(session, kit, decision):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    rid = at(kit, a, "card_collected")
    deliveries = [pipeline_args("deliver_card", rid), pipeline_args("deliver_card", rid)]
    kit.run(a, "deliver_card", deliveries[0])
    kit.run(b, "deliver_card", deliveries[1])
    conflict = session.scalars(select(Conflict)).one()
    resolve_conflict(session, CAMAT, conflict_id=str(conflict.id), decision=decision, note="",
                     now=NOW)
    session.commit()
    kept = deliveries[0 if decision == "keep_first" else 1]["delivery_id"]
    resident = session.get(Resident, rid)
    assert resident.stage == "delivered" and resident.delivery["delivery_id"] == kept
    assert resident.delivery["signature_data"]  # the SVG can still be drawn


@pytest.mark.parametrize("decision, phone", [("keep_current", "083333333"),
                                             ("restore_previous", "082222222")])
def test_concurrent_edit_decisions(session, kit, decision, phone):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    rid = kit.found(a, phone="081111111")
    for client, value in ((b, "082222222"), (a, "083333333")):
        kit.run(client, "update_resident", {"resident_id": rid, "base_version": 1,
                                            "fields": {"phone": value}})
    conflict = session.scalars(select(Conflict)).one()
    resolve_conflict(session, CAMAT, conflict_id=conflict.id, decision=decision, note=None, now=NOW)
    session.commit()
    resident = session.get(Resident, rid)
    assert resident.phone == phone
    if decision == "restore_previous":
        assert resident.field_versions["phone"] == {"version": resident.version,
                                                    "client_id": "office", "user_id": 3}


def test_merge_removes_the_newer_case_from_the_phones(session, kit):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    older = kit.found(a, nik="6311041203990002")
    newer = kit.found(b, nik="6311041203990002", name="Nama Lain")
    reader = kit.client(user_id=9)
    cursor = kit.sync(reader, actor=kit.actor(user_id=9))["cursor"]
    conflict = session.scalars(select(Conflict)).one()
    resolve_conflict(session, CAMAT, conflict_id=conflict.id, decision="merge",
                     note="Orang yang sama", now=NOW)
    session.commit()
    assert session.get(Resident, newer).merged_into == older
    assert session.get(Resident, older).merged_into is None
    assert [e.kind for e in office_events(session, newer)] == ["merged", "conflict_resolved"]

    response = kit.sync(reader, actor=kit.actor(user_id=9), cursor=cursor)
    assert response["changes"]["removed"] == [newer]
    assert [r["resident_id"] for r in response["changes"]["residents"]] == [older]
    assert SyncResponseSchema().validate(response) == {}
    # a phone still holding the merged case is told so
    result = kit.run(b, "verify_resident", pipeline_args("verify_resident", newer))
    assert result["code"] == "resident_not_found" and "digabung" in result["message"]
    # and a new registration with that NIK only finds the surviving case
    kit.found(a, nik="6311041203990002", name="Ketiga")
    assert {c.other_resident_id for c in session.scalars(
        select(Conflict).where(Conflict.status == "open"))} == {older}


def test_not_duplicate_keeps_both(session, kit):
    a = kit.client()
    first = kit.found(a, nik=None, name="Ahmad")
    second = kit.found(a, nik=None, name="ahmad")
    conflict = session.scalars(select(Conflict)).one()
    resolve_conflict(session, CAMAT, conflict_id=conflict.id, decision="not_duplicate", note=None,
                     now=NOW)
    session.commit()
    assert {session.get(Resident, rid).merged_into for rid in (first, second)} == {None}
    assert len(office_events(session, first)) == len(office_events(session, second)) == 1


@pytest.mark.parametrize("actor, conflict_id, decision, code", [
    (CAMAT, None, "merge", "validation_error"),
    (OPERATOR, None, "keep_verified", "forbidden"),
    (OTHER_CAMAT, None, "keep_verified", "not_found"),
    (CAMAT, 999999, "keep_verified", "not_found"),
    (CAMAT, "abc", "keep_verified", "not_found"),
])
def test_resolve_refusals(session, kit, actor, conflict_id, decision, code):
    rid, conflict = verify_vs_reject(kit, session, "verify")
    with pytest.raises(OfficeError) as info:
        resolve_conflict(session, actor, conflict_id=conflict_id or conflict.id, decision=decision,
                         note=None, now=NOW)
    assert info.value.code == code
    session.rollback()
    assert session.get(Conflict, conflict.id).status == "open"


# ---------------------------------------------------------------- reopen
def test_reopen_a_rejected_case(session, kit):
    a = kit.client()
    rid = kit.found(a)
    kit.run(a, "reject_resident", pipeline_args("reject_resident", rid))
    cursor = kit.sync(a)["cursor"]
    resident = reopen_case(session, CAMAT, resident_id=rid, note="Ternyata belum pindah", now=NOW)
    session.commit()
    assert (resident.stage, resident.rejection) == ("found", None)
    [event] = office_events(session, rid)
    assert event.kind == "reopened" and event.payload["rejection"]["reason"] == "moved_away"
    [pulled] = kit.sync(a, cursor=cursor)["changes"]["residents"]
    assert pulled["stage"] == "found"
    assert kit.run(a, "verify_resident", pipeline_args("verify_resident", rid))["status"] == "applied"

    for actor, code in ((CAMAT, "invalid_transition"), (OPERATOR, "forbidden"),
                        (OTHER_CAMAT, "not_found")):
        with pytest.raises(OfficeError) as info:
            reopen_case(session, actor, resident_id=rid, note=None, now=NOW)
        assert info.value.code == code
        session.rollback()


def test_a_listed_case_rejected_unseen_reopens_as_listed(session, kit):
    [rid] = import_listed_residents(session, CAMAT, operation_id=2, now=NOW,
                                    rows=[{"desa_code": DESA_A, "name": "Warga Daftar"}])
    session.commit()
    a = kit.client()
    kit.run(a, "reject_resident", pipeline_args("reject_resident", rid, reason="deceased"))
    assert reopen_case(session, CAMAT, resident_id=rid, note=None, now=NOW).stage == "listed"


# ---------------------------------------------------------------- import
ROWS = [
    {"_row": 2, "desa_code": DESA_A, "name": " Siti  Rahmah ", "nik": "6311045705080001",
     "kk_number": "6311040101200001", "sex": "P", "birth_date": "17/05/2008",
     "birth_place": "Paringin", "address": "Jl. Pasar", "rt": "3", "rw": "", "phone": ""},
    {"_row": 3, "desa_code": DESA_A, "name": "Udin", "nik": "", "kk_number": "", "sex": "",
     "birth_date": "", "birth_place": "", "address": "", "rt": "", "rw": "", "phone": ""},
    {"_row": 4, "desa_code": DESA_B, "name": "Amat", "nik": "6301011203990002", "sex": "male",
     "birth_date": "1999-03-12"},
]


def test_import_creates_listed_cases_for_the_desa_phones(session, kit):
    ids = import_listed_residents(session, OPERATOR, operation_id=5, rows=ROWS, now=NOW)
    session.commit()
    siti, udin, amat = (session.get(Resident, rid) for rid in ids)
    assert {r.stage for r in (siti, udin, amat)} == {"listed"}
    assert {r.operation_id for r in (siti, udin, amat)} == {5}
    assert (siti.name, siti.sex, siti.birth_date.isoformat(), siti.rt, siti.rw) == (
        "Siti Rahmah", "female", "2008-05-17", "003", None)
    assert (udin.sex, udin.birth_date, udin.marital_status) == (None, None, None)
    assert amat.warnings == ["nik_region"]
    assert [e.kind for e in office_events(session, udin.resident_id)] == ["listed"]

    phone_a = kit.client(user_id=7)
    response = kit.sync(phone_a)
    assert {r["resident_id"] for r in response["changes"]["residents"]} == {
        siti.resident_id, udin.resident_id}
    assert {r["stage_label"] for r in response["changes"]["residents"]} == {"Belum Ditemukan"}
    assert SyncResponseSchema().validate(response) == {}


def test_registering_a_listed_resident_fills_the_case(session, kit):
    [rid] = import_listed_residents(session, CAMAT, operation_id=5, rows=ROWS[1:2], now=NOW)
    session.commit()
    a = kit.client()
    args = kit.register_args(resident_id=rid, name="Udin Saputra", nik=None)
    response = kit.sync(a, [kit.mutation(a, "register_resident", args)])
    assert response["results"][0]["status"] == "applied"
    resident = session.get(Resident, rid)
    assert (resident.stage, resident.name, resident.sex, resident.version) == (
        "found", "Udin Saputra", "male", 2)
    assert resident.operation_id == 5 and resident.created_by_client_id == "office"
    assert resident.field_versions["phone"]["client_id"] == a.client_id
    # the same registration re-sent is applied once; another one is refused
    assert kit.run(a, "register_resident", dict(args))["status"] == "applied"
    assert resident.version == 2
    other = kit.run(kit.client(user_id=8), "register_resident", dict(args, name="Lain"))
    assert other["code"] == "resident_exists"


def test_import_is_all_or_nothing_with_every_error(session, kit):
    a = kit.client()
    kit.found(a, nik="6311041203990002")
    bad = [
        dict(ROWS[0]),
        {"_row": 3, "desa_code": "6311012001", "name": "Luar Kecamatan"},
        {"_row": 4, "desa_code": DESA_A, "name": "", "sex": "x", "birth_date": "31-02-2000"},
        {"_row": 5, "desa_code": DESA_A, "name": "NIK Ganda", "nik": "6311045705080001"},
        {"_row": 6, "desa_code": DESA_A, "name": "Sudah Ada", "nik": "6311041203990002"},
        {"_row": 7, "desa_code": DESA_A, "name": "NIK Rusak", "nik": "12345"},
    ]
    before = count(session, Resident), count(session, ResidentEvent)
    with pytest.raises(ImportRejected) as info:
        import_listed_residents(session, CAMAT, operation_id=5, rows=bad, now=NOW)
    session.rollback()
    assert (count(session, Resident), count(session, ResidentEvent)) == before
    errors = info.value.errors
    assert {(row, field) for row, field, _ in errors} == {
        (3, "desa_code"), (4, "name"), (4, "sex"), (4, "birth_date"), (5, "nik"), (6, "nik"),
        (7, "nik")}
    messages = {(row, field): text for row, field, text in errors}
    assert messages[(5, "nik")] == "NIK ini sudah ada di baris 2 berkas ini."
    assert messages[(7, "nik")] == "NIK harus 16 digit angka."
    assert info.value.code == "import_rejected" and "5 baris" in info.value.message


@pytest.mark.parametrize("rows, operation_id, actor, code", [
    ([], 5, CAMAT, "import_rejected"),
    (ROWS, 0, CAMAT, "validation_error"),
    (ROWS, 5, OfficeActor(user_id=9, role="petugas", kecamatan_code=KECAMATAN), "forbidden"),
])
def test_import_refusals(session, rows, operation_id, actor, code):
    with pytest.raises(OfficeError) as info:
        import_listed_residents(session, actor, operation_id=operation_id, rows=rows, now=NOW)
    assert info.value.code == code


def test_import_flags_a_possible_duplicate_without_nik(session, kit):
    a = kit.client()
    known = kit.found(a, nik=None, name="Budi Santoso", birth_date="1999-03-12")
    [rid] = import_listed_residents(session, CAMAT, operation_id=5, now=NOW, rows=[
        {"_row": 9, "desa_code": DESA_A, "name": "budi  santoso", "birth_date": "12-03-1999"}])
    session.commit()
    [conflict] = session.scalars(select(Conflict)).all()
    assert (conflict.kind, conflict.resident_id, conflict.other_resident_id) == (
        "possible_duplicate", rid, known)
    assert conflict.details["reason"] == "same_name_birth_date_desa"
    assert conflict.details["import_row"] == 9


def test_import_never_names_another_kecamatans_resident(session, kit):
    juai = kit.client(user_id=20)
    juai_actor = kit.actor(user_id=20, desa=("6311012001",))
    kit.sync(juai, [kit.mutation(juai, "register_resident", kit.register_args(
        desa_code="6311012001", name="Warga Juai Rahasia", nik="6311011203990009"))],
        actor=juai_actor)
    row = {"_row": 2, "desa_code": DESA_A, "name": "Pindahan", "nik": "6311011203990009"}
    with pytest.raises(ImportRejected) as info:
        import_listed_residents(session, CAMAT, operation_id=5, rows=[row], now=NOW)
    session.rollback()
    [(number, field, text)] = info.value.errors
    assert (number, field) == (2, "nik")
    assert "Rahasia" not in text and "kecamatan lain" in text
