"""Every part of `python -m bench` still runs (issue 12: the benchmarks must not rot).

`python -m bench --smoke` goes through every part once with a few records (bench/sizes.py)
in a process of its own (its own Playwright, so the ordering of tests/deploy and tests/e2e is
not touched). This test checks that each part produced its figures and that all its records
arrived; the figures' values are for the benchmark itself, never judged here.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
TIME_LIMIT = 300  # seconds; about 1 to 1.5 minutes on the project machine
# Each part of bench/__main__.py's PARTS and the figures it must produce. A new part fails
# this test until its figures are listed here.
LINK_FIGURES = ("seconds", "bytes_up", "bytes_down", "http_requests", "sync_requests",
                "request_body_gzip", "envelope_gzip", "per_record_gzip", "sync_response_bytes")
FIGURES = {
    "shell": ("bytes", "page_bytes", "response_head_bytes", "service_worker_bytes",
              "linkproxy_bytes_down", "linkproxy_bytes_up", "linkproxy_cdp_bytes"),
    "cold_start": ("usable_ms", "dom_content_loaded_ms"),
    "link_registrations": LINK_FIGURES,
    "link_deliveries": LINK_FIGURES,
    "throughput": (),  # per database, below
    "concurrency": ("seconds", "p50_ms", "p95_ms", "requests", "mutations", "mutations_per_s",
                    "counter_waiting_mean", "in_transaction_mean"),
    "flaky": ("seconds", "bytes_up", "data_bytes", "bytes_up_ratio", "bytes_up_per_record",
              "sync_requests"),
}
THROUGHPUT_FIGURES = ("engine_s", "http_s", "http_bytes_up")


def run_smoke(out: Path) -> str:
    """Run `python -m bench --smoke --out out`; returns its output, fails the test when it
    fails or runs over TIME_LIMIT (then SIGTERM lets it stop its servers and browser)."""
    with subprocess.Popen([sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
                          cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as proc:
        try:
            output, _ = proc.communicate(timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                output, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            pytest.fail(f"python -m bench --smoke ran over {TIME_LIMIT} s:\n{output[-6000:]}")
    assert proc.returncode == 0, (
        f"python -m bench --smoke failed ({proc.returncode}):\n{output[-6000:]}")
    return output


def assert_figures(where: str, part: dict, names) -> None:
    for name in names:
        value = part.get(name)
        assert isinstance(value, (int, float)) and not isinstance(value, bool), (
            f"{where}: {name} is {value!r}, not a number")
        assert value >= 0, f"{where}: {name} is {value}"


def test_every_bench_part_runs_at_tiny_size(tmp_path):
    run_smoke(tmp_path)
    result = json.loads((tmp_path / "smoke.json").read_text())
    assert (tmp_path / "smoke.md").is_file()
    assert not (tmp_path / "latest.json").exists(), "a smoke run replaced the measured results"
    assert result["smoke"] is True and result["reps"] == 1
    assert result["parts"] == list(FIGURES), "a bench part without a check in this test"
    sizes = result["sizes"]

    for part, names in FIGURES.items():
        assert part in result, f"part {part} produced nothing"
        assert_figures(part, result[part], names)
    assert result["shell"]["bytes"] > 0
    assert len(result["cold_start"]["runs_ms"]) == 1

    # the records all arrived (link_runs also counted their events in the server's database)
    for part in ("link_registrations", "link_deliveries"):
        assert "pending" not in result[part], result[part]
        assert result[part]["records"] == sizes["link_records"], result[part]
        assert result[part]["sync_requests"] >= 1
    assert_figures("single", result["single"],
                   ("request_body_gzip", "envelope_gzip", "marginal_gzip"))

    for backend in ("sqlite", "postgresql"):
        figures = result["throughput"][backend]
        assert figures["mutations"] == sizes["throughput_mutations"], figures
        assert figures["requests"] == 2, figures
        assert len(figures["engine_runs_s"]) == len(figures["http_runs_s"]) == 1, figures
        assert_figures(f"throughput {backend}", figures, THROUGHPUT_FIGURES)

    # the phones' checks passed (bench/concurrency.py raises otherwise): every mutation once
    conc = result["concurrency"]
    assert conc["errors"] == 0 and conc["phones"] == sizes["concurrency_phones"], conc
    assert conc["mutations"] == sizes["concurrency_phones"] * (
        sizes["concurrency_registrations"] + sizes["concurrency_steps"]), conc

    # every budget row has its figure (none pending)
    assert result["budgets"], result
    for row in result["budgets"]:
        assert isinstance(row["value"], (int, float)) and row["value"] >= 0, row
