"""Session-steps per second: the C++ batched simulator vs the vectorised NumPy twin
(simcore.domains.search.reference.ReferenceSessionBatch) and vs one Gymnasium env stepped in Python.

Run: python -m pytest bench/test_simulator_steps.py --benchmark-only
Default world: N=1000 candidates, m=8, K=10; B=1024 uses 2 threads.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import simcore  # noqa: F401
from simcore.domains.search.config import SessionConfig
from simcore.domains.search.reference import ReferenceSessionBatch
from simcore.domains.search.simulator import SearchSimulator

LTR = np.array([0.0, 0.3, 0.3, 0.4, 0.0, 0.0, 0.0, 0.0], np.float32)


def _actions(B: int, steps: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (LTR + rng.normal(0, 0.2, size=(steps, B, 8))).astype(np.float32)


@pytest.mark.parametrize("B", [1, 64, 1024])
@pytest.mark.parametrize("impl", ["simcore", "numpy"])
def test_batched_steps(benchmark, B, impl):
    steps = max(4, 4096 // B) if impl == "simcore" else max(2, 256 // B)
    acts = _actions(B, steps)
    cfg = SessionConfig(num_threads=min(2, B))
    sim = SearchSimulator(cfg, B, seed=0) if impl == "simcore" else ReferenceSessionBatch(cfg, B, seed=0)
    sim.reset()

    def run():
        for a in acts:
            sim.step(a)

    # num_threads=2 allows two threads; below 256 sessions the simulator uses one (kMinChunk)
    benchmark.group = f"simulator B={B}" + (" (num_threads=2)" if B > 1 else "")
    benchmark.extra_info.update(impl=impl, items=B * steps)
    benchmark(run)


@pytest.mark.parametrize("impl", ["simcore", "numpy"])
def test_gymnasium_single_env(benchmark, impl):
    """One session at a time through gym.make (wrappers included), as peers step."""
    steps = 2000 if impl == "simcore" else 200
    if impl == "simcore":
        env = gym.make("simcore/SearchSession-v0")
    else:
        env = _NumpyLoopEnv()
    env.reset(seed=0)
    acts = _actions(1, steps)[:, 0]

    def run():
        for a in acts:
            _, _, term, trunc, _ = env.step(a)
            if term or trunc:
                env.reset()

    benchmark.group = "Gymnasium single env (B=1)"
    benchmark.extra_info.update(impl=impl, items=steps)
    benchmark(run)


class _NumpyLoopEnv(gym.Env):
    """A pure-Python/NumPy Gymnasium env over the reference simulator (B = 1)."""

    def __init__(self) -> None:
        self.sim = ReferenceSessionBatch(SessionConfig(), 1)
        self.observation_space = gym.spaces.Box(0, 1, (self.sim.obs_dim,), np.float32)
        self.action_space = gym.spaces.Box(-1, 1, (8,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self.sim.seed(seed)
        return self.sim.reset()[0], {}

    def step(self, action):
        r = self.sim.step(np.asarray(action, np.float32)[None])
        return r["obs"][0], float(r["reward"][0]), bool(r["terminated"][0]), bool(r["truncated"][0]), {}
