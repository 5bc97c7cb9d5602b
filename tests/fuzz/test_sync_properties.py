"""Property-based tests of the sync engine (sync/, no Flask), on SQLite and PostgreSQL.

Random sequences of valid and invalid mutations from three clients (one officer on two
phones, another officer with fewer desa), sent in batches, re-sent, with gaps and with
malformed envelopes. After every step:

* each answer is what the reference model (sync_model.py) predicts;
* every accepted event is there exactly once, and no other (no accepted event is lost);
* every client's last_mutation_id equals the model's and never went back;
* a step whose mutations were all rejected or refused leaves every table as it was (only the
  stored rejections and the client's own row may change);
* each case's stage is the maximum stage reached by its accepted events (forward moves);
* cases, versions, free fields and conflicts equal the model's.
"""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

import sync_model as sm
from fuzz_kit import examples, phases
from sync.context import SyncActor
from sync.engine import process_sync
from sync.errors import EnvelopeError, MutationGap
from sync.models import Base, Client, Resident, ResidentEvent

TIME_LIMIT = 150
NOW = datetime(2026, 11, 28, 1, 15, tzinfo=timezone.utc)
AT = "2026-11-28T09:10:00+08:00"
# Tables a refused step may touch: the stored rejections and the client's clock fields.
# database_identity: its one row is made on first use where no migration made it (tests build
# the schema with create_all), whatever that first sync holds.
MAY_CHANGE_ON_REFUSAL = {"rejected_mutations", "clients", "database_identity"}
# Event kinds that move a case forward to a stage (forward moves are a max, DESIGN §2).
FORWARD_EVENTS = {"registered": "found", "verified": "verified", "picked_up": "picked_up",
                  "recorded": "recorded", "batch_handed_over": "sent_to_registry",
                  "card_collected": "card_collected", "delivered": "delivered"}
OUTCOMES: Counter = Counter()  # (mutation name, status, code) over a whole run
BACKWARD_EVENTS = {"rejected", "pickup_cancelled", "recording_failed", "reopened",
                   "conflict_resolved", "merged", "card_not_printed"}


@pytest.fixture
def engine(db_url):
    if db_url.startswith("sqlite"):
        engine = create_engine("sqlite://", poolclass=StaticPool,
                               connect_args={"check_same_thread": False})
    else:
        engine = create_engine(db_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _clear(engine):
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                              + " RESTART IDENTITY CASCADE"))
        else:
            for t in reversed(tables):
                conn.execute(text(f'DELETE FROM "{t}"'))


def _snapshot(session) -> dict:
    """Every row of every table, as sorted tuples of strings (for equality only)."""
    out = {}
    for table in Base.metadata.sorted_tables:
        rows = session.execute(select(table)).all()
        out[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return out


class SyncMachine(RuleBasedStateMachine):
    engine = None  # set by the test

    @initialize()
    def setup(self):
        OUTCOMES[("(examples)", "", None)] += 1
        _clear(self.engine)
        self.session = Session(self.engine)
        # Fixed ids: hypothesis must draw the same way when it replays an example.
        infos = [sm.ClientInfo(str(uuid.UUID(int=0xA1 << 64)), 7, frozenset({sm.D1, sm.D2})),
                 sm.ClientInfo(str(uuid.UUID(int=0xA2 << 64)), 7, frozenset({sm.D1, sm.D2})),
                 sm.ClientInfo(str(uuid.UUID(int=0xB1 << 64)), 8, frozenset({sm.D1}))]
        for info in infos:
            self.session.add(Client(client_id=info.client_id, user_id=info.user_id,
                                    device_label="fuzz", token_hash=uuid.uuid4().hex * 2,
                                    created_at=NOW, last_mutation_id=0))
        self.session.commit()
        self.model = sm.Model(clients={c.client_id: c for c in infos},
                              last={c.client_id: 0 for c in infos},
                              sent={c.client_id: {} for c in infos})
        self.seen_last = dict(self.model.last)
        self.kinds = sm.KINDS
        self.weighted = [k for k in self.kinds for _ in range(k.weight)]

    def teardown(self):
        if hasattr(self, "session"):
            self.session.rollback()
            self.session.close()

    # ------------------------------------------------------------ sending
    def _sync(self, client: sm.ClientInfo, mutations: list[dict]):
        """process_sync as server/api does: commit on success and on a gap, else roll back."""
        OUTCOMES[("(syncs)", "", None)] += 1
        row = self.session.get(Client, client.client_id)
        actor = SyncActor(user_id=client.user_id, username=f"p{client.user_id}", role="petugas",
                          kecamatan_code=sm.KECAMATAN, desa_codes=client.desa)
        body = {"protocol": 1, "client_id": client.client_id, "app_version": "fuzz",
                "sent_at": "2026-11-28T09:15:00+08:00", "cursor": None, "mutations": mutations}
        try:
            response = process_sync(self.session, actor=actor, client=row, body=body, now=NOW)
        except MutationGap as gap:
            self.session.commit()
            return 409, gap.last_mutation_id
        except EnvelopeError as err:
            self.session.rollback()
            return 400, err.code
        self.session.commit()
        return 200, response

    def _client(self, data) -> sm.ClientInfo:
        return data.draw(st.sampled_from(sorted(self.model.clients.values(),
                                                key=lambda c: c.client_id)), label="client")

    @rule(data=st.data())
    def send_new_batch(self, data):
        """A batch of new mutations of any kind (list order shuffled; ids consecutive), maybe
        with old ones re-sent in the same request."""
        client = self._client(data)
        n = data.draw(st.integers(1, 4), label="batch size")
        kinds = [data.draw(st.sampled_from(self.weighted), label="kind") for _ in range(n)]
        self._send(data, client, kinds)

    @rule(data=st.data())
    def advance_cases(self, data):
        """The next moves for the client's cases (verify a found one, record a picked-up one,
        deliver a collected card …), one sync each, so that deep stages are reached."""
        client = self._client(data)
        for _ in range(data.draw(st.integers(1, 6), label="moves")):
            mine = sorted(r for r, m in self.model.residents.items() if m.desa in client.desa)
            if not mine:
                return
            furthest = max(mine, key=lambda r: sm.STAGE_RANK.get(self.model.residents[r].stage, -1))
            # mostly the case furthest along, so that one case goes all the way
            rid = furthest if data.draw(st.integers(0, 3)) else data.draw(st.sampled_from(mine))
            name = data.draw(st.sampled_from(sm.NEXT_STEP[self.model.residents[rid].stage]))
            self.model.focus = rid
            try:
                self._send(data, client, [k for k in self.kinds if k.name == name][:1])
            finally:
                self.model.focus = None

    @rule(data=st.data())
    def edit_a_case_twice_offline(self, data):
        """Two or three edits of one case saved before a sync: each carries the version of
        the phone's server copy (an edit never conflicts with the same phone's own)."""
        client = self._client(data)
        mine = sorted(r for r, m in self.model.residents.items() if m.desa in client.desa)
        if not mine:
            return
        self.model.focus = data.draw(st.sampled_from(mine), label="case")
        update = next(k for k in self.kinds if k.name == "update_resident")
        try:
            self._send(data, client, [update] * data.draw(st.integers(2, 3)))
        finally:
            self.model.focus = None

    @rule(data=st.data())
    def two_phones_edit_one_case(self, data):
        """Two devices edit the same case against the copies they hold; the later one in
        server order wins and a conflict keeps the overwritten value."""
        shared = sorted(r for r, m in self.model.residents.items() if m.desa == sm.D1)
        if not shared:
            return
        self.model.focus = data.draw(st.sampled_from(shared), label="case")
        update = next(k for k in self.kinds if k.name == "update_resident")
        clients = sorted(self.model.clients.values(), key=lambda c: c.client_id)
        order = data.draw(st.permutations(clients), label="phones")[:2]
        try:
            for client in order:
                self._send(data, client, [update])
        finally:
            self.model.focus = None

    def _send(self, data, client, kinds):
        n = len(kinds)
        before = _snapshot(self.session)
        batch, expected = [], {}
        next_id = self.model.last[client.client_id] + 1
        for mid, kind in zip(range(next_id, next_id + n), kinds):
            args, predict = kind.draw(data, self.model, client)
            at = AT if data.draw(st.integers(0, 19)) else "kemarin sore"
            mutation = {"id": mid, "name": kind.name, "at": at, "args": args}
            if at != AT:
                expect = sm.Expect("rejected", "invalid_mutation_time")
            else:
                expect = predict(self.model, client, mid)
            batch.append(mutation)
            expected[mid] = expect
        old = self.model.sent[client.client_id]
        resent = data.draw(st.lists(st.sampled_from(sorted(old)), max_size=3, unique=True)
                           if old else st.just([]), label="re-sent ids")
        batch += [old[mid][0] for mid in resent]
        batch = data.draw(st.permutations(batch), label="order")

        status, answer = self._sync(client, batch)
        assert status == 200, (status, answer)
        results = {r["id"]: r for r in answer["results"]}
        assert set(results) == set(expected) | set(resent)
        for mid, expect in expected.items():
            got = results[mid]
            assert (got["status"], got.get("code")) == (expect.status, expect.code), (
                mid, got, expect, [m for m in batch if m["id"] == mid])
            if expect.status == "rejected":
                self.model.rejected[client.client_id] += 1
            name = next(m["name"] for m in batch if m["id"] == mid)
            OUTCOMES[(name, expect.status, expect.code)] += 1
        for mid in resent:
            first = old[mid][1]
            assert results[mid]["status"] == "duplicate"
            assert results[mid].get("code") == first.code  # a rejection is repeated
        for m in batch:
            if m["id"] in expected:
                old[m["id"]] = (m, expected[m["id"]])
        self.model.last[client.client_id] = next_id + n - 1
        assert answer["last_mutation_id"] == self.model.last[client.client_id]
        self.model.synced(client)
        if all(e.status == "rejected" for e in expected.values()):
            self._assert_unchanged(before)

    @rule(data=st.data())
    def resend_old(self, data):
        """A retry of mutations already applied (a lost answer): all duplicates, no change."""
        client = self._client(data)
        old = self.model.sent[client.client_id]
        if not old:
            return
        ids = data.draw(st.lists(st.sampled_from(sorted(old)), min_size=1, max_size=5,
                                 unique=True))
        before = _snapshot(self.session)
        status, answer = self._sync(client, [old[i][0] for i in ids])
        assert status == 200
        for r in answer["results"]:
            assert r["status"] == "duplicate" and r.get("code") == old[r["id"]][1].code
        self._assert_unchanged(before)

    @rule(data=st.data())
    def send_after_a_gap(self, data):
        """A mutation numbered past last + 1: 409 with the server's last id, nothing applied."""
        client = self._client(data)
        last = self.model.last[client.client_id]
        skip = data.draw(st.integers(2, 5))
        kind = data.draw(st.sampled_from(self.weighted))
        probe = sm.Model(clients=self.model.clients, residents={}, serial=self.model.serial + 10**6)
        args, _ = kind.draw(data, probe, client)
        before = _snapshot(self.session)
        status, answer = self._sync(client, [{"id": last + skip, "name": kind.name, "at": AT,
                                              "args": args}])
        assert (status, answer) == (409, last)
        self._assert_unchanged(before)

    @rule(data=st.data())
    def send_malformed(self, data):
        """A request refused as a whole (unknown mutation name, an id twice): nothing applied,
        not even the valid mutations before the bad one."""
        client = self._client(data)
        next_id = self.model.last[client.client_id] + 1
        probe = sm.Model(clients=self.model.clients, residents=dict(self.model.residents),
                         serial=self.model.serial + 10**6)
        args, _ = sm.draw_register(data, probe, client)
        good = {"id": next_id, "name": "register_resident", "at": AT, "args": args}
        if data.draw(st.booleans()):
            bad = {"id": next_id + 1, "name": "terbang_ke_bulan", "at": AT, "args": {}}
            code = "unknown_mutation"
        else:
            bad = dict(good)
            code = "validation_error"
        before = _snapshot(self.session)
        status, answer = self._sync(client, [good, bad])
        assert (status, answer) == (400, code)
        self._assert_unchanged(before, also=set())

    # ------------------------------------------------------------ invariants
    def _assert_unchanged(self, before, also=MAY_CHANGE_ON_REFUSAL):
        after = _snapshot(self.session)
        changed = {t for t in after if after[t] != before[t]}
        assert changed <= set(also), f"a refused step changed {sorted(changed - set(also))}"

    @invariant()
    def last_mutation_ids_match_and_never_go_back(self):
        if not hasattr(self, "model"):
            return
        rows = dict(self.session.execute(select(Client.client_id, Client.last_mutation_id)).all())
        for cid, last in rows.items():
            assert last >= self.seen_last[cid], "last_mutation_id went back"
            assert last == self.model.last[cid]
            self.seen_last[cid] = last

    @invariant()
    def accepted_events_are_all_there_once(self):
        if not hasattr(self, "model"):
            return
        E = ResidentEvent
        rows = self.session.execute(select(E.client_id, E.mutation_id, E.resident_id, E.kind)).all()
        assert Counter(tuple(r) for r in rows) == self.model.events

    @invariant()
    def cases_match_the_model(self):
        if not hasattr(self, "model"):
            return
        rows = {r.resident_id: r for r in self.session.scalars(
            select(Resident).execution_options(populate_existing=True))}
        assert set(rows) == set(self.model.residents)
        for rid, m in self.model.residents.items():
            r = rows[rid]
            assert (r.desa_code, r.name, r.nik, r.version, r.stage) == (
                m.desa, m.name, m.nik, m.version, m.stage), rid
            assert {f: getattr(r, f) for f in sm.FREE_FIELDS} == m.fields, rid

    @invariant()
    def conflicts_and_rejections_match_the_model(self):
        if not hasattr(self, "model"):
            return
        rows = self.session.execute(text("select kind, resident_id from conflicts")).all()
        assert Counter(tuple(r) for r in rows) == self.model.conflicts
        rows = self.session.execute(
            text("select client_id, count(*) from rejected_mutations group by client_id")).all()
        assert dict(rows) == {c: n for c, n in self.model.rejected.items() if n}

    @invariant()
    def stage_is_the_maximum_accepted(self):
        """Model-free: a case with only forward events stands at the highest stage any of
        them reached."""
        if not hasattr(self, "model"):
            return
        kinds = {}
        for rid, kind in self.session.execute(select(ResidentEvent.resident_id,
                                                     ResidentEvent.kind)).all():
            kinds.setdefault(rid, set()).add(kind)
        for rid, stage in self.session.execute(select(Resident.resident_id, Resident.stage)).all():
            events = kinds.get(rid, set())
            if events & BACKWARD_EVENTS or not events <= set(FORWARD_EVENTS) | {"updated"}:
                continue
            reached = [FORWARD_EVENTS[k] for k in events if k in FORWARD_EVENTS]
            assert stage == max(reached, key=sm.STAGE_RANK.__getitem__), (rid, stage, events)


def test_sync_engine_properties(engine):
    SyncMachine.engine = engine
    OUTCOMES.clear()
    steps = 25 if engine.dialect.name == "postgresql" else 40
    n = examples(45 if engine.dialect.name == "postgresql" else 100)
    run_state_machine_as_test(SyncMachine, settings=settings(
        max_examples=n, stateful_step_count=steps, deadline=None, database=None, phases=phases(),
        suppress_health_check=list(HealthCheck)))
    print("outcomes:", ", ".join(f"{n} {s}{'/' + c if c else ''}: {k}"
                                 for (n, s, c), k in sorted(OUTCOMES.items())))
    if engine.dialect.name == "sqlite":  # the longer run: it must have gone past the basics
        applied = {n for (n, s, _c) in OUTCOMES if s == "applied"}
        assert {"register_resident", "update_resident", "verify_resident"} <= applied, \
            sorted(OUTCOMES.items())
