"""Server throughput: 1,000 mutations applied, on SQLite and on PostgreSQL (a smoke run:
a few, in two requests too; see bench/sizes.py).

Two figures per database:
* engine: `process_sync` in this process (two requests of 500 registrations, each committed),
  on a database that already holds the cases of earlier runs; it also counts the database
  calls (statements sent, an executemany of many rows counted once, and COMMITs);
* http: the same 1,000 through a real gunicorn server (`pakkedes serve`, 2 workers), two gzip
  POSTs of 500 from a raw client on 127.0.0.1, timed from the first byte sent to the last
  byte of the second answer.
Both pull as a phone does: from its cursor (the change sequence before the run), one page of
up to 200 cases (its own new ones) per answer.
"""
from __future__ import annotations

import statistics
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session

from server.models import User
from sync.context import SyncActor
from sync.engine import process_sync
from sync.models import Client, Resident

from . import data, harness, phone
from .sizes import FULL, Sizes

BATCH = FULL.throughput_batch


def _actor(user_id: int, desa):
    return SyncActor(user_id=user_id, username="petugas", role="petugas",
                     kecamatan_code="631104", desa_codes=frozenset(desa))


def _engine_run(url: str, seed: int, n: int = 1000, batch: int = BATCH) -> tuple[float, int]:
    """(seconds to apply n registrations through process_sync, `batch` per request, commits
    included; database calls made meanwhile — an executemany counts once, COMMIT too)."""
    engine = create_engine(url)
    calls = [0]

    def count(*_args) -> None:
        calls[0] += 1
    try:
        with Session(engine) as session:
            user = session.execute(select(User).where(User.username == "petugas")).scalar_one()
            client = Client(client_id=str(uuid.uuid4()), user_id=user.id, device_label="bench",
                            token_hash=uuid.uuid4().hex * 2, last_mutation_id=0,
                            created_at=datetime.now(timezone.utc))
            session.add(client)
            session.commit()
            actor = _actor(user.id, data.DESA)
            cursor = str(session.execute(select(func.coalesce(func.max(Resident.change_seq), 0)))
                         .scalar())
            regs = data.registrations(n, seed=seed)
            bodies = []
            for start in range(0, n, batch):
                mutations = [data.mutation(start + i + 1, "register_resident", args)
                             for i, args in enumerate(regs[start:start + batch])]
                bodies.append({"protocol": 1, "client_id": client.client_id,
                               "app_version": "bench", "cursor": cursor, "mutations": mutations,
                               "sent_at": datetime.now(timezone.utc).isoformat()})
            event.listen(engine, "before_cursor_execute", count)
            event.listen(engine, "commit", count)
            t0 = time.perf_counter()
            for body in bodies:
                answer = process_sync(session, actor=actor, client=client, body=body,
                                      now=datetime.now(timezone.utc))
                session.commit()
                assert {r["status"] for r in answer["results"]} == {"applied"}, answer["results"][:3]
            return time.perf_counter() - t0, calls[0]
    finally:
        engine.dispose()


def _http_run(server: harness.ServerProcess, seed: int, n: int = 1000,
              batch: int = BATCH) -> tuple[float, int]:
    """Seconds for n registrations as gzip POSTs of `batch` (answers read); returns
    (s, bytes up). Raises AssertionError unless every registration was applied."""
    device = phone.RawPhone.login(server.port, label="bench")
    for args in data.registrations(n, seed=seed):
        device.queue("register_resident", args)
    device.cursor = str(server.sql("select coalesce(max(change_seq), 0) from residents")[0][0])
    sent = 0
    t0 = time.perf_counter()
    while device.outbox:
        outcome = device.sync_once(batch)
        assert outcome.status == 200, (outcome.status, outcome.error, outcome.data)
        sent += outcome.request_bytes
    seconds = time.perf_counter() - t0
    applied = sum(r["status"] == "applied" for r in device.results.values())
    assert applied == n, f"{applied} of {n} registrations applied"
    return seconds, sent


def run(workdir: Path, sizes: Sizes = FULL, log=print) -> dict:
    """The throughput figures for SQLite and PostgreSQL (median of `sizes.reps`)."""
    n, batch, reps = sizes.throughput_mutations, sizes.throughput_batch, sizes.reps
    out = {}
    for backend in ("sqlite", "postgresql"):
        wd = workdir / f"throughput-{backend}"
        url = (f"sqlite:///{wd / 'cah.sqlite'}" if backend == "sqlite"
               else harness.create_pg_database("cah_bench"))
        try:
            wd.mkdir(parents=True, exist_ok=True)
            server = harness.ServerProcess(wd, url, workers=2).prepare()
            _engine_run(url, seed=999, n=n, batch=batch)  # warm-up: imports, caches, n cases
            engine_s = []
            for i in range(reps):
                seconds, calls = _engine_run(url, seed=1000 + i, n=n, batch=batch)
                engine_s.append(seconds)
                log(f"  throughput {backend} engine run {i + 1}: {seconds:.3f} s, "
                    f"{calls} database calls ({calls / n:.2f} per registration)")
            server.start()
            try:
                _http_run(server, seed=1999, n=n, batch=batch)  # warm-up of the workers
                http_s, up = [], 0
                for i in range(reps):
                    seconds, up = _http_run(server, seed=2000 + i, n=n, batch=batch)
                    http_s.append(seconds)
                    log(f"  throughput {backend} http run {i + 1}: {seconds:.3f} s")
            finally:
                server.stop()
            out[backend] = {
                "mutations": n, "requests": -(-n // batch),
                "engine_s": statistics.median(engine_s), "engine_runs_s": engine_s,
                "engine_calls_per_mutation": round(calls / n, 3),
                "http_s": statistics.median(http_s), "http_runs_s": http_s,
                "http_bytes_up": up,
            }
        finally:
            if backend == "postgresql":
                harness.drop_pg_database(url)
    return out
