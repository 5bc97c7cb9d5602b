"""create_app configuration order and the production guard."""
import pytest
from flask import Flask
from sqlalchemy import select

from cah_testkit import SECRET_KEY
from server import create_app
from server.cli import create_user, init_database
from server.config import ConfigError
from server.extensions import db
from server.models import User


def test_test_config_overrides_defaults(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db",
                      "SECRET_KEY": SECRET_KEY})
    assert app.testing
    assert app.config["SYNC_PAGE_SIZE"] == 200


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("CAH_SYNC_PAGE_SIZE", "17")
    monkeypatch.setenv("CAH_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SYNC_PAGE_SIZE"] == 17
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")


def test_postgres_urls_use_psycopg3(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgres://u@127.0.0.1/x"},
                     instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1/x"


def test_default_database_is_sqlite_in_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("CAH_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True}, instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.instance_path in app.config["SQLALCHEMY_DATABASE_URI"]


@pytest.mark.parametrize("key", ["dev-only-not-secret", "short", 12345678901234567890123456789012])
def test_production_refuses_weak_secret(key, tmp_path):
    config = {"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
              "SECRET_KEY": key}
    with pytest.raises(ConfigError):
        create_app(config, instance_path=str(tmp_path))


def test_production_starts_with_real_secret(tmp_path):
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": SECRET_KEY,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"},
                     instance_path=str(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_cookies_work_over_plain_http(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/d.db"},
                     instance_path=str(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is False


# ------------------------------------------------------------------ keys and environments

def _forged_cookie(secret_key, data):
    """A session cookie signed with a given key, as an attacker who knows the key makes it."""
    forger = Flask("forger")
    forger.secret_key = secret_key
    return forger.session_interface.get_signing_serializer(forger).dumps(data)


@pytest.mark.parametrize("env", [None, "development"])
def test_the_public_development_key_opens_nothing(db_url, tmp_path, monkeypatch, env):
    monkeypatch.delenv("CAH_SECRET_KEY", raising=False)
    if env:
        monkeypatch.setenv("CAH_ENV", env)
    else:
        monkeypatch.delenv("CAH_ENV", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"},
                     instance_path=str(tmp_path / "instance"))
    with app.app_context():
        db.drop_all()
        init_database()
        create_user("camat", "rahasia-camat", "camat", "631104")
        camat = db.session.execute(select(User.id).where(User.username == "camat")).scalar_one()
    assert app.secret_key != "dev-only-not-secret"
    client = app.test_client()
    client.set_cookie("cah_session", _forged_cookie(
        "dev-only-not-secret", {"user_id": camat, "_permanent": True}))
    assert client.get("/residents").status_code == 302
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("env", ["prod", "Production", "develop", "", "staging"])
def test_unknown_environment_names_are_an_error(monkeypatch, tmp_path, env):
    monkeypatch.setenv("CAH_ENV", env)
    with pytest.raises(ConfigError, match="CAH_ENV"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/e.db",
                    "SECRET_KEY": SECRET_KEY},
                   instance_path=str(tmp_path))


def test_without_a_key_one_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("CAH_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    first = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/k.db"},
                       instance_path=str(instance))
    key_file = instance / "secret_key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    second = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/k.db"},
                        instance_path=str(instance))
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    other = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/k.db"},
                       instance_path=str(tmp_path / "elsewhere"))
    assert other.secret_key != first.secret_key
    assert len(first.secret_key) >= 43


def test_a_key_file_others_can_read_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("CAH_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/k.db"},
               instance_path=str(instance))
    (instance / "secret_key").chmod(0o644)
    with pytest.raises(ConfigError, match="secret_key"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/k.db"},
                   instance_path=str(instance))


@pytest.mark.parametrize("env", ["development", "production", "testing"])
@pytest.mark.parametrize("key", ["a" * 32, "k" * 40, "ab" * 16, "0123456789abcdef" * 2,
                                 "passwordpasswordpasswordpassword",
                                 "12345678901234567890123456789012",
                                 "dev-only-not-secret", "short-but-random-Xq3"])
def test_low_entropy_keys_are_refused(tmp_path, monkeypatch, env, key):
    monkeypatch.setenv("CAH_ENV", env)
    monkeypatch.setenv("CAH_SECRET_KEY", key)
    with pytest.raises(ConfigError, match="CAH_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/w.db"},
                   instance_path=str(tmp_path))


@pytest.mark.parametrize("key", [SECRET_KEY, "0b5f9c1e7a2d48e3b6c0f1a9d8e7c6b5",
                                 "Jq0xW7vR2mZp9LkT4sYb8NcF1uHe6GdA3oQi5VwXyz_-",
                                 "Jq0xW7vR2mZp9LkT4sYb8NcF1uHe6GdA3oQi5VwXyz_-" * 3])
def test_random_looking_keys_are_accepted(tmp_path, monkeypatch, key):
    monkeypatch.setenv("CAH_SECRET_KEY", key)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/w.db"},
                     instance_path=str(tmp_path))
    assert app.secret_key == key
