"""Zone-steps per second of the autoscaling step (C++, 1 and 2 threads) against its NumPy
twin, measured in the same run (issue 15 asks >= 5M zone-steps/s on 2 threads at B = 4096
and >= 20x the twin).

Run: python -m pytest bench/test_autoscaling_step.py --benchmark-only
(on a shared machine add ``--benchmark-timer=time.thread_time``: CPU time of the calling
thread, meaningful for the 1-thread C++ rows and the twins; a 2-thread row then counts only
the calling thread's half).
B = 4096 (the issue's case) and 65,536 zones drawn from the default population (50
apps), delay 0 and 3, random ratios in the default range [-0.5, 1] on 30 % of the zones
(0 elsewhere), a horizon long enough that no autoreset falls inside a measured call.
Implementations: ``simcore`` (the C++ step, ``threads`` 1 or 2), ``numpy`` (the twin,
``ReferenceAutoscalingBatch``, vectorised over zones, bit-identical to the C++: it computes
the step's polynomial exp / log / log1p / cos / sin of vecmath.py in NumPy), and
``numpy_libm`` (the same twin with NumPy's own np.exp / np.log / np.log1p / np.cos / np.sin,
the twin's form before the polynomials: not bit-identical, here so that the C++ / twin
ratio is also reported against the faster libm twin).  All go through the same Python face
(``AutoscalingSimulator.step``).
"""

from __future__ import annotations

import types

import numpy as np
import pytest

from simcore.domains.autoscaling import reference
from simcore.domains.autoscaling.config import AutoscalingConfig
from simcore.domains.autoscaling.simulator import AutoscalingSimulator

_TWO_PI = reference.TWO_PI
LIBM = types.SimpleNamespace(
    exp=np.exp, log=np.log, log1p=np.log1p, cos2pi=lambda u: np.cos(_TWO_PI * u),
    sincos2pi=lambda u: (np.cos(_TWO_PI * u), np.sin(_TWO_PI * u)))


def _actions(B: int, steps: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.where(rng.random(B) < 0.3, rng.uniform(-0.5, 1.0, B), 0.0) for _ in range(steps)]


@pytest.mark.parametrize("B", [4096, 65_536])
@pytest.mark.parametrize("delay", [0, 3])
@pytest.mark.parametrize("impl, threads", [("simcore", 2), ("simcore", 1), ("numpy", 1), ("numpy_libm", 1)])
def test_autoscaling_step(benchmark, monkeypatch, impl, threads, delay, B):
    if impl == "numpy_libm":
        monkeypatch.setattr(reference, "vm", LIBM)
    cfg = AutoscalingConfig(horizon=10**7, delay=delay, num_threads=threads)
    sim = AutoscalingSimulator(cfg, B, seed=0, backend="cpp" if impl == "simcore" else "numpy")
    sim.reset()
    steps = max(10, 2 * 10**6 // B) if impl == "simcore" else max(5, 2 * 10**5 // B)
    acts = _actions(B, steps)

    def run():
        for a in acts:
            sim.step(a)

    benchmark.group = f"autoscaling step B={B} delay={delay}"
    benchmark.extra_info.update(impl=impl, threads=threads, items=B * steps)
    benchmark.pedantic(run, rounds=5 if impl == "simcore" else 3, warmup_rounds=1)
