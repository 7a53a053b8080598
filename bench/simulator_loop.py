"""Session-steps per second of SearchSimulator in a plain timing loop (no pytest).

Run: python bench/simulator_loop.py

B = 1024 sessions of the default world, 64 step() calls per repetition, best of 7, for 1
and 2 threads, with fresh random ranking weights every step and with one fixed weight
vector per session (the same page order every step, so pages come from deeper in the
ranking as the session goes on).
"""

from __future__ import annotations

import time

import numpy as np

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.simulator import SearchSimulator

LTR = np.array([0.0, 0.3, 0.3, 0.4, 0.0, 0.0, 0.0, 0.0], np.float32)
B, STEPS, REPEATS = 1024, 64, 7


def best_rate(sim: SearchSimulator, actions: np.ndarray) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        for a in actions:
            sim.step(a)
        best = min(best, time.perf_counter() - t0)
    return actions.shape[0] * actions.shape[1] / best


def main() -> None:
    rng = np.random.default_rng(0)
    varying = (LTR + rng.normal(0, 0.2, size=(STEPS, B, 8))).astype(np.float32)
    fixed = np.repeat(varying[:1], STEPS, axis=0)
    for threads in (1, 2):
        sim = SearchSimulator(SessionConfig(num_threads=threads), B, seed=0)
        sim.reset()
        for name, acts in (("random weights every step", varying), ("fixed weights", fixed)):
            print(f"threads={threads}  {name:<26} {best_rate(sim, acts):>10,.0f} session-steps/s")


if __name__ == "__main__":
    main()
