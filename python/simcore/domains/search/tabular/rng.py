"""Counter-based random numbers for the vectorised learners.

Every draw is a pure function of (run key, session number, page, draw slot), computed
with SplitMix64 mixing on uint64 arrays.  A run's random stream therefore depends only
on its own seed, never on how many runs or parallel sessions share a NumPy array, so
runs are reproducible one by one and in any batch.

Seeds of the tabular modules are named: a function that draws takes ``seed: int |
SeedTree`` (:class:`simcore.util.seeds.SeedTree`; an int n stands for
``SeedTree(n)``) and draws each of its streams from a documented sub-path of it
(:func:`seed_tree`); run keys come from a path too (:func:`tree_key`).
"""

from __future__ import annotations

from typing import Union

import numpy as np

from simcore.util.seeds import PathPart, SeedTree

#: what the drawing functions of the tabular modules accept as their seed
Seeds = Union[int, SeedTree]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_K_SESSION = np.uint64(0xD1B54A32D192ED03)
_K_PAGE = np.uint64(0xABC98388FB8FAC03)
_K_SLOT = np.uint64(0x8CB92BA72F3D8DD7)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _C1
    z = (z ^ (z >> _S27)) * _C2
    return z ^ (z >> _S31)


def seed_tree(seed: Seeds) -> SeedTree:
    """``seed`` as a :class:`SeedTree`: the tree itself, or ``SeedTree(seed)`` for an int."""
    return seed if isinstance(seed, SeedTree) else SeedTree(int(seed))


def tree_key(seeds: SeedTree, *path: PathPart) -> np.uint64:
    """The 64-bit run key of stream ``path`` of ``seeds``: the first uint64 word of
    ``seeds.sequence(*path).generate_state``."""
    return np.uint64(seeds.sequence(*path).generate_state(1, dtype=np.uint64)[0])


def run_keys(seed: int, *path: int) -> np.uint64:
    """The 64-bit key of one run, from its seed and a path of integers (e.g.
    algorithm, gamma index, run index) via :class:`numpy.random.SeedSequence`."""
    ss = np.random.SeedSequence([int(seed), *[int(p) for p in path]])
    return np.uint64(ss.generate_state(1, dtype=np.uint64)[0])


def hash_bits(key: np.ndarray, session: np.ndarray, page: np.ndarray | int, slot: int) -> np.ndarray:
    """uint64 pseudo-random bits of (key, session, page, slot), elementwise."""
    with np.errstate(over="ignore"):
        z = key ^ (np.asarray(session, dtype=np.uint64) * _K_SESSION)
        z = _mix(z + _GOLDEN)
        z = z ^ (np.asarray(page, dtype=np.uint64) * _K_PAGE + np.uint64(slot) * _K_SLOT)
        return _mix(z + _GOLDEN)


def uniform(key: np.ndarray, session: np.ndarray, page: np.ndarray | int, slot: int) -> np.ndarray:
    """float64 uniforms in [0, 1) (53 bits) of (key, session, page, slot)."""
    return (hash_bits(key, session, page, slot) >> _S11).astype(np.float64) * (2.0**-53)


def uniform_pair(
    key: np.ndarray, session: np.ndarray, page: np.ndarray | int, slot: int
) -> tuple[np.ndarray, np.ndarray]:
    """Two float64 uniforms in [0, 1) with 32 bits each, from one hash."""
    z = hash_bits(key, session, page, slot)
    lo = (z & np.uint64(0xFFFFFFFF)).astype(np.float64) * (2.0**-32)
    hi = (z >> np.uint64(32)).astype(np.float64) * (2.0**-32)
    return lo, hi


def uniform_and_bits(
    key: np.ndarray, session: np.ndarray, page: np.ndarray | int, slot: int
) -> tuple[np.ndarray, np.ndarray]:
    """From one hash: a float64 uniform in [0, 1) with 32 bits (the low half) and the
    high 32 bits as uint64 (for further draws)."""
    z = hash_bits(key, session, page, slot)
    lo = (z & np.uint64(0xFFFFFFFF)).astype(np.float64) * (2.0**-32)
    return lo, z >> np.uint64(32)
