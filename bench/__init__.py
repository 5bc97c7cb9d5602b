"""Benchmarks of CAH against the budgets of DESIGN §8 (`python -m bench`; see docs/performance.md).

`bench.harness` (a real server process, the link emulator, Chromium and the phone app) and
`bench.data` (synthetic field data) are shared with the fault-injection tests in tests/faults/.
"""
