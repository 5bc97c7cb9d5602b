"""Many phones, one server (issue #12): raw protocol clients of several kecamatan syncing at
once against `pakkedes serve --workers 4` on a fresh PostgreSQL database.

Each phone is its own officer and device with two desa of its kecamatan (two phones share
each pair of desa, so they pull each other's cases). It saves `registrations` registrations,
then verifies half of its first `steps` cases and records the other half as done
(`steps` pipeline steps: verify_resident for the first steps/2 cases, then record_done for
the same ones), and syncs as the app does whenever it has new entries: one POST /api/sync per
`sync_every` new outbox entries (the app sends up to 500 per request; a phone online now and
then sends what piled up). Every answer is pulled from the phone's cursor as the app pulls.
All phones start together (a barrier) and never pause: far denser than the field.

Figures: total time (first request to last answer), per-request latency (p50/p95/max), and,
sampled from pg_stat_activity every ~10 ms, how many database sessions were inside a sync
transaction and how many of them were waiting for the change-counter row lock
(sync/changeseq.py) — the measure of whether that one row is the bottleneck.

Checked on the database afterwards (an AssertionError otherwise): no request failed and
every result is `applied`; each mutation wrote exactly one event (one per client and
mutation id) and each phone's last_mutation_id is its last id; the change_seq of every case
is distinct within its kecamatan and at most its kecamatan's counter; and the cases each
phone pulled (from its cursor, during the run and in a final pull) are exactly the cases of
its desa on the server: a cursor that skipped a number would have lost one.
"""
from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import create_engine, select, text

from server import create_app
from server.cli import create_user, init_database
from server.extensions import db
from server.models import Wilayah

from . import data, harness, phone

AT = "2026-11-28T10:00:00+08:00"
SAMPLE_EVERY_S = 0.01


@dataclass(frozen=True)
class Load:
    """How many phones, of how many kecamatan, doing how much."""

    phones: int = 50
    kecamatan: int = 8
    registrations: int = 100
    steps: int = 50
    sync_every: int = 25
    workers: int = 4


@dataclass
class Device:
    """One phone of the run: its officer, its desa and what it saw."""

    username: str
    password: str
    kecamatan: str
    desa: tuple[str, ...]
    raw: phone.RawPhone | None = None
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    pulled: set[str] = field(default_factory=set)
    error: str = ""


def _password(i: int) -> str:
    return f"Sandi-Uji-{i:02d}-Paringin-Hulu"


def prepare(url: str, load: Load) -> list[Device]:
    """Tables, wilayah, one petugas per phone (pbkdf2 with few rounds: logins are not timed)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": harness.SECRET_KEY,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    devices = []
    with app.app_context():
        init_database()
        kecamatan = db.session.execute(
            select(Wilayah.code).where(Wilayah.level == "kecamatan").order_by(Wilayah.code)
            .limit(load.kecamatan)).scalars().all()
        assert len(kecamatan) == load.kecamatan, f"only {len(kecamatan)} kecamatan in wilayah"
        desa = {k: db.session.execute(select(Wilayah.code).where(Wilayah.parent_code == k)
                                      .order_by(Wilayah.code)).scalars().all()
                for k in kecamatan}
        for i in range(load.phones):
            kec = kecamatan[i % load.kecamatan]
            nth = i // load.kecamatan  # the phone's number within its kecamatan
            pair = (nth // 2) * 2 % max(1, len(desa[kec]) - 1)
            codes = tuple(desa[kec][pair:pair + 2])
            device = Device(f"petugas{i:02d}", _password(i), kec, codes)
            create_user(device.username, device.password, "petugas", kec, list(codes))
            devices.append(device)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return devices


def _registrations(device: Device, n: int, seed: int) -> list[dict]:
    """Synthetic registrations in the device's desa, NIK and KK of its kecamatan."""
    regs = data.registrations(n, seed=seed)
    for i, args in enumerate(regs):
        args["desa_code"] = device.desa[i % len(device.desa)]
        for key in ("nik", "kk_number"):
            if args[key]:
                args[key] = device.kecamatan + args[key][6:]
    return regs


def _outbox(device: Device, load: Load, seed: int) -> list[tuple[str, dict]]:
    regs = _registrations(device, load.registrations, seed)
    ids = [a["resident_id"] for a in regs[:load.steps - load.steps // 2]]
    items = [("register_resident", a) for a in regs]
    items += [("verify_resident", {"resident_id": rid, "notes": None, "kk_photo": None,
                                   "checks": {"kk_copy_seen": True, "age_eligible": True,
                                              "marital_eligible": True}}) for rid in ids]
    items += [("record_done", {"resident_id": rid, "recorded_at": AT})
              for rid in ids[:load.steps // 2]]
    return items


def _sync(device: Device, batch: int) -> phone.SyncOutcome:
    started = time.perf_counter()
    outcome = device.raw.sync_once(batch, timeout=120)
    device.latencies.append(time.perf_counter() - started)
    device.statuses[outcome.status] += 1
    if outcome.status == 200:
        device.pulled.update(r["resident_id"] for r in outcome.data["changes"]["residents"])
    return outcome


def _run_phone(device: Device, items, load: Load, barrier: threading.Barrier) -> None:
    try:
        barrier.wait()
        for start in range(0, len(items), load.sync_every):
            for name, args in items[start:start + load.sync_every]:
                device.raw.queue(name, args, at=AT)
            while device.raw.outbox:  # a 409 or a failed request: the app tries again
                if _sync(device, 500).status != 200:
                    time.sleep(0.2)
                    if sum(device.statuses.values()) > 4 * len(items):
                        raise RuntimeError(f"no progress: {dict(device.statuses)}")
    except Exception as exc:  # reported by the checks, never lost with the thread
        device.error = f"{type(exc).__name__}: {exc}"


class LockSampler:
    """Samples pg_stat_activity of one database in a thread of its own."""

    _QUERY = text("""
        select count(*) filter (where xact_start is not null),
               count(*) filter (where wait_event_type = 'Lock'),
               count(*) filter (where wait_event_type = 'Lock'
                                and query ilike '%change_counter%')
        from pg_stat_activity
        where datname = :db and pid <> pg_backend_pid() and backend_type = 'client backend'""")

    def __init__(self, url: str, database: str):
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.database = database
        self.samples: list[tuple[int, int, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="lock-sampler", daemon=True)

    def _loop(self) -> None:
        with self.engine.connect() as conn:
            while not self.stop.is_set():
                self.samples.append(tuple(conn.execute(self._QUERY, {"db": self.database}).one()))
                time.sleep(SAMPLE_EVERY_S)

    def __enter__(self) -> "LockSampler":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(10)
        self.engine.dispose()

    def summary(self) -> dict:
        """Means over the samples: sessions in a transaction, waiting on any lock, on the
        counter; and the share of busy samples (≥ 1 in a transaction) with a counter wait."""
        busy = [s for s in self.samples if s[0]]
        in_tx, waiting, counter = (statistics.fmean(s[i] for s in busy) if busy else 0.0
                                   for i in range(3))
        return {"samples": len(self.samples), "busy_samples": len(busy),
                "in_transaction_mean": round(in_tx, 2), "lock_waiting_mean": round(waiting, 2),
                "counter_waiting_mean": round(counter, 2),
                "counter_waiting_share": round(counter / in_tx, 3) if in_tx else 0.0,
                "samples_with_counter_wait": round(
                    sum(1 for s in busy if s[2]) / len(busy), 3) if busy else 0.0}


def _check(server: harness.ServerProcess, devices: list[Device], load: Load) -> dict:
    """The database after the run; raises AssertionError on any error, loss or double."""
    errors = [f"{d.username}: {d.error}" for d in devices if d.error]
    assert not errors, errors[:5]
    bad = Counter(s for d in devices for s in d.statuses.elements() if s != 200)
    assert not bad, f"failed requests: {dict(bad)}"
    per_phone = load.registrations + load.steps
    for d in devices:
        statuses = Counter(r["status"] for r in d.raw.results.values())
        assert statuses == Counter(applied=per_phone), (d.username, statuses)
        assert d.raw.last_mutation_id == per_phone, (d.username, d.raw.last_mutation_id)
    doubled = server.sql("select count(*) from (select client_id, mutation_id from "
                         "resident_events group by 1, 2 having count(*) > 1) d")[0][0]
    events = server.sql("select kind, count(*) from resident_events group by kind")
    expected = {"registered": load.phones * load.registrations,
                "verified": load.phones * (load.steps - load.steps // 2),
                "recorded": load.phones * (load.steps // 2)}
    assert doubled == 0, f"{doubled} mutations applied twice"
    assert {k: n for k, n in events if k in expected} == expected, events
    # each kecamatan numbers its cases from its own counter (sync/changeseq.py)
    residents, distinct = server.sql(
        "select count(*), count(distinct substr(desa_code, 1, 6) || ':' || change_seq) "
        "from residents")[0]
    assert residents == distinct == load.phones * load.registrations, (residents, distinct)
    above = server.sql(
        "select count(*) from residents r left join change_counter c "
        "on c.id = cast(substr(r.desa_code, 1, 6) as integer) where r.change_seq > "
        "coalesce(c.value, (select value from change_counter where id = 1), 0)")[0][0]
    assert above == 0, f"{above} cases numbered above their kecamatan's counter"
    counter = server.sql("select max(value) from change_counter")[0][0]
    clients = server.sql("select count(*) from clients where last_mutation_id = :n", n=per_phone)
    assert clients[0][0] == load.phones, clients
    cases = server.sql("select resident_id, desa_code from residents")
    for d in devices:
        while _sync(d, 500).data["more"]:
            pass  # the final pull: the rest of its scope, as the app pulls after a sync
        held = {rid for rid, code in cases if code in d.desa}
        assert d.pulled == held, (d.username, len(d.pulled), len(held),
                                  sorted(held - d.pulled)[:3])
    # what the tables weigh (with their indexes), the basis of docs/scaling.md's arithmetic
    weights = dict(server.sql(
        "select relname, pg_total_relation_size(relid) from pg_stat_user_tables "
        "where relname in ('residents', 'resident_events', 'conflicts', 'clients')"))
    return {"events": dict(events), "residents": residents, "counter": counter,
            "table_bytes": weights}


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def run_once(workdir, load: Load, seed: int, log=print) -> dict:
    """One run on a fresh database; returns its figures (AssertionError when a check fails)."""
    url = harness.create_pg_database("cah_conc")
    server = harness.ServerProcess(workdir, url, workers=load.workers,
                                   extra_env={"CAH_LOGIN_ADDRESS_RATE_LIMIT": "100000"})
    try:
        devices = prepare(url, load)
        server.start()
        try:
            for i, d in enumerate(devices):
                d.raw = phone.RawPhone.login(server.port, d.username, d.password,
                                             label=f"HP {i:02d}")
                assert _sync(d, 500).status == 200  # the first pull after login, untimed
                d.latencies.clear()
                d.statuses.clear()
            outboxes = [_outbox(d, load, seed + i) for i, d in enumerate(devices)]
            barrier = threading.Barrier(len(devices) + 1)
            threads = [threading.Thread(target=_run_phone, args=(d, items, load, barrier),
                                        name=d.username, daemon=True)
                       for d, items in zip(devices, outboxes)]
            for t in threads:
                t.start()
            with LockSampler(harness.PG_ADMIN_URL, url.rsplit("/", 1)[1]) as sampler:
                barrier.wait()
                started = time.perf_counter()
                for t in threads:
                    t.join(600)
                seconds = time.perf_counter() - started
            assert not any(t.is_alive() for t in threads), "a phone did not finish in 600 s"
            latencies = [s for d in devices for s in d.latencies]
            checked = _check(server, devices, load)
        finally:
            server.stop()
    finally:
        harness.drop_pg_database(url)
    mutations = load.phones * (load.registrations + load.steps)
    out = {"seconds": round(seconds, 3), "requests": len(latencies), "mutations": mutations,
           "mutations_per_s": round(mutations / seconds, 1),
           "p50_ms": round(1000 * _percentile(latencies, 0.5), 1),
           "p95_ms": round(1000 * _percentile(latencies, 0.95), 1),
           "max_ms": round(1000 * max(latencies), 1), "errors": 0,
           "lock": sampler.summary(), **checked}
    log(f"  concurrency: {load.phones} phones, {mutations} mutations in {out['requests']} "
        f"requests: {seconds:.2f} s, p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms; "
        f"in transaction {out['lock']['in_transaction_mean']}, waiting on the counter "
        f"{out['lock']['counter_waiting_mean']} (mean of busy samples)")
    return out


def run(workdir, sizes, log=print) -> dict:
    """The concurrency figures: medians of `sizes.reps` runs (each on a fresh database)."""
    load = Load(phones=sizes.concurrency_phones, kecamatan=min(8, sizes.concurrency_phones),
                registrations=sizes.concurrency_registrations,
                steps=sizes.concurrency_steps, sync_every=sizes.concurrency_sync_every)
    runs = [run_once(workdir / f"concurrency{i}", load, seed=5000 + 100 * i, log=log)
            for i in range(sizes.reps)]
    def median(key):
        return statistics.median(r[key] for r in runs)

    return {"phones": load.phones, "kecamatan": load.kecamatan, "workers": load.workers,
            "registrations_per_phone": load.registrations, "steps_per_phone": load.steps,
            "sync_every": load.sync_every, "mutations": runs[0]["mutations"],
            "requests": runs[0]["requests"], "seconds": median("seconds"),
            "runs_s": [r["seconds"] for r in runs], "p50_ms": median("p50_ms"),
            "p95_ms": median("p95_ms"), "max_ms": median("max_ms"), "errors": 0,
            "mutations_per_s": median("mutations_per_s"),
            "counter_waiting_mean": statistics.median(r["lock"]["counter_waiting_mean"]
                                                      for r in runs),
            "in_transaction_mean": statistics.median(r["lock"]["in_transaction_mean"]
                                                     for r in runs),
            "counter_waiting_share": statistics.median(r["lock"]["counter_waiting_share"]
                                                       for r in runs),
            "lock_runs": [r["lock"] for r in runs], "table_bytes": runs[-1]["table_bytes"],
            "events": runs[-1]["events"]}
