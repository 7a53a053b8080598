"""Driver for bench/ab_callgrind.sh: set up one case, then run exactly N steps.

Usage: python bench/ab_callgrind_driver.py CASE N
  CASE: sim1 | sim1024 (SearchSimulator, B = 1 / 1024, one thread, default world,
        fixed pseudo-random ranking weights) or gym (gymnasium.make of
        simcore/SearchSession-v0, reset() whenever an episode ends).

The same script runs against old and new checkouts (the simulator import falls back to
the pre-refactor path simcore.core).  ab_callgrind.sh runs it under callgrind with two
step counts; the difference of the totals divided by the difference of the counts is
the instruction count per step, without setup, imports or warm-up.
"""

from __future__ import annotations

import sys

import numpy as np


def _simulator():
    try:
        from simcore.domains.search.config import SessionConfig
        from simcore.domains.search.simulator import SearchSimulator
    except ImportError:  # pre-refactor layout
        from simcore.config import SessionConfig  # type: ignore[no-redef]
        from simcore.core import SearchSimulator  # type: ignore[no-redef]
    return SearchSimulator, SessionConfig


def run_sim(B: int, n: int) -> None:
    SearchSimulator, SessionConfig = _simulator()
    sim = SearchSimulator(SessionConfig(num_threads=1), num_sessions=B, seed=0)
    sim.reset()
    rng = np.random.default_rng(0)
    acts = rng.uniform(-1, 1, size=(8, B, sim.num_features)).astype(np.float32)
    sim.step(acts[0])  # warm-up outside the counted difference (both runs do it)
    for i in range(n):
        sim.step(acts[i % 8])


def run_gym(n: int) -> None:
    import gymnasium as gym

    import simcore  # noqa: F401  (registers the ids)

    env = gym.make("simcore/SearchSession-v0")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    acts = rng.uniform(-1, 1, size=(8,) + env.action_space.shape).astype(np.float32)
    env.step(acts[0])
    for i in range(n):
        _, _, term, trunc, _ = env.step(acts[i % 8])
        if term or trunc:
            env.reset()


def main() -> None:
    case, n = sys.argv[1], int(sys.argv[2])
    if case == "gym":
        run_gym(n)
    elif case.startswith("sim"):
        run_sim(int(case[3:]), n)
    else:
        raise SystemExit(f"case: expected sim1, sim1024 or gym, got {case!r}")


if __name__ == "__main__":
    main()
