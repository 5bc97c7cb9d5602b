"""PostgreSQL only: the change counter's row lock makes commit order equal seq order.

Why these tests would fail with a plain SEQUENCE/autoincrement (no lock): writer W1 takes
seq N and sleeps inside its transaction; W2 takes N+1 and commits first; the puller reads
N+1, moves its cursor to N+1, and when W1 finally commits, N is below every later cursor and
that resident is never pulled. The random sleeps after taking the seq make such overtakes
happen many times per run. Checked by hand while writing this: with allocate_change_seq
swapped for nextval() of a real SEQUENCE (and pull's restore guard, current_change_seq,
neutralised, since it reads the counter row) the puller missed residents in 5 runs of 5.
"""
import random
import threading
import time
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from sync.engine import process_sync
from sync.models import Base, Client, Resident
from sync_kit import NOW, SyncKit, reset_database


@pytest.fixture
def pg_engine(pg_url):
    engine = reset_database(pg_url, Base.metadata)
    yield engine
    engine.dispose()


def make_clients(engine, n):
    with Session(engine) as session:
        kit = SyncKit(session)
        clients = [kit.client(user_id=100 + i) for i in range(n)]
        session.commit()
        return [c.client_id for c in clients]


def run_sync(session, client_id, mutations=(), cursor=None):
    client = session.get(Client, client_id)
    return process_sync(session, actor=SyncKit.actor(client.user_id), client=client,
                        body=SyncKit.body(client, mutations, cursor), now=NOW)


def registration(kit, mid):
    return {"id": mid, "name": "register_resident", "at": "2026-11-28T09:10:00+08:00",
            "args": kit.register_args(nik=None, name=f"Warga {uuid.uuid4().hex[:8]}")}


def test_second_writer_waits_for_the_first_commit(pg_engine):
    first_id, second_id = make_clients(pg_engine, 2)
    kit = SyncKit(None)
    holder = Session(pg_engine)
    run_sync(holder, first_id, [registration(kit, 1)])  # seq taken, not committed

    finished = threading.Event()
    outcome = {}

    def second_writer():
        with Session(pg_engine) as session:
            session.execute(text("SET lock_timeout = '20s'"))
            outcome["response"] = run_sync(session, second_id, [registration(kit, 1)])
            session.commit()
        finished.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    try:
        assert not finished.wait(0.5), "the second writer must queue behind the counter lock"
        with Session(pg_engine) as reader:
            assert reader.scalar(select(func.count()).select_from(Resident)) == 0
    finally:
        holder.commit()
        holder.close()
        thread.join(30)
    assert finished.is_set()
    with Session(pg_engine) as session:
        seqs = session.scalars(select(Resident.change_seq).order_by(Resident.created_by_client_id
                                                                    == second_id)).all()
    assert seqs == [1, 2]  # the first writer's row, then the second's


def test_puller_never_skips_a_row_under_concurrent_writers(pg_engine):
    writers, transactions = 4, 12
    client_ids = make_clients(pg_engine, writers + 1)
    puller_id, writer_ids = client_ids[0], client_ids[1:]
    done = threading.Event()
    errors = []
    seen = set()

    def writer(client_id, seed):
        rng = random.Random(seed)
        kit = SyncKit(None)
        mid = 0
        try:
            with Session(pg_engine) as session:
                for _ in range(transactions):
                    batch = []
                    for _ in range(rng.randint(1, 2)):
                        mid += 1
                        batch.append(registration(kit, mid))
                    run_sync(session, client_id, batch)
                    time.sleep(rng.uniform(0, 0.012))  # inside the transaction, seq taken
                    session.commit()
        except Exception as exc:  # surfaced by the main thread
            errors.append(exc)

    def puller():
        cursor = None
        try:
            with Session(pg_engine) as session:
                while True:
                    finished_before = done.is_set()
                    response = run_sync(session, puller_id, cursor=cursor)
                    session.commit()
                    seen.update(r["resident_id"] for r in response["changes"]["residents"])
                    cursor = response["cursor"]
                    if finished_before and not response["more"]:
                        return  # a full pass that began after every writer had committed
                    time.sleep(0.002)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(cid, i)) for i, cid in enumerate(writer_ids)]
    pulling = threading.Thread(target=puller)
    pulling.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    done.set()
    pulling.join(60)
    assert not errors, errors
    with Session(pg_engine) as session:
        everyone = set(session.scalars(select(Resident.resident_id)))
        seqs = session.scalars(select(Resident.change_seq).order_by(Resident.change_seq)).all()
    assert len(everyone) >= writers * transactions
    assert seqs == list(range(1, len(seqs) + 1))  # no holes, no repeats
    assert seen == everyone


def test_two_concurrent_syncs_of_one_phone_apply_each_mutation_once(pg_engine):
    [client_id] = make_clients(pg_engine, 1)
    kit = SyncKit(None)
    batch = [registration(kit, 1), registration(kit, 2)]
    responses, errors = [], []

    def send():
        try:
            with Session(pg_engine) as session:
                session.execute(text("SET lock_timeout = '20s'"))
                responses.append(run_sync(session, client_id, batch))
                time.sleep(0.2)  # hold the transaction open while the other one arrives
                session.commit()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    statuses = sorted(tuple(r["status"] for r in resp["results"]) for resp in responses)
    assert statuses == [("applied", "applied"), ("duplicate", "duplicate")]
    with Session(pg_engine) as session:
        assert session.scalar(select(func.count()).select_from(Resident)) == 2
        assert session.get(Client, client_id).last_mutation_id == 2
