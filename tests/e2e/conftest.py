"""A real CAH server (gunicorn, own SQLite file) and a real headless Chromium.

Chromium is required: when /usr/bin/chromium (or CAH_CHROMIUM) is missing these tests fail.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

from e2e_kit import CHROMIUM, CHROMIUM_ARGS

E2E_USERS = (("petugas", "rahasia-petugas", "petugas", ["6311042005", "6311042001"]),
             ("petugas2", "rahasia-petugas2", "petugas", ["6311042005"]),
             ("camat", "rahasia-camat", "camat", []))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A pakkedes server process on 127.0.0.1 with its own database."""

    def __init__(self, tmp_path, database_url=None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env["CAH_DATABASE_URL"] = database_url or f"sqlite:///{tmp_path / 'e2e.sqlite'}"
        self.env["CAH_SECRET_KEY"] = "e2e-secret-key-0123456789-abcdefghijkl"
        self.env.pop("CAH_PASSWORD", None)
        self.log = open(tmp_path / "server.log", "wb")
        self.proc = None

    def setup_users(self):
        """Create the e2e users through the real command line."""
        for username, password, role, desa in E2E_USERS:
            args = [sys.executable, "-m", "server.cli", "create-user", username, "--role", role,
                    "--kecamatan", "631104"]
            for code in desa:
                args += ["--desa", code]
            subprocess.run(args, env={**self.env, "CAH_PASSWORD": password}, check=True,
                           stdout=subprocess.DEVNULL)

    def start(self):
        """Start the server and wait until it answers."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port),
             "--workers", "2"], env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=1)
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
        raise RuntimeError("CAH server did not start; see server.log")

    def stop(self, close_log=True):
        """Stop the server process (close_log=False: it is started again, e.g. after a restore)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if close_log:
            self.log.close()

    def pakkedes(self, *args):
        """Run a pakkedes command against this server's database; returns its output."""
        done = subprocess.run([sys.executable, "-m", "server.cli", *args], env=self.env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


@pytest.fixture
def live_server(tmp_path):
    """A running CAH server with the e2e users."""
    server = LiveServer(tmp_path)
    server.setup_users()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_live_server(tmp_path):
    """A factory of running CAH servers with the e2e users, on a database URL of the test's
    choosing (default: a SQLite file); each is stopped at the end of the test."""
    servers = []

    def make(database_url=None):
        server = LiveServer(tmp_path, database_url)
        servers.append(server)
        server.setup_users()
        return server.start()

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def pw():
    """The Playwright driver; fails loudly when Chromium is missing."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium is required for the phone-app tests and was not found at {CHROMIUM}")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(pw):
    """One headless Chromium for the run."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()

