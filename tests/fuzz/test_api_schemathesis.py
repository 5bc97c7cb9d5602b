"""schemathesis against /api/openapi.json (in process, WSGI), on SQLite and PostgreSQL:
no 500, and every response matches the document (status, content type, headers, body).

Generated bodies go in as they are (positive and negative data). Besides, a share of the
sync requests is steered past the first gates (the device's real client_id, known mutation
names) so that random mutation args reach the handlers.
"""
import random

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks
from schemathesis.specs.openapi import checks as oa

from cah_testkit import PASSWORDS
from fuzz_kit import examples, phases

TIME_LIMIT = 150
# The brief: no 500, and every response as documented. Besides: schema-invalid input is
# refused, and auth is never ignored. Not "positive_data_acceptance": the document cannot
# express every business rule (unknown mutation names, repeated ids, 500-mutation cap), so
# a schema-valid body may rightly get a documented 400/413.
CHECKS = [checks.not_a_server_error, oa.status_code_conformance, oa.content_type_conformance,
          oa.response_headers_conformance, oa.response_schema_conformance,
          oa.negative_data_rejection, oa.ignored_auth, oa.unsupported_method]
KNOWN_NAMES = ("register_resident", "update_resident")


def _device(client):
    res = client.post("/api/auth/device", json={
        "username": "petugas", "password": PASSWORDS["petugas"], "device_label": "fuzz"})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def _steer(case, device):
    """Deterministically (per body) point some sync requests at the real client and at
    handlers, keeping the generated args."""
    body = case.body
    if not isinstance(body, dict):
        return
    rng = random.Random(repr(body))
    if rng.random() < 0.7:
        body["client_id"] = device["client_id"]
    mutations = body.get("mutations")
    if isinstance(mutations, list) and rng.random() < 0.7:
        for index, m in enumerate(mutations):
            if isinstance(m, dict):
                m["name"] = rng.choice(KNOWN_NAMES)
                if rng.random() < 0.5:
                    m["id"] = index + 1


def test_api_matches_its_document(app):
    # The strategies are driven by hand (not schema.parametrize): schemathesis' pytest plugin
    # and this pytest version disagree about node ids, and one test per backend is enough.
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/sync", "/api/auth/device"}
    client = app.test_client()
    # Thousands of wrong device logins come from one test address: the per-address login
    # throttle (tested in tests/server/test_auth.py) would otherwise refuse the real login.
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = 10**9
    seen = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode == GenerationMode.NEGATIVE and not (operation.body
                                                        or list(operation.iter_parameters())):
                continue  # nothing a client sends can be made invalid (GET /api/health)

            @given(case=operation.as_strategy(mode))
            @settings(max_examples=examples(40), deadline=None, database=None, phases=phases(),
                      suppress_health_check=list(HealthCheck))
            def check(case):
                device = _device(client)
                if case.operation.path == "/api/sync" and mode == GenerationMode.POSITIVE:
                    _steer(case, device)  # negative cases stay as generated
                # The WSGI transport does not undo Content-Encoding; the gzip answers are
                # exercised by real clients (tests/faults, tests/e2e).
                headers = {"Accept-Encoding": "identity"}
                if case.operation.path != "/api/openapi.json" and not (
                        case.operation.path == "/api/auth/device"
                        and case.method.upper() == "POST"):
                    headers["Authorization"] = f"Bearer {device['token']}"
                response = case.call_and_validate(headers=headers, checks=CHECKS)
                seen.append((case.method.upper(), case.operation.path, response.status_code))

            check()
    statuses = {(m, p, s) for m, p, s in seen}
    assert ("POST", "/api/sync", 200) in statuses, sorted(statuses)
