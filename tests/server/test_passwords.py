"""Password rules (issue #8 §4): at least 10 characters and not common or easily guessed,
wherever a password is set — the office forms and `pakkedes create-user`."""
import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from server.cli import create_user, main
from server.extensions import db
from server.models import User

WEAK = [("pendek-1", "minimal 10 karakter"),
        ("password123", "terlalu mudah ditebak"),
        ("qwertyuiop", "terlalu mudah ditebak"),
        ("1234567890", "terlalu mudah ditebak"),
        ("aaaaaaaaaaaa", "terlalu mudah ditebak"),
        ("Password12", "terlalu mudah ditebak"),
        ("petugas3petugas3", "terlalu mudah ditebak")]  # the username, repeated


def _hash(app, username):
    with app.app_context():
        return db.session.execute(select(User.password_hash).where(User.username == username)
                                  ).scalar()


@pytest.mark.parametrize("password, message", WEAK)
def test_new_account_refuses_weak_passwords(client, auth, app, password, message):
    auth.login()
    res = client.post("/users/new", data={
        "username": "petugas3", "full_name": "Petugas Tiga", "role": "petugas",
        "password": password, "password2": password, "desa": ["6311042005"]})
    assert res.status_code == 400
    assert message in res.get_data(as_text=True)
    assert _hash(app, "petugas3") is None


@pytest.mark.parametrize("password, message", WEAK[:3])
def test_password_reset_refuses_weak_passwords(client, auth, app, password, message):
    auth.login()
    before = _hash(app, "operator")
    with app.app_context():
        oid = db.session.execute(select(User.id).where(User.username == "operator")).scalar_one()
    res = client.post(f"/users/{oid}/password", data={"password": password, "password2": password})
    assert res.status_code == 303
    assert message in client.get(res.headers["Location"]).get_data(as_text=True)
    assert _hash(app, "operator") == before


def test_a_long_unusual_password_is_accepted(client, auth, app):
    auth.login()
    res = client.post("/users/new", data={
        "username": "petugas3", "full_name": "Petugas Tiga", "role": "petugas",
        "password": "kelotok-sungai-balangan", "password2": "kelotok-sungai-balangan",
        "desa": ["6311042005"]})
    assert res.status_code == 303


@pytest.mark.parametrize("password", ["password123", "pendek-1", "abc\udcffdefghijkl"])
def test_create_user_command_refuses_weak_passwords(app, monkeypatch, password):
    with app.app_context():
        with pytest.raises(click.BadParameter):
            create_user("operator2", password, "operator", "631104")
        assert _hash(app, "operator2") is None


def test_create_user_command_line_reports_a_weak_password(db_url, monkeypatch):
    monkeypatch.setenv("CAH_DATABASE_URL", db_url)
    monkeypatch.setenv("CAH_SECRET_KEY", "cli-test-key-9f8e7d6c5b4a39281706f5e4d3c2b1a0")
    monkeypatch.setenv("CAH_PASSWORD", "password123")
    result = CliRunner().invoke(main, ["create-user", "andi", "--role", "operator",
                                       "--kecamatan", "63.11.04"])
    assert result.exit_code != 0
    assert "terlalu mudah ditebak" in result.output


@pytest.mark.parametrize("password, status", [("kelotok-sungai-balangan-" * 10, 303),
                                              ("x" * 256, 400), ("y" * 257, 400)])
def test_long_passwords_get_an_answer_not_an_error(client, auth, app, password, status):
    auth.login()
    res = client.post("/users/new", data={
        "username": "petugas3", "full_name": "Petugas Tiga", "role": "petugas",
        "password": password, "password2": password, "desa": ["6311042005"]})
    assert res.status_code == status
