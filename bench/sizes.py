"""How much work each benchmark part does: the full run's sizes, or a smoke run's tiny ones.

The smoke run (`python -m bench --smoke`, also run by tests/bench/ in the README's test
command) goes through every part once with a few records so that a part that no longer runs
is caught; its figures are not measurements. The full run's sizes are the ones DESIGN §8's
budgets are stated for.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    """Repetitions, record counts (per run) and time limits (seconds) of the parts."""

    reps: int                  # runs per figure (a figure is their median)
    cold_runs: int             # offline cold starts (at least reps)
    link_records: int          # registrations, and signed deliveries, over the 2G link
    link_timeout_s: float      # one phone sync over the 2G link
    throughput_mutations: int  # registrations applied by the server per run
    throughput_batch: int      # of them per sync request
    smoke: bool = False
    # bench/concurrency.py: phones syncing at once, and per phone: registrations, pipeline
    # steps, new outbox entries per sync request
    concurrency_phones: int = 50
    concurrency_registrations: int = 100
    concurrency_steps: int = 50
    concurrency_sync_every: int = 25
    # bench/flaky.py: registrations over a link that cuts half its connections, one run per
    # seed of the cuts (the figure is their median), and the time limit of one run
    flaky_records: int = 300
    flaky_seeds: tuple[int, ...] = (1, 2, 3, 4, 5)
    flaky_timeout_s: float = 300


FULL = Sizes(reps=3, cold_runs=5, link_records=100, link_timeout_s=180,
             throughput_mutations=1000, throughput_batch=500)
SMOKE = Sizes(reps=1, cold_runs=1, link_records=5, link_timeout_s=60,
              throughput_mutations=20, throughput_batch=10, smoke=True,
              concurrency_phones=3, concurrency_registrations=4, concurrency_steps=2,
              concurrency_sync_every=3, flaky_records=10, flaky_seeds=(1,), flaky_timeout_s=90)
