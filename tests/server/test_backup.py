"""`pakkedes backup` / `pakkedes restore` on SQLite and PostgreSQL (issue #9), and a restore
healed by two phones through the real API: every record exactly once, nothing rejected."""
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from attachment_kit import CLEAN_JPEG, sha
from cah_testkit import registration
from server.attachments import Attachment
from server.backup import BackupError, backup_database, restore_database
from server.cli import main
from server.extensions import db
from server.migrations import current_revision, head_revision
from sync.identity import database_id
from sync.models import RejectedMutation, Resident, ResidentEvent


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _identity(app):
    with app.app_context():
        value = database_id(db.session)
        db.session.commit()
        return value


def _backup(app, path):
    with app.app_context():
        db.session.remove()
        return backup_database(db.engine, path)


def _restore(app, path):
    with app.app_context():
        db.session.remove()
        return restore_database(db.engine, path)


def _put_photo(client, phone, data):
    return client.put(f"/api/attachments/{sha(data)}", data=data, headers={
        "Content-Type": "image/jpeg", "Authorization": f"Bearer {phone['token']}"})


def test_a_restore_brings_back_the_backup_with_its_photos_and_a_new_identity(
        app, client, device, tmp_path):
    phone = device.login()
    assert device.sync(phone, [registration(1, name="Warga Cadangan")]).status_code == 200
    assert _put_photo(client, phone, CLEAN_JPEG).status_code == 201
    before = _identity(app)

    result = _backup(app, tmp_path / "cah.backup")
    assert result.size > 0 and result.database_id == before

    assert device.sync(phone, [registration(2, name="Warga Sesudah Cadangan")]).status_code == 200
    with app.app_context():
        db.session.execute(Attachment.__table__.delete())
        db.session.commit()
    assert _count(app, Resident) == 2 and _count(app, Attachment) == 0

    new = _restore(app, tmp_path / "cah.backup")
    assert new != before and _identity(app) == new
    with app.app_context():
        names = db.session.scalars(select(Resident.name)).all()
        photo = db.session.get(Attachment, (sha(CLEAN_JPEG), "631104"))
        with db.engine.connect() as connection:
            revision = current_revision(connection)
    assert names == ["Warga Cadangan"]
    assert photo is not None and photo.size == len(CLEAN_JPEG)  # photos live in the database
    assert revision == head_revision()


def test_restore_refuses_a_file_that_is_not_a_backup(app, tmp_path):
    before = _identity(app)
    stray = tmp_path / "catatan.txt"
    stray.write_text("bukan cadangan")
    with pytest.raises(BackupError, match="bukan cadangan"):
        _restore(app, stray)
    with pytest.raises(BackupError, match="tidak ada"):
        _restore(app, tmp_path / "hilang.backup")
    assert _identity(app) == before  # nothing was touched


def test_the_commands(app, tmp_path, monkeypatch):
    monkeypatch.setenv("CAH_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    target = tmp_path / "harian" / "cah.backup"
    runner = CliRunner()
    made = runner.invoke(main, ["backup", str(target)])
    assert made.exit_code == 0, made.output
    assert "Cadangan ditulis" in made.output and target.is_file()
    refused = runner.invoke(main, ["restore", str(target)], input="n\n")
    assert refused.exit_code != 0
    done = runner.invoke(main, ["restore", "--yes", str(target)])
    assert done.exit_code == 0, done.output
    assert "identitas baru" in done.output


def _resend(device, session, log, first_id, origin=True):
    """What the phone app does when it heals (pwa/js/heal-rules.js): its kept log again, in
    order, numbered on from first_id, each with the client and id it was first sent as."""
    mutations = []
    for i, (client_id, mutation) in enumerate(log):
        resent = {**mutation, "id": first_id + i}
        if origin:
            resent["origin"] = {"client_id": client_id, "id": mutation["id"]}
        mutations.append(resent)
    return device.sync(session, mutations)


def test_two_phones_heal_a_restored_server(app, client, device, tmp_path):
    early = device.login("petugas", label="HP lama")  # logged in before the backup
    early_log = [registration(n, name=f"Warga Awal {n}") for n in (1, 2)]
    assert device.sync(early, early_log).get_json()["last_mutation_id"] == 2
    _backup(app, tmp_path / "cah.backup")
    old_identity = _identity(app)

    early_after = [registration(n, name=f"Warga Awal {n}") for n in (3, 4)]
    assert device.sync(early, early_after).get_json()["last_mutation_id"] == 4
    late = device.login("petugas2", label="HP baru")  # logged in after the backup
    late_log = [registration(n, name=f"Warga Baru {n}") for n in (1, 2)]
    assert device.sync(late, late_log).get_json()["last_mutation_id"] == 2
    truth = sorted(db_names(app))

    _restore(app, tmp_path / "cah.backup")

    # The early phone: known to the restored server, which says it has only up to 2 and
    # carries a new identity; the phone resends 3 and 4 as 3 and 4 (same client, no origin).
    answer = device.sync(early, [registration(5, name="Warga Awal 5")])
    assert answer.status_code == 409
    assert answer.get_json()["last_mutation_id"] == 2
    assert answer.get_json()["database_id"] != old_identity
    healed = device.sync(early, [*early_after, registration(5, name="Warga Awal 5")])
    assert [r["status"] for r in healed.get_json()["results"]] == ["applied"] * 3

    # The late phone: its token is unknown to the restored server (401); it logs in again,
    # sees another identity in the login answer, and resends its whole log with origins.
    assert device.sync(late).status_code == 401
    again = device.login("petugas2", label="HP baru")
    assert again["database_id"] == healed.get_json()["database_id"]
    resent = _resend(device, again, [(late["client_id"], m) for m in late_log], 1)
    assert [r["status"] for r in resent.get_json()["results"]] == ["applied"] * 2
    # Resent twice (an answer lost on the way): still once.
    twice = device.login("petugas2", label="HP baru")
    duplicate = _resend(device, twice, [(late["client_id"], m) for m in late_log], 1)
    assert [r["status"] for r in duplicate.get_json()["results"]] == ["duplicate"] * 2

    assert sorted(db_names(app)) == sorted([*truth, "Warga Awal 5"])
    assert _count(app, ResidentEvent) == _count(app, Resident) == 7
    assert _count(app, RejectedMutation) == 0
    with app.app_context():
        clients = set(db.session.scalars(select(ResidentEvent.client_id)))
    assert late["client_id"] in clients  # history names the client that first sent them


def db_names(app):
    with app.app_context():
        return db.session.scalars(select(Resident.name)).all()
