"""Seed conventions shared by every simcore env."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from simcore.envs.standard import fresh_seed


def seed_to_int(seed: object) -> int:
    """An int seed, or a sequence of ints hashed into one 63-bit seed."""
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed: must be non-negative, got {seed}")
        return int(seed)
    if isinstance(seed, (list, tuple)) and seed and all(isinstance(s, numbers.Integral) for s in seed):
        return int(np.random.SeedSequence([int(s) for s in seed]).generate_state(1, np.uint64)[0] >> 1)
    raise TypeError(f"seed: expected an int, a list of ints or None, got {seed!r}")


def fold_seeds(seeds: Sequence[int | None]) -> int:
    """One batch seed from per-sub-env seeds (None entries: fresh entropy).

    ``[s] * B`` folds to s itself (so it equals the int seed s); any other list to a
    63-bit SeedSequence hash of its entries, the same list always to the same seed.
    """
    filled = [fresh_seed() if s is None else int(s) for s in seeds]
    if filled and all(s == filled[0] for s in filled):
        return filled[0]
    return int(np.random.SeedSequence(filled).generate_state(1, np.uint64)[0] >> 1)
