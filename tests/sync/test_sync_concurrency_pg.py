"""PostgreSQL only: the change counter's row lock makes commit order equal seq order.

Why these tests would fail with a plain SEQUENCE/autoincrement (no lock): writer W1 takes
seq N and sleeps inside its transaction; W2 takes N+1 and commits first; the puller reads
N+1, moves its cursor to N+1, and when W1 finally commits, N is below every later cursor and
that resident is never pulled. The random sleeps after taking the seq make such overtakes
happen many times per run. Checked by hand while writing this: with allocate_change_seq
swapped for nextval() of a real SEQUENCE (and pull's restore guard, current_change_seq,
neutralised, since it reads the counter row) the puller missed residents in 5 runs of 5.

Each kecamatan has its own counter row (issue #12): the order holds among the writers of one
kecamatan, and writers of two kecamatan do not wait for each other.
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
from sync_kit import DESA_A, NOW, SyncKit, reset_database

DESA_JUAI = "6311012001"  # Muara Ninian, Kecamatan Juai: another kecamatan than DESA_A's


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


def run_sync(session, client_id, mutations=(), cursor=None, desa=DESA_A):
    client = session.get(Client, client_id)
    return process_sync(session, actor=SyncKit.actor(client.user_id, (desa,)), client=client,
                        body=SyncKit.body(client, mutations, cursor), now=NOW)


def registration(kit, mid, desa=DESA_A):
    return {"id": mid, "name": "register_resident", "at": "2026-11-28T09:10:00+08:00",
            "args": kit.register_args(nik=None, name=f"Warga {uuid.uuid4().hex[:8]}",
                                      desa_code=desa)}


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


def test_writers_of_two_kecamatan_do_not_wait_for_each_other(pg_engine):
    first_id, second_id = make_clients(pg_engine, 2)
    kit = SyncKit(None)
    with Session(pg_engine) as session:  # a first sync creates the database identity row
        run_sync(session, second_id, desa=DESA_JUAI)
        session.commit()
    holder = Session(pg_engine)
    run_sync(holder, first_id, [registration(kit, 1)])  # Batumandi's counter held
    finished = threading.Event()
    errors = []

    def other_kecamatan():
        try:
            with Session(pg_engine) as session:
                session.execute(text("SET lock_timeout = '20s'"))
                run_sync(session, second_id, [registration(kit, 1, DESA_JUAI)], desa=DESA_JUAI)
                session.commit()
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finished.set()

    thread = threading.Thread(target=other_kecamatan)
    thread.start()
    try:
        # With one counter for all kecamatan it would queue until the holder commits.
        assert finished.wait(15), "a writer of Juai waited for a writer of Batumandi"
    finally:
        holder.commit()
        holder.close()
        thread.join(30)
    assert not errors, errors
    with Session(pg_engine) as session:
        codes = session.scalars(select(Resident.desa_code).order_by(Resident.desa_code)).all()
    assert codes == [DESA_JUAI, DESA_A]


@pytest.mark.parametrize("desa", [(DESA_A,), (DESA_A, DESA_JUAI)], ids=["one", "two_kecamatan"])
def test_puller_never_skips_a_row_under_concurrent_writers(pg_engine, desa):
    writers, transactions = 4, 12
    client_ids = make_clients(pg_engine, writers + len(desa))
    puller_ids, writer_ids = client_ids[:len(desa)], client_ids[len(desa):]
    done = threading.Event()
    errors = []
    seen = {code: set() for code in desa}

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
                        batch.append(registration(kit, mid, desa[seed % len(desa)]))
                    run_sync(session, client_id, batch, desa=desa[seed % len(desa)])
                    time.sleep(rng.uniform(0, 0.012))  # inside the transaction, seq taken
                    session.commit()
        except Exception as exc:  # surfaced by the main thread
            errors.append(exc)

    def puller(puller_id, code):
        cursor = None
        try:
            with Session(pg_engine) as session:
                while True:
                    finished_before = done.is_set()
                    response = run_sync(session, puller_id, cursor=cursor, desa=code)
                    session.commit()
                    seen[code].update(r["resident_id"] for r in response["changes"]["residents"])
                    cursor = response["cursor"]
                    if finished_before and not response["more"]:
                        return  # a full pass that began after every writer had committed
                    time.sleep(0.002)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(cid, i)) for i, cid in enumerate(writer_ids)]
    pulling = [threading.Thread(target=puller, args=pair) for pair in zip(puller_ids, desa)]
    for thread in pulling + threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    done.set()
    for thread in pulling:
        thread.join(60)
    assert not errors, errors
    total = 0
    for code in desa:
        with Session(pg_engine) as session:
            everyone = set(session.scalars(select(Resident.resident_id)
                                           .where(Resident.desa_code == code)))
            seqs = session.scalars(select(Resident.change_seq).where(Resident.desa_code == code)
                                   .order_by(Resident.change_seq)).all()
        total += len(everyone)
        # no holes, no repeats within the kecamatan's own sequence
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), code
        assert seen[code] == everyone, code
    assert total >= writers * transactions


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
