"""Fuzz of the office view (issue 8 part 3): every route of the `web`, `auth` and `api`
blueprints, found in app.url_map (a new route is fuzzed without a new case here), called
with random ints (huge, negative), dates at the ends of the calendar and text holding control
characters and lone surrogates, in the path, the query string and the form or JSON body,
as each office role, as nobody and (for the API) as a phone — never a 5xx.

Values are percent-encoded by hand, byte by byte, as a hostile client would send them (the
test client's own encoder refuses a lone surrogate). The users the fuzz may reset, edit or
deactivate are sacrificial ones: random path ids stay clear of the role accounts' ids so
that every example can still log in.
"""
import io
import json
import re
import uuid
from pathlib import Path
from urllib.parse import quote

from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select
from werkzeug.routing import IntegerConverter
from wtforms.fields.core import UnboundField

import server.auth  # noqa: F401  (registers the login form class)
from cah_testkit import PASSWORDS, registration
from fuzz_kit import examples, phases
from server.extensions import db
from server.models import Assignment, User
from server.wilayah import desa_of
from sync.models import Client, Resident

TIME_LIMIT = 240
BLUEPRINTS = ("web", "auth", "api")
ROLES = ("camat", "operator", "camat_juai", None)
TEMPLATES = Path(__file__).resolve().parents[2] / "server" / "templates"
EDGE_INTS = [0, -1, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 63 - 1, 2 ** 63, 2 ** 64, 2 ** 70, -(2 ** 63) - 1]
EDGE_TEXT = ["0001-01-01", "9999-12-31", "01/01/0001", "31/12/9999", "2026-02-30", "00.00",
             "23.59", "24:00", "99.99", "1e309", "NaN", "-Infinity", "²", "٣", "", " ", "\x00",
             "a\x07b", "\x0b", "\x1a", "\ud800", "=1+1", "x" * 5000, "null", "[]", "{}"]
QUERY_KEYS = ["page", "desa", "stage", "officer", "vulnerable", "operation", "q", "status",
              "user", "action", "from", "to", "part", "stuck_days", "sync_days", "next", "fmt"]


# ------------------------------------------------------------------------------ seed data

def _seed(app, client, device):
    """Real objects to aim at: residents at several stages, an operation, a batch, a device,
    and sacrificial users. Returns {"ints": [...], "texts": [...]} of their ids."""
    phone = device.login()
    rids = []
    mutations = []
    for i in range(3):
        reg = registration(i + 1, name=f"Warga Fuzz {i}")
        rids.append(reg["args"]["resident_id"])
        mutations.append(reg)
    verify = {"resident_id": rids[0], "checks": {"kk_copy_seen": True, "age_eligible": True,
                                                 "marital_eligible": True},
              "kk_photo": None, "notes": "ok"}
    steps = [("verify_resident", verify),
             ("pick_up", {"pickup_id": str(uuid.uuid4()), "resident_ids": [rids[0]],
                          "picked_up_at": "2026-11-28T10:00:00+08:00", "pickup_point": "Balai",
                          "vehicle": "Mobil"}),
             ("record_done", {"resident_id": rids[0], "recorded_at": "2026-11-28T11:00:00+08:00"}),
             ("reject_resident", {"resident_id": rids[1], "reason": "has_ktp_el",
                                  "reason_text": None})]
    for n, (name, args) in enumerate(steps, start=4):
        mutations.append({"id": n, "name": name, "at": "2026-11-28T09:30:00+08:00", "args": args})
    res = device.sync(phone, mutations)
    assert res.status_code == 200, res.get_json()

    office = app.test_client()
    assert office.post("/login", data={"username": "camat",
                                       "password": PASSWORDS["camat"]}).status_code == 302
    form = {"name": "Aksi Fuzz", "start_date": "2026-11-01", "end_date": "2026-12-31",
            "active": "y", "step_1": "180"}
    with app.app_context():
        codes = [d.code for d in desa_of(db.session, "631104")]
    for i, code in enumerate(codes):
        form[f"desa-{i}-code"] = code
        if code in ("6311042005", "6311042001"):
            form.update({f"desa-{i}-include": "y", f"desa-{i}-target": "10"})
    res = office.post("/operations/new", data=form)
    assert res.status_code == 302, res.get_data(as_text=True)
    op_id = int(res.headers["Location"].rsplit("/", 1)[1])
    res = office.post("/batches", data={"number": "BA/FUZZ/1", "day": "2026-11-20",
                                        "hour": "09.30", "notes": "", "resident_ids": [rids[0]]})
    assert res.status_code == 302, res.get_data(as_text=True)
    batch_id = res.headers["Location"].rsplit("/", 1)[1]
    for i in range(3):
        res = office.post("/users/new", data={
            "username": f"korban{i}", "full_name": f"Korban Fuzz {i}", "role": "petugas",
            "desa": ["6311042005"], "password": "Kor-ban-fuzz-2026!",
            "password2": "Kor-ban-fuzz-2026!"})
        assert res.status_code in (302, 303), res.get_data(as_text=True)
    with app.app_context():
        victims = db.session.execute(select(User.id).where(
            User.username.like("korban%"))).scalars().all()
        assignments = db.session.execute(select(Assignment.id).join(User).where(
            User.username.like("korban%"))).scalars().all()
        clients = db.session.execute(select(Client.client_id)).scalars().all()
        residents = db.session.execute(select(Resident.resident_id)).scalars().all()
    # Ids by path argument: a user id is only ever a sacrificial user's.
    ids = {"user_id": victims, "op_id": [op_id], "assignment_id": assignments}
    return {"ids": ids, "ints": [op_id, *victims, *assignments],
            "texts": [*residents, batch_id, *clients, *codes, "csv", "xlsx", "a" * 64,
                      "rejected", "recorded", "any", "collected", "not_printed", "other"],
            "residents": residents}


def _field_names():
    """Every form field name of the app (WTForms classes and literal template names)."""
    names = set(QUERY_KEYS)
    stack = [FlaskForm]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        names.update(n for n in dir(cls) if isinstance(getattr(cls, n, None), UnboundField))
    for page in TEMPLATES.glob("*.html"):
        names.update(re.findall(r'name="([A-Za-z_][\w-]*)"', page.read_text()))
    names.update(f"desa-{i}-{part}" for i in range(3) for part in ("code", "include", "target"))
    return sorted(names - {"csrf_token"})


# ------------------------------------------------------------------------------ strategies

def _values(seed):
    ints = st.one_of(st.sampled_from(EDGE_INTS), st.integers(-(2 ** 80), 2 ** 80),
                     st.sampled_from(seed["ints"]))  # form fields may name any id: no harm
    text = st.text(st.characters(codec=None, exclude_categories=()), max_size=24)
    dates = st.dates().map(lambda d: d.isoformat())
    return st.one_of(ints.map(str), dates, text, st.sampled_from(EDGE_TEXT),
                     st.sampled_from(seed["texts"]))


def _path_value(seed, name, converter):
    if isinstance(converter, IntegerConverter):
        # Role accounts have small ids: a random id stays clear of them (see module docstring).
        known = seed["ids"].get(name) or [10 ** 6]
        return st.one_of(st.sampled_from(known), st.sampled_from(EDGE_INTS[4:]),
                         st.integers(1000, 2 ** 80), st.integers(-(2 ** 70), -1)).map(str)
    return st.one_of(st.sampled_from(seed["texts"]), _values(seed))


def _encode(text):
    # surrogatepass: the bytes a hostile client would send for a lone surrogate
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _query(pairs):
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)


def _json_values():
    leaves = st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 70), 2 ** 70),
                       st.floats(allow_nan=False), st.text(max_size=20),
                       st.sampled_from(EDGE_TEXT))
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
        max_leaves=12)


# ------------------------------------------------------------------------------ the fuzz

def _routes(app):
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint.split(".")[0] not in BLUEPRINTS:
            continue
        methods = set(rule.methods) - {"OPTIONS"}
        if "GET" in methods:
            methods.discard("HEAD")
        out.extend((rule, method) for method in sorted(methods))
    return out


def _login(app, role):
    client = app.test_client()
    if role is not None:
        res = client.post("/login", data={"username": role, "password": PASSWORDS[role]})
        assert res.status_code == 302, (role, res.status_code)
    return client


def test_no_office_or_api_route_answers_5xx(app, client, device):
    # Thousands of wrong logins come from one test address: the throttles (tested in
    # tests/server/test_auth.py) would otherwise lock the role accounts out of the fuzz.
    app.config.update(LOGIN_RATE_LIMIT=10 ** 9, LOGIN_ADDRESS_RATE_LIMIT=10 ** 9,
                      LOGIN_ACCOUNT_RATE_LIMIT=10 ** 9)
    seed = _seed(app, client, device)
    phone = device.login(label="HP fuzz")
    fields = _field_names()
    routes = _routes(app)
    assert {r.endpoint for r, _m in routes} >= {"web.residents", "auth.login", "api.sync"}
    seen = []

    def run(rule, method):
        path_args = {name: _path_value(seed, name, conv)
                     for name, conv in rule._converters.items()}
        is_api = rule.endpoint.startswith("api.")

        @given(data=st.data())
        @settings(max_examples=examples(6), deadline=None, database=None, phases=phases(),
                  suppress_health_check=list(HealthCheck))
        def call(data):
            values = _values(seed)
            args = {name: data.draw(strategy, label=name) for name, strategy in path_args.items()}
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: _encode(args[m.group(1)]),
                          rule.rule)
            query = data.draw(st.lists(st.tuples(st.sampled_from(QUERY_KEYS), values),
                                       max_size=4), label="query")
            url = path + ("?" + _query(query) if query else "")
            role = data.draw(st.sampled_from(ROLES), label="role")
            client = _login(app, None if is_api else role)
            headers = {}
            body = b""
            content_type = None
            if is_api:
                token = data.draw(st.sampled_from([phone["token"], None, "x", "\x00"]),
                                  label="token")
                if token is not None:
                    headers["Authorization"] = f"Bearer {token}"
                payload = data.draw(_json_values(), label="json")
                if isinstance(payload, dict) and data.draw(st.booleans(), label="envelope"):
                    payload = {"protocol": 1, "client_id": phone["client_id"],
                               "app_version": "t", "sent_at": "2026-11-28T09:00:00+08:00",
                               "cursor": None, "mutations": [payload], **payload}
                body = json.dumps(payload).encode()
                content_type = "application/json"
            elif method in ("POST", "PUT"):
                names = st.one_of(st.sampled_from(fields), st.sampled_from([
                    f"{prefix}-{rid}" for prefix in ("outcome", "reason", "reason_text")
                    for rid in seed["residents"]]), st.text(max_size=8))
                pairs = data.draw(st.lists(st.tuples(names, values), max_size=8), label="form")
                body = _query(pairs).encode()
                content_type = "application/x-www-form-urlencoded"
                if data.draw(st.integers(0, 5), label="multipart") == 0:
                    content_type = None  # a file upload (the list import)
                    raw = data.draw(st.sampled_from([b"", b"PK\x03\x04", b"nama\nx\x07\n",
                                                     b"\xff" * 40]), label="file")
                    name = data.draw(st.sampled_from(["d.xlsx", "d.csv", "d", "\x07.csv"]),
                                     label="filename")
                    body = {"file": (io.BytesIO(raw), name)}
            kwargs = {"headers": headers}
            if isinstance(body, dict):
                kwargs.update(data=body, content_type="multipart/form-data")
            elif body or content_type:
                kwargs.update(data=body, content_type=content_type)
            res = client.open(url, method=method, **kwargs)
            seen.append((rule.endpoint, method, res.status_code))
            assert res.status_code < 500, (method, url, role, res.status_code,
                                           res.get_data(as_text=True)[:300])

        call()

    for rule, method in routes:
        run(rule, method)

    hit = {(endpoint, method) for endpoint, method, _s in seen}
    assert hit == {(r.endpoint, m) for r, m in routes}
