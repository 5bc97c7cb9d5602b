"""The phone on a link that keeps dropping (issue #12, "Progress under cuts"): the real app in
headless Chromium saves N registrations offline, then comes online through linkproxy at
50 kbit/s, 800 ms RTT, where half the connections are cut somewhere in their first 6,000 bytes
(up and down together). Nobody taps anything: the app's own retries (sync-pacing.js) must
empty the outbox.

Per seed of the link's random cuts: seconds from `online` until the outbox is empty, bytes up
(everything the phone sent, HTTP heads and cut attempts included) and the data's own size
(the gzipped JSON of the outbox's wire mutations, what one request on a clean link would
carry). Figures are medians over the seeds.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

from . import data, harness, phone

LINK = {"kbps": 50, "rtt_ms": 800, "drop_prob": 0.5, "drop_max_bytes": 6000}

_DATA_BYTES_JS = """async () => {
  const db = await import('/app/js/db.js');
  const rules = await import('/app/js/outbox-rules.js');
  const { gzipText } = await import('/app/js/sync-client.js');
  const outbox = await db.getOutbox();
  return (await gzipText(JSON.stringify(outbox.map(rules.wireMutation)))).length;
}"""


def one_run(browser, workdir: Path, records: int, seed: int, timeout_s: float) -> dict:
    """A fresh server and phone; `records` registrations over the flaky link with `seed`."""
    server = harness.ServerProcess(workdir / "server").prepare().start()
    link = harness.LinkProxy(server.port, workdir / "link", kbps=0, rtt_ms=0).start()
    context = browser.new_context()
    try:
        page = context.new_page()
        phone.login_phone(page, link.url)
        context.set_offline(True)
        link.stop()
        made = data.registrations(records, seed=700 + seed)
        assert phone.queue_in_app(page, [("register_resident", a) for a in made]) == records
        data_bytes = page.evaluate(_DATA_BYTES_JS)
        link.start(seed=seed, **LINK)
        t0 = time.monotonic()
        context.set_offline(False)  # the app syncs on "online" and retries by itself
        left = records
        while left and time.monotonic() - t0 < timeout_s:
            page.wait_for_timeout(100)
            left = phone.outbox_size(page)
        seconds = time.monotonic() - t0
        page.wait_for_timeout(200)
        stats = link.stop()
        assert left == 0, (f"seed {seed}: {left} of {records} records still waiting after "
                           f"{seconds:.0f} s")
        arrived = server.sql("select count(*) from resident_events where kind = 'registered'")[0][0]
        assert arrived == records, f"seed {seed}: {arrived} of {records} registrations arrived"
        return {"seed": seed, "seconds": seconds, "bytes_up": stats["bytes_up"],
                "bytes_down": stats["bytes_down"], "data_bytes": data_bytes,
                "sync_requests": stats["requests_by_route"].get("POST /api/sync", 0),
                "connections": stats["tcp_connections"],
                "connections_dropped": stats["connections_dropped"]}
    finally:
        context.close()
        link.stop()
        server.stop()


def run(browser, workdir: Path, records: int, seeds, timeout_s: float, log) -> dict:
    """One run per seed; medians of time and bytes, and the runs themselves."""
    runs = []
    for seed in seeds:
        r = one_run(browser, workdir / f"seed{seed}", records, seed, timeout_s)
        runs.append(r)
        log(f"  flaky seed {seed}: {r['seconds']:.1f} s, up {r['bytes_up']:,} B for "
            f"{r['data_bytes']:,} B of data ({r['bytes_up'] / r['data_bytes']:.2f}×), "
            f"{r['sync_requests']} sync requests, {r['connections_dropped']} of "
            f"{r['connections']} connections cut")

    def med(key):
        return statistics.median(r[key] for r in runs)

    return {"records": records, "seeds": list(seeds), "link": LINK,
            "seconds": med("seconds"), "runs_s": [round(r["seconds"], 1) for r in runs],
            "bytes_up": med("bytes_up"), "data_bytes": med("data_bytes"),
            "bytes_up_ratio": statistics.median(r["bytes_up"] / r["data_bytes"] for r in runs),
            "bytes_up_per_record": med("bytes_up") / records,
            "sync_requests": med("sync_requests"),
            "connections_dropped": med("connections_dropped"), "runs": runs}
