"""create_app configuration order and the production guard."""
import pytest

from server import create_app
from server.config import ConfigError


def test_test_config_overrides_defaults(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db"})
    assert app.testing
    assert app.config["SYNC_PAGE_SIZE"] == 200


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("CAH_SYNC_PAGE_SIZE", "17")
    monkeypatch.setenv("CAH_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    app = create_app()
    assert app.config["SYNC_PAGE_SIZE"] == 17
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")


def test_postgres_urls_use_psycopg3(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgres://u@127.0.0.1/x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1/x"


def test_default_database_is_sqlite_in_instance_folder(monkeypatch):
    monkeypatch.delenv("CAH_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.instance_path in app.config["SQLALCHEMY_DATABASE_URI"]


@pytest.mark.parametrize("key", [None, "dev-only-not-secret", "short"])
def test_production_refuses_weak_secret(key, tmp_path):
    config = {"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"}
    if key is not None:
        config["SECRET_KEY"] = key
    with pytest.raises(ConfigError):
        create_app(config)


def test_production_starts_with_real_secret(tmp_path):
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "x" * 40,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_cookies_work_over_plain_http(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/d.db"})
    assert app.config["SESSION_COOKIE_SECURE"] is False
