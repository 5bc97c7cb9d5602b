"""Fixtures of the fuzz tests (hypothesis on sync/, schemathesis on the HTTP API).

Each test runs under a time limit (TIME_LIMIT in its module, seconds; default 120). The
number of examples scales with CAH_FUZZ_SCALE (default 1; e.g. 10 for a long local run).
"""
import signal

import pytest

from fuzz_kit import SCALE


class TimeLimitExceeded(Exception):
    """A fuzz test ran over its time limit."""


@pytest.fixture(autouse=True)
def time_limit(request):
    """Fail a test that runs longer than its module's TIME_LIMIT (SIGALRM in the main thread)."""
    limit = int(getattr(request.module, "TIME_LIMIT", 120) * max(1.0, SCALE))

    def expired(_signum, _frame):
        raise TimeLimitExceeded(f"{request.node.name} ran over its {limit} s limit")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(limit)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
