"""`python -m bench`: measure the DESIGN §8 figures and compare them with the budgets.

Writes bench/results/<UTC time>.json and .md (and latest.json / latest.md). Each figure is
the median of --reps repetitions (at least 3). Needs Chromium, PostgreSQL and
../shared/tools/linkproxy.py, like the test suite; everything runs on 127.0.0.1.

`--smoke` runs every part once with a few records (bench/sizes.py) and writes smoke.json /
smoke.md instead: it checks that the benchmarks still run (tests/bench/), it measures nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine, text

from . import browser as B, concurrency, deliveries, flaky, harness, phone, throughput
from .sizes import FULL, SMOKE, Sizes

RESULTS = harness.REPO / "bench" / "results"
KB = 1000  # budgets are read in decimal kilobytes (the stricter reading)
PARTS = ("shell", "cold_start", "link_registrations", "link_deliveries", "throughput",
         "concurrency", "flaky")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def machine() -> dict:
    """What the figures were measured on."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass

    def version(args):
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=20).stdout.strip()
        except OSError:
            return "?"

    try:
        engine = create_engine(harness.PG_ADMIN_URL)
        with engine.connect() as conn:
            pg = conn.execute(text("show server_version")).scalar()
        engine.dispose()
    except Exception as exc:  # reported, not fatal here: the throughput part will fail loudly
        pg = f"unavailable ({exc.__class__.__name__})"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem,
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "chromium": version([phone.chromium_path(),
                                                                      "--version"]),
            "postgresql": pg, "loadavg_start": os.getloadavg()}


def run_browser_parts(parts, sizes: Sizes, workdir, log) -> dict:
    reps, records = sizes.reps, sizes.link_records
    out = {}
    with sync_playwright() as pw:
        chromium = phone.launch_chromium(pw)
        try:
            if "shell" in parts:
                server = harness.ServerProcess(workdir / "shell").prepare().start()
                try:
                    runs = []
                    for i in range(reps):
                        runs.append(B.shell_bytes(chromium, server.url))
                        log(f"  shell run {i + 1}: {runs[-1]['total']} B "
                            f"({runs[-1]['requests']} responses)")
                    link = harness.LinkProxy(server.port, workdir / "shell-link", kbps=0,
                                             rtt_ms=0).start()
                    check = B.shell_bytes(chromium, link.url)
                    wire = link.stop()
                    out["shell"] = {
                        "bytes": median([r["total"] for r in runs]),
                        "runs": [r["total"] for r in runs],
                        "page_bytes": median([r["page"] for r in runs]),
                        "response_head_bytes": median([r["head_bytes"] for r in runs]),
                        "service_worker_bytes": median([r["service_worker"] for r in runs]),
                        "linkproxy_bytes_down": wire["bytes_down"],
                        "linkproxy_bytes_up": wire["bytes_up"],
                        "linkproxy_cdp_bytes": check["total"],
                        "by_request": runs[-1]["by_request"],
                    }
                finally:
                    server.stop()
            if "cold_start" in parts:
                server = harness.ServerProcess(workdir / "cold").prepare().start()
                try:
                    profile = workdir / "cold" / "profile"
                    B.install_profile(pw, server.url, profile)
                    runs = []
                    for i in range(max(reps, sizes.cold_runs)):
                        runs.append(B.cold_start(pw, server.url, profile))
                        log(f"  cold start run {i + 1}: {runs[-1]['usable_ms']:.0f} ms")
                    assert all(r["served_by_service_worker"] for r in runs)
                    out["cold_start"] = {
                        "usable_ms": median([r["usable_ms"] for r in runs]),
                        "runs_ms": [round(r["usable_ms"]) for r in runs],
                        "dom_content_loaded_ms": median([r["dom_content_loaded_ms"] for r in runs]),
                        "cpu_throttle": 4}
                finally:
                    server.stop()
            if "link_registrations" in parts:
                out["link_registrations"] = link_runs(
                    chromium, workdir / "link-reg", sizes, log, "registrations",
                    lambda rep, _setup: B.registration_queue(records, seed=100 + rep), None)
            if "link_deliveries" in parts:
                if deliveries.available():
                    out["link_deliveries"] = link_runs(
                        chromium, workdir / "link-del", sizes, log, "deliveries",
                        deliveries.items_for,
                        lambda server, rep: deliveries.prepare(server, rep, records))
                else:
                    out["link_deliveries"] = {"pending": deliveries.why_pending(),
                                              "records": records}
                    log(f"  deliveries pending: {out['link_deliveries']['pending']}")
            if "flaky" in parts:
                out["flaky"] = flaky.run(chromium, workdir / "flaky", sizes.flaky_records,
                                         sizes.flaky_seeds, sizes.flaky_timeout_s, log)
        finally:
            chromium.close()
    return out


def link_runs(chromium, workdir, sizes: Sizes, log, what, make_items, prepare) -> dict:
    """reps × (fresh server, fresh phone, 100 records over the 2G link); make_items(rep,
    setup) gives (queue function, record count), prepare(server, rep) the setup."""
    runs, envelopes = [], []
    for rep in range(sizes.reps):
        server = harness.ServerProcess(workdir / f"rep{rep}").prepare().start()
        try:
            setup = prepare(server, rep) if prepare else {}
            queue, n = make_items(rep, setup)
            envelopes.append(B.empty_sync_body(chromium, server))
            result = B.link_sync(chromium, server, workdir / f"rep{rep}", queue, n,
                                 prepare=setup.get("page"), timeout=sizes.link_timeout_s)
            assert result["outbox_left"] == 0, result
            count = server.sql("select count(*) from resident_events where kind = :k",
                               k="registered" if what == "registrations" else "delivered")[0][0]
            assert count == n, f"{count} of {n} {what} arrived"
            result["records"] = n
            runs.append(result)
            pushes = [r for r in result["sync_requests"] if r["body_bytes"] > 400]
            log(f"  {what} run {rep + 1}: {result['seconds']:.2f} s, up {result['bytes_up']} B, "
                f"down {result['bytes_down']} B, {result['http_requests']} HTTP requests "
                f"({len(result['sync_requests'])} sync), body {[r['body_bytes'] for r in pushes]}")
        finally:
            server.stop()
    n = runs[0]["records"]
    bodies = [max(r["body_bytes"] for r in run["sync_requests"]) for run in runs]
    return {
        "records": n,
        "seconds": median([r["seconds"] for r in runs]),
        "runs_s": [round(r["seconds"], 2) for r in runs],
        "bytes_up": median([r["bytes_up"] for r in runs]),
        "bytes_down": median([r["bytes_down"] for r in runs]),
        "http_requests": median([r["http_requests"] for r in runs]),
        "sync_requests": median([len(r["sync_requests"]) for r in runs]),
        "requests_by_route": runs[-1]["requests_by_route"],
        "request_body_gzip": median(bodies),
        "envelope_gzip": median(envelopes),
        "per_record_gzip": median([(b - e) / n for b, e in zip(bodies, envelopes)]),
        "sync_response_bytes": median([max((r["response_body_bytes"] or 0)
                                           for r in run["sync_requests"]) for run in runs]),
    }


def single_record(reps, workdir, log) -> dict:
    """One registration alone in a sync request (and its share above the envelope)."""
    sizes, envelopes = [], []
    with sync_playwright() as pw:
        chromium = phone.launch_chromium(pw)
        server = harness.ServerProcess(workdir / "single").prepare().start()
        try:
            for rep in range(reps):
                context = chromium.new_context()
                page = context.new_page()
                requests = B._sync_requests(page)
                phone.login_phone(page, server.url)
                phone.sync_now(page)
                envelopes.append(min(len(r.post_data_buffer or b"") for r in requests))
                requests.clear()
                phone.queue_in_app(page, B.registrations(1, seed=500 + rep))
                phone.sync_now(page)
                sizes.append(max(len(r.post_data_buffer or b"") for r in requests))
                context.close()
        finally:
            server.stop()
            chromium.close()
    log(f"  one registration alone: bodies {sizes}, envelopes {envelopes}")
    return {"request_body_gzip": median(sizes), "envelope_gzip": median(envelopes),
            "marginal_gzip": median([s - e for s, e in zip(sizes, envelopes)])}


def budgets(r: dict) -> list[dict]:
    """The DESIGN §8 rows: figure, budget, met?"""
    rows = []

    def row(what, value, budget, unit, ok, note=""):
        rows.append({"what": what, "value": value, "budget": budget, "unit": unit,
                     "met": ok, "note": note})

    if "shell" in r:
        v = r["shell"]["bytes"]
        S = r["shell"]
        row("app shell, first load, gzipped (CDP, page + service worker)", v, 100 * KB, "B",
            v <= 100 * KB, f"of which response heads {S['response_head_bytes']:,} B; "
                           f"linkproxy saw {S['linkproxy_bytes_down']:,} B down")
    if "cold_start" in r:
        v = r["cold_start"]["usable_ms"]
        row("offline cold start to a usable registration form, 4× CPU throttle", round(v),
            1000, "ms", v <= 1000)
    if "link_registrations" in r:
        L = r["link_registrations"]
        n = L["records"]
        row(f"one registration in a sync batch of {n}, gzipped", round(L["per_record_gzip"]),
            400, "B", L["per_record_gzip"] <= 400,
            f"alone in a request: {r.get('single', {}).get('request_body_gzip')} B body")
        row("HTTP requests for a sync whose outbox fits one batch", L["sync_requests"], 1,
            "requests", L["sync_requests"] <= 1,
            "all requests on the link: " + ", ".join(
                f"{k} ×{v}" for k, v in sorted(L["requests_by_route"].items())))
        row(f"{n} registrations over 50 kbit/s, 800 ms RTT: time", round(L["seconds"], 2), 6,
            "s", L["seconds"] <= 6)
        row(f"{n} registrations over 50 kbit/s, 800 ms RTT: bytes up", L["bytes_up"], 25 * KB,
            "B", L["bytes_up"] <= 25 * KB, f"down: {L['bytes_down']:,} B")
    if "link_deliveries" in r:
        L = r["link_deliveries"]
        n = L["records"]
        if "pending" in L:
            row("one delivery with signature, gzipped", None, 1500, "B", None, L["pending"])
            row(f"{n} signed deliveries over that link", None, 20, "s", None, L["pending"])
        else:
            row("one delivery with signature, gzipped", round(L["per_record_gzip"]), 1500, "B",
                L["per_record_gzip"] <= 1500)
            row(f"{n} signed deliveries over that link: time", round(L["seconds"], 2), 20, "s",
                L["seconds"] <= 20,
                f"up {L['bytes_up']:,} B, down {L['bytes_down']:,} B, {L['sync_requests']} sync "
                f"request(s)")
    if "throughput" in r:
        for backend in ("sqlite", "postgresql"):
            t = r["throughput"][backend]
            budget = 1 if backend == "sqlite" else None
            row(f"server: {t['mutations']:,} mutations applied, {backend} "
                f"(HTTP, {t['requests']} requests)",
                round(t["http_s"], 3), budget, "s",
                None if budget is None else t["http_s"] <= budget,
                f"engine alone: {t['engine_s']:.3f} s")
    if "flaky" in r:
        F = r["flaky"]
        what = (f"{F['records']} registrations under cuts (50 kbit/s, 800 ms RTT, half the "
                f"connections cut within 6,000 B; median of {len(F['seeds'])} seeds)")
        row(f"{what}: time to an empty outbox", round(F["seconds"], 1), 60, "s",
            F["seconds"] <= 60, f"runs {F['runs_s']} s, {F['sync_requests']} sync requests")
        row(f"{what}: bytes up per byte of data", round(F["bytes_up_ratio"], 2), 2, "×",
            F["bytes_up_ratio"] <= 2,
            f"up {F['bytes_up']:,} B for {F['data_bytes']:,} B of gzipped records, "
            f"{F['bytes_up_per_record']:.0f} B per record")
    if "concurrency" in r:
        c = r["concurrency"]
        what = (f"{c['phones']} phones of {c['kecamatan']} kecamatan at once, PostgreSQL, "
                f"{c['workers']} workers: {c['mutations']:,} mutations")
        note = (f"{c['requests']} requests, {c['errors']} errors; waiting on the change counter: "
                f"{c['counter_waiting_mean']} of {c['in_transaction_mean']} sessions in a sync "
                "transaction")
        row(f"{what}, total time", round(c["seconds"], 2), None, "s", None, note)
        row(f"{what}, p50 per request", round(c["p50_ms"]), None, "ms", None)
        row(f"{what}, p95 per request", round(c["p95_ms"]), None, "ms", None)
    return rows


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [f"Measured {result['finished_at']} on {m['cpu']}, {m['cores']} cores, {m['memory']}, "
             f"{m['os']}; Python {m['python']}, {m['chromium']}, PostgreSQL {m['postgresql']}; "
             f"load average {m['loadavg_start'][0]:.2f} at start, "
             f"{m['loadavg_end'][0]:.2f} at end. Medians of {result['reps']} runs.", "",
             *(["**Smoke run** (`--smoke`: every part once, a few records): it checks that "
                "the benchmarks run; these figures are not measurements.", ""]
               if result.get("smoke") else []),
             "| what | measured | budget | met |", "|---|---|---|---|"]
    for row in result["budgets"]:
        value = "pending" if row["value"] is None else f"{row['value']:,} {row['unit']}"
        budget = "—" if row["budget"] is None else f"≤ {row['budget']:,} {row['unit']}"
        met = {True: "yes", False: "**no**", None: "—"}[row["met"]]
        note = f" ({row['note']})" if row["note"] else ""
        lines.append(f"| {row['what']}{note} | {value} | {budget} | {met} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, help=f"repetitions per figure (≥ 3, default {FULL.reps})")
    ap.add_argument("--only", default=",".join(PARTS),
                    help=f"comma-separated parts: {', '.join(PARTS)}")
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    ap.add_argument("--smoke", action="store_true",
                    help="every part once with a few records, to check that it runs (writes "
                         "smoke.json and smoke.md; budgets are not judged)")
    args = ap.parse_args(argv)
    if args.smoke:
        if args.reps is not None:
            ap.error("--smoke runs every part once: leave out --reps")
        sizes = SMOKE
    else:
        sizes = replace(FULL, reps=FULL.reps if args.reps is None else args.reps)
        if sizes.reps < 3:
            ap.error("--reps must be at least 3 (figures are medians)")
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        ap.error(f"unknown parts: {', '.join(sorted(unknown))}")
    harness.linkproxy_path()
    phone.chromium_path()

    def log(text):
        print(text, flush=True)

    def terminated(signum, _frame):
        # SIGTERM (a test's time limit, a CI cancel) unwinds like an error: the finally
        # blocks stop the servers (own sessions), link emulators and Chromium.
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    started = time.monotonic()
    result = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "parts": parts, "reps": sizes.reps, "smoke": sizes.smoke, "sizes": asdict(sizes),
              "machine": machine()}
    workdir = Path(tempfile.mkdtemp(prefix="cah-bench-"))
    try:
        log(f"CAH benchmarks ({', '.join(parts)}), {sizes.reps} runs each"
            f"{' (smoke run: a few records per part)' if sizes.smoke else ''}; work in {workdir}")
        result.update(run_browser_parts(parts, sizes, workdir, log))
        if "link_registrations" in parts:
            result["single"] = single_record(sizes.reps, workdir, log)
        if "throughput" in parts:
            result["throughput"] = throughput.run(workdir, sizes, log)
        if "concurrency" in parts:
            result["concurrency"] = concurrency.run(workdir, sizes, log)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["machine"]["loadavg_end"] = os.getloadavg()
    result["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result["duration_s"] = round(time.monotonic() - started, 1)
    result["budgets"] = budgets(result)

    args.out.mkdir(parents=True, exist_ok=True)
    stamp = result["finished_at"].replace(":", "").replace("+0000", "Z")
    # a smoke run never takes the place of measured results
    names = ["smoke"] if sizes.smoke else [stamp, "latest"]
    table = markdown(result)
    for name in names:
        (args.out / f"{name}.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
        (args.out / f"{name}.md").write_text(table)
    print()
    print(table)
    print(f"written: {args.out / (names[0] + '.json')} and .md ({result['duration_s']} s)")
    if sizes.smoke:
        return 0  # it ran; speed is for the full run
    return 0 if all(r["met"] is not False for r in result["budgets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
