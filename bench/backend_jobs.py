"""Job functions for bench/test_runner_backends.py (module-level: picklable by
reference for the process pool and Ray workers)."""

from __future__ import annotations

import numpy as np

from simcore.util.seeds import SeedTree


def tiny(seed: int) -> float:
    """Microseconds of work: measures the backend's per-job overhead alone."""
    return float(SeedTree(seed).generator("job").random(100).sum())


def sessions(seed: int, num_sessions: int, steps: int) -> float:
    """A real job: ``steps`` batched steps of ``num_sessions`` search sessions with
    random ranking weights (one thread), returns the GMV collected."""
    from simcore.domains.search.config import SessionConfig
    from simcore.domains.search.simulator import SearchSimulator

    tree = SeedTree(seed)
    sim = SearchSimulator(SessionConfig(num_threads=1), num_sessions, seed=tree.seed("simulator"))
    rng = tree.generator("weights")
    sim.reset()
    gmv = 0.0
    for _ in range(steps):
        gmv += float(sim.step(rng.random((num_sessions, 8), dtype=np.float32)).reward.sum())
    return gmv
