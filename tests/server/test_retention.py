"""Retention (issue #8 part 5): rejected mutations and unfinished uploads are deleted after
their period, by `pakkedes purge` and, at most once per interval, after a sync."""
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from server import create_app
from server.attachments import AttachmentUpload
from server.cli import main
from server.extensions import db
from server.models import OfficeSession
from server.retention import purge_expired
from sync.models import RejectedMutation

NOW = datetime.now(timezone.utc)


def _rejection(mutation_id, age_days):
    return RejectedMutation(client_id="5a1d3c1e-0000-4000-8000-00000000000a",
                            mutation_id=mutation_id, user_id=1, name="register_resident",
                            args={"name": "Warga Uji"}, code="validation_error",
                            message="Data belum lengkap.", fields={"sex": "Pilihan tidak valid."},
                            created_at=NOW - timedelta(days=age_days))


def _engine(db_url):
    return create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))


@pytest.fixture
def runner(db_url, monkeypatch):
    monkeypatch.setenv("CAH_DATABASE_URL", db_url)
    monkeypatch.delenv("CAH_REJECTED_RETENTION_DAYS", raising=False)
    with create_app().app_context():
        db.drop_all()
        db.engine.dispose()  # this app's own pool: unclosed connections warn (= fail)
    return CliRunner()


def test_purge_command_deletes_what_is_past_retention(runner, db_url, monkeypatch):
    assert runner.invoke(main, ["init"]).exit_code == 0
    engine = _engine(db_url)
    with Session(engine) as session:
        session.add_all([_rejection(1, 91), _rejection(2, 50), _rejection(3, 400),
                         _rejection(4, 5)])
        for offset, age in ((0, 15), (10, 13)):  # two users' uploads, one stale
            session.add(AttachmentUpload(user_id=offset + 1, sha256="a" * 64, offset=0,
                                         length=3, total=10, mime="image/jpeg", data=b"abc",
                                         kecamatan_code="631104",
                                         created_at=NOW - timedelta(days=age)))
        session.commit()

    res = runner.invoke(main, ["purge"])
    assert res.exit_code == 0, res.output
    assert "2 perubahan ditolak" in res.output and "1 potongan unggahan" in res.output
    with engine.connect() as conn:
        assert sorted(conn.execute(text("select mutation_id from rejected_mutations")).scalars()) == [2, 4]
        assert conn.execute(text("select count(*) from attachment_uploads")).scalar_one() == 1

    assert "0 perubahan ditolak" in runner.invoke(main, ["purge"]).output
    monkeypatch.setenv("CAH_REJECTED_RETENTION_DAYS", "30")  # configurable
    res = runner.invoke(main, ["purge"])
    assert res.exit_code == 0 and "1 perubahan ditolak" in res.output
    engine.dispose()


def _stored(app):
    with app.app_context():
        return sorted(db.session.scalars(select(RejectedMutation.mutation_id)))


def _add_old(app, mutation_id):
    with app.app_context():
        db.session.add(_rejection(mutation_id, 120))
        db.session.commit()


def test_a_sync_purges_at_most_once_per_interval(app, device, make_registration):
    session = device.login()
    _add_old(app, 1)
    assert device.sync(session).status_code == 200
    assert _stored(app) == []  # the first sync of this process purged

    _add_old(app, 2)
    assert device.sync(session).status_code == 200
    assert _stored(app) == [2]  # within the interval: not again

    state = app.extensions["cah_retention"]
    state["last"] -= timedelta(hours=app.config["RETENTION_PURGE_INTERVAL_HOURS"], seconds=1)
    assert device.sync(session).status_code == 200
    assert _stored(app) == []


def test_automatic_purge_can_be_turned_off(app, device):
    app.config["RETENTION_PURGE_INTERVAL_HOURS"] = 0
    session = device.login()
    _add_old(app, 1)
    assert device.sync(session).status_code == 200
    assert _stored(app) == [1]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RejectedMutation)) == 1


def test_ended_office_sessions_are_purged(app, client, auth):
    # A browser that never comes back (cookies cleared, a script) leaves its session row:
    # the purge deletes rows past the lifetime or the idle limit, and keeps live ones.
    for _ in range(3):
        auth.login()
        client.delete_cookie("cah_session")
    auth.login()  # this browser stays logged in
    with app.app_context():
        rows = db.session.scalars(select(OfficeSession).order_by(OfficeSession.created_at)).all()
        assert len(rows) == 4
        rows[0].created_at = NOW - timedelta(days=30)  # past the 8-hour lifetime
        rows[1].last_seen_at = NOW - timedelta(hours=5)  # idle past 4 hours
        db.session.commit()
        assert purge_expired(NOW)["office_sessions"] == 2
        assert db.session.scalar(select(func.count()).select_from(OfficeSession)) == 2
    assert client.get("/residents").status_code == 200  # the live session is untouched
