"""Helpers of test_migrations.py: databases of a given schema, synthetic data in every table,
and comparable pictures of a schema and of the rows it holds."""
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import JSON, MetaData, inspect, select

from cah_testkit import SECRET_KEY
from server import create_app
from server.extensions import db

SCHEMA_0_1_0 = Path(__file__).parent / "schema_0_1_0"


def wipe(engine):
    """Drop every table of the database, Alembic's alembic_version included (PostgreSQL's
    test database is shared by the whole run)."""
    with engine.begin() as connection:
        metadata = MetaData()
        metadata.reflect(connection)
        metadata.drop_all(connection)


def create_0_1_0(engine):
    """Build the tables exactly as 0.1.0's create_all did, from the stored DDL."""
    ddl = (SCHEMA_0_1_0 / f"{engine.dialect.name}.sql").read_text()
    body = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    with engine.begin() as connection:
        for statement in body.split(";"):
            if statement.strip():
                connection.exec_driver_sql(statement)


def schema_picture(engine):
    """{table: {"columns", "pk", "fks", "indexes", "uniques"}} as the database reports them,
    alembic_version left out; column order is not part of the picture."""
    picture = {}
    with engine.connect() as connection:
        inspector = inspect(connection)
        for name in inspector.get_table_names():
            if name == "alembic_version":
                continue
            pk = inspector.get_pk_constraint(name)
            picture[name] = {
                "columns": {c["name"]: (c["type"].compile(dialect=connection.dialect),
                                        c["nullable"], str(c.get("default")))
                            for c in inspector.get_columns(name)},
                "pk": (pk["name"], tuple(pk["constrained_columns"])),
                "fks": sorted((fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"],
                               tuple(fk["referred_columns"]),
                               tuple(sorted((fk.get("options") or {}).items())))
                              for fk in inspector.get_foreign_keys(name)),
                "indexes": sorted((ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                                  for ix in inspector.get_indexes(name)),
                "uniques": sorted((uq["name"], tuple(uq["column_names"]))
                                  for uq in inspector.get_unique_constraints(name)),
            }
    return picture


def _sample(column, i):
    """A synthetic value of column's type for row i (unique per row for keys)."""
    kind = column.type
    if isinstance(kind, JSON):
        return {"n": i, "teks": "contoh sintetis"}
    python_type = kind.python_type
    if python_type is bool:
        return i % 2 == 0
    if python_type is int:
        return 100 + i
    if python_type is str:
        return f"{i}{column.name}"[:getattr(kind, "length", None) or 60]
    if python_type is datetime:
        return datetime(2025, 3, 1 + i, 8, 30, 15, tzinfo=timezone.utc)
    if python_type is date:
        return date(2025, 3, 1 + i)
    if python_type is bytes:
        return bytes(range(i, i + 16))
    raise AssertionError(f"no sample value for {column.table.name}.{column.name} ({kind!r})")


def _generated_key(table, dialect):
    """The single integer key column the database numbers itself (SERIAL, SQLite rowid)."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or keys[0].type.python_type is not int:
        return None
    key = keys[0]
    return key if dialect == "sqlite" or key.server_default is not None else None


def fill_every_table(engine, rows=2):
    """Insert `rows` synthetic rows into every table except alembic_version, parents first;
    foreign keys point at the parent's row of the same number (row 0 of a self-reference at
    nothing). Returns {table: count}."""
    metadata = MetaData()
    counts = {}
    with engine.begin() as connection:
        metadata.reflect(connection)
        inserted = {}
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            generated = _generated_key(table, engine.dialect.name)
            inserted[table.name] = []
            for i in range(rows):
                row = {}
                for column in table.columns:
                    if column is generated:
                        continue
                    if column.foreign_keys:
                        target = next(iter(column.foreign_keys)).column
                        parents = inserted[target.table.name]
                        if target.table is table:
                            row[column.name] = parents[i - 1][target.name] if i else None
                        else:
                            row[column.name] = parents[i][target.name]
                    else:
                        row[column.name] = _sample(column, i)
                if table.name == "residents":
                    # Derived from the name, as 0.1.0 wrote it: migration 0004 recomputes it.
                    row["name_key"] = row["name"].casefold()
                result = connection.execute(table.insert().values(**row))
                if generated is not None:
                    row[generated.name] = result.inserted_primary_key[0]
                inserted[table.name].append(row)
            counts[table.name] = rows
    return counts


def table_rows(engine):
    """{table: [row dict, …] in key order} of every table except alembic_version."""
    metadata = MetaData()
    with engine.connect() as connection:
        metadata.reflect(connection)
        return {table.name: [dict(r) for r in connection.execute(
                    select(table).order_by(*table.primary_key.columns)).mappings()]
                for table in metadata.sorted_tables if table.name != "alembic_version"}


# Imported by test modules under its function name (as isolation_world.worlds_fixture).
@pytest.fixture(name="engine")
def empty_engine_fixture(db_url):
    """The app's own engine (SQLite pragmas included) on a database with no tables at all."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url,
                      "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        wipe(db.engine)
        yield db.engine
        db.session.remove()
        wipe(db.engine)
        db.engine.dispose()
