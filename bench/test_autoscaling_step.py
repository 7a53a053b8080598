"""Zone-steps per second of the autoscaling step (C++, 2 threads) against its NumPy twin,
measured in the same run (issue 15 asks >= 5M zone-steps/s on 2 threads at B = 4096
and >= 20x the twin).

Run: python -m pytest bench/test_autoscaling_step.py --benchmark-only
B = 4096 (the issue's case) and 65,536 zones drawn from the default population (50
apps), delay 0 and 3, random ratios in the default range [-0.5, 1] on 30 % of the zones
(0 elsewhere), a horizon long enough that no autoreset falls inside a measured call.
The twin (``ReferenceAutoscalingBatch``) is vectorised over zones (NumPy over arrays
of B, whose exp/log/sin/cos are SIMD loops), so the ratio is C++ against vectorised
NumPy, not against a Python loop.  Both go through the same Python face
(``AutoscalingSimulator.step``: argument checks included).
"""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.autoscaling.config import AutoscalingConfig
from simcore.domains.autoscaling.simulator import AutoscalingSimulator


def _actions(B: int, steps: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.where(rng.random(B) < 0.3, rng.uniform(-0.5, 1.0, B), 0.0) for _ in range(steps)]


@pytest.mark.parametrize("B", [4096, 65_536])
@pytest.mark.parametrize("delay", [0, 3])
@pytest.mark.parametrize("impl", ["simcore", "numpy"])
def test_autoscaling_step(benchmark, impl, delay, B):
    cfg = AutoscalingConfig(horizon=10**7, delay=delay, num_threads=2)
    sim = AutoscalingSimulator(cfg, B, seed=0, backend="cpp" if impl == "simcore" else "numpy")
    sim.reset()
    steps = max(10, 2 * 10**6 // B) if impl == "simcore" else max(5, 2 * 10**5 // B)
    acts = _actions(B, steps)

    def run():
        for a in acts:
            sim.step(a)

    benchmark.group = f"autoscaling step B={B} delay={delay} (num_threads=2)"
    benchmark.extra_info.update(impl=impl, items=B * steps)
    benchmark.pedantic(run, rounds=5 if impl == "simcore" else 3, warmup_rounds=1)
