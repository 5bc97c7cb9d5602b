"""process_sync on SQLite and PostgreSQL: apply, duplicates, gaps, rejections, envelope."""
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from sync.changeseq import counter_value
from sync.engine import process_sync
from sync.errors import ClientMismatch, EnvelopeError, MutationGap
from sync.handlers_registration import MAX_DUPLICATE_LINKS
from sync.models import ChangeCounter, Client, Conflict, RejectedMutation, Resident, ResidentEvent
from sync.schemas import MAX_MUTATIONS, SyncResponseSchema
from sync_kit import DESA_A, DESA_B, KECAMATAN, NOW


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_register_applies_and_comes_back_in_changes(session, kit):
    client = kit.client()
    args, response = kit.register(client, nik="6311011203990002", name="  Siti   Aminah ")

    assert response["results"] == [{"id": 1, "status": "applied"}]
    assert response["last_mutation_id"] == 1
    assert response["server_time"] == "2026-11-28T01:15:00Z"
    assert SyncResponseSchema().validate(response) == {}
    resident = session.get(Resident, args["resident_id"])
    assert (resident.name, resident.rt, resident.rw, resident.phone, resident.notes) == (
        "Siti Aminah", "001", "002", "08123456789", None)
    assert (resident.version, resident.stage, resident.stage_label) == (1, "found", "Terdata")
    assert resident.warnings == ["nik_region"]  # stored, not a rejection
    assert resident.created_by_client_id == client.client_id
    event = session.scalars(select(ResidentEvent)).one()
    assert (event.kind, event.mutation_id, event.client_id, event.user_id) == (
        "registered", 1, client.client_id, 7)
    assert event.device_at.replace(tzinfo=None) == (NOW - timedelta(minutes=5)).replace(tzinfo=None)
    # the client's own change is included in the pull (simple and safe)
    [pulled] = response["changes"]["residents"]
    assert pulled["resident_id"] == args["resident_id"]
    assert pulled["stage_label"] == "Terdata" and pulled["version"] == 1
    assert pulled["birth_date"] == "1999-03-12" and pulled["created_at"] == "2026-11-28T01:15:00Z"
    assert response["changes"]["removed"] == []
    assert response["cursor"] == str(resident.change_seq) and response["more"] is False


def test_same_request_twice_is_all_duplicate(session, kit):
    client = kit.client()
    mutations = [kit.mutation(client, "register_resident", kit.register_args()) for _ in range(3)]
    mutations.append(kit.mutation(client, "register_resident", kit.register_args(nik="123")))
    first = kit.sync(client, mutations)
    assert [r["status"] for r in first["results"]] == ["applied"] * 3 + ["rejected"]

    second = kit.sync(client, mutations)
    assert [r["status"] for r in second["results"]] == ["duplicate"] * 4
    # a re-sent rejected mutation carries its rejection again (the first answer may be lost)
    assert second["results"][3]["code"] == "validation_error"
    assert "nik" in second["results"][3]["fields"]
    assert second["last_mutation_id"] == 4
    assert count(session, Resident) == 3
    assert count(session, ResidentEvent) == 3
    assert count(session, RejectedMutation) == 1


def test_mutations_are_applied_in_id_order(session, kit):
    client = kit.client()
    a = kit.mutation(client, "register_resident", kit.register_args())
    b = kit.mutation(client, "register_resident", kit.register_args())
    response = kit.sync(client, [b, a])
    assert [r["id"] for r in response["results"]] == [1, 2]
    seqs = [session.get(Resident, m["args"]["resident_id"]).change_seq for m in (a, b)]
    assert seqs[0] < seqs[1]


def test_gap_at_first_new_mutation_raises_and_changes_nothing(session, kit):
    client = kit.client()
    body = kit.body(client, [kit.mutation(client, "register_resident", kit.register_args(), mid=2)])
    with pytest.raises(MutationGap) as info:
        process_sync(session, actor=kit.actor(), client=client, body=body, now=NOW)
    session.commit()
    assert info.value.last_mutation_id == 0
    assert info.value.to_dict()["code"] == "mutation_gap"
    assert count(session, Resident) == 0
    assert session.get(Client, client.client_id).last_mutation_id == 0


def test_gap_after_applied_ones_keeps_them(session, kit):
    client = kit.client()
    one, two = (kit.mutation(client, "register_resident", kit.register_args()) for _ in range(2))
    four = kit.mutation(client, "register_resident", kit.register_args(), mid=4)
    response = kit.sync(client, [one, two, four])
    assert [r["id"] for r in response["results"]] == [1, 2]
    assert response["last_mutation_id"] == 2
    # sent again, 1 and 2 are duplicates and 4 is now the first new one: 409 with last = 2
    with pytest.raises(MutationGap) as info:
        process_sync(session, actor=kit.actor(), client=client,
                     body=kit.body(client, [one, two, four]), now=NOW)
    session.commit()
    assert info.value.last_mutation_id == 2
    assert count(session, Resident) == 2


def test_rejection_advances_last_mutation_id_and_is_stored(session, kit):
    client = kit.client()
    kit.register(client)
    counter_before = counter_value(session, KECAMATAN)
    bad = kit.register_args(nik="6311043102990001", birth_date="2999-01-01", sex="x")
    response = kit.sync(client, [kit.mutation(client, "register_resident", bad)])

    [result] = response["results"]
    assert result["status"] == "rejected" and result["code"] == "validation_error"
    assert set(result["fields"]) == {"sex"}  # schema errors first
    assert response["last_mutation_id"] == 2
    assert count(session, Resident) == 1 and count(session, ResidentEvent) == 1
    session.expire_all()
    assert counter_value(session, KECAMATAN) == counter_before
    stored = session.scalars(select(RejectedMutation)).one()
    assert (stored.mutation_id, stored.code, stored.name, stored.user_id) == (
        2, "validation_error", "register_resident", 7)
    assert stored.args == bad

    nik_bad = kit.register_args(nik="6311043102990001", birth_date="2999-01-01")
    result = kit.sync(client, [kit.mutation(client, "register_resident", nik_bad)])["results"][0]
    assert result["fields"]["nik"].startswith("Tanggal lahir di dalam NIK")
    assert result["fields"]["birth_date"] == "Tanggal lahir tidak boleh di masa depan."


@pytest.mark.parametrize("overrides, code, field", [
    ({"desa_code": DESA_B}, "desa_not_assigned", "desa_code"),
    ({"resident_id": "not-a-uuid"}, "validation_error", "resident_id"),
    ({"name": "   "}, "validation_error", "name"),
    ({"rt": "1234"}, "validation_error", "rt"),
    ({"phone": "08xx"}, "validation_error", "phone"),
    ({"kk_number": "63110401012000"}, "validation_error", "kk_number"),
    ({"marital_status": "engaged"}, "validation_error", "marital_status"),
    ({"disability": "blind"}, "validation_error", "disability"),
])
def test_register_rejections(session, kit, overrides, code, field):
    client = kit.client()
    _, response = kit.register(client, **overrides)
    [result] = response["results"]
    assert (result["status"], result["code"]) == ("rejected", code)
    assert field in result["fields"] and result["message"]
    assert count(session, Resident) == 0


def test_unparsable_or_naive_mutation_time_is_rejected(session, kit):
    client = kit.client()
    bad = [kit.mutation(client, "register_resident", kit.register_args(), at=at)
           for at in ("kemarin", "2026-11-28T09:10:00")]
    response = kit.sync(client, bad)
    assert [r["code"] for r in response["results"]] == ["invalid_mutation_time"] * 2
    assert response["last_mutation_id"] == 2 and count(session, Resident) == 0


def test_identical_reregistration_is_idempotent(session, kit):
    client = kit.client()
    args, _ = kit.register(client)
    reinstalled = kit.client()  # same officer, new install, same outbox entry
    response = kit.sync(reinstalled, [kit.mutation(reinstalled, "register_resident", dict(args))])
    assert response["results"] == [{"id": 1, "status": "applied"}]
    assert count(session, ResidentEvent) == 1
    assert session.get(Resident, args["resident_id"]).version == 1

    changed = dict(args, name="Orang Lain")
    response = kit.sync(reinstalled, [kit.mutation(reinstalled, "register_resident", changed)])
    assert response["results"][0]["code"] == "resident_exists"
    assert session.get(Resident, args["resident_id"]).name == args["name"]


def open_conflicts(session, kind):
    return session.scalars(select(Conflict).where(Conflict.kind == kind)).all()


def test_same_nik_is_a_possible_duplicate(session, kit):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    first, _ = kit.register(a, nik="6311041203990002")
    second, response = kit.register(b, nik="6311041203990002", name="Nama Lain")
    assert response["results"][0]["status"] == "applied"  # merging is the camat's decision
    [conflict] = open_conflicts(session, "possible_duplicate")
    assert (conflict.resident_id, conflict.other_resident_id) == (
        second["resident_id"], first["resident_id"])
    assert conflict.details["reason"] == "same_nik"
    assert (conflict.status, conflict.kecamatan_code) == ("open", "631104")


@pytest.mark.parametrize("same", [{"nik": "6311041203990002"},
                                  {"nik": None, "name": "Warga Kembar"}])
def test_possible_duplicate_links_per_case_are_capped(session, kit, same):
    # One request of n registrations of one person filed n(n-1)/2 conflicts (100 → 4,950):
    # each new case is linked to at most MAX_DUPLICATE_LINKS others.
    client = kit.client()
    n = 12
    mutations = [kit.mutation(client, "register_resident", kit.register_args(**same))
                 for _ in range(n)]
    response = kit.sync(client, mutations)
    assert {r["status"] for r in response["results"]} == {"applied"}
    conflicts = open_conflicts(session, "possible_duplicate")
    assert len(conflicts) == sum(min(i, MAX_DUPLICATE_LINKS) for i in range(n))  # 30, not 66
    per_case = {}
    for c in conflicts:
        per_case[c.resident_id] = per_case.get(c.resident_id, 0) + 1
    assert max(per_case.values()) == MAX_DUPLICATE_LINKS


def test_same_name_birth_date_desa_without_nik_is_a_possible_duplicate(session, kit):
    client = kit.client()
    first, _ = kit.register(client, nik=None, name="Ahmad  Fauzi")
    kit.register(client, nik="", name="ahmad fauzi ")
    kit.register(client, nik=None, name="Ahmad Fauzi", birth_date="1999-03-13")  # other date
    kit.register(client, nik="6311041203990007", name="Ahmad Fauzi", rt="9")  # has NIK vs none
    conflicts = open_conflicts(session, "possible_duplicate")
    assert [c.details["reason"] for c in conflicts] == ["same_name_birth_date_desa"] * 3
    assert {c.other_resident_id for c in conflicts} <= {first["resident_id"],
                                                        conflicts[0].resident_id}
    # two residents each with their own, different NIK are two people
    kit.register(client, nik="6311041203990008", name="Budi")
    kit.register(client, nik="6311041203990009", name="Budi")
    assert len(open_conflicts(session, "possible_duplicate")) == 3


def update(kit, client, resident_id, base_version, **fields):
    return kit.mutation(client, "update_resident",
                        {"resident_id": resident_id, "base_version": base_version, "fields": fields})


def test_last_writer_wins_with_history_and_concurrent_edit_conflict(session, kit):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    args, _ = kit.register(a, phone="081111111")
    rid = args["resident_id"]
    # both phones hold version 1; B edits first, then A (offline) edits the same field
    assert kit.sync(b, [update(kit, b, rid, 1, phone="082222222")])["results"][0]["status"] == "applied"
    response = kit.sync(a, [update(kit, a, rid, 1, phone="083333333", address="Jl. Baru")])
    assert response["results"][0]["status"] == "applied"

    resident = session.get(Resident, rid)
    assert (resident.phone, resident.address, resident.version) == ("083333333", "Jl. Baru", 3)
    assert resident.field_versions["phone"] == {"version": 3, "client_id": a.client_id, "user_id": 7}
    history = session.scalars(select(ResidentEvent).where(ResidentEvent.kind == "updated")
                              .order_by(ResidentEvent.id)).all()
    assert [e.payload["changes"]["phone"] for e in history] == [
        {"old": "081111111", "new": "082222222"}, {"old": "082222222", "new": "083333333"}]
    # only phone conflicts: address was last set by A itself at version 1
    [conflict] = open_conflicts(session, "concurrent_edit")
    assert conflict.field == "phone" and conflict.resident_id == rid
    assert conflict.details["overwritten"]["value"] == "082222222"
    assert conflict.details["overwritten"]["client_id"] == b.client_id
    assert conflict.details["applied"]["value"] == "083333333"
    assert conflict.details["applied"]["base_version"] == 1
    # pulled state is the winner's
    [pulled] = response["changes"]["residents"]
    assert (pulled["phone"], pulled["version"]) == ("083333333", 3)


def test_same_client_editing_twice_is_no_conflict(session, kit):
    a = kit.client()
    args, _ = kit.register(a)
    rid = args["resident_id"]
    kit.sync(a, [update(kit, a, rid, 1, notes="satu"), update(kit, a, rid, 1, notes="dua")])
    assert open_conflicts(session, "concurrent_edit") == []
    assert session.get(Resident, rid).notes == "dua"


def test_update_that_changes_nothing_is_applied_without_event(session, kit):
    a = kit.client()
    args, first = kit.register(a, phone="081111111")
    response = kit.sync(a, [update(kit, a, args["resident_id"], 1, phone="0811-111-11")],
                        cursor=first["cursor"])
    assert response["results"] == [{"id": 2, "status": "applied"}]
    assert response["changes"]["residents"] == []  # no new change_seq either
    assert session.get(Resident, args["resident_id"]).version == 1
    assert count(session, ResidentEvent) == 1


def test_register_then_update_in_one_request_normalises_and_clears(session, kit):
    a = kit.client()
    args = kit.register_args(disability="physical")
    rid = args["resident_id"]
    response = kit.sync(a, [kit.mutation(a, "register_resident", args),
                            update(kit, a, rid, 1, rt="7", disability=None)])
    assert [r["status"] for r in response["results"]] == ["applied", "applied"]
    resident = session.get(Resident, rid)
    assert (resident.rt, resident.disability, resident.version) == ("007", None, 2)
    [pulled] = response["changes"]["residents"]
    assert (pulled["rt"], pulled["disability"], pulled["version"]) == ("007", None, 2)


@pytest.mark.parametrize("args, code, field", [
    ({"base_version": 1, "fields": {"name": "Ganti"}}, "validation_error", "name"),
    ({"base_version": 1, "fields": {"rt": "abcd"}}, "validation_error", "rt"),
    ({"base_version": 1, "fields": {}}, "validation_error", "fields"),
    ({"base_version": "1", "fields": {"notes": "x"}}, "validation_error", "base_version"),
    ({"base_version": 1, "fields": {"notes": "x"}, "resident_id": "7b0c6a6e-0000-4000-8000-000000000000"},
     "resident_not_found", "resident_id"),
])
def test_update_rejections(session, kit, args, code, field):
    a = kit.client()
    registered, _ = kit.register(a)
    args = {"resident_id": registered["resident_id"], **args}
    result = kit.sync(a, [kit.mutation(a, "update_resident", args)])["results"][0]
    assert (result["status"], result["code"]) == ("rejected", code)
    assert field in result["fields"]
    assert session.get(Resident, registered["resident_id"]).version == 1


def test_update_outside_the_officers_desa_is_rejected(session, kit):
    both = kit.actor(user_id=7, desa=(DESA_A, DESA_B))
    a = kit.client(user_id=7)
    args, _ = kit.register(a, actor=both, desa_code=DESA_B)
    other = kit.client(user_id=8)  # assigned to DESA_A only
    result = kit.sync(other, [update(kit, other, args["resident_id"], 1, notes="x")])["results"][0]
    assert result["code"] == "desa_not_assigned"


def test_pull_pages_cover_exactly_the_officers_desa(session, kit):
    writer = kit.client(user_id=1)
    both = kit.actor(user_id=1, desa=(DESA_A, DESA_B))
    wanted = set()
    for i in range(10):
        desa = DESA_A if i % 3 else DESA_B
        args = kit.register_args(desa_code=desa)
        kit.sync(writer, [kit.mutation(writer, "register_resident", args)], actor=both)
        if desa == DESA_A:
            wanted.add(args["resident_id"])
    assert len(wanted) == 6
    reader = kit.client(user_id=2)
    only_a = kit.actor(user_id=2, desa=(DESA_A,))
    seen, cursor, pages = [], None, []
    while True:
        response = kit.sync(reader, actor=only_a, cursor=cursor, page_size=4)
        pages.append((len(response["changes"]["residents"]), response["more"]))
        seen += [r["resident_id"] for r in response["changes"]["residents"]]
        assert all(r["desa_code"] == DESA_A for r in response["changes"]["residents"])
        cursor = response["cursor"]
        if not response["more"]:
            break
    assert pages == [(4, True), (2, False)]
    assert sorted(seen) == sorted(wanted) and len(seen) == len(set(seen))
    # nothing new: empty page, cursor kept
    response = kit.sync(reader, actor=only_a, cursor=cursor, page_size=4)
    assert response["changes"]["residents"] == [] and response["cursor"] == cursor
    # an update moves a row past the cursor again
    rid = sorted(wanted)[0]
    kit.sync(writer, [update(kit, writer, rid, 1, notes="baru")], actor=both)
    response = kit.sync(reader, actor=only_a, cursor=cursor)
    assert [r["resident_id"] for r in response["changes"]["residents"]] == [rid]
    # an officer with no desa sees nothing
    assert kit.sync(reader, actor=kit.actor(user_id=2, desa=()))["changes"]["residents"] == []


def test_cursor_beyond_the_counter_starts_over(session, kit):
    client = kit.client()
    kit.register(client)
    response = kit.sync(client, cursor="999999")
    assert response["cursor"] == "1" and len(response["changes"]["residents"]) == 1


def test_lost_counter_row_continues_above_existing_rows(session, kit):
    client = kit.client()
    kit.register(client)
    kit.register(client)
    session.execute(delete(ChangeCounter))
    session.commit()
    args, _ = kit.register(client)
    assert session.get(Resident, args["resident_id"]).change_seq == 3


def test_engine_never_commits(session, kit):
    client = kit.client()
    session.commit()
    body = kit.body(client, [kit.mutation(client, "register_resident", kit.register_args())])
    process_sync(session, actor=kit.actor(), client=client, body=body, now=NOW)
    session.rollback()  # the caller's rollback must undo every SAVEPOINT the engine released
    assert count(session, Resident) == 0 and count(session, ResidentEvent) == 0
    assert session.get(Client, client.client_id).last_mutation_id == 0


ENVELOPE_CASES = {
    "not an object": [],
    "protocol 2": {"protocol": 2},
    "client_id not a uuid": {"client_id": "abc"},
    "sent_at without zone": {"sent_at": "2026-11-28T09:15:00"},
    "cursor not digits": {"cursor": "12a"},
    "cursor a number": {"cursor": 12},
    "mutation id zero": {"mutations": [{"id": 0, "name": "register_resident", "at": "x", "args": {}}]},
    "mutation id a string": {"mutations": [{"id": "1", "name": "register_resident", "at": "x", "args": {}}]},
    "args not an object": {"mutations": [{"id": 1, "name": "register_resident", "at": "x", "args": []}]},
    "duplicate ids": {"mutations": [{"id": 1, "name": "register_resident", "at": "x", "args": {}}] * 2},
    "missing app_version": {"app_version": None},
}


@pytest.mark.parametrize("change", ENVELOPE_CASES.values(), ids=ENVELOPE_CASES.keys())
def test_malformed_envelope_changes_nothing(session, kit, change):
    client = kit.client()
    session.commit()
    body = change if isinstance(change, list) else {**kit.body(client), **change}
    with pytest.raises(EnvelopeError) as info:
        process_sync(session, actor=kit.actor(), client=client, body=body, now=NOW)
    assert info.value.code == "validation_error" and info.value.http_status == 400
    assert info.value.fields and info.value.message
    session.rollback()
    assert session.get(Client, client.client_id).last_sync_at is None


def test_too_many_mutations(session, kit):
    client = kit.client()
    mutations = [{"id": i, "name": "register_resident", "at": "x", "args": {}}
                 for i in range(1, MAX_MUTATIONS + 2)]
    with pytest.raises(EnvelopeError) as info:
        process_sync(session, actor=kit.actor(), client=client,
                     body=kit.body(client, mutations), now=NOW)
    assert (info.value.code, info.value.http_status) == ("payload_too_large", 413)


def test_client_mismatch(session, kit):
    mine, other = kit.client(), kit.client()
    with pytest.raises(ClientMismatch):
        process_sync(session, actor=kit.actor(), client=mine, body=kit.body(other), now=NOW)


def test_unknown_mutation_refuses_the_whole_request(session, kit):
    client = kit.client()
    session.commit()
    mutations = [kit.mutation(client, "register_resident", kit.register_args()),
                 kit.mutation(client, "print_card", {})]
    with pytest.raises(EnvelopeError) as info:
        process_sync(session, actor=kit.actor(), client=client,
                     body=kit.body(client, mutations), now=NOW)
    assert info.value.code == "unknown_mutation"
    assert list(info.value.fields) == ["mutations.1.name"]
    session.rollback()
    assert count(session, Resident) == 0
    assert session.get(Client, client.client_id).last_mutation_id == 0


@pytest.mark.parametrize("offset, flagged", [(660, True), (-660, True), (300, False), (0, False)])
def test_clock_skew(session, kit, offset, flagged):
    client = kit.client()
    sent_at = (NOW + timedelta(seconds=offset)).isoformat()
    response = kit.sync(client, sent_at=sent_at)
    assert response["clock_skew_flagged"] is flagged
    client = session.get(Client, client.client_id)
    assert client.clock_skew_seconds == offset and client.clock_skew_flagged is flagged
    assert client.last_sent_at.replace(tzinfo=None) == (NOW + timedelta(seconds=offset)).replace(tzinfo=None)
    assert client.last_sync_at.replace(tzinfo=None) == NOW.replace(tzinfo=None)
    assert client.app_version == "1.0.0"


def test_new_assignment_restarts_the_pull_once(session, kit):
    writer = kit.client(user_id=1)
    both = kit.actor(user_id=1, desa=(DESA_A, DESA_B))
    in_b = kit.register_args(desa_code=DESA_B)
    kit.sync(writer, [kit.mutation(writer, "register_resident", in_b)], actor=both)
    in_a = kit.register_args(desa_code=DESA_A)
    kit.sync(writer, [kit.mutation(writer, "register_resident", in_a)], actor=both)

    reader = kit.client(user_id=2)
    first = kit.sync(reader, actor=kit.actor(user_id=2, desa=(DESA_A,)))
    assert [r["resident_id"] for r in first["changes"]["residents"]] == [in_a["resident_id"]]
    assert first["scope_reset"] is False  # a first pull has nothing to reset

    # The camat assigns desa B as well: B's older row is behind the cursor, yet it arrives.
    widened = kit.sync(reader, actor=kit.actor(user_id=2, desa=(DESA_A, DESA_B)),
                       cursor=first["cursor"])
    assert widened["scope_reset"] is True
    assert {r["resident_id"] for r in widened["changes"]["residents"]} == {
        in_a["resident_id"], in_b["resident_id"]}

    # Same scope again: the cursor is honoured.
    again = kit.sync(reader, actor=kit.actor(user_id=2, desa=(DESA_A, DESA_B)),
                     cursor=widened["cursor"])
    assert again["scope_reset"] is False and again["changes"]["residents"] == []


@pytest.mark.parametrize("sent_at", ["0001-01-01T00:00:01+00:02", "9999-12-31T23:59:59-01:00",
                                     "5897-06-10T04:22:33Z", "0201-08-30T01:00:35Z"])
def test_an_absurd_device_clock_still_syncs_and_is_flagged(session, kit, sent_at):
    client = kit.client()
    response = kit.sync(client, [kit.mutation(client, "register_resident", kit.register_args())],
                        sent_at=sent_at)
    assert response["results"][0]["status"] == "applied" and response["clock_skew_flagged"]
    assert abs(session.get(Client, client.client_id).clock_skew_seconds) <= 2**31 - 1


def test_text_the_database_cannot_store_is_a_field_error(session, kit):
    client = kit.client()
    bad = [kit.register_args(name="Warga\x00Uji"), kit.register_args(notes="\ud800"),
           kit.register_args()]
    mutations = [kit.mutation(client, "register_resident", args) for args in bad]
    mutations.append(kit.mutation(client, "register_resident", kit.register_args(),
                                  at="9999-12-31T23:59:59-01:00"))
    results = kit.sync(client, mutations)["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("rejected", "validation_error"), ("rejected", "validation_error"), ("applied", None),
        ("rejected", "invalid_mutation_time")]
    assert list(results[0]["fields"]) == ["name"] and list(results[1]["fields"]) == ["notes"]
