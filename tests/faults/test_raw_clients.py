"""Raw clients against a real server (gunicorn, 2 workers × 4 threads) on SQLite and PostgreSQL:
duplicated, reordered and overlapping batches, several requests of one client at once, and two
devices of one officer syncing at the same time."""
import json
import random
import threading
import time
from collections import Counter, defaultdict

from bench import data
from bench.phone import RawPhone

TIME_LIMIT = 90


def _queue_plan(phone, rng, n, desa="6311042005"):
    """n mutations: registrations, valid updates of earlier ones (unique notes values) and
    invalid ones (rejected). Returns {id: expected first status}."""
    expected, regs = {}, []
    for _ in range(n):
        roll = rng.random()
        if regs and roll < 0.3:
            m = phone.queue("update_resident", {
                "resident_id": rng.choice(regs), "base_version": 1,
                "fields": {"notes": f"catatan {phone.next_id}"}})
            expected[m["id"]] = "applied"
        elif regs and roll < 0.4:
            m = phone.queue("update_resident", {  # not a free field → rejected
                "resident_id": rng.choice(regs), "base_version": 1, "fields": {"name": "X"}})
            expected[m["id"]] = "rejected"
        elif roll < 0.45:
            m = phone.queue("register_resident",
                            data.registration_args(rng, desa) | {"birth_date": "2999-01-01"})
            expected[m["id"]] = "rejected"
        else:
            args = data.registration_args(rng, desa)
            regs.append(args["resident_id"])
            m = phone.queue("register_resident", args)
            expected[m["id"]] = "applied"
    return expected


def _model(mutations, expected):
    """Final (notes, version) per resident after applying the accepted mutations in id order."""
    state = {}
    for m in sorted(mutations, key=lambda m: m["id"]):
        if expected[m["id"]] != "applied":
            continue
        args = m["args"]
        if m["name"] == "register_resident":
            state[args["resident_id"]] = (args["notes"], 1)
        else:
            notes, version = state[args["resident_id"]]
            state[args["resident_id"]] = (args["fields"]["notes"], version + 1)
    return state


def _server_state(server):
    return {r: (n, v) for r, n, v in
            server.sql("select resident_id, notes, version from residents")}


def test_duplicated_reordered_overlapping_batches(database_url, servers):
    server = servers(database_url)
    rng = random.Random(3)
    phone = RawPhone.login(server.port)
    expected = _queue_plan(phone, rng, 40)
    all_m = list(phone.outbox)
    by_id = {m["id"]: m for m in all_m}

    def send(ids, shuffle=True):
        batch = [by_id[i] for i in ids]
        if shuffle:
            rng.shuffle(batch)
        return phone.post(batch)

    first_results = {}

    def note(outcome):
        assert outcome.status == 200, outcome
        for r in outcome.data["results"]:
            if r["status"] != "duplicate":
                assert r["id"] not in first_results, f"mutation {r['id']} applied twice"
                first_results[r["id"]] = r["status"]
            else:
                assert r["id"] in first_results, f"{r['id']} is a duplicate of nothing"
        return {r["id"]: r["status"] for r in outcome.data["results"]}

    # A later batch first: refused as a gap, nothing applied.
    gap = send(range(6, 11))
    assert gap.status == 409 and gap.data["last_mutation_id"] == 0
    assert server.sql("select count(*) from resident_events")[0][0] == 0
    # The batch in shuffled order: applied in id order.
    assert set(note(send(range(1, 11))).values()) <= {"applied", "rejected"}
    # Overlapping: the known part is duplicate, the new part applied.
    statuses = note(send(range(5, 16)))
    assert all(statuses[i] == "duplicate" for i in range(5, 11))
    assert all(statuses[i] != "duplicate" for i in range(11, 16))
    # One id twice in a request: a malformed envelope, nothing applied.
    before = _server_state(server)
    dup = send([16, 17, 16], shuffle=False)
    assert dup.status == 400 and dup.data["code"] == "validation_error", dup
    assert _server_state(server) == before
    # Reversed, overlapping, and running past a gap: applied up to the gap, results stop there.
    statuses = note(send(list(range(25, 13, -1)) + [30], shuffle=False))
    assert statuses[14] == statuses[15] == "duplicate"
    assert 30 not in statuses
    assert all(i in statuses for i in range(16, 26))
    # The same request many times at once (retries from a flaky link): each applied once.
    results = []
    ids = list(range(20, 41))
    threads = [threading.Thread(target=lambda: results.append(send(ids))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # Noted in the order the requests were applied, not the order their answers arrived: the
    # one that applied 26..40 may answer after a follower that found them all duplicate.
    def applied_count(outcome):
        return sum(r["status"] != "duplicate" for r in outcome.data.get("results", []))

    for outcome in sorted(results, key=applied_count, reverse=True):
        note(outcome)
        assert outcome.data["last_mutation_id"] == 40

    assert first_results == expected
    assert _server_state(server) == _model(all_m, expected)
    assert server.sql("select count(*) from rejected_mutations")[0][0] == \
        Counter(expected.values())["rejected"]


def test_random_windows_from_concurrent_senders_apply_each_mutation_once(database_url, servers):
    server = servers(database_url)
    rng = random.Random(8)
    phone = RawPhone.login(server.port)
    expected = _queue_plan(phone, rng, 80)
    all_m = list(phone.outbox)
    n = len(all_m)
    firsts = defaultdict(list)
    lock = threading.Lock()
    frontier = [0]
    deadline = time.monotonic() + 45

    def sender(seed):
        local = random.Random(seed)
        seen_last = 0
        while frontier[0] < n and time.monotonic() < deadline:
            start = max(1, frontier[0] + local.randint(-8, 3))
            ids = list(range(start, min(n, start + local.randint(1, 14)) + 1))
            if local.random() < 0.2:  # a window with a hole in it
                ids = [i for i in ids if i != local.choice(ids)] or ids
            batch = [all_m[i - 1] for i in ids]
            local.shuffle(batch)
            outcome = phone.post(batch)
            assert outcome.status in (200, 409), outcome
            last = outcome.data["last_mutation_id"]
            assert last >= seen_last, "last_mutation_id went back for this sender"
            seen_last = last
            with lock:
                frontier[0] = max(frontier[0], last)
                if outcome.status == 200:
                    for r in outcome.data["results"]:
                        if r["status"] != "duplicate":
                            firsts[r["id"]].append(r["status"])

    errors = []

    def run(seed):
        try:
            sender(seed)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,), daemon=True) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert frontier[0] == n, "the senders did not get everything applied in time"
    assert {i: s for i, (s, *more) in firsts.items()} == expected
    assert all(len(v) == 1 for v in firsts.values()), "a mutation was applied twice"
    assert _server_state(server) == _model(all_m, expected)


def test_two_devices_of_one_officer_sync_at_once(database_url, servers):
    server = servers(database_url)
    rng = random.Random(21)
    a = RawPhone.login(server.port, "petugas", label="HP A")
    b = RawPhone.login(server.port, "petugas", label="HP B")
    shared = data.registration_args(rng, "6311042005") | {"phone": "081200000000"}
    a.queue("register_resident", shared)
    assert a.sync_once().status == 200
    pulled = b.sync_once()  # B pulls the resident (version 1)
    assert shared["resident_id"] in {r["resident_id"]
                                     for r in pulled.data["changes"]["residents"]}

    # Offline, both edit the same resident against version 1; both register others, one of
    # them the same person (same NIK) as A registers.
    a.queue("update_resident", {"resident_id": shared["resident_id"], "base_version": 1,
                                "fields": {"phone": "081211111111"}})
    b.queue("update_resident", {"resident_id": shared["resident_id"], "base_version": 1,
                                "fields": {"phone": "081222222222", "notes": "dari HP B"}})
    twin = data.registration_args(rng, "6311042005")
    twin["nik"] = "6311041203990007"
    twin["sex"], twin["birth_date"] = "male", "1999-03-12"
    a.queue("register_resident", twin)
    b.queue("register_resident", twin | {"resident_id": data.registration_args(rng)["resident_id"]})
    for _ in range(30):
        a.queue("register_resident", data.registration_args(rng))
        b.queue("register_resident", data.registration_args(rng))

    barrier = threading.Barrier(2)
    outcomes = {}

    def run(name, phone):
        barrier.wait()
        outcomes[name] = phone.sync_until_empty(time.monotonic() + 30, batch=8)

    threads = [threading.Thread(target=run, args=x) for x in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    assert not a.outbox and not b.outbox
    for phone in (a, b):
        assert {r["status"] for r in phone.results.values()} == {"applied"}

    # Nothing lost: every registration is there once, both edits are in the history.
    ids = {m["args"]["resident_id"] for p in (a, b) for m in p.acknowledged.values()
           if m["name"] == "register_resident"}
    assert {r for (r,) in server.sql("select resident_id from residents")} == ids
    events = server.sql("select payload from resident_events where resident_id = :r "
                        "and kind = 'updated' order by id", r=shared["resident_id"])
    assert len(events) == 2
    # Last writer in server order wins; the overwritten value is kept in a conflict.
    conflicts = server.sql("select field, details from conflicts where kind = 'concurrent_edit'")
    assert [f for f, _ in conflicts] == ["phone"]
    details = conflicts[0][1]
    details = details if isinstance(details, dict) else json.loads(details)
    final_phone, final_notes, version = server.sql(
        "select phone, notes, version from residents where resident_id = :r",
        r=shared["resident_id"])[0]
    assert final_phone == details["applied"]["value"]
    assert {details["overwritten"]["value"], details["applied"]["value"]} == {
        "081211111111", "081222222222"}
    assert final_notes == "dari HP B" and version == 3
    # The same NIK from both devices: kept twice and flagged for the camat, never dropped.
    dup = server.sql("select count(*) from conflicts where kind = 'possible_duplicate'")[0][0]
    assert dup >= 1

