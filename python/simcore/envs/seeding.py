"""Seed conventions shared by every simcore env."""

from __future__ import annotations

import numbers

import numpy as np


def seed_to_int(seed: object) -> int:
    """An int seed, or a sequence of ints hashed into one 63-bit seed."""
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed: must be non-negative, got {seed}")
        return int(seed)
    if isinstance(seed, (list, tuple)) and seed and all(isinstance(s, numbers.Integral) for s in seed):
        return int(np.random.SeedSequence([int(s) for s in seed]).generate_state(1, np.uint64)[0] >> 1)
    raise TypeError(f"seed: expected an int, a list of ints or None, got {seed!r}")
