"""Fixtures of the fault-injection tests: real server processes (gunicorn) that can be killed,
the 2G link emulator (../shared/tools/linkproxy.py) and headless Chromium.

Nothing here skips: a missing PostgreSQL, Chromium or link emulator fails the test.
Each test runs under a time limit (TIME_LIMIT in its module, seconds; default 120).
"""
import signal
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import harness, phone  # noqa: E402


class TimeLimitExceeded(Exception):
    """A fault-injection test ran over its time limit."""


@pytest.fixture(autouse=True)
def time_limit(request):
    """Fail a test that runs longer than its module's TIME_LIMIT (SIGALRM in the main thread)."""
    limit = int(getattr(request.module, "TIME_LIMIT", 120))

    def expired(_signum, _frame):
        raise TimeLimitExceeded(f"{request.node.name} ran over its {limit} s limit")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(limit)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="session", autouse=True)
def link_emulator():
    """The link emulator must exist next to the project (never copied into it)."""
    try:
        return harness.linkproxy_path()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh database per test: a SQLite file, or a new PostgreSQL database (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cah.sqlite'}"
        return
    try:
        url = harness.create_pg_database("cah_fault")
    except Exception as exc:  # fail loudly: PostgreSQL is a required part of the suite
        pytest.fail(f"PostgreSQL is required ({harness.PG_ADMIN_URL}): {exc}")
    yield url
    harness.drop_pg_database(url)


@pytest.fixture
def servers(tmp_path):
    """Factory of prepared, started server processes; all are stopped after the test."""
    started = []

    def make(database_url=None, **kwargs):
        server = harness.ServerProcess(tmp_path / f"server{len(started)}", database_url,
                                       **kwargs)
        started.append(server)
        return server.prepare().start()

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def proxies(tmp_path):
    """Factory of link emulators (linkproxy subprocesses); all are stopped after the test."""
    made = []

    def make(target_port, **kwargs):
        proxy = harness.LinkProxy(target_port, tmp_path / "link", **kwargs)
        made.append(proxy)
        return proxy.start()

    yield make
    for proxy in made:
        proxy.stop()


@pytest.fixture
def chromium():
    """Runs `body(pw, browser)` with a fresh headless Chromium in a thread of its own.

    Playwright's sync API allows one instance per thread, and tests/e2e keeps a session-wide
    one in the main thread; a thread of our own keeps the two suites independent. Fails
    loudly when Chromium is missing.
    """
    try:
        phone.chromium_path()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    return phone.run_with_chromium
