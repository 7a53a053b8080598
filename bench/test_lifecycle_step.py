"""User-steps per second of the lifecycle step (C++, 2 threads) against its NumPy twin,
measured in the same run (issue 13 asks >= 5M user-steps/s at 100k users and >= 20x
the twin).

Run: python -m pytest bench/test_lifecycle_step.py --benchmark-only
B = 100,000 slots over a population of 100,000 CDNOW-like customers (each slot's
customer drawn at random), the default 16-action table, horizon long enough that no
autoreset falls inside a measured call.  ``touch`` is the share of slots touched per
day (random actions among 1..15; the rest do nothing): 0.0, 0.2 and 1.0.  The twin
(``ReferenceLifecycleBatch``) is vectorised over slots (NumPy over arrays of B), so the
ratio is C++ against vectorised NumPy, not against a Python loop.
"""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.lifecycle.config import LifecycleConfig, PopulationConfig
from simcore.domains.lifecycle.simulator import LifecycleSimulator

B = 100_000


def _actions(touch: float, steps: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.where(rng.random(B) < touch, rng.integers(1, 16, B), 0).astype(np.int64) for _ in range(steps)]


@pytest.mark.parametrize("touch", [0.0, 0.2, 1.0])
@pytest.mark.parametrize("impl", ["simcore", "numpy"])
def test_lifecycle_step(benchmark, impl, touch):
    cfg = LifecycleConfig(population=PopulationConfig(n_users=B), horizon_days=3650, num_threads=2,
                          budget_per_user=1e6, user_cap=1e6)
    sim = LifecycleSimulator(cfg, B, seed=0, backend="cpp" if impl == "simcore" else "numpy")
    sim.reset()
    steps = 10 if impl == "simcore" else 2
    acts = _actions(touch, steps)

    def run():
        for a in acts:
            sim.step(a)

    benchmark.group = f"lifecycle step B={B} touch={touch} (num_threads=2)"
    benchmark.extra_info.update(impl=impl, items=B * steps)
    benchmark.pedantic(run, rounds=5 if impl == "simcore" else 3, warmup_rounds=1)
