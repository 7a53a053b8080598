"""A state-dependent logging policy for the search simulator: Gaussian ranking weights
whose mean depends on the user's segment.

The engine's observation (float32 (B, D), D = W*m + m + 1 + G + 1; the layout of
:func:`simcore.domains.virtual_taobao.joint.engine_states`) holds the user's segment as a
one-hot block at columns ``W*m + m + 1 ... W*m + m + G``.  :class:`SegmentGaussianPolicy`
reads it and draws

    a ~ N(mu_g, diag(std^2)),   g = the segment in the observation,

with the exact log density of the float32 action actually returned (the log's
propensity column).  :func:`segment_means` builds the means used by the experiment:

    mu_g = (1 - mix) * LTR + mix * R_{1 + (g mod 4)},

R_1..R_4 the named rankings premium, popular, quality, bargain
(:func:`simcore.domains.search.world.default_action_set`): each segment is logged with
its own blend of LTR and one other ranking.  A state-independent model of this engine
(one Gaussian over all pages) is wrong by construction, which is where learning the
engine policy jointly with the user (joint MAIL) can matter.
"""

from __future__ import annotations

import numpy as np

from simcore.domains.search.world import default_action_set
from simcore.util.seeds import SeedTree

__all__ = ["SegmentGaussianPolicy", "segment_means", "segment_of"]


def segment_means(m: int, segments: int, mix: float) -> np.ndarray:
    """float64 (G, m): mu_g = (1 - mix) LTR + mix R_{1 + g mod 4} (module docstring); mix in [0, 1]."""
    if not isinstance(segments, (int, np.integer)) or isinstance(segments, bool) or segments < 1:
        raise ValueError(f"segments: must be an integer >= 1, got {segments!r}")
    if not isinstance(mix, (int, float)) or isinstance(mix, bool) or not (0.0 <= mix <= 1.0):
        raise ValueError(f"mix: must be a number in [0, 1], got {mix!r}")
    named = default_action_set(m).astype(np.float64)
    other = named[1 + np.arange(segments) % (named.shape[0] - 1)]
    return (1.0 - mix) * named[0][None, :] + mix * other


def segment_of(obs: np.ndarray, window: int, m: int, segments: int) -> np.ndarray:
    """int64 (B,): the segment one-hot of observations float32 (B, W*m + m + 1 + G + 1)."""
    o = np.asarray(obs)
    D = window * m + m + 1 + segments + 1
    if o.ndim != 2 or o.shape[1] != D:
        raise ValueError(f"obs: expected shape (B, {D}) for W={window}, m={m}, G={segments}, got {o.shape}")
    lo = window * m + m + 1
    return np.argmax(o[:, lo: lo + segments], axis=1).astype(np.int64)


class SegmentGaussianPolicy:
    """a ~ N(means[g], diag(std^2)) per page, g the observation's segment.

    Args:
        means: float (G, m) per-segment mean weights (finite).
        std: float > 0 or (m,) standard deviations.
        window: W of the observation layout (the user model's memory, >= 1).
        seed: the policy's own random stream (SeedTree path "logging-policy").
    """

    def __init__(self, means: np.ndarray, std: float | np.ndarray, window: int, seed: int = 0,
                 name: str = "segment-gaussian") -> None:
        self.means = np.asarray(means, dtype=np.float64)
        if self.means.ndim != 2 or self.means.shape[0] < 1 or not np.all(np.isfinite(self.means)):
            raise ValueError(f"means: expected a finite (G, m) array, got shape {self.means.shape}")
        G, m = self.means.shape
        self.std = np.broadcast_to(np.asarray(std, dtype=np.float64), (m,)).copy()
        if not np.all(np.isfinite(self.std)) or np.any(self.std <= 0):
            raise ValueError("std: must be finite and > 0")
        if not isinstance(window, (int, np.integer)) or isinstance(window, bool) or window < 1:
            raise ValueError(f"window: must be an integer >= 1, got {window!r}")
        self.window, self.segments, self.m = int(window), G, m
        self.rng = SeedTree(seed).generator("logging-policy")
        self.name = name

    def mean(self, obs: np.ndarray) -> np.ndarray:
        """float64 (B, m): the mean weights at observations ``obs``."""
        return self.means[segment_of(obs, self.window, self.m, self.segments)]

    def log_prob(self, obs: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """float64 (B,) log density of actions (B, m) at observations (B, D)."""
        z = (np.asarray(actions, np.float64) - self.mean(obs)) / self.std
        return -(0.5 * z * z + np.log(self.std) + 0.5 * np.log(2 * np.pi)).sum(axis=1)

    def __call__(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = self.mean(obs)
        a = (mu + self.std * self.rng.standard_normal(mu.shape)).astype(np.float32)
        return a, self.log_prob(obs, a)

    def actions(self, obs: np.ndarray) -> np.ndarray:
        """float32 (B, m) draws only (the ``engine`` of :func:`.mail.generate_sessions`)."""
        return self(obs)[0]
