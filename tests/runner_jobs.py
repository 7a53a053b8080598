"""Module-level job functions for the runner tests (picklable by reference)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from simcore.util.seeds import SeedTree


def draw(seed: int, n: int) -> np.ndarray:
    """n uniforms from the job's own named stream."""
    return SeedTree(seed).generator("job").random(n)


def draw_shared(shared: np.ndarray, seed: int, progress=None) -> float:
    """A job with a shared array and progress ticks."""
    x = float(shared.sum() + SeedTree(seed).generator("job").random())
    if progress is not None:
        progress(2.0)
    return x


def counted(seed: int, log: str) -> float:
    """Appends one line to ``log`` per call (to count executions)."""
    with open(log, "a") as f:
        f.write(f"{seed}\n")
    return float(SeedTree(seed).generator("job").random())


def dies_once(seed: int, marker: str) -> float:
    """Kills its own worker process on the first attempt inside a Ray worker, then
    returns the same as :func:`counted` would."""
    m = Path(marker)
    if os.environ.get("SIMCORE_TEST_IN_RAY") == "1" and not m.exists():
        m.write_text("died")
        os._exit(1)
    return float(SeedTree(seed).generator("job").random())
