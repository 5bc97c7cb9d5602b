"""Guard rails of the code layout (docs/code-layout.md), run on the whole checkout before the
other tests: the layer contracts of pyproject.toml (`lint-imports`: sync/ free of server/ and
Flask, no import cycles inside a package), lint (`ruff check .`), and no import cycles in the
phone app (madge over pwa/js). Each runs the real tool and fails, never skips, when the tool is
missing: scripts/test.sh installs them (`pip install -e ".[test]"`, `npm ci`)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _python_tool(name):
    """A console script of the test extras: beside this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is missing: install the test extras (pip install -e \".[test]\")")
    return found


def _run(args):
    """(exit code, stdout and stderr) of a tool run in the checkout's root."""
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout + done.stderr


def test_import_contracts_hold():
    code, out = _run([_python_tool("lint-imports"), "--no-logo"])
    assert code == 0, out


def test_ruff_finds_nothing():
    code, out = _run([_python_tool("ruff"), "check", ".", "--output-format", "concise",
                      "--no-fix"])
    assert code == 0, out


def test_phone_app_modules_have_no_import_cycle():
    madge = ROOT / "node_modules" / ".bin" / "madge"
    if not madge.exists():
        pytest.fail("madge is missing: run `npm ci` in the checkout (scripts/test.sh does)")
    # --warning lists imports madge could not resolve: an unresolved import hides its edges,
    # so a cycle through it would go unseen.
    code, out = _run([str(madge), "--circular", "--extensions", "js", "--warning",
                      "--no-spinner", "--no-color", "pwa/js"])
    assert code == 0 and "Skipped" not in out, out
