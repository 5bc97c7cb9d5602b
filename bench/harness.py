"""A real CAH server process, its database and the 2G link emulator: shared by the benchmarks
(bench/) and the fault-injection tests (tests/faults/). The phones (a raw sync client and the
phone app in Chromium) are in bench/phone.py.

Everything binds and connects to 127.0.0.1 only. The link emulator is
`../shared/tools/linkproxy.py` next to the project (never copied into it): it is required,
and a missing one is an error, never a skip.
"""
from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server import create_app
from server.cli import create_user, init_database
from server.extensions import db

REPO = Path(__file__).resolve().parents[1]
LINKPROXY = (REPO / "../shared/tools/linkproxy.py").resolve()
PG_ADMIN_URL = os.environ.get("CAH_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET_KEY = "harness-secret-key-0123456789-abcdefghijkl"

# username, password, role, desa codes (all in Kecamatan Batumandi 631104)
USERS = (
    ("petugas", "rahasia-petugas", "petugas", ("6311042005", "6311042001")),
    ("petugas2", "rahasia-petugas2", "petugas", ("6311042005",)),
    ("camat", "rahasia-camat", "camat", ()),
)
PASSWORDS = {u[0]: u[1] for u in USERS}


def linkproxy_path() -> Path:
    """The link emulator's path; raises when ../shared/tools/linkproxy.py is missing."""
    if not LINKPROXY.is_file():
        raise FileNotFoundError(
            f"the link emulator is required and was not found at {LINKPROXY} "
            "(expected ../shared/tools/linkproxy.py next to the project)")
    return LINKPROXY


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- databases
def create_pg_database(prefix: str = "cah_h") -> str:
    """Create a fresh PostgreSQL database; returns its URL (drop it with drop_pg_database)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database (terminating what still uses it)."""
    name = make_url(url).database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def prepare_database(url: str, users=USERS) -> None:
    """Create the tables, load the wilayah and create the users (in this process)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        init_database()
        for username, password, role, desa in users:
            create_user(username, password, role, "631104", list(desa))
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- the server
class ServerProcess:
    """`python -m server.cli serve` (gunicorn) on 127.0.0.1, in its own process group so that
    kill() can SIGKILL the master and every worker at once, as a crash would."""

    def __init__(self, workdir: Path, database_url: str | None = None, *, workers: int = 2,
                 port: int | None = None, extra_env: dict | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url or f"sqlite:///{self.workdir / 'cah.sqlite'}"
        self.workers = workers
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("CAH_") or k == "CAH_CHROMIUM"}
        self.env.update({"CAH_DATABASE_URL": self.database_url, "CAH_SECRET_KEY": SECRET_KEY,
                         "PYTHONUNBUFFERED": "1"})
        self.env.update(extra_env or {})
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.log_path = self.workdir / "server.log"

    def prepare(self, users=USERS) -> "ServerProcess":
        """Tables, wilayah and users, before the first start."""
        prepare_database(self.database_url, users)
        return self

    def start(self, timeout: float = 30) -> "ServerProcess":
        """Start and wait until it answers HTTP."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port),
             "--workers", str(self.workers)],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/login", timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"CAH server did not start; see {self.log_path}:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the master and all workers (no clean shutdown, like a crash)."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self._reap_group()

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), else kill."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
            except ProcessLookupError:
                pass
        self._reap_group()

    def _reap_group(self) -> None:
        # Workers left over from the group (they die with the master, but make sure).
        if self.proc is None:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def sql(self, statement: str, **params):
        """Run one SQL statement on the server's database; returns all rows."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return conn.execute(text(statement), params).all()
        finally:
            engine.dispose()


# ---------------------------------------------------------------- the link emulator
class LinkProxy:
    """../shared/tools/linkproxy.py as a subprocess: 127.0.0.1:port → 127.0.0.1:target_port.

    kbps=0 and rtt_ms=0 make a transparent proxy (used while the phone logs in and caches
    its shell). Stopping and starting again on the same port keeps the phone's origin.
    """

    def __init__(self, target_port: int, workdir: Path, *, port: int | None = None,
                 kbps: float = 50, rtt_ms: float = 800, drop_prob: float = 0.0,
                 drop_max_bytes: int = 20000, seed: int = 1, buffer_bytes: int | None = None):
        self.path = linkproxy_path()
        self.target_port = target_port
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.settings = {"kbps": kbps, "rtt_ms": rtt_ms, "drop_prob": drop_prob,
                         "drop_max_bytes": drop_max_bytes, "seed": seed,
                         "buffer_bytes": buffer_bytes}
        self.proc: subprocess.Popen | None = None
        self.runs = 0
        self.stats_path: Path | None = None
        self.last_stats: dict | None = None

    def start(self, **settings) -> "LinkProxy":
        """Start (optionally with new settings) and wait until it listens."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.settings.update(settings)
        s = self.settings
        self.runs += 1
        self.stats_path = self.workdir / f"linkproxy-{self.port}-{self.runs}.json"
        args = [sys.executable, str(self.path), "--listen", str(self.port),
                "--target", str(self.target_port), "--kbps", str(s["kbps"]),
                "--rtt-ms", str(s["rtt_ms"]), "--drop-prob", str(s["drop_prob"]),
                "--drop-max-bytes", str(s["drop_max_bytes"]), "--seed", str(s["seed"]),
                "--stats", str(self.stats_path), "--stats-interval", "0.2"]
        if s["rtt_ms"] == 0:
            args.append("--no-handshake")
        if s["buffer_bytes"]:
            args += ["--buffer-bytes", str(s["buffer_bytes"])]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        # It prints its banner once it listens; probing with a connection would be counted
        # (and would draw from its random drops), so wait for the banner instead.
        line = self.proc.stderr.readline()
        if "linkproxy:" not in line:
            self.proc.kill()
            raise RuntimeError(f"linkproxy did not start: {line}{self.proc.stderr.read()}")
        self._drainer = threading.Thread(target=self._drain, args=(self.proc,), daemon=True)
        self._drainer.start()
        return self

    @staticmethod
    def _drain(proc):
        for _ in proc.stderr:
            pass

    def stop(self) -> dict:
        """Stop (SIGTERM: it writes its counters) and return the final counters."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc:
            self._drainer.join(5)  # EOF once the process is gone; then the pipe can be closed
            self.proc.stderr.close()
        self.last_stats = self.read_stats()
        return self.last_stats

    def read_stats(self) -> dict:
        """The counters written so far (every 0.2 s while running)."""
        if self.stats_path is None:
            return {}
        for _ in range(20):
            try:
                return json.loads(self.stats_path.read_text())
            except (OSError, ValueError):
                time.sleep(0.05)
        return {}


def seed_for_first_cut(drop_prob: float, drop_max_bytes: int, lo: int, hi: int,
                       then_clean: int = 1, limit: int = 200000) -> int:
    """A --seed with which linkproxy cuts its FIRST connection after lo..hi bytes and leaves
    the next `then_clean` connections alone.

    linkproxy draws, per accepted connection, rng.random() < drop_prob and, when dropping,
    rng.randint(1, drop_max_bytes) from random.Random(seed). A test that relies on this checks
    linkproxy's own counters afterwards (connections_dropped), so a change there is caught.
    """
    for seed in range(limit):
        rng = random.Random(seed)
        if not rng.random() < drop_prob:
            continue
        if not lo <= rng.randint(1, drop_max_bytes) <= hi:
            continue
        ok = True
        for _ in range(then_clean):
            if rng.random() < drop_prob:
                ok = False
                break
        if ok:
            return seed
    raise LookupError("no seed found")
