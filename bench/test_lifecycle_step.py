"""User-steps per second of the lifecycle step (C++, 2 threads) against its NumPy twin,
measured in the same run (issue 13 asks >= 5M user-steps/s at 100k users and >= 20x
the twin).

Run: python -m pytest bench/test_lifecycle_step.py --benchmark-only
(``threads`` = the C++ step's num_threads, 1 or 2; the twin is single-threaded either way.
On a loaded machine, ``--benchmark-timer=time.thread_time -k t1`` measures the one-thread
cases in CPU time of the calling thread, which the C++ step runs on when num_threads = 1:
a load-robust per-core ratio.)
B = 100,000 (the issue's case) and 1,024 slots over a population of 100,000 CDNOW-like
customers (each slot's customer drawn at random), the default 16-action table, a
horizon long enough that no autoreset falls inside a measured call, and a budget that
does not bind (the one-pass step; a binding budget adds a second pass).  ``touch`` is the share of slots touched per
day (random actions among 1..15; the rest do nothing): 0.0, 0.2 and 1.0.  The twin
(``ReferenceLifecycleBatch``) is vectorised over slots (NumPy over arrays of B), so the
ratio is C++ against vectorised NumPy, not against a Python loop.
"""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.lifecycle.config import LifecycleConfig, PopulationConfig
from simcore.domains.lifecycle.simulator import LifecycleSimulator


def _actions(B: int, touch: float, steps: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.where(rng.random(B) < touch, rng.integers(1, 16, B), 0).astype(np.int64) for _ in range(steps)]


@pytest.mark.parametrize("B", [1024, 100_000])
@pytest.mark.parametrize("touch", [0.0, 0.2, 1.0])
@pytest.mark.parametrize("impl", ["simcore", "numpy"])
@pytest.mark.parametrize("threads", [1, 2], ids=["t1", "t2"])
def test_lifecycle_step(benchmark, impl, touch, B, threads):
    cfg = LifecycleConfig(population=PopulationConfig(n_users=100_000), horizon_days=3650, num_threads=threads,
                          budget_per_user=1e6, user_cap=1e6)
    sim = LifecycleSimulator(cfg, B, seed=0, backend="cpp" if impl == "simcore" else "numpy")
    sim.reset()
    steps = max(10, 10**6 // B) if impl == "simcore" else max(2, 20_000 // B)
    acts = _actions(B, touch, steps)

    def run():
        for a in acts:
            sim.step(a)

    benchmark.group = f"lifecycle step B={B} touch={touch} (num_threads={threads})"
    benchmark.extra_info.update(impl=impl, items=B * steps)
    benchmark.pedantic(run, rounds=5 if impl == "simcore" else 3, warmup_rounds=1)
