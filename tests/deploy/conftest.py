"""The deployment stack of docs/deploy.md on this machine: `pakkedes serve` (the e2e tests'
LiveServer, configured from deploy/cah.env.example) behind Debian's nginx running the shipped
site files with a certificate of deploy/local-ca.sh.

nginx and Chromium are required: when either is missing these tests fail, they never skip.
"""
import importlib.util
import sys
from pathlib import Path

import pytest

from deploy_kit import Nginx, env_template, make_certificates, nginx_binary

# The phone helpers and the live server of tests/e2e, used as they are.
E2E = Path(__file__).resolve().parents[1] / "e2e"
if str(E2E) not in sys.path:
    sys.path.insert(0, str(E2E))
_spec = importlib.util.spec_from_file_location("e2e_live_server", E2E / "conftest.py")
e2e_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e_conftest)
LiveServer = e2e_conftest.LiveServer


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A CA and a server certificate for deploy_kit.HOST, made by deploy/local-ca.sh."""
    return make_certificates(tmp_path_factory.mktemp("tls") / "ca")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, certs):
    """(server, nginx): pakkedes serve with the env template's settings, nginx in front."""
    if nginx_binary() is None:
        pytest.fail("nginx (Debian's package) is required for the HTTPS deployment test; "
                    "./scripts/test.sh installs it")
    server = LiveServer(tmp_path_factory.mktemp("server"))
    template = env_template()
    # The template as an operator fills it in: only the key and the database are theirs
    # (and the instance folder: this machine's /var/lib/cah is not the test's).
    server.env.update({k: v for k, v in template.items()
                       if k not in ("CAH_SECRET_KEY", "CAH_DATABASE_URL", "CAH_INSTANCE_PATH")})
    server.setup_users()
    server.start()
    nginx = Nginx(tmp_path_factory.mktemp("nginx"), server.port, certs)
    nginx.write_config()
    try:
        nginx.start()
    except Exception:
        server.stop()
        raise
    yield server, nginx
    nginx.stop()
    server.stop()
