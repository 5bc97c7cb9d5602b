"""Benchmarks of CAH against the budgets of DESIGN §8 (`python -m bench`; see docs/performance.md).

`bench.harness` (a real server process and the link emulator), `bench.phone` (a raw sync
client, Chromium and the phone app) and `bench.data` (synthetic field data) are shared with
the fault-injection tests in tests/faults/.
"""
