"""Versioned schema migrations (Alembic), configured in code: no alembic.ini at run time.

The scripts (env.py, versions/) ship inside the ``server`` package. Revision ``0001`` is the
schema released as 0.1.0; every later schema change is one more revision under versions/.

How a database is brought to a revision (``upgrade_database``), judged by its tables first:

* no ``residents`` table: nothing of ours is there → upgrade from nothing (a stale
  ``alembic_version`` row, left by tables dropped by hand, is cleared first);
* ``residents`` but no Alembic revision: made by 0.1.0's ``create_all`` → stamped ``0001``,
  then upgraded;
* otherwise → upgraded from the revision it carries.

Everything runs in one transaction: a failing upgrade leaves the database as it was, on
PostgreSQL and on SQLite (an explicit BEGIN IMMEDIATE, see _migrating). Take a backup before
every upgrade all the same (docs/deploy.md).
"""
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from sync.models import Base

# Imported for their side effect: each registers its tables on Base.metadata.
from .. import attachment_models, models, operations  # noqa: F401

SCRIPT_LOCATION = Path(__file__).resolve().parent
RELEASED_0_1_0 = "0001"
# A table every schema since 0.1.0 has; without it the database holds nothing of ours.
MARKER_TABLE = "residents"
# The tables 0.1.0's create_all made: a database without a revision is adopted as 0.1.0 only
# when it has exactly these of ours, so that an unknown schema is refused before any change.
RELEASED_0_1_0_TABLES = frozenset({
    "assignments", "attachment_uploads", "attachments", "audit_log", "batch_items", "batches",
    "change_counter", "clients", "conflicts", "login_failures", "operation_desa", "operations",
    "rejected_mutations", "resident_events", "residents", "users", "wilayah"})


class UnknownSchema(RuntimeError):
    """Tables of CAH without an Alembic revision that are not the 0.1.0 schema either."""


def target_metadata():
    """The MetaData of every table (sync/ and server/ share sync.models.Base.metadata)."""
    return Base.metadata


def migration_options():
    """Options of Alembic's MigrationContext shared by the migrations and the model check.

    SQLite cannot ALTER most things, so operations run in batch mode (copy-and-move there,
    plain ALTER on PostgreSQL).
    """
    return {"render_as_batch": True, "compare_type": True, "compare_server_default": True}


def alembic_config(connection=None):
    """An Alembic Config for our scripts; connection (optional) is the one env.py uses."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = connection
    return config


def script_directory():
    """Alembic's view of versions/ (revisions, their order and docs)."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision():
    """The newest revision id (str) the code expects."""
    return script_directory().get_current_head()


def current_revision(connection):
    """The revision (str) the database is stamped with, or None when it has none."""
    return MigrationContext.configure(connection).get_current_revision()


def history():
    """Every revision, oldest first: list of (revision id, first line of its docstring)."""
    revisions = list(script_directory().walk_revisions())
    return [(r.revision, (r.doc or "").strip().splitlines()[0] if r.doc else "")
            for r in reversed(revisions)]


@dataclass(frozen=True)
class UpgradeResult:
    """What upgrade_database did: the revision it started from (None: an empty database;
    "0001" for an adopted 0.1.0 create_all database), the revision after, and whether such a
    database was adopted (stamped 0001)."""

    before: str | None
    after: str | None
    adopted_0_1_0: bool


def upgrade_database(engine, revision="head"):
    """Bring the database of engine to revision ("head" or an id); returns an UpgradeResult.

    Raises UnknownSchema (nothing changed) for tables of ours without a revision that are not
    the 0.1.0 schema, alembic.util.CommandError for an unknown revision, MigrationRefused when a
    step refuses, SQLAlchemyError when the database refuses a step (nothing of the upgrade is
    then kept).
    """
    with _migrating(engine) as connection:
        config = alembic_config(connection)
        before = current_revision(connection)
        has_tables = inspect(connection).has_table(MARKER_TABLE)
        adopted = before is None and has_tables
        if not has_tables and before is not None:
            command.stamp(config, "base", purge=True)
            before = None
        if adopted:
            _check_is_0_1_0(connection)
            command.stamp(config, RELEASED_0_1_0)
            before = RELEASED_0_1_0
        command.upgrade(config, revision)
        return UpgradeResult(before, current_revision(connection), adopted)


def _check_is_0_1_0(connection):
    ours = RELEASED_0_1_0_TABLES | set(target_metadata().tables)
    found = set(inspect(connection).get_table_names()) & ours
    if found != RELEASED_0_1_0_TABLES:
        odd = sorted(found ^ RELEASED_0_1_0_TABLES)
        raise UnknownSchema(
            "Basis data berisi tabel CAH tanpa revisi skema, tetapi bukan skema 0.1.0 (tabel "
            f"berbeda: {', '.join(odd)}); tidak ada yang diubah. Pulihkan cadangan atau tandai "
            "revisinya dengan alembic sebelum menaikkan skema.")


def downgrade_database(engine, revision):
    """Take the database of engine back to revision (an id, or "base" for no tables at all).

    Data that only the newer schema can hold is lost (e.g. login throttling, office
    sessions). Raises alembic.util.CommandError for an unknown revision, SQLAlchemyError when
    the database refuses a step.
    """
    with _migrating(engine) as connection:
        command.downgrade(alembic_config(connection), revision)
        return current_revision(connection)


class MigrationRefused(RuntimeError):
    """A migration step refused to run (an Indonesian message says why); nothing was changed."""


class ForeignKeyViolation(MigrationRefused):
    """A migration on SQLite left rows pointing at nothing (nothing of it was committed)."""


@contextmanager
def _migrating(engine):
    """A connection in a transaction for a migration run: all of it is kept, or none.

    On SQLite, foreign keys are switched off around the transaction and checked with
    `PRAGMA foreign_key_check` before the commit — SQLite's own procedure for changing a table
    (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
    Changes"): Alembic's batch mode copies a table and drops the old one, and a drop of a
    referenced table fails while foreign keys are enforced. The pragma has no effect inside a
    transaction, hence outside it; it is switched on again for the pooled connection. Python's
    sqlite3 opens no transaction before DDL on its own, so an explicit BEGIN IMMEDIATE makes
    the DDL transactional too (a failed step leaves no half-copied table behind).
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = legacy = None
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()
            raw = connection.connection.driver_connection
            legacy, raw.isolation_level = raw.isolation_level, None
        try:
            with connection.begin():
                if sqlite:
                    # IMMEDIATE: take the write lock now (waiting busy_timeout for a running
                    # server's writes) instead of failing at the first write of a read.
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise ForeignKeyViolation(
                            f"{len(broken)} baris merujuk ke data yang tidak ada "
                            f"(tabel {', '.join(sorted({row[0] for row in broken}))})")
        finally:
            if sqlite:
                if connection.in_transaction():
                    connection.rollback()
                if raw.in_transaction:
                    raw.rollback()
                raw.isolation_level = legacy
                connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                connection.commit()
