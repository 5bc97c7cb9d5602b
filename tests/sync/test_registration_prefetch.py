"""The registrations of one sync request read the cases they may meet once (issue #12:
sync/registration_prefetch.py), and still see what the request itself changes."""
import uuid

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from sync import engine as sync_engine, registration_batch
from sync.models import Base, Conflict, Resident
from sync.registration_prefetch import prefetch_open
from sync_kit import DESA_A, SyncKit, reset_database

FIELDS = dict(nik=None, name="Salasiah Noor", birth_date="1990-05-17")


def selects_on_residents(session):
    """A list that collects the SELECTs reading the residents table, from now on."""
    seen = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "residents" in statement:
            seen.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", count)
    return seen


def duplicate_pairs(session):
    return {(c.resident_id, c.other_resident_id)
            for c in session.scalars(select(Conflict).where(Conflict.kind == "possible_duplicate"))}


def test_one_read_serves_every_registration_of_a_request(session, kit):
    client = kit.client()
    kit.register(client, nik="6311041203999999")  # an earlier case, same NIK as one below
    mutations = [kit.mutation(client, "register_resident", kit.register_args())
                 for _ in range(20)]
    same_nik = kit.register_args(nik="6311041203999999", name="Nama Lain")
    mutations.append(kit.mutation(client, "register_resident", same_nik))
    seen = selects_on_residents(session)
    response = kit.sync(client, mutations, page_size=1)
    assert {r["status"] for r in response["results"]} == {"applied"}
    # one look-up read for 21 registrations (one each before), plus the pull's own reads
    lookups = [s for s in seen if "change_seq >" not in s]
    assert len(lookups) == 1, lookups
    [(case, other)] = duplicate_pairs(session)
    assert case == same_nik["resident_id"]


def test_registrations_see_what_the_same_request_wrote(session, kit):
    client = kit.client()
    first = kit.register_args(**FIELDS)
    twin = kit.register_args(**FIELDS)  # same name, birth date and desa, no NIK
    renamed = kit.register_args(nik=None, name="Budi Santoso", birth_date="1990-05-17")
    later = kit.register_args(nik=None, name="Salasiah Rahman", birth_date="1990-05-17")
    mutations = [kit.mutation(client, "register_resident", first),
                 kit.mutation(client, "register_resident", twin),
                 kit.mutation(client, "register_resident", renamed),
                 # an edit in the middle: the next registration must see the new name
                 kit.mutation(client, "correct_identity", {
                     "resident_id": renamed["resident_id"], "base_version": 1,
                     "fields": {"name": "Salasiah Rahman"}}),
                 kit.mutation(client, "register_resident", later),
                 # the same registration again in the request: nothing new
                 kit.mutation(client, "register_resident", dict(first))]
    response = kit.sync(client, mutations)
    assert [r["status"] for r in response["results"]] == ["applied"] * 6, response["results"]
    assert duplicate_pairs(session) == {(twin["resident_id"], first["resident_id"]),
                                        (later["resident_id"], renamed["resident_id"])}
    assert len(session.scalars(select(Resident.resident_id)).all()) == 4


def test_a_rejected_registration_leaves_nothing_behind_for_the_next(session, kit):
    client = kit.client()
    bad = kit.register_args(**FIELDS, desa_code="6311042099")  # not the officer's desa
    good = kit.register_args(**FIELDS)
    response = kit.sync(client, [kit.mutation(client, "register_resident", bad),
                                 kit.mutation(client, "register_resident", good)])
    assert [r["status"] for r in response["results"]] == ["rejected", "applied"]
    assert duplicate_pairs(session) == set()


# ------------------------------------------- a refusal: the read is kept only under the lock
@pytest.fixture
def prefetch_after_refusals(monkeypatch):
    """[(mutation id, whether the request's prefetch still holds)] after each refusal."""
    seen = []
    after_refusal = sync_engine._after_refusal

    def spy(session, mutation, seqs):
        after_refusal(session, mutation, seqs)
        seen.append((mutation["id"], prefetch_open(session)))

    monkeypatch.setattr(sync_engine, "_after_refusal", spy)
    return seen


def taken_id(kit, client):
    """Args of a registration whose id an earlier case of the kecamatan has, with other
    content: refused as resident_exists after its look-up (i.e. after the request's read)."""
    earlier, _ = kit.register(client)
    return kit.register_args(resident_id=earlier["resident_id"])


def refused_first(kit, client, replay, monkeypatch):
    """The first mutation of a request, refused after its read under a reservation made
    inside its own SAVEPOINT: a registration one by one, or a replay (the batch leaves a copy
    restored from a lost phone to that path)."""
    refused = kit.mutation(client, "register_resident", taken_id(kit, client))
    if replay:
        refused["origin"] = {"client_id": str(uuid.uuid4()), "id": 1}
    else:
        monkeypatch.setattr(registration_batch, "ENABLED", False)
    return refused


def inserts_into_residents(seen):
    return [sql for sql in seen if sql.startswith(("INSERT INTO residents", "WITH new_resident"))]


def statements_of(session):
    seen = []
    event.listen(session.get_bind(), "before_cursor_execute",
                 lambda conn, cursor, sql, *_: seen.append(" ".join(sql.split())))
    return seen


@pytest.mark.parametrize("replay", [False, True], ids=["one-by-one", "replay"])
def test_a_refusal_that_gave_up_the_counter_lock_ends_the_prefetch(
        session, kit, monkeypatch, prefetch_after_refusals, replay):
    """The request's first number was reserved inside the refused mutation's SAVEPOINT (the
    first registration one by one, or a replay, which the batch leaves to that path): its
    rollback gave the counter lock up (PostgreSQL), so what the read saw may have changed."""
    client = kit.client()
    refused = refused_first(kit, client, replay, monkeypatch)
    later = [kit.mutation(client, "register_resident", kit.register_args()) for _ in range(3)]
    seen = statements_of(session)
    lookups = selects_on_residents(session)
    response = kit.sync(client, [refused, *later], page_size=1)
    assert [(r["status"], r.get("code")) for r in response["results"]] == [
        ("rejected", "resident_exists"), *[("applied", None)] * 3]
    assert prefetch_after_refusals == [(refused["id"], False)]
    # the refused one's read, then each later registration reads on its own, one by one
    assert len([s for s in lookups if "change_seq >" not in s]) == 4, lookups
    assert len(inserts_into_residents(seen)) == 3


@pytest.mark.parametrize("batch", [True, False], ids=["batch", "one-by-one"])
def test_a_refusal_under_the_held_counter_lock_keeps_the_prefetch(
        session, kit, monkeypatch, prefetch_after_refusals, batch):
    """The lock was taken before the refused mutation (by the registrations before it): the
    read still holds, and the registrations after the refusal use it (batched again)."""
    monkeypatch.setattr(registration_batch, "ENABLED", batch)
    client = kit.client()
    taken = taken_id(kit, client)
    before = [kit.mutation(client, "register_resident", kit.register_args()) for _ in range(4)]
    refused = kit.mutation(client, "register_resident", taken)
    after = [kit.mutation(client, "register_resident", kit.register_args()) for _ in range(4)]
    seen = statements_of(session)
    lookups = selects_on_residents(session)
    response = kit.sync(client, [*before, refused, *after], page_size=1)
    assert [(r["status"], r.get("code")) for r in response["results"]] == [
        *[("applied", None)] * 4, ("rejected", "resident_exists"), *[("applied", None)] * 4]
    assert prefetch_after_refusals == [(refused["id"], True)]
    assert len([s for s in lookups if "change_seq >" not in s]) == 1, lookups  # the one read
    inserts = inserts_into_residents(seen)
    assert len(inserts) == (2 if batch else 8)  # batched: before the refusal and after it


@pytest.mark.parametrize("replay", [False, True], ids=["one-by-one", "replay"])
def test_a_case_written_while_the_lock_was_given_up_is_seen(pg_url, monkeypatch, replay):
    """PostgreSQL, the race itself: the refused first mutation's rollback gave up the
    kecamatan's counter lock, and another officer of the kecamatan commits a case with the
    NIK of the next registration right then. That registration must meet it (a possible
    duplicate), not the request's earlier read."""
    engine = reset_database(pg_url, Base.metadata)
    nik = "6311041203997777"
    fired = []

    def another_officer_meanwhile(conn, cursor, statement, *_):
        if fired or not statement.startswith("ROLLBACK TO SAVEPOINT"):
            return
        fired.append(statement)
        with Session(engine) as other:  # would wait for the lock were it still held
            other.execute(text("SET lock_timeout = '5s'"))
            kit = SyncKit(other)
            theirs = kit.client(user_id=101)
            kit.register(theirs, nik=nik, name="Rahmah Yani")

    try:
        with Session(engine) as session:
            kit = SyncKit(session)
            mine = kit.client(user_id=100)
            refused = refused_first(kit, mine, replay, monkeypatch)
            same_nik = kit.register_args(nik=nik)
            mutations = [refused, kit.mutation(mine, "register_resident", same_nik),
                         kit.mutation(mine, "register_resident", kit.register_args())]
            event.listen(engine, "after_cursor_execute", another_officer_meanwhile)
            response = kit.sync(mine, mutations, actor=SyncKit.actor(100, (DESA_A,)))
            assert fired, "the refusal never rolled back"
            assert [r["status"] for r in response["results"]] == ["rejected", "applied",
                                                                  "applied"]
            theirs = session.scalar(select(Resident.resident_id).where(
                Resident.nik == nik, Resident.resident_id != same_nik["resident_id"]))
            assert duplicate_pairs(session) == {(same_nik["resident_id"], theirs)}
    finally:
        if event.contains(engine, "after_cursor_execute", another_officer_meanwhile):
            event.remove(engine, "after_cursor_execute", another_officer_meanwhile)
        engine.dispose()
