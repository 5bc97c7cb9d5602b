"""Compact echoes (sync/echo.py, docs/sync-protocol.md): a phone that asks for them gets, for
the residents its own mutations of the request wrote, only what differs from what it sent;
rebuilt on the phone's side, every entry equals the full record of a plain pull."""
import json

from sync.engine import process_sync
from sync.schemas import SyncResponseSchema
from sync_kit import NOW, pipeline_args


def compact_sync(kit, client, mutations, *, cursor=None, page_size=200):
    body = {**kit.body(client, mutations, cursor), "echo": "compact"}
    response = process_sync(kit.session, actor=kit.actor(client.user_id), client=client,
                            body=body, now=NOW, page_size=page_size)
    kit.session.commit()
    return response


def rebuilt(entry, mutations):
    """What the phone holds after merging `entry`: the base of mutation echo_of, then the entry."""
    sent = next(m for m in mutations if m["id"] == entry["echo_of"])
    base = sent["args"] if sent["name"] == "register_resident" else sent["args"]["fields"]
    merged = {**base, **entry}
    del merged["echo_of"]
    return merged


def full_records(kit, cursor):
    """The same rows as a phone without compact echoes pulls them (another client)."""
    reader = kit.client()
    pulled = kit.sync(reader, cursor=cursor, page_size=500)["changes"]["residents"]
    return {r["resident_id"]: r for r in pulled}


def assert_rebuilds(kit, response, mutations, cursor):
    full = full_records(kit, cursor)
    for entry in response["changes"]["echoes"]:
        assert rebuilt(entry, mutations) == full[entry["resident_id"]]
    for record in response["changes"]["residents"]:
        assert record == full[record["resident_id"]]


def test_registrations_echo_only_what_the_server_assigned(session, kit):
    client = kit.client()
    mutations = [kit.mutation(client, "register_resident", kit.register_args()) for _ in range(3)]
    response = compact_sync(kit, client, mutations)

    assert [r["status"] for r in response["results"]] == ["applied"] * 3
    assert response["changes"]["residents"] == []
    echoes = response["changes"]["echoes"]
    assert [e["echo_of"] for e in echoes] == [1, 2, 3]
    for entry in echoes:
        # what the phone sent unchanged stays home; what the server made of it travels
        assert not {"name", "nik", "kk_number", "birth_date", "desa_code"} & entry.keys()
        assert (entry["version"], entry["stage"], entry["stage_label"]) == (1, "found", "Terdata")
        assert entry["rt"] == "001" and entry["phone"] == "08123456789"  # normalised
        assert "warnings" in entry and entry["notes"] is None
    assert_rebuilds(kit, response, mutations, None)
    full = full_records(kit, None)
    assert len(json.dumps(echoes)) < 0.8 * len(json.dumps(list(full.values())))


def test_updates_and_steps_in_the_same_request_rebuild_exactly(session, kit):
    client = kit.client()
    args = kit.register_args()
    rid = args["resident_id"]
    mutations = [
        kit.mutation(client, "register_resident", args),
        kit.mutation(client, "update_resident", {"resident_id": rid, "base_version": 1,
                                                 "fields": {"address": "Jl. Baru 2"}}),
        kit.mutation(client, "verify_resident", pipeline_args("verify_resident", rid)),
    ]
    response = compact_sync(kit, client, mutations)
    assert {r["status"] for r in response["results"]} == {"applied"}
    [entry] = response["changes"]["echoes"]
    # the last mutation with a base names the echo; the step's effect travels in full
    assert entry["echo_of"] == 2 and entry["stage"] == "verified" and entry["verification"]
    assert_rebuilds(kit, response, mutations, None)


def test_someone_elses_change_travels_in_the_entry(session, kit):
    phone, other = kit.client(), kit.client(user_id=8)
    rid = kit.found(phone)
    cursor = kit.sync(phone)["cursor"]
    kit.run(other, "update_resident", {"resident_id": rid, "base_version": 1,
                                       "fields": {"notes": "Dari HP lain"}},
            actor=kit.actor(8))
    mutations = [kit.mutation(phone, "update_resident", {
        "resident_id": rid, "base_version": 2, "fields": {"address": "Jl. Baru 3"}})]
    response = compact_sync(kit, phone, mutations, cursor=cursor)
    [entry] = response["changes"]["echoes"]
    assert entry["notes"] == "Dari HP lain" and "address" not in entry
    assert_rebuilds(kit, response, mutations, cursor)


def test_steps_rejections_and_resends_get_full_records(session, kit):
    client = kit.client()
    rid = kit.found(client)
    cursor = kit.sync(client)["cursor"]
    bad = kit.register_args(nik="123")
    step = kit.mutation(client, "verify_resident", pipeline_args("verify_resident", rid))
    mutations = [step, kit.mutation(client, "register_resident", bad)]
    response = compact_sync(kit, client, mutations, cursor=cursor)
    assert [r["status"] for r in response["results"]] == ["applied", "rejected"]
    assert response["changes"]["echoes"] == []
    assert [r["resident_id"] for r in response["changes"]["residents"]] == [rid]
    again = compact_sync(kit, client, mutations, cursor=cursor)  # the answer was lost
    assert again["changes"]["echoes"] == [] and len(again["changes"]["residents"]) == 1


def test_a_phone_that_does_not_ask_gets_full_records(session, kit):
    client = kit.client()
    _args, response = kit.register(client)
    assert "echoes" not in response["changes"] and len(response["changes"]["residents"]) == 1
    assert SyncResponseSchema().validate(response) == {}
    other = kit.mutation(client, "register_resident", kit.register_args())
    body = {**kit.body(client, [other]), "echo": "something-newer"}
    plain = process_sync(session, actor=kit.actor(), client=client, body=body, now=NOW)
    assert "echoes" not in plain["changes"] and len(plain["changes"]["residents"]) == 2


def test_a_newer_phones_extra_field_gets_the_full_record(session, kit):
    client = kit.client()
    mutations = [kit.mutation(client, "register_resident", kit.register_args(future="x"))]
    response = compact_sync(kit, client, mutations)
    assert response["changes"]["echoes"] == [] and len(response["changes"]["residents"]) == 1


def test_300_registrations_in_one_round_trip(session, kit):
    client = kit.client()
    mutations = [kit.mutation(client, "register_resident", kit.register_args())
                 for _ in range(300)]
    response = compact_sync(kit, client, mutations)
    assert {r["status"] for r in response["results"]} == {"applied"}
    assert response["more"] is False
    assert len(response["changes"]["echoes"]) == 300 and response["changes"]["residents"] == []
    assert SyncResponseSchema().validate(response) == {}
    assert_rebuilds(kit, response, mutations, None)


def test_echoes_ride_on_top_of_a_full_page_without_losing_rows(session, kit):
    writer, phone = kit.client(), kit.client()
    others = [kit.found(writer) for _ in range(3)]
    mutations = [kit.mutation(phone, "register_resident", kit.register_args()) for _ in range(2)]
    first = compact_sync(kit, phone, mutations, page_size=2)
    # the page: 2 full rows of others; the phone's own rows come after them, on later pages
    assert len(first["changes"]["residents"]) == 2 and first["more"] is True
    seen = [r["resident_id"] for r in first["changes"]["residents"]]
    seen += [e["resident_id"] for e in first["changes"]["echoes"]]
    cursor, more = first["cursor"], first["more"]
    while more:
        page = compact_sync(kit, phone, [], cursor=cursor, page_size=2)
        seen += [r["resident_id"] for r in page["changes"]["residents"]]
        cursor, more = page["cursor"], page["more"]
    assert sorted(seen) == sorted(others + [m["args"]["resident_id"] for m in mutations])


def test_a_small_page_stays_small_when_other_rows_wait(session, kit):
    # A phone on a cut link asks for pages of 2 while 30 rows of others wait past its cursor:
    # its 8 own rows come as echoes on top of 2 full records, never 10 full records.
    other, client = kit.client(), kit.client()
    kit.apply_all(other, [kit.mutation(other, "register_resident", kit.register_args())
                          for _ in range(30)])
    mutations = [kit.mutation(client, "register_resident", kit.register_args()) for _ in range(8)]
    response = compact_sync(kit, client, mutations, page_size=2)
    assert len(response["changes"]["residents"]) == 2
    assert response["more"] is True
    # The page ends at its last entry: the rest (and any own row beyond it) comes next time.
    seen = len(response["changes"]["residents"]) + len(response["changes"]["echoes"])
    cursor, pages = response["cursor"], 1
    while response["more"]:
        response = compact_sync(kit, client, [], cursor=cursor, page_size=2)
        assert len(response["changes"]["residents"]) <= 2
        seen += len(response["changes"]["residents"])
        cursor, pages = response["cursor"], pages + 1
    assert seen == 38
