"""`pakkedes backup FILE` and `pakkedes restore FILE`: the whole database in one file.

Photos live in the database (table ``attachments``), so a backup holds them too.

* SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies a consistent
  snapshot page by page while the server keeps running; the result is a plain SQLite file.
* PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot, the server keeps running)
  and ``pg_restore --clean --if-exists --single-transaction``; Debian's postgresql-client of
  the server's major version must be installed. Credentials go through the environment
  (PGPASSWORD), never the command line.

A restore brings the schema to the newest revision (the backup may be older) and gives the
database a new identity (sync/identity.py): phones that synced after the backup see it and
resend what they kept (docs/sync-protocol.md, "After a server restore").
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from sync.identity import database_id, renew_database_id

from .migrations import upgrade_database

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
PAGES_PER_STEP = 256  # SQLite copies in steps, so writers are never held up for long


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message (Indonesian) says why."""


@dataclass(frozen=True)
class BackupResult:
    """What a backup wrote: the file, its size in bytes, and the database's identity."""

    path: Path
    size: int
    database_id: str


def backup_database(engine: Engine, target: str | os.PathLike) -> BackupResult:
    """Write a consistent copy of the database of engine to target (replaced atomically).

    Raises BackupError: an in-memory SQLite database, a missing pg_dump, or pg_dump failing.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with Session(engine) as session:
        identity = database_id(session)  # created if absent, so the backup carries one
        session.commit()
    # Written next to the target and renamed: a cut-off backup never replaces a good one.
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_copy(_sqlite_path(engine), temp)
        elif engine.dialect.name == "postgresql":
            _run_pg(engine, ["pg_dump", "--format=custom", "--no-owner", "--file", temp])
        else:
            raise BackupError(f"Basis data {engine.dialect.name} tidak didukung untuk cadangan.")
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return BackupResult(target, target.stat().st_size, identity)


def restore_database(engine: Engine, source: str | os.PathLike) -> str:
    """Replace the database of engine with the backup in source; returns the new identity.

    Stop the server first (docs/deploy.md): requests during a restore would see half of it.
    Raises BackupError: no such file, a file that is not a backup of this kind of database,
    or pg_restore failing (PostgreSQL: then nothing was changed, it runs in one transaction).
    """
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"Berkas cadangan {source} tidak ada.")
    with source.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    engine.dispose()  # no pooled connection may keep a view of the old database
    if engine.dialect.name == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} bukan cadangan SQLite dari pakkedes backup.")
        _check_sqlite_backup(source)
        _sqlite_copy(str(source), _sqlite_path(engine))
    elif engine.dialect.name == "postgresql":
        if not head.startswith(PG_CUSTOM_MAGIC):
            raise BackupError(f"{source} bukan cadangan PostgreSQL dari pakkedes backup.")
        _run_pg(engine, ["pg_restore", "--clean", "--if-exists", "--no-owner",
                         "--single-transaction", "--exit-on-error", str(source)], dbname_flag=True)
    else:
        raise BackupError(f"Basis data {engine.dialect.name} tidak didukung untuk pemulihan.")
    engine.dispose()
    upgrade_database(engine)  # a backup made by an older version has an older schema
    with Session(engine) as session:
        new = renew_database_id(session)
        session.commit()
    return new


def _sqlite_path(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        raise BackupError("Basis data SQLite di memori tidak dapat dicadangkan.")
    return path


def _sqlite_copy(source: str, target: str) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst, pages=PAGES_PER_STEP)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"Penyalinan SQLite gagal: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _check_sqlite_backup(path: Path) -> None:
    # A stray SQLite file must not wipe the database: ours has the residents table.
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'residents'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} tidak dapat dibaca sebagai SQLite: {exc}") from exc
    finally:
        connection.close()
    if not found:
        raise BackupError(f"{path} bukan cadangan basis data CAH (tidak ada tabel residents).")


def _run_pg(engine: Engine, args: list[str], dbname_flag: bool = False) -> None:
    program = shutil.which(args[0])
    if program is None:
        raise BackupError(f"{args[0]} tidak ditemukan; pasang paket postgresql-client "
                          "dengan versi yang sama dengan server PostgreSQL.")
    url = engine.url
    env = dict(os.environ)
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[key] = str(value)
    command = [program, *args[1:]]
    if dbname_flag:
        command[1:1] = ["--dbname", url.database]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        # stderr names tables and options, never row data.
        raise BackupError(f"{args[0]} gagal (kode {done.returncode}): {done.stderr.strip()[-2000:]}")
