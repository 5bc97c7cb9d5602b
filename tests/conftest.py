"""Fixtures shared by every test: real databases, never mocks.

PostgreSQL is required: the suite fails (it never skips) when it cannot be reached.
Each pytest run gets its own throw-away database so that parallel runs never collide.
"""
import os
import uuid

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cah_testkit import PASSWORDS, registration
from server import create_app
from server.cli import create_user, init_database
from server.extensions import db
from server.migrations import alembic_config, target_metadata

PG_ADMIN_URL = os.environ.get(
    "CAH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def pg_url():
    """URL of a fresh PostgreSQL database for this test run, dropped afterwards."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"cah_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # fail loudly: PostgreSQL is a required part of the suite
        pytest.fail(f"PostgreSQL is required for the test suite ({PG_ADMIN_URL}): {exc}")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A database URL, once per backend: a SQLite file, then the run's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cah.sqlite'}"
    return request.getfixturevalue("pg_url")


# ---------------------------------------------------------------- the Flask app, flaskr style

def create_schema_at_head(engine):
    """The tables of the models plus Alembic's stamp of the newest revision: the same schema
    as running every migration (tests/server/test_migrations.py checks that) in a third of
    the time, for the hundreds of app fixtures that do not test migrations."""
    with engine.begin() as connection:
        target_metadata().create_all(connection)
        command.stamp(alembic_config(connection), "head", purge=True)


@pytest.fixture
def app(db_url):
    """The app on a clean database (SQLite and PostgreSQL), with wilayah and test users."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url,
                      "SECRET_KEY": "test-secret-key-that-is-long-enough-0123",
                      "WTF_CSRF_ENABLED": False,
                      # cheap hashing keeps the suite fast; production keeps scrypt
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.drop_all()
        create_schema_at_head(db.engine)
        init_database()
        create_user("camat", PASSWORDS["camat"], "camat", "631104", full_name="Camat Uji")
        create_user("operator", PASSWORDS["operator"], "operator", "631104")
        create_user("petugas", PASSWORDS["petugas"], "petugas", "631104",
                    ["6311042005", "6311042001"], full_name="Petugas Uji")
        create_user("petugas2", PASSWORDS["petugas2"], "petugas", "631104", ["6311042005"])
        create_user("camat_juai", PASSWORDS["camat_juai"], "camat", "631101")
        create_user("petugas_juai", PASSWORDS["petugas_juai"], "petugas", "631101", ["6311012001"])
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


class AuthActions:
    """Log in and out of the office view."""

    def __init__(self, client):
        self._client = client

    def login(self, username="camat", password=None):
        """POST the login form."""
        return self._client.post("/login", data={
            "username": username, "password": password or PASSWORDS[username]})

    def logout(self):
        """POST the logout form."""
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    """Office-view login helper."""
    return AuthActions(client)


class DeviceActions:
    """Log a phone in through the API and sync with its token."""

    def __init__(self, client):
        self._client = client

    def login(self, username="petugas", password=None, label="HP uji"):
        """POST /api/auth/device; returns the JSON answer."""
        res = self._client.post("/api/auth/device", json={
            "username": username, "password": password or PASSWORDS[username],
            "device_label": label})
        assert res.status_code == 201, res.get_json()
        return res.get_json()

    def sync(self, session, mutations=(), cursor=None, **extra):
        """POST /api/sync for a logged-in device session."""
        body = {"protocol": 1, "client_id": session["client_id"], "app_version": "test",
                "sent_at": "2026-11-28T09:00:00+08:00", "cursor": cursor,
                "mutations": list(mutations)}
        body.update(extra)
        return self._client.post("/api/sync", json=body,
                                 headers={"Authorization": f"Bearer {session['token']}"})


@pytest.fixture
def device(client):
    """Phone login + sync helper."""
    return DeviceActions(client)


@pytest.fixture
def make_registration():
    """Factory of register_resident mutations."""
    return registration
