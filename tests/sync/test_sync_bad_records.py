"""One bad record never blocks a phone (issue #8 part 2) and rejections are not kept for ever
(part 5): process_sync on SQLite and PostgreSQL with real triggers standing in for faults."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from sync.engine import process_sync
from sync.models import Client, RejectedMutation, Resident, ResidentEvent
from sync.retention import purge_rejected_mutations
from sync_kit import NOW, collection_args, pipeline_args

ABSURD_TIMES = ["0001-01-01T00:00:00+08:00", "9999-12-31T23:00:00-02:00",
                # inside datetime's range in UTC, but not once shown in WITA (+08:00)
                "9999-12-31T23:00:00+00:00"]

# mutation → (stage the resident must stand at, args builder with the time field overridden)
STEP_TIMES = {
    "pick_up": ("verified", lambda rid, _b, t: pipeline_args("pick_up", rid, picked_up_at=t)),
    "record_done": ("picked_up",
                    lambda rid, _b, t: pipeline_args("record_done", rid, recorded_at=t)),
    "handover_batch": ("recorded",
                       lambda rid, _b, t: pipeline_args("handover_batch", rid, handed_at=t)),
    "record_collection": ("sent_to_registry",
                          lambda rid, b, t: collection_args(b, rid, collected_at=t)),
    "deliver_card": ("card_collected",
                     lambda rid, _b, t: pipeline_args("deliver_card", rid, delivered_at=t)),
}
TIME_FIELD = {"pick_up": "picked_up_at", "record_done": "recorded_at",
              "handover_batch": "handed_at", "record_collection": "collected_at",
              "deliver_card": "delivered_at"}


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("moment", ABSURD_TIMES)
@pytest.mark.parametrize("name", sorted(STEP_TIMES))
def test_an_absurd_step_time_rejects_that_mutation_only(session, kit, name, moment):
    client = kit.client()
    stage, build = STEP_TIMES[name]
    [rid] = kit.found_many(client, 1, stage=stage)
    batch_id = session.get(Resident, rid).batch_id
    good = kit.mutation(client, "register_resident", kit.register_args())
    bad = kit.mutation(client, name, build(rid, batch_id, moment))
    after = kit.mutation(client, "register_resident", kit.register_args())

    response = kit.sync(client, [good, bad, after])
    results = response["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"], results
    assert results[1]["code"] == "validation_error"
    assert list(results[1]["fields"]) == [TIME_FIELD[name]]
    assert response["last_mutation_id"] == after["id"]
    assert session.get(Resident, rid).stage == stage

    again = kit.sync(client, [good, bad, after])["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 3
    assert again[1]["code"] == "validation_error"


@pytest.mark.parametrize("moment", ABSURD_TIMES)
def test_an_absurd_mutation_time_is_rejected_like_a_step_time(session, kit, moment):
    client = kit.client()
    bad = kit.mutation(client, "register_resident", kit.register_args(), at=moment)
    good = kit.mutation(client, "register_resident", kit.register_args())
    results = kit.sync(client, [bad, good])["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("rejected", "invalid_mutation_time"), ("applied", None)]


def _trigger(session, name, table, condition, action):
    """A real database trigger on `table` that runs `action` for rows where `condition`."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF {condition} THEN {action['postgresql']}; END IF; RETURN NEW; END $$"))
        session.execute(text(f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                             f"FOR EACH ROW EXECUTE FUNCTION {name}()"))
    else:
        session.execute(text(f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                             f"WHEN {condition} BEGIN {action['sqlite']}; END"))
    session.commit()


REFUSE = {"postgresql": "RAISE EXCEPTION 'refused by test trigger'",
          "sqlite": "SELECT RAISE(ABORT, 'refused by test trigger')"}
# An outage inside a handler: the connection dies (PostgreSQL) or the database answers
# with an operational error (SQLite: a table the trigger needs is gone).
OUTAGE = {"postgresql": "PERFORM pg_terminate_backend(pg_backend_pid())",
          "sqlite": "INSERT INTO table_that_is_gone VALUES (1)"}


def test_an_unexpected_error_in_one_handler_rejects_that_mutation_only(session, kit, caplog):
    _trigger(session, "refuse_trigger_name", "residents", "NEW.name = 'Warga Pemicu Galat'",
             REFUSE)
    client = kit.client()
    before = kit.mutation(client, "register_resident", kit.register_args())
    bad_args = kit.register_args(name="Warga Pemicu Galat", nik="6311041203990777")
    bad = kit.mutation(client, "register_resident", bad_args)
    after = kit.mutation(client, "register_resident", kit.register_args())

    with caplog.at_level("WARNING", logger="sync.engine"):
        response = kit.sync(client, [before, bad, after])
    results = response["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"], results
    assert results[1]["code"] == "server_rejected" and results[1]["message"]
    assert response["last_mutation_id"] == 3
    assert count(session, Resident) == 2 and count(session, ResidentEvent) == 2
    stored = session.scalars(select(RejectedMutation)).one()
    assert (stored.mutation_id, stored.code) == (2, "server_rejected")
    # logged with the exception type and the mutation only: no name, no NIK
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "register_resident" in logged
    assert "IntegrityError" in logged or "ProgrammingError" in logged, logged
    assert "Pemicu" not in logged and "6311041203990777" not in logged

    again = kit.sync(client, [before, bad, after])["results"]
    assert [(r["status"], r.get("code")) for r in again] == [
        ("duplicate", None), ("duplicate", "server_rejected"), ("duplicate", None)]


def test_a_database_outage_inside_a_handler_applies_nothing(session, kit):
    _trigger(session, "outage_trigger_name", "residents", "NEW.name = 'Warga Pemadaman'", OUTAGE)
    client = kit.client()
    session.commit()
    before = kit.mutation(client, "register_resident", kit.register_args())
    bad = kit.mutation(client, "register_resident", kit.register_args(name="Warga Pemadaman"))
    with pytest.raises(OperationalError):
        process_sync(session, actor=kit.actor(), client=client,
                     body=kit.body(client, [before, bad]), now=NOW)
    session.rollback()
    assert count(session, Resident) == 0 and count(session, RejectedMutation) == 0
    assert session.get(Client, client.client_id).last_mutation_id == 0


@pytest.mark.parametrize("junk", [
    float("inf"), float("-inf"), float("nan"), 2**70, -(2**80), 10**400, "\ud800", "a\x00b",
    {"\udfff": [1e308, float("inf")]}, [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
])
def test_a_rejected_mutation_is_stored_whatever_its_args_hold(session, kit, junk):
    client = kit.client()
    bad = kit.mutation(client, "register_resident", kit.register_args(sex="x", extra=junk))
    good = kit.mutation(client, "register_resident", kit.register_args())
    results = kit.sync(client, [bad, good])["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]
    stored = session.scalars(select(RejectedMutation)).one()
    session.expire_all()
    # what is stored is plain, finite, UTF-8-encodable JSON with 64-bit integers
    json.dumps(stored.args, allow_nan=False, ensure_ascii=False).encode("utf-8")
    assert "\x00" not in json.dumps(stored.args, ensure_ascii=False)
    assert all(-2**63 <= n < 2**63 for n in _ints(stored.args))
    assert stored.args["sex"] == "x" and stored.code == "validation_error"


def _ints(value):
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [n for item in value for n in _ints(item)] if isinstance(value, list) else []


def test_what_a_rejection_stores_is_capped(session, kit):
    client = kit.client()
    big = kit.register_args(sex="x", notes="catatan " * 20_000)
    unknown = {f"kolom_{i}_{'x' * 150}": i for i in range(400)}  # each refused: many fields
    edit = {"resident_id": kit.register_args()["resident_id"], "base_version": 1,
            "fields": unknown}
    small = kit.register_args(sex="x")
    mutations = [kit.mutation(client, "register_resident", big),
                 kit.mutation(client, "update_resident", edit),
                 kit.mutation(client, "register_resident", small)]
    first = kit.sync(client, mutations)["results"]
    assert [r["status"] for r in first] == ["rejected"] * 3
    rows = {r.mutation_id: r for r in session.scalars(select(RejectedMutation))}
    sizes = {mid: (len(json.dumps(r.args)), len(json.dumps(r.fields))) for mid, r in rows.items()}
    assert all(a <= 4096 and f <= 4096 for a, f in sizes.values()), sizes
    assert rows[1].args["truncated"] is True and rows[1].args["bytes"] > 150_000
    assert rows[3].args == small  # an ordinary rejection is kept whole
    # a resend still carries the code, the message and (as much as was kept of) the fields
    again = kit.sync(client, mutations)["results"]
    assert [(r["code"], r["message"]) for r in again] == [(r["code"], r["message"]) for r in first]
    assert again[0]["fields"] == first[0]["fields"] and again[2]["fields"] == first[2]["fields"]
    assert 0 < len(again[1]["fields"]) < len(first[1]["fields"])


def test_one_request_of_junk_stores_a_bounded_amount(session, kit):
    client = kit.client()
    junk = [kit.mutation(client, "update_resident",
                         {"resident_id": "x", "base_version": 1,
                          "fields": {f"k{j}_{'y' * 40}": "z" * 100 for j in range(60)}})
            for _ in range(300)]
    results = kit.sync(client, junk)["results"]
    assert {r["status"] for r in results} == {"rejected"}
    stored = sum(len(json.dumps(r.args)) + len(json.dumps(r.fields))
                 for r in session.scalars(select(RejectedMutation)))
    assert stored <= 128 * 1024 + 300 * 700, stored


def test_rejections_older_than_the_retention_period_are_purged(session, kit):
    client = kit.client()
    old = kit.mutation(client, "register_resident", kit.register_args(sex="x"))
    kit.sync(client, [old], now=NOW - timedelta(days=91))
    recent = kit.mutation(client, "register_resident", kit.register_args(sex="x"))
    kit.sync(client, [recent], now=NOW - timedelta(days=89))

    assert purge_rejected_mutations(session, NOW - timedelta(days=90)) == 1
    session.commit()
    assert [r.mutation_id for r in session.scalars(select(RejectedMutation))] == [2]
    assert purge_rejected_mutations(session, NOW - timedelta(days=90)) == 0
    # a purged rejection re-sent is a plain duplicate (the phone still has its own copy)
    results = kit.sync(client, [old, recent])["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("duplicate", None), ("duplicate", "validation_error")]


@pytest.mark.parametrize("field, value", [
    ("name", "Warga\x07Uji"), ("name", "Warga\x0bUji"), ("name", "Warga\tUji"),
    ("birth_place", "Paringin\x1a"), ("address", "Jl. Uji\nNo. 1"), ("address", "Jl.\x85Uji"),
    ("nik", "631104120399\x1b001"), ("notes", "baris\x0bdua"), ("notes", "hapus\x7f"),
    ("notes", "\x00"),
])
def test_control_characters_in_stored_text_are_a_field_error(session, kit, field, value):
    client = kit.client()
    _, response = kit.register(client, **{field: value})
    [result] = response["results"]
    assert (result["status"], result["code"]) == ("rejected", "validation_error")
    assert list(result["fields"]) == [field]
    assert "karakter" in result["fields"][field]


def test_notes_may_hold_line_breaks_and_tabs(session, kit):
    client = kit.client()
    args, response = kit.register(client, notes="baris satu\n\tbaris dua")
    assert response["results"][0]["status"] == "applied"
    assert session.get(Resident, args["resident_id"]).notes == "baris satu\n\tbaris dua"


@pytest.mark.parametrize("name, build, field", [
    ("reject_resident", lambda rid: pipeline_args("reject_resident", rid, reason="other",
                                                  reason_text="pindah\x07"), "reason_text"),
    ("cancel_pickup", lambda rid: pipeline_args("cancel_pickup", rid, reason="sakit\x1a"),
     "reason"),
    ("pick_up", lambda rid: pipeline_args("pick_up", rid, pickup_point="Balai\x0bDesa"),
     "pickup_point"),
    ("update_resident", lambda rid: {"resident_id": rid, "base_version": 1,
                                     "fields": {"address": "Jl.\x1fUji"}}, "address"),
    ("update_resident", lambda rid: {"resident_id": rid, "base_version": 1,
                                     "fields": {"notes": "ok\x0c"}}, "notes"),
])
def test_control_characters_in_other_mutations_are_a_field_error(session, kit, name, build,
                                                                 field):
    client = kit.client()
    rid = kit.found(client)
    result = kit.run(client, name, build(rid))
    assert (result["status"], result["code"]) == ("rejected", "validation_error"), result
    assert list(result["fields"]) == [field]


@pytest.mark.parametrize("name, stage", [("reject_resident", "found"),
                                         ("record_failed", "picked_up")])
def test_reasons_typed_in_a_textarea_may_hold_line_breaks(session, kit, name, stage):
    # The phone's reject and record-failed forms use a <textarea>: an officer who presses
    # Enter must not get a case stuck in "perlu perbaikan".
    client = kit.client()
    rid = kit.found(client)
    kit.advance(client, rid, stage)
    text = "Sudah pindah\nke Kabupaten Tabalong"
    result = kit.run(client, name, pipeline_args(name, rid, reason="other", reason_text=text))
    assert result["status"] == "applied", result
