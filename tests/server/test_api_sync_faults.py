"""POST /api/sync never answers 500 for one bad record (issue #8 part 2): through the whole
stack on SQLite and PostgreSQL. A database outage is a 503 with nothing applied."""
import json

import pytest
from sqlalchemy import func, select, text

from server.extensions import db
from sync.models import Client, RejectedMutation, Resident


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Resident)),
                db.session.scalar(select(func.count()).select_from(RejectedMutation)),
                db.session.scalar(select(func.max(Client.last_mutation_id))))


def _raw_sync(client, session, mutations_json):
    """POST /api/sync with the mutations given as JSON text (numbers like 1e309 stay as sent)."""
    body = ('{"protocol": 1, "client_id": "%s", "app_version": "test", '
            '"sent_at": "2026-11-28T09:00:00+08:00", "cursor": null, "mutations": %s}'
            % (session["client_id"], mutations_json))
    return client.post("/api/sync", data=body, content_type="application/json",
                       headers={"Authorization": f"Bearer {session['token']}"})


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:00:00-02:00"])
def test_an_absurd_pickup_time_is_one_rejection_not_a_500(moment, device, make_registration):
    session = device.login()
    first = make_registration(1)
    rid = first["args"]["resident_id"]
    verify = {"id": 2, "name": "verify_resident", "at": "2026-11-28T09:20:00+08:00",
              "args": {"resident_id": rid, "checks": {"kk_copy_seen": True,
                       "age_eligible": True, "marital_eligible": True}}}
    assert device.sync(session, [first, verify]).status_code == 200
    good = make_registration(3, name="Warga Baik")
    pick_up = {"id": 4, "name": "pick_up", "at": "2026-11-28T09:30:00+08:00",
               "args": {"pickup_id": "5a1d3c1e-0000-4000-8000-000000000001",
                        "resident_ids": [rid], "picked_up_at": moment,
                        "pickup_point": "Balai Desa"}}
    for _ in range(2):  # the retry gets the same answer: the outbox moves on
        res = device.sync(session, [good, pick_up])
        assert res.status_code == 200, res.get_json()
        results = res.get_json()["results"]
        assert [r["status"] for r in results] in (["applied", "rejected"],
                                                  ["duplicate", "duplicate"])
        assert results[1]["code"] == "validation_error"
        assert list(results[1]["fields"]) == ["picked_up_at"]
        assert res.get_json()["last_mutation_id"] == 4


@pytest.mark.parametrize("junk", ["1e309", "-1e309", "123456789012345678901234567890",
                                  '"\\ud800"', '{"\\udfff": [1e999]}'])
def test_a_rejected_mutation_holding_any_json_number_is_stored(junk, app, client, device,
                                                              make_registration):
    session = device.login()
    bad = make_registration(1, sex="x")
    bad_json = json.dumps(bad)[:-2] + ', "extra": ' + junk + "}}"
    good = json.dumps(make_registration(2, name="Warga Baik"))
    res = _raw_sync(client, session, f"[{bad_json}, {good}]")
    assert res.status_code == 200, res.get_json()
    assert [r["status"] for r in res.get_json()["results"]] == ["rejected", "applied"]
    assert _counts(app) == (1, 1, 2)


def _outage_trigger(app):
    """A real trigger that takes the database away while a registration is applied."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(
                "CREATE FUNCTION outage_now() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.name = 'Warga Pemadaman' THEN "
                "PERFORM pg_terminate_backend(pg_backend_pid()); END IF; RETURN NEW; END $$"))
            db.session.execute(text("CREATE TRIGGER outage_now BEFORE INSERT ON residents "
                                    "FOR EACH ROW EXECUTE FUNCTION outage_now()"))
        else:
            db.session.execute(text(
                "CREATE TRIGGER outage_now BEFORE INSERT ON residents "
                "WHEN NEW.name = 'Warga Pemadaman' BEGIN INSERT INTO gone VALUES (1); END"))
        db.session.commit()


def test_a_database_outage_is_a_503_with_nothing_applied(app, device, make_registration):
    session = device.login()
    _outage_trigger(app)
    res = device.sync(session, [make_registration(1), make_registration(2, name="Warga Pemadaman")])
    assert res.status_code == 503, res.get_json()
    body = res.get_json()
    assert body["code"] == "database_unavailable" and body["message"]
    assert "Warga" not in json.dumps(body)
    assert _counts(app) == (0, 0, 0)
    # the phone retries later: once the database is back, the same batch goes through
    with app.app_context():
        db.session.execute(text("DROP TRIGGER outage_now" + (
            " ON residents" if db.engine.dialect.name == "postgresql" else "")))
        db.session.commit()
    res = device.sync(session, [make_registration(1)])
    assert res.status_code == 200 and _counts(app)[0] == 1
