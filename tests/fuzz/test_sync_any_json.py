"""One bad record never blocks a phone (issue #8 part 2), as a property of the whole stack.

Any JSON value — nested, huge integers, 1e309 and NaN as JSON text, lone surrogates, control
characters, out-of-range times — in any field of any mutation kind (every kind of the handler
registry), sent through POST /api/sync between two valid registrations on SQLite and
PostgreSQL: the answer is 200, that mutation is applied or rejected, the valid ones around it
are applied, and re-sending the batch answers duplicates (the stored rejection reads back).
"""
from __future__ import annotations

import json
import uuid

from hypothesis import HealthCheck, given, settings, strategies as st

from fuzz_kit import examples, phases
from sync.mutations import MUTATORS
from sync_model import signature

TIME_LIMIT = 120
AT = "2026-11-28T09:15:03+08:00"
DESA = "6311042005"
PLACEHOLDER = "@@junk@@"

# The SOP path a resident takes, and how far along it each kind needs its resident to be.
PATH = ("verify_resident", "pick_up", "record_done", "handover_batch", "record_collection",
        "deliver_card")
STEPS_BEFORE = {"register_resident": None, "update_resident": 0, "correct_identity": 0,
                "verify_resident": 0,
                "reject_resident": 0, "pick_up": 1, "cancel_pickup": 2, "record_done": 2,
                "record_failed": 2, "handover_batch": 3, "record_collection": 4,
                "deliver_card": 5}

# JSON texts that no Python value dumps to, or that stress a decoder or a database.
RAW_JUNK = [
    "1e309", "-1e309", "1e-400", "NaN", "Infinity", "-Infinity", "1" + "0" * 400,
    str(2**63), str(-(2**63) - 1), str(2**31), "-0", "0.0", '"\\ud800"', '"x\\udfff\\ud800"',
    '"a\\u0000b"', '"\\u0007\\u000b\\u001a\\u0085"', '"baris\\nbaru"', "[" * 20 + "]" * 20,
    '{"a":' * 20 + "1" + "}" * 20, '"0001-01-01T00:00:00+08:00"', '"9999-12-31T23:00:00-02:00"',
    '"9999-12-31T23:59:59.999999+00:00"', '"2026-11-28T09:10:00"', '""', '" "', "[]", "{}",
    "null", "true", "false", "0", "-1", '"' + "x" * 5000 + '"',
]

_leaves = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.text(st.characters(categories=["Cc", "Cs", "Zl", "Zp", "Cf"]), max_size=5),
    st.uuids().map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)
_values = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
JUNK = st.one_of(st.sampled_from(RAW_JUNK), _values.map(json.dumps))


def _uid() -> str:
    return str(uuid.uuid4())


def _registration(serial: int) -> dict:
    return {"resident_id": _uid(), "desa_code": DESA, "name": f"Warga Acak {serial}",
            "nik": None, "kk_number": None, "sex": "female", "birth_place": "Balangan",
            "birth_date": "2001-02-03", "marital_status": "single", "address": "Jalan Uji 1",
            "rt": "1", "rw": "2", "phone": None, "vulnerable_category": None,
            "disability": None, "notes": ""}


def _valid_args(name: str, rid: str, batch_id: str | None, serial: int) -> dict:
    """Valid args of `name` for resident `rid` (standing where STEPS_BEFORE puts it)."""
    builders = {
        "register_resident": lambda: _registration(serial),
        "update_resident": lambda: {"resident_id": rid, "base_version": 1,
                                    "fields": {"phone": "0812345678", "notes": "catatan"}},
        "correct_identity": lambda: {"resident_id": rid, "base_version": 1, "fields": {
            "name": f"Warga Koreksi {serial}", "nik": "6311044302010001",
            "kk_number": "6311040101200001", "sex": "female", "birth_place": "Paringin",
            "birth_date": "2001-02-03", "marital_status": "married", "desa_code": DESA}},
        "verify_resident": lambda: {"resident_id": rid, "kk_photo": None, "notes": "",
                                    "checks": {"kk_copy_seen": True, "age_eligible": True,
                                               "marital_eligible": True}},
        "reject_resident": lambda: {"resident_id": rid, "reason": "other",
                                    "reason_text": "pindah"},
        "pick_up": lambda: {"pickup_id": _uid(), "resident_ids": [rid], "picked_up_at": AT,
                            "pickup_point": "Balai Desa", "vehicle": "Mobil"},
        "cancel_pickup": lambda: {"resident_id": rid, "reason": "Warga sakit"},
        "record_done": lambda: {"resident_id": rid, "recorded_at": AT},
        "record_failed": lambda: {"resident_id": rid, "reason": "other", "reason_text": "listrik"},
        "handover_batch": lambda: {"batch_id": _uid(), "number": f"BA/{serial}/2026",
                                   "handed_at": AT, "resident_ids": [rid], "notes": None},
        "record_collection": lambda: {"batch_id": batch_id, "collected_at": AT,
                                      "items": [{"resident_id": rid, "outcome": "collected",
                                                 "reason": None, "reason_text": None}]},
        "deliver_card": lambda: {"delivery_id": _uid(), "resident_id": rid, "delivered_at": AT,
                                 "recipient": "owner", "proxy_name": None,
                                 "proxy_relation": None, "signature": signature(12),
                                 "photo": None,
                                 "gps": {"lat": -2.35, "lon": 115.5, "accuracy_m": 12}},
    }
    return builders[name]()


def _paths(value, prefix=()):
    """Every place a value sits in `value` (keys and list items, nested); () is the root, where
    the junk goes in as an extra key."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


def _put(args: dict, path: tuple, marker: str) -> dict:
    """A copy of args with the value at `path` (non-empty) replaced by `marker`."""
    copy = json.loads(json.dumps(args))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = marker
    return copy


class Phone:
    """One logged-in device that keeps its own mutation ids and pull cursor."""

    def __init__(self, client, device):
        self.client, self.session = client, device.login()
        self.next_id, self.cursor, self.serial = 1, None, 0

    def mutation(self, name: str, args: dict, at: str = AT) -> dict:
        mutation = {"id": self.next_id, "name": name, "at": at, "args": args}
        self.next_id += 1
        return mutation

    def send(self, mutations: list[dict], junk: str | None = None):
        body = json.dumps({"protocol": 1, "client_id": self.session["client_id"],
                           "app_version": "fuzz", "sent_at": AT, "cursor": self.cursor,
                           "mutations": mutations})
        if junk is not None:
            assert body.count(json.dumps(PLACEHOLDER)) == 1
            body = body.replace(json.dumps(PLACEHOLDER), junk)
        res = self.client.post("/api/sync", data=body, content_type="application/json",
                               headers={"Authorization": f"Bearer {self.session['token']}"})
        if res.status_code == 200:
            self.cursor = res.get_json()["cursor"]
        return res

    def resident_at(self, steps: int | None) -> tuple[str | None, str | None]:
        """A new resident moved `steps` along PATH in one sync; (its id, its batch id)."""
        if steps is None:
            return None, None
        self.serial += 1
        reg = _registration(self.serial)
        rid, batch_id = reg["resident_id"], None
        mutations = [self.mutation("register_resident", reg)]
        for name in PATH[:steps]:
            args = _valid_args(name, rid, batch_id, self.serial)
            batch_id = args.get("batch_id", batch_id)
            mutations.append(self.mutation(name, args))
        res = self.send(mutations)
        assert res.status_code == 200, res.get_json()
        assert {r["status"] for r in res.get_json()["results"]} == {"applied"}, res.get_json()
        return rid, batch_id


def test_any_json_in_any_field_of_any_mutation_never_blocks_the_batch(client, device, db_url):
    assert set(STEPS_BEFORE) == set(MUTATORS), "a new mutation kind needs a case here"
    phone = Phone(client, device)
    seen: dict[str, set[str]] = {}

    @given(data=st.data())
    @settings(max_examples=examples(60 if db_url.startswith("sqlite") else 40),
              deadline=None, database=None, phases=phases(),
              suppress_health_check=list(HealthCheck))
    def run(data):
        name = data.draw(st.sampled_from(sorted(MUTATORS)), label="kind")
        rid, batch_id = phone.resident_at(STEPS_BEFORE[name])
        phone.serial += 1
        args = _valid_args(name, rid, batch_id, phone.serial)
        path = data.draw(st.sampled_from(list(_paths(args))), label="field")
        junk = data.draw(JUNK, label="junk")
        in_at = data.draw(st.integers(0, 9), label="junk in at") == 0 and junk.startswith('"')

        before = phone.mutation("register_resident", _registration(phone.serial))
        if in_at:
            bad = phone.mutation(name, args, at=PLACEHOLDER)
        else:
            bad = phone.mutation(name, _put(args, path, PLACEHOLDER) if path else
                                 {**args, "extra": PLACEHOLDER})
        after = phone.mutation("register_resident", _registration(phone.serial + 10**6))
        batch = [before, bad, after]

        res = phone.send(batch, junk)
        assert res.status_code == 200, (res.status_code, res.get_json())
        results = res.get_json()["results"]
        assert [r["id"] for r in results] == [m["id"] for m in batch]
        assert results[0]["status"] == "applied" and results[2]["status"] == "applied", results
        assert results[1]["status"] in ("applied", "rejected"), results[1]
        if results[1]["status"] == "rejected":
            assert results[1]["code"] and results[1]["message"]
            # the engine's safety net caught a fault a handler should have refused itself
            assert results[1]["code"] != "server_rejected", (name, path, junk)
        seen.setdefault(name, set()).add(results[1].get("code") or "applied")

        again = phone.send(batch, junk)
        assert again.status_code == 200, again.get_json()
        repeated = again.get_json()["results"]
        assert [r["status"] for r in repeated] == ["duplicate"] * 3
        assert repeated[1].get("code") == results[1].get("code")

    run()
    print("outcomes:", {name: sorted(codes) for name, codes in sorted(seen.items())})
