"""Fixtures of the server tests beyond the shared ones of tests/conftest.py."""
import pytest

# The kits hold assertions moved out of test modules: keep pytest's detailed failure messages.
pytest.register_assert_rewrite("attachment_kit", "dashboard_kit", "office_kit")


@pytest.fixture
def phone(device):
    """A logged-in device session of "petugas" (the JSON answer of POST /api/auth/device)."""
    return device.login()
