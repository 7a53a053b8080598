"""NumPy twin of the C++ counter-based random streams (cpp/simcore/common/rng.hpp).

A session slot keyed by the pair (seed s, stream index j) draws its e-th episode from
the SplitMix64 stream starting at ``stream_key(s, j, e)``; each draw advances the state
by the golden-ratio constant.  ``seed(s)`` keys slot j by (s, j), per-slot seeding
(``seed_slots``) by (seeds[j], 0).
"""

from __future__ import annotations

import numpy as np

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_EP = np.uint64(0xD1B54A32D192ED03)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _C1
    z = (z ^ (z >> np.uint64(27))) * _C2
    return z ^ (z >> np.uint64(31))


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser of x + golden ratio (uint64 arrays, wrapping)."""
    with np.errstate(over="ignore"):
        return _mix(np.asarray(x, dtype=np.uint64) + _GOLDEN)


def stream_key(seed: int | np.ndarray, slot: np.ndarray, episode: np.ndarray) -> np.ndarray:
    """Starting state of the stream of (seed, slot, episode), as in
    cpp/simcore/common/rng.hpp; ``seed`` is one int or a uint64 array (one per slot)."""
    with np.errstate(over="ignore"):
        s = splitmix64(np.atleast_1d(np.asarray(seed, dtype=np.uint64)))
        a = splitmix64(s ^ np.asarray(slot, dtype=np.uint64))
        return splitmix64(a ^ (np.asarray(episode, dtype=np.uint64) * _EP))


class Streams:
    """One SplitMix64 stream per session slot; draws advance only the selected slots."""

    def __init__(self, n: int) -> None:
        self.state = np.zeros(n, dtype=np.uint64)

    def uniform(self, sel: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            st = self.state[sel] + _GOLDEN
            self.state[sel] = st
            z = _mix(st)
        return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53

    def normal(self, sel: np.ndarray) -> np.ndarray:
        u1 = 1.0 - self.uniform(sel)
        u2 = self.uniform(sel)
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(6.283185307179586 * u2)
