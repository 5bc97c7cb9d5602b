"""correct_identity (the officer's correction before verification) and the office's correction
(sync/office_identity.py) on SQLite and PostgreSQL: rules, history, conflicts, duplicate
re-checks, replay."""
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from sync.handlers_registration import name_key
from sync.models import Conflict, Resident, ResidentEvent
from sync.office import OfficeActor, OfficeError, resolve_conflict
from sync.office_identity import correct_identity_office
from sync_kit import DESA_A, DESA_B, KECAMATAN, NOW, pipeline_args

CAMAT = OfficeActor(user_id=3, role="camat", kecamatan_code=KECAMATAN)
OPERATOR = OfficeActor(user_id=4, role="operator", kecamatan_code=KECAMATAN)
PETUGAS = OfficeActor(user_id=7, role="petugas", kecamatan_code=KECAMATAN)
OTHER_CAMAT = OfficeActor(user_id=5, role="camat", kecamatan_code="631101")
NIK_MALE = "6311041203990001"  # born 12-03-(19)99, day not + 40: a man
NIK_FEMALE = "6311045203990001"  # the same birth date coded as a woman's (12 + 40)


def correct(kit, client, rid, base_version=1, mid=None, **fields):
    return kit.mutation(client, "correct_identity",
                        {"resident_id": rid, "base_version": base_version, "fields": fields}, mid)


def result_of(kit, client, mutation, **kwargs):
    return kit.sync(client, [mutation], page_size=1, **kwargs)["results"][0]


def events(session, rid, kind="identity_corrected"):
    return session.scalars(select(ResidentEvent).where(
        ResidentEvent.resident_id == rid, ResidentEvent.kind == kind)
        .order_by(ResidentEvent.id)).all()


def conflicts(session, kind):
    return session.scalars(select(Conflict).where(Conflict.kind == kind)
                           .order_by(Conflict.id)).all()


def test_the_officer_corrects_a_misspelt_name_and_adds_the_kk(session, kit):
    a = kit.client()
    rid = kit.found(a, name="Salah Ketik Namaa", kk_number=None)
    response = kit.sync(a, [correct(kit, a, rid, name=" Salah  Ketik Nama ",
                                    kk_number="6311 0401 0120 0002")])
    assert response["results"][0]["status"] == "applied"
    resident = session.get(Resident, rid)
    assert (resident.name, resident.kk_number, resident.version) == (
        "Salah Ketik Nama", "6311040101200002", 2)
    assert resident.name_key == name_key("Salah Ketik Nama")
    assert resident.field_versions["name"] == {"version": 2, "client_id": a.client_id, "user_id": 7}
    [event] = events(session, rid)
    assert event.payload == {"base_version": 1, "version": 2, "changes": {
        "name": {"old": "Salah Ketik Namaa", "new": "Salah Ketik Nama"},
        "kk_number": {"old": None, "new": "6311040101200002"}}}
    [pulled] = response["changes"]["residents"]
    assert (pulled["name"], pulled["kk_number"], pulled["version"]) == (
        "Salah Ketik Nama", "6311040101200002", 2)


def test_identity_and_free_fields_in_one_correction(session, kit):
    a = kit.client()
    rid = kit.found(a, birth_place="Paringin")
    result = result_of(kit, a, correct(kit, a, rid, birth_place="Barabai", birth_date="1999-03-13",
                                       marital_status="married", phone="0813 1111 222"))
    assert result["status"] == "applied"
    resident = session.get(Resident, rid)
    assert (resident.birth_place, resident.birth_date, resident.marital_status, resident.phone) == (
        "Barabai", date(1999, 3, 13), "married", "08131111222")
    assert events(session, rid)[0].payload["changes"]["birth_date"] == {
        "old": "1999-03-12", "new": "1999-03-13"}
    assert "nik_birth_date" in resident.warnings  # the NIK still says the 12th


@pytest.mark.parametrize("fix", [{"sex": "male"}, {"nik": NIK_FEMALE}])
def test_fixing_sex_or_nik_clears_the_nik_sex_warning(session, kit, fix):
    a = kit.client()
    rid = kit.found(a, nik=NIK_MALE, sex="female")
    assert "nik_sex" in session.get(Resident, rid).warnings
    assert result_of(kit, a, correct(kit, a, rid, **fix))["status"] == "applied"
    assert "nik_sex" not in session.get(Resident, rid).warnings


@pytest.mark.parametrize("stage", ["verified", "picked_up", "recorded", "delivered"])
def test_after_verification_only_the_office_corrects(session, kit, stage):
    a = kit.client()
    rid = kit.found(a)
    kit.advance(a, rid, stage)
    version = session.get(Resident, rid).version
    result = result_of(kit, a, correct(kit, a, rid, version, name="Nama Lain"))
    assert (result["status"], result["code"]) == ("rejected", "invalid_transition")
    assert "kantor kecamatan oleh camat atau operator" in result["message"]
    session.expire_all()
    assert (session.get(Resident, rid).version, events(session, rid)) == (version, [])


def test_a_rejected_case_is_not_corrected_on_the_phone(session, kit):
    a = kit.client()
    rid = kit.found(a)
    kit.apply_all(a, [kit.mutation(a, "reject_resident", pipeline_args("reject_resident", rid))])
    result = result_of(kit, a, correct(kit, a, rid, 2, sex="female"))
    assert (result["status"], result["code"]) == ("rejected", "invalid_transition")


@pytest.mark.parametrize("fields, code, field", [
    ({"nik": "12345"}, "validation_error", "nik"),
    ({"nik": "6311041203990000"}, "validation_error", "nik"),  # serial 0000
    ({"kk_number": "63110401"}, "validation_error", "kk_number"),
    ({"birth_date": "2030-01-01"}, "validation_error", "birth_date"),
    ({"name": ""}, "validation_error", "name"),
    ({"sex": "x"}, "validation_error", "sex"),
    ({"stage": "verified"}, "validation_error", "stage"),
    ({}, "validation_error", "fields"),
    ({"desa_code": DESA_B}, "desa_not_assigned", "desa_code"),
])
def test_correction_rejections(session, kit, fields, code, field):
    a = kit.client()
    rid = kit.found(a)
    result = result_of(kit, a, correct(kit, a, rid, **fields))
    assert (result["status"], result["code"]) == ("rejected", code)
    assert field in result["fields"]
    assert session.get(Resident, rid).version == 1


def test_moving_to_another_assigned_desa(session, kit):
    both = kit.actor(user_id=7, desa=(DESA_A, DESA_B))
    a = kit.client()
    rid = kit.found(a, actor=both)
    assert result_of(kit, a, correct(kit, a, rid, desa_code=DESA_B), actor=both)["status"] == "applied"
    assert session.get(Resident, rid).desa_code == DESA_B


def test_concurrent_corrections_keep_both_values(session, kit):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    rid = kit.found(a, birth_date="1999-03-12")
    assert result_of(kit, b, correct(kit, b, rid, birth_date="1999-03-14"))["status"] == "applied"
    assert result_of(kit, a, correct(kit, a, rid, birth_date="1999-03-15"))["status"] == "applied"
    [conflict] = conflicts(session, "concurrent_edit")
    assert conflict.field == "birth_date"
    assert conflict.details["overwritten"]["value"] == "1999-03-14"
    assert conflict.details["applied"]["value"] == "1999-03-15"
    # The camat restores the overwritten date: stored as a date again.
    resolve_conflict(session, CAMAT, conflict_id=conflict.id, decision="restore_previous",
                     note=None, now=NOW)
    session.commit()
    assert session.get(Resident, rid).birth_date == date(1999, 3, 14)


def test_a_corrected_nik_runs_the_duplicate_check_once(session, kit):
    a = kit.client()
    first = kit.found(a, nik=NIK_MALE)
    second = kit.found(a, nik=None)
    assert conflicts(session, "possible_duplicate") == []
    assert result_of(kit, a, correct(kit, a, second, nik=NIK_MALE))["status"] == "applied"
    [conflict] = conflicts(session, "possible_duplicate")
    assert (conflict.resident_id, conflict.other_resident_id) == (second, first)
    assert conflict.details["reason"] == "same_nik"
    # Another correction of the same case does not file the same pair again.
    assert result_of(kit, a, correct(kit, a, second, 2, name="Nama Baru"))["status"] == "applied"
    assert len(conflicts(session, "possible_duplicate")) == 1


def test_a_corrected_name_finds_the_same_person(session, kit):
    a = kit.client()
    first = kit.found(a, nik=None, name="Siti Aminah")
    second = kit.found(a, nik=None, name="Siti Aminaa")
    assert conflicts(session, "possible_duplicate") == []
    assert result_of(kit, a, correct(kit, a, second, name="SITI AMINAH"))["status"] == "applied"
    [conflict] = conflicts(session, "possible_duplicate")
    assert (conflict.resident_id, conflict.other_resident_id, conflict.details["reason"]) == (
        second, first, "same_name_birth_date_desa")


def test_a_nik_known_in_another_kecamatan_is_a_warning(session, kit):
    elsewhere = kit.client(user_id=9)
    kit.found(elsewhere, actor=kit.actor(user_id=9, desa=("6311012001",)), nik=NIK_MALE,
              desa_code="6311012001")
    a = kit.client()
    rid = kit.found(a, nik=None)
    assert result_of(kit, a, correct(kit, a, rid, nik=NIK_MALE))["status"] == "applied"
    assert "nik_registered_elsewhere" in session.get(Resident, rid).warnings
    assert conflicts(session, "possible_duplicate") == []  # never across a kecamatan


def test_replay_and_resend_change_nothing_twice(session, kit):
    a = kit.client()
    rid = kit.found(a, name="Salah Ketik Namaa")
    mutation = correct(kit, a, rid, name="Salah Ketik Nama")
    assert result_of(kit, a, mutation)["status"] == "applied"
    # The same mutation again (an answer lost on the way): a duplicate.
    assert result_of(kit, a, mutation)["status"] == "duplicate"
    # The same correction saved twice on the phone: the second changes nothing.
    assert result_of(kit, a, correct(kit, a, rid, name="Salah Ketik Nama"))["status"] == "applied"
    assert len(events(session, rid)) == 1
    assert session.get(Resident, rid).version == 2


def test_a_replayed_correction_after_verification_changes_nothing(session, kit):
    a = kit.client()
    rid = kit.found(a, name="Salah Ketik Namaa")
    assert result_of(kit, a, correct(kit, a, rid, name="Salah Ketik Nama"))["status"] == "applied"
    kit.advance(a, rid, "verified")
    # Resent by a phone healing a restored server: the value is there, nothing to refuse.
    assert result_of(kit, a, correct(kit, a, rid, name="Salah Ketik Nama"))["status"] == "applied"


# ---------------------------------------------------------------- the office's correction
@pytest.mark.parametrize("actor", [CAMAT, OPERATOR])
def test_the_office_corrects_a_delivered_case_with_a_reason(session, kit, actor):
    a = kit.client()
    rid = kit.found(a, name="Salah Ketik Namaa", nik=NIK_MALE, sex="female")
    kit.advance(a, rid, "delivered")
    before = session.get(Resident, rid)
    version, seq = before.version, before.change_seq
    resident, changed = correct_identity_office(
        session, actor, resident_id=rid, reason="Sesuai KK asli",
        fields={"name": "Salah Ketik Nama", "sex": "male", "nik": NIK_MALE, "kk_number": ""},
        now=NOW)
    session.commit()
    assert changed == ["kk_number", "name", "sex"]
    assert (resident.name, resident.sex, resident.kk_number) == ("Salah Ketik Nama", "male", None)
    assert resident.version == version + 1 and resident.change_seq > seq
    assert "nik_sex" not in resident.warnings
    [event] = events(session, rid)
    assert (event.client_id, event.user_id, event.mutation_id) == ("office", actor.user_id, None)
    assert event.payload["reason"] == "Sesuai KK asli"
    assert event.payload["changes"]["name"] == {"old": "Salah Ketik Namaa", "new": "Salah Ketik Nama"}
    # The phones pull the corrected case.
    pulled = kit.sync(a, [])["changes"]["residents"]
    assert [(p["resident_id"], p["name"]) for p in pulled] == [(rid, "Salah Ketik Nama")]


@pytest.mark.parametrize("actor, rid, fields, reason, code", [
    (PETUGAS, None, {"name": "Baru"}, "alasan", "forbidden"),
    (OTHER_CAMAT, None, {"name": "Baru"}, "alasan", "not_found"),
    (CAMAT, "7b0c6a6e-0000-4000-8000-000000000000", {"name": "Baru"}, "alasan", "not_found"),
    (CAMAT, None, {"name": "Baru"}, "  ", "validation_error"),
    (CAMAT, None, {"nik": "123"}, "alasan", "validation_error"),
    (CAMAT, None, {"desa_code": "6311012001"}, "alasan", "validation_error"),
    (CAMAT, None, {"phone": "0811111111"}, "alasan", "validation_error"),
    (CAMAT, None, {"name": "Warga Uji 1"}, "alasan", "validation_error"),  # no change
])
def test_office_correction_refusals(session, kit, actor, rid, fields, reason, code):
    a = kit.client()
    found = kit.found(a)
    with pytest.raises(OfficeError) as refused:
        correct_identity_office(session, actor, resident_id=rid or found, fields=fields,
                                reason=reason, now=NOW)
    session.rollback()
    assert refused.value.code == code
    assert session.get(Resident, found).version == 1
    assert session.scalar(select(func.count()).select_from(ResidentEvent)) == 1


def test_the_office_correction_wins_over_an_older_phone_edit(session, kit):
    a = kit.client()
    rid = kit.found(a, name="Salah Ketik Namaa")
    correct_identity_office(session, CAMAT, resident_id=rid, fields={"name": "Nama Kantor"},
                            reason="KK asli", now=NOW)
    session.commit()
    # The phone, still at version 1, corrects the same field: both values are kept.
    assert result_of(kit, a, correct(kit, a, rid, name="Nama HP"))["status"] == "applied"
    [conflict] = conflicts(session, "concurrent_edit")
    assert conflict.details["overwritten"]["value"] == "Nama Kantor"


def test_free_fields_alone_still_apply_after_verification(session, kit):
    a = kit.client()
    rid = kit.found(a)
    kit.advance(a, rid, "verified")
    result = result_of(kit, a, correct(kit, a, rid, 2, phone="0813 2222 333"))
    assert result["status"] == "applied"
    assert session.get(Resident, rid).phone == "08132222333"
    assert [e.kind for e in events(session, rid, "updated")] == ["updated"]
    assert events(session, rid) == []


# ---------------------------------------------------------------- a case moved to another desa
def _scoped(kit, user_id, *desa):
    return kit.client(user_id=user_id), kit.actor(user_id=user_id, desa=desa)


def test_a_case_the_office_moves_leaves_the_phones_of_the_old_desa(session, kit):
    (a, only_a), (b, only_b), (c, both) = (_scoped(kit, 7, DESA_A), _scoped(kit, 8, DESA_B),
                                           _scoped(kit, 9, DESA_A, DESA_B))
    rid = kit.found(a, actor=only_a)
    kit.advance(a, rid, "verified", actor=only_a)
    cursors = {p.client_id: kit.sync(p, actor=actor)["cursor"]
               for p, actor in ((a, only_a), (b, only_b), (c, both))}
    resident, _ = correct_identity_office(session, CAMAT, resident_id=rid,
                                          fields={"desa_code": DESA_B}, reason="Salah desa",
                                          now=NOW, operations={DESA_B: 42})
    session.commit()
    assert (resident.desa_code, resident.operation_id) == (DESA_B, 42)
    # The phone of the old desa only: told to drop its copy.
    old = kit.sync(a, actor=only_a, cursor=cursors[a.client_id])
    assert (old["changes"]["removed"], old["changes"]["residents"]) == ([rid], [])
    assert kit.sync(a, actor=only_a, cursor=old["cursor"])["changes"]["removed"] == []
    # The new desa's phone and a phone of both desa receive the case.
    for phone, actor in ((b, only_b), (c, both)):
        pulled = kit.sync(phone, actor=actor, cursor=cursors[phone.client_id])["changes"]
        assert ([r["resident_id"] for r in pulled["residents"]], pulled["removed"]) == ([rid], [])


def test_a_moved_case_pages_in_change_order(session, kit):
    a, only_a = _scoped(kit, 7, DESA_A)
    both = kit.actor(user_id=7, desa=(DESA_A, DESA_B))
    rid = kit.found(a, actor=only_a)
    cursor = kit.sync(a, actor=only_a)["cursor"]
    # The officer moves it on the phone (assigned to both desa then), and registers another.
    assert result_of(kit, a, correct(kit, a, rid, desa_code=DESA_B), actor=both)["status"] == \
        "applied"
    later = kit.found(a, actor=only_a)
    first = kit.sync(a, actor=only_a, cursor=cursor, page_size=1)
    assert (first["changes"]["removed"], first["changes"]["residents"], first["more"]) == (
        [rid], [], True)
    second = kit.sync(a, actor=only_a, cursor=first["cursor"], page_size=1)
    assert [r["resident_id"] for r in second["changes"]["residents"]] == [later]
    assert second["changes"]["removed"] == [] and not second["more"]


def test_the_phone_moves_a_case_to_its_desa_operation(session, kit):
    a = kit.client()
    before = kit.actor(user_id=7, desa=(DESA_A, DESA_B))
    both = replace(before, operations={DESA_A: 5, DESA_B: 6})
    rid = kit.found(a, actor=both)
    assert session.get(Resident, rid).operation_id == 5
    assert result_of(kit, a, correct(kit, a, rid, desa_code=DESA_B), actor=both)["status"] == \
        "applied"
    assert session.get(Resident, rid).operation_id == 6


# ---------------------------------------------------------------- restore_previous
def test_a_restored_nik_runs_the_identity_refresh(session, kit):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    first = kit.found(a, nik=NIK_MALE, sex="male")
    rid = kit.found(a, nik=None, sex="male", name="Salah Ketik Namaa")
    # Two phones correct the same NIK: b's (the first person's NIK) is overwritten by a's.
    assert result_of(kit, b, correct(kit, b, rid, nik=NIK_MALE))["status"] == "applied"
    assert result_of(kit, a, correct(kit, a, rid, nik=NIK_FEMALE, sex="female"))["status"] == \
        "applied"
    [edit] = [c for c in conflicts(session, "concurrent_edit") if c.field == "nik"]
    duplicates = len(conflicts(session, "possible_duplicate"))
    assert "nik_sex" not in session.get(Resident, rid).warnings
    resolve_conflict(session, CAMAT, conflict_id=edit.id, decision="restore_previous",
                     note=None, now=NOW)
    session.commit()
    resident = session.get(Resident, rid)
    assert resident.nik == NIK_MALE
    assert "nik_sex" in resident.warnings  # a man's NIK on a case corrected to female
    pairs = {(c.resident_id, c.other_resident_id) for c in conflicts(session, "possible_duplicate")}
    assert (rid, first) in pairs and len(pairs) >= duplicates


def test_a_restored_name_and_desa_find_the_same_person(session, kit):
    both = kit.actor(user_id=7, desa=(DESA_A, DESA_B))
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    b_both = kit.actor(user_id=8, desa=(DESA_A, DESA_B))
    watcher, only_b = kit.client(user_id=9), kit.actor(user_id=9, desa=(DESA_B,))
    rid = kit.found(a, actor=both, name="Siti Aminaa")
    assert result_of(kit, b, correct(kit, b, rid, desa_code=DESA_B, name="Siti Aminah"),
                     actor=b_both)["status"] == "applied"
    assert result_of(kit, a, correct(kit, a, rid, desa_code=DESA_A, name="Nama Lain"),
                     actor=both)["status"] == "applied"
    edits = {c.field: c for c in conflicts(session, "concurrent_edit")}
    # Registered meanwhile in desa B, the same person as b's correction said.
    same = kit.found(watcher, actor=only_b, name="Siti Aminah", desa_code=DESA_B, nik=None)
    assert conflicts(session, "possible_duplicate") == []
    cursor = kit.sync(watcher, actor=only_b)["cursor"]
    for field in ("name", "desa_code"):
        resolve_conflict(session, CAMAT, conflict_id=edits[field].id,
                         decision="restore_previous", note=None, now=NOW)
        session.commit()
    resident = session.get(Resident, rid)
    assert (resident.name, resident.desa_code) == ("Siti Aminah", DESA_B)
    assert resident.name_key == name_key("Siti Aminah")
    [duplicate] = conflicts(session, "possible_duplicate")
    assert {duplicate.resident_id, duplicate.other_resident_id} == {rid, same}
    # Moved back to B: the B phone receives it.
    pulled = kit.sync(watcher, actor=only_b, cursor=cursor)["changes"]["residents"]
    assert rid in [r["resident_id"] for r in pulled]
