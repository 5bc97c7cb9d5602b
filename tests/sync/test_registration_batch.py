"""A phone's registrations written as one batch (issue #12, sync/registration_batch.py): the
same answers and rows as one SAVEPOINT per mutation, on SQLite and PostgreSQL."""
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from sync import registration_batch
from sync.engine import process_sync
from sync.models import (
    Base,
    ChangeCounter,
    Client,
    Conflict,
    RejectedMutation,
    Resident,
    ResidentEvent,
)
from sync_kit import DESA_A, DESA_B, NOW, SyncKit, reset_database

OTHER_DESA = "6311012001"  # Kecamatan Juai: its cases are another kecamatan's
SHARED_NIK = "6311041203990555"  # on a case of the other kecamatan: "elsewhere"
EARLIER_NIK = "6311041203990444"  # on an earlier case of this kecamatan: a possible duplicate
OTHER_KK = "6311010101200001"
NOW_AT = "2026-11-28T09:10:00+08:00"


@contextmanager
def statements(engine):
    """A list of (SQL text, executemany) the engine runs inside the block."""
    seen = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append((" ".join(statement.split()), executemany))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def inserts_into_residents(seen):
    return [many for sql, many in seen if sql.startswith(("INSERT INTO residents",
                                                          "WITH new_resident AS"))]


def savepoints(seen):
    return sum(sql.startswith("SAVEPOINT") for sql, _ in seen)


def dump(session):
    """Every row the sync writes, in a comparable form (ids and change_seq included)."""
    def rows(model, order):
        table = model.__table__
        return [dict(r._mapping) for r in session.execute(select(table).order_by(*order))]

    return {
        "residents": rows(Resident, [Resident.resident_id]),
        "events": rows(ResidentEvent, [ResidentEvent.id]),
        "conflicts": rows(Conflict, [Conflict.id]),
        "rejected": rows(RejectedMutation, [RejectedMutation.id]),
        "counters": rows(ChangeCounter, [ChangeCounter.id]),
        "clients": [(c.client_id, c.last_mutation_id)
                    for c in session.scalars(select(Client).order_by(Client.client_id))],
    }


class World:
    """Fixed ids and args, so that two runs on fresh tables can be compared row by row."""

    def __init__(self):
        self.kit = SyncKit(None)
        self.client_id = str(uuid.uuid4())
        self.other_client_id = str(uuid.uuid4())
        self.earlier = self.kit.register_args(nik=EARLIER_NIK)
        self.elsewhere = self.kit.register_args(nik=SHARED_NIK, desa_code=OTHER_DESA,
                                                kk_number=OTHER_KK)
        self.args = [self.kit.register_args(desa_code=DESA_B if i % 3 else DESA_A)
                     for i in range(24)]


def mixed_outbox(world, kit, client):
    """A day's outbox: mostly good registrations, and in between every reason to leave the
    batch — a refusal, a duplicate to flag, a re-send, a taken id, another mutation, a bad time."""
    a = world.args
    mutations = [kit.mutation(client, "register_resident", args) for args in a[:4]]
    mutations += [
        kit.mutation(client, "register_resident", {**a[4], "nik": SHARED_NIK}),  # elsewhere
        kit.mutation(client, "register_resident", {**a[5], "nik": "123"}),  # validation_error
        kit.mutation(client, "register_resident", a[6]),
        kit.mutation(client, "register_resident", {**a[7], "nik": EARLIER_NIK}),  # duplicate
        kit.mutation(client, "register_resident", a[8]),
        kit.mutation(client, "register_resident", {**a[9], "desa_code": "6311042099"}),
        kit.mutation(client, "register_resident", dict(a[0])),  # re-sent: nothing to change
        kit.mutation(client, "register_resident", {**a[1], "name": "Nama Lain"}),  # id taken
        kit.mutation(client, "register_resident", a[10], at="9999-12-31T23:00:00+00:00"),
    ]
    mutations += [kit.mutation(client, "register_resident", args) for args in a[11:18]]
    mutations += [
        kit.mutation(client, "update_resident", {
            "resident_id": a[2]["resident_id"], "base_version": 1,
            "fields": {"phone": "0813-0000-1111"}}),
        kit.mutation(client, "register_resident", a[18]),  # after it: each reads on its own
        kit.mutation(client, "register_resident", a[19]),
    ]
    return mutations


def run(engine, world, batch, outbox=mixed_outbox, setup=None):
    """Fresh tables, the world's earlier cases, then the outbox twice (the second time every
    mutation is a duplicate). Returns (answers, rows after the first, rows after the second,
    statements of the first)."""
    registration_batch.ENABLED = batch
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        if setup:
            setup(session)
        kit = SyncKit(session)
        client = Client(client_id=world.client_id, user_id=7, device_label="HP uji",
                        token_hash="a" * 64, created_at=NOW)
        other = Client(client_id=world.other_client_id, user_id=8, device_label="HP uji",
                       token_hash="b" * 64, created_at=NOW)
        session.add_all([client, other])
        session.flush()
        actor = kit.actor(7, (DESA_A, DESA_B))
        kit.sync(other, [kit.mutation(other, "register_resident", world.elsewhere)],
                 actor=kit.actor(8, (OTHER_DESA,)))
        kit.sync(client, [kit.mutation(client, "register_resident", world.earlier)], actor=actor)
        mutations = outbox(world, kit, client)
        with statements(engine) as seen:
            first = kit.sync(client, mutations, actor=actor)
        rows = dump(session)
        again = kit.sync(client, mutations, actor=actor)
        rows_again = dump(session)
    answers = [{k: v for k, v in r.items() if k != "database_id"} for r in (first, again)]
    return answers, rows, rows_again, seen


@pytest.fixture(autouse=True)
def batch_enabled():
    yield
    registration_batch.ENABLED = True


def test_the_batch_answers_and_writes_exactly_what_one_by_one_does(engine):
    world = World()
    slow, slow_rows, slow_again, slow_seen = run(engine, world, batch=False)
    fast, fast_rows, fast_again, fast_seen = run(engine, world, batch=True)

    assert fast == slow  # answers, echoes, cursor, notices, and the resend's duplicates
    assert fast_rows == slow_rows  # every row, ids and change_seq numbers included
    assert [(r["status"], r.get("code")) for r in fast[0]["results"]] == [
        *[("applied", None)] * 5, ("rejected", "validation_error"), ("applied", None),
        ("applied", None), ("applied", None), ("rejected", "desa_not_assigned"),
        ("applied", None), ("rejected", "resident_exists"),
        ("rejected", "invalid_mutation_time"), *[("applied", None)] * 10]
    assert {r["status"] for r in fast[1]["results"]} == {"duplicate"}
    assert fast_again == fast_rows == slow_again  # the resend changed nothing
    elsewhere = next(r for r in fast_rows["residents"]
                     if r["resident_id"] == world.args[4]["resident_id"])
    assert "nik_registered_elsewhere" in elsewhere["warnings"]
    assert [c["kind"] for c in fast_rows["conflicts"]] == ["possible_duplicate"]
    # and it was the batch: fewer SAVEPOINTs, several cases per INSERT
    assert savepoints(fast_seen) <= savepoints(slow_seen) - 10
    assert True in inserts_into_residents(fast_seen)
    assert True not in inserts_into_residents(slow_seen)


def good_outbox(world, kit, client):
    return [kit.mutation(client, "register_resident", args) for args in world.args[:20]]


def test_a_phone_outbox_goes_in_as_one_insert_under_one_savepoint(engine):
    world = World()
    answers, rows, _, seen = run(engine, world, batch=True, outbox=good_outbox)
    assert [r["status"] for r in answers[0]["results"]] == ["applied"] * 20
    assert inserts_into_residents(seen) == [True]  # one executemany of the 20 cases
    assert savepoints(seen) == 1  # the batch's
    seqs = sorted(r["change_seq"] for r in rows["residents"]
                  if r["resident_id"] in {a["resident_id"] for a in world.args})
    assert seqs == list(range(seqs[0], seqs[0] + 20))  # in id order, without gaps
    events = [e for e in rows["events"] if e["client_id"] == world.client_id][1:]
    assert [e["mutation_id"] for e in events] == list(range(2, 22))
    assert [e["resident_id"] for e in events] == [a["resident_id"] for a in world.args[:20]]


def refused_in_the_middle(world, kit, client):
    a = world.args
    return ([kit.mutation(client, "register_resident", args) for args in a[:10]]
            + [kit.mutation(client, "register_resident", {**a[10], "nik": "123"})]
            + [kit.mutation(client, "register_resident", args) for args in a[11:21]])


def test_registrations_after_a_refused_one_are_batched_again(engine):
    world = World()
    answers, _, _, seen = run(engine, world, batch=True, outbox=refused_in_the_middle)
    assert [r["status"] for r in answers[0]["results"]] == (
        ["applied"] * 10 + ["rejected"] + ["applied"] * 10)
    assert inserts_into_residents(seen) == [True, True]  # before and after the refusal


def shared_phone_numbers(session):
    # A rule this schema does not have, made real: one case per phone number. Two people of
    # one household sharing a phone then collide inside the batch, in the database itself.
    session.execute(text("CREATE UNIQUE INDEX test_one_case_per_phone ON residents (phone)"))
    session.commit()


def household_outbox(world, kit, client):
    a = world.args
    phones = [f"0812-0000-{i:04d}" for i in range(12)]
    phones[7] = phones[3]  # the 8th registration shares the 4th one's phone
    return [kit.mutation(client, "register_resident", {**args, "phone": phone})
            for args, phone in zip(a[:12], phones)]


def test_a_database_error_in_the_batch_falls_back_to_one_by_one(engine):
    world = World()
    kwargs = {"outbox": household_outbox, "setup": shared_phone_numbers}
    slow, slow_rows, slow_again, _ = run(engine, world, batch=False, **kwargs)
    fast, fast_rows, fast_again, seen = run(engine, world, batch=True, **kwargs)

    results = fast[0]["results"]
    assert [r["status"] for r in results] == ["applied"] * 7 + ["rejected"] + ["applied"] * 4
    assert results[7]["code"] == "server_rejected"
    assert fast == slow and fast_rows == slow_rows  # every good one applied exactly once
    assert fast_again == fast_rows  # the resend: duplicates, nothing written
    assert [r.get("code") for r in fast[1]["results"]] == [None] * 7 + ["server_rejected"] + [None] * 4
    # the batch was tried, undone, and the mutations went in one by one
    assert inserts_into_residents(seen)[0] is True
    assert any(sql.startswith("ROLLBACK TO SAVEPOINT") for sql, _ in seen)
    assert len(inserts_into_residents(seen)) == 1 + 12


# ---------------------------------------------------------------- PostgreSQL: a real race
@pytest.fixture
def pg_engine(pg_url):
    engine = reset_database(pg_url, Base.metadata)
    yield engine
    engine.dispose()


def _sync(session, client_id, desa, mutations):
    client = session.get(Client, client_id)
    return process_sync(session, actor=SyncKit.actor(client.user_id, (desa,)), client=client,
                        body=SyncKit.body(client, mutations), now=NOW)


def test_a_case_another_kecamatan_writes_meanwhile_makes_the_batch_fall_back(pg_engine, caplog):
    """The one database error the batch meets in the field: an officer of another kecamatan
    (another counter, so no lock between them) inserts the same resident_id after this
    request's one read. The batch's INSERT waits for that transaction, fails on its commit,
    and one by one the id is found taken: refused as resident_exists, the rest applied once."""
    kit = SyncKit(None)
    with Session(pg_engine) as session:
        mine, theirs = SyncKit(session).client(user_id=100), SyncKit(session).client(user_id=101)
        session.commit()
        mine, theirs = mine.client_id, theirs.client_id
    args = [kit.register_args() for _ in range(5)]
    taken = args[2]["resident_id"]
    holder = Session(pg_engine)  # the other officer's request: written, not yet committed
    _sync(holder, theirs, OTHER_DESA, [{"id": 1, "name": "register_resident", "at": NOW_AT,
                                        "args": kit.register_args(resident_id=taken,
                                                                  desa_code=OTHER_DESA,
                                                                  kk_number=OTHER_KK)}])
    holder_pid = holder.scalar(text("SELECT pg_backend_pid()"))
    outcome = {}

    def my_phone():
        with Session(pg_engine) as session:
            session.execute(text("SET lock_timeout = '20s'"))
            outcome["response"] = _sync(session, mine, DESA_A, [
                {"id": i + 1, "name": "register_resident", "at": NOW_AT, "args": a}
                for i, a in enumerate(args)])
            session.commit()

    thread = threading.Thread(target=my_phone)
    try:
        thread.start()
        with Session(pg_engine) as watcher:  # until the batch's INSERT waits on that row
            deadline = time.monotonic() + 20
            # Only a backend blocked by the holder counts (not any lock wait on the server).
            while not watcher.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY("
                    "pg_blocking_pids(pid))"), {"holder": holder_pid}):
                assert time.monotonic() < deadline, "the batch never waited for the other row"
                time.sleep(0.02)
                watcher.rollback()
    finally:
        holder.commit()
        holder.close()
        thread.join(30)
    assert any("fell back to one by one" in r.getMessage() for r in caplog.records)
    results = outcome["response"]["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("applied", None), ("applied", None), ("rejected", "resident_exists"),
        ("applied", None), ("applied", None)]
    with Session(pg_engine) as session:
        cases = dict(session.execute(select(Resident.resident_id, Resident.desa_code)).all())
        assert cases[taken] == OTHER_DESA and len(cases) == 5
        seqs = sorted(session.scalars(select(Resident.change_seq).where(
            Resident.desa_code == DESA_A)))
        assert seqs == list(range(seqs[0], seqs[0] + 4))
        assert session.scalar(select(func.count()).select_from(ResidentEvent).where(
            ResidentEvent.client_id == mine)) == 4


def refused_first(world, kit, client):
    a = world.args
    return ([kit.mutation(client, "register_resident", {**a[0], "nik": "123"})]
            + [kit.mutation(client, "register_resident", args) for args in a[1:21]])


def test_registrations_after_a_refused_first_one_are_batched(engine):
    """Refused by its own checks before anything was read or locked: the one read is made by
    the next registration, and the 20 after it still go in as one batch."""
    world = World()
    answers, _, _, seen = run(engine, world, batch=True, outbox=refused_first)
    assert [r["status"] for r in answers[0]["results"]] == ["rejected"] + ["applied"] * 20
    assert inserts_into_residents(seen) == [True]
