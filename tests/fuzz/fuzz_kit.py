"""Shared helpers of the fuzz tests (a unique module name: every conftest is "conftest")."""
import os

from hypothesis import Phase

SCALE = float(os.environ.get("CAH_FUZZ_SCALE", "1"))


def examples(n):
    """n examples, scaled by CAH_FUZZ_SCALE (default 1; e.g. 10 for a long local run)."""
    return max(1, int(n * SCALE))


def phases():
    """Hypothesis phases: no shrinking unless CAH_FUZZ_SHRINK=1 (shrinking a stateful failure
    can take minutes; the unshrunk steps are printed anyway)."""
    if os.environ.get("CAH_FUZZ_SHRINK") == "1":
        return tuple(Phase)
    return (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
