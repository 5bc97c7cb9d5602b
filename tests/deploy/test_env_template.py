"""deploy/cah.env.example: what an operator gets before and after filling it in."""
import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from deploy_kit import env_template
from server import create_app
from server.config import ConfigError

REAL_KEY = "Zq3vN8pX1mR6tW0yB4kD7fH2jL5sC9gA-uE_oI"


@pytest.fixture
def template_env(monkeypatch, tmp_path):
    for key, value in env_template().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CAH_DATABASE_URL", f"sqlite:///{tmp_path / 'cah.sqlite'}")
    return tmp_path


def test_unedited_template_refuses_to_start(template_env):
    with pytest.raises(ConfigError, match="CAH_SECRET_KEY"):
        create_app(instance_path=str(template_env / "instance"))


def test_filled_in_template_runs_in_production_behind_one_proxy(template_env, monkeypatch):
    monkeypatch.setenv("CAH_SECRET_KEY", REAL_KEY)
    app = create_app(instance_path=str(template_env / "instance"))
    assert app.config["ENV_NAME"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert isinstance(app.wsgi_app, ProxyFix) and app.wsgi_app.x_for == 1
    assert env_template()["CAH_DATABASE_URL"] == "postgresql:///cah"  # peer auth, no password


def test_the_instance_folder_is_the_services_state_directory(template_env, monkeypatch):
    # An installed package's default instance folder lies inside the venv, which the
    # hardened unit cannot write: the template points it at systemd's StateDirectory.
    assert env_template()["CAH_INSTANCE_PATH"] == "/var/lib/cah"
    monkeypatch.setenv("CAH_INSTANCE_PATH", str(template_env / "state"))
    monkeypatch.setenv("CAH_SECRET_KEY", REAL_KEY)
    app = create_app()
    assert app.instance_path == str(template_env / "state")
    monkeypatch.delenv("CAH_SECRET_KEY")  # no key configured: generated in that folder
    create_app()
    assert (template_env / "state" / "secret_key").stat().st_mode & 0o777 == 0o600
