"""Schema migrations (issue #9): the models and the migrations agree, and a 0.1.0 database
with data in every table upgrades to the newest revision with nothing lost — on SQLite and
PostgreSQL. Every later schema change comes with a revision and keeps these tests green."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

from cah_testkit import SECRET_KEY
from migration_kit import (
    create_0_1_0,
    empty_engine_fixture,  # noqa: F401  (the `engine` fixture)
    fill_every_table,
    schema_picture,
    table_rows,
    wipe,
)
from server.cli import main
from server.migrations import (
    RELEASED_0_1_0_TABLES,
    current_revision,
    downgrade_database,
    head_revision,
    migration_options,
    target_metadata,
    upgrade_database,
)

# 0.1.0's short-lived login counters, replaced by login_throttle in 0002 (see its docstring).
DROPPED_BY_DESIGN = {"login_failures"}


@pytest.fixture
def pakkedes(db_url, monkeypatch):
    """Run `pakkedes ARGS…` on the test database; returns the click Result."""
    monkeypatch.setenv("CAH_DATABASE_URL", db_url)
    monkeypatch.setenv("CAH_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("CAH_PASSWORD", "kata-sandi-uji-migrasi")
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


def differences(engine):
    """Alembic's own comparison of the database with the models ([] when they agree)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=migration_options())
        return compare_metadata(context, target_metadata())


def revision_of(engine):
    with engine.connect() as connection:
        return current_revision(connection)


def models_picture(engine):
    """The schema create_all makes from today's models (the database is wiped after)."""
    wipe(engine)
    target_metadata().create_all(engine)
    picture = schema_picture(engine)
    wipe(engine)
    return picture


def test_models_and_migrations_agree(engine):
    result = upgrade_database(engine)
    assert (result.before, result.after, result.adopted_0_1_0) == (None, head_revision(), False)
    assert differences(engine) == []
    # Alembic does not compare primary keys or foreign-key options: the reflected picture does.
    assert schema_picture(engine) == models_picture(engine)


def test_the_check_sees_a_model_change_without_its_revision(engine):
    upgrade_database(engine, "0001")  # as if 0002 had not been written
    # Column changes come as lists of tuples (e.g. a nullable change); table ones as tuples.
    found = {(d[0], d[1].name) for d in differences(engine)
             if isinstance(d, tuple) and d[0].endswith("_table")}
    assert {("add_table", "login_throttle"), ("add_table", "office_sessions"),
            ("remove_table", "login_failures")} <= found
    picture = schema_picture(engine)
    assert picture["attachments"]["pk"] == ("pk_attachments", ("sha256",))
    assert picture != models_picture(engine)


def test_revision_0001_is_the_released_0_1_0_schema(engine):
    upgrade_database(engine, "0001")
    migrated = schema_picture(engine)
    wipe(engine)
    create_0_1_0(engine)
    assert set(migrated) == RELEASED_0_1_0_TABLES
    assert migrated == schema_picture(engine)


@pytest.mark.parametrize("made_by", ["revision 0001", "0.1.0 create_all"])
def test_a_0_1_0_database_with_data_in_every_table_upgrades_with_nothing_lost(engine, made_by):
    if made_by == "revision 0001":
        upgrade_database(engine, "0001")
    else:
        create_0_1_0(engine)
    assert fill_every_table(engine) == {name: 2 for name in RELEASED_0_1_0_TABLES}
    before = table_rows(engine)

    result = upgrade_database(engine)

    assert (result.before, result.after) == ("0001", head_revision())
    assert result.adopted_0_1_0 == (made_by == "0.1.0 create_all")
    after = table_rows(engine)
    for name in RELEASED_0_1_0_TABLES - DROPPED_BY_DESIGN:
        assert [{k: row[k] for k in before[name][0]} for row in after[name]] == before[name], name
    assert not DROPPED_BY_DESIGN & set(after)
    assert differences(engine) == []


def test_init_adopts_a_0_1_0_create_all_database_and_keeps_its_data(engine, pakkedes):
    create_0_1_0(engine)
    fill_every_table(engine)
    before = table_rows(engine)

    res = pakkedes("init")

    assert res.exit_code == 0, res.output
    assert "Basis data versi 0.1.0 (tanpa revisi skema) dikenali dan ditandai 0001." in res.output
    assert f"Skema dinaikkan dari revisi 0001 ke {head_revision()}." in res.output
    assert revision_of(engine) == head_revision()
    after = table_rows(engine)
    for name in RELEASED_0_1_0_TABLES - DROPPED_BY_DESIGN - {"wilayah"}:
        # Columns added by later revisions (attachments.referenced_at …) are not compared.
        assert [{k: row[k] for k in before[name][0]} for row in after[name]] == before[name], name
    assert all(row in after["wilayah"] for row in before["wilayah"])  # plus Balangan's
    # Numbering goes on after the adopted rows (PostgreSQL sequences, SQLite rowids).
    res = pakkedes("create-user", "andi_migrasi", "--role", "petugas", "--kecamatan", "631104")
    assert res.exit_code == 0, res.output
    assert len(table_rows(engine)["users"]) == len(before["users"]) + 1


def test_init_twice_is_a_no_op(engine, pakkedes):
    first = pakkedes("init")
    assert first.exit_code == 0, first.output
    assert f"Skema dinaikkan dari revisi (kosong) ke {head_revision()}." in first.output
    picture, rows = schema_picture(engine), table_rows(engine)

    second = pakkedes("init")

    assert second.exit_code == 0, second.output
    assert f"Skema sudah pada revisi {head_revision()}." in second.output
    assert "0 wilayah baru" in second.output
    assert (schema_picture(engine), table_rows(engine)) == (picture, rows)


def test_init_refuses_tables_without_revision_that_are_not_0_1_0(engine, pakkedes):
    target_metadata().create_all(engine)  # today's tables, but never stamped by Alembic
    picture = schema_picture(engine)

    res = pakkedes("init")

    assert res.exit_code == 1
    assert "bukan skema 0.1.0" in res.output and "login_throttle" in res.output
    assert revision_of(engine) is None
    assert schema_picture(engine) == picture


def test_a_revision_left_behind_by_dropped_tables_is_ignored(engine, pakkedes):
    upgrade_database(engine)
    target_metadata().drop_all(engine)  # alembic_version stays, saying "head"

    res = pakkedes("init")

    assert res.exit_code == 0, res.output
    assert f"Skema dinaikkan dari revisi (kosong) ke {head_revision()}." in res.output
    assert differences(engine) == []


def test_downgrade_to_0001_and_back(engine, pakkedes):
    create_0_1_0(engine)
    released = schema_picture(engine)
    wipe(engine)
    upgrade_database(engine)

    res = pakkedes("db", "downgrade", "0001")

    assert res.exit_code == 0, res.output
    assert schema_picture(engine) == released
    assert upgrade_database(engine).after == head_revision()
    assert differences(engine) == []
    assert downgrade_database(engine, "base") is None
    assert set(schema_picture(engine)) == set()


def test_db_commands_for_operators(engine, pakkedes):
    history = pakkedes("db", "history")
    assert history.exit_code == 0
    lines = history.output.splitlines()
    assert [line.split()[0] for line in lines[:2]] == ["0001", "0002"]  # oldest first
    assert lines[-1].split()[0] == head_revision()
    assert "0.1.0" in lines[0]
    assert "belum ada revisi" in pakkedes("db", "current").output

    assert pakkedes("db", "upgrade", "0001").exit_code == 0
    assert revision_of(engine) == "0001"
    current = pakkedes("db", "current").output
    assert f"0001 (terbaru: {head_revision()}; jalankan pakkedes db upgrade)" in current

    upgraded = pakkedes("db", "upgrade")
    assert upgraded.exit_code == 0
    assert f"dari revisi 0001 ke {head_revision()}" in upgraded.output
    assert f"{head_revision()} (terbaru)" in pakkedes("db", "current").output

    for command in ("upgrade", "downgrade"):
        unknown = pakkedes("db", command, "9999")
        assert unknown.exit_code == 1 and "revisi skema 9999 tidak dikenal" in unknown.output
    assert revision_of(engine) == head_revision()


def test_downgrade_below_0006_refuses_while_disdukcapil_users_exist(engine, pakkedes):
    """Their kecamatan_code is empty, which the older schema cannot hold: refused before any
    change (on SQLite too, no half-copied table left behind), then fine once they are gone."""
    upgrade_database(engine)
    assert pakkedes("create-user", "dukcapil-migrasi", "--role", "disdukcapil",
                    "--kabupaten", "63.11").exit_code == 0
    before = schema_picture(engine)

    res = pakkedes("db", "downgrade", "0005")

    assert res.exit_code == 1
    assert "pengguna Disdukcapil" in res.output and "Traceback" not in res.output
    assert revision_of(engine) == head_revision()
    assert schema_picture(engine) == before
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_log")
        connection.exec_driver_sql("DELETE FROM users WHERE kecamatan_code IS NULL")
    assert pakkedes("db", "downgrade", "0005").exit_code == 0
    assert revision_of(engine) == "0005"
    assert upgrade_database(engine).after == head_revision()
