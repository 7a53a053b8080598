"""Off-policy evaluation for episodic data with propensities (NumPy only).

N logged episodes of horizon at most H, as (N, H) arrays: rewards r_t, the behaviour
policy's probability of the logged action p_b,t = pi_b(a_t | s_t) in (0, 1], the target's
pi_e(a_t | s_t) in [0, 1], and ``mask`` (bool (N, H), True on real steps; an episode's
steps come first, padding after).  rho_{0:t} = prod_{u <= t} pi_e(a_u|s_u) / p_b,u
(padding steps count as 1), discount gamma in [0, 1]:

    IS     V = (1/N) sum_i rho^i_{0:H-1} sum_t gamma^t r^i_t                   (trajectory-wise)
    PDIS   V = (1/N) sum_i sum_t gamma^t rho^i_{0:t} r^i_t                     (per-decision)
    WPDIS  V = sum_t gamma^t sum_i rho^i_{0:t} r^i_t / sum_i rho^i_{0:t}       (weighted per-decision)
    DR     V = (1/N) sum_i sum_t gamma^t [rho^i_{0:t} (r^i_t - q^i_t) + rho^i_{0:t-1} v^i_t]

(Precup, Sutton & Singh 2000; Jiang & Li 2016 and Thomas & Brunskill 2016 for DR), with
the model's q^i_t = q_hat(s_t, a_t) and v^i_t = sum_a pi_e(a|s_t) q_hat(s_t, a) (the
caller's; rho_{0:-1} = 1).  IS, PDIS and DR are unbiased when p_b is exact and pi_b covers
pi_e; DR for any model, and with the true q it has no variance from the rewards'
mean.  WPDIS is consistent, biased at finite N.

IS, PDIS and DR return an :class:`simcore.algos.ope.Estimate` (per-episode terms, mean =
value); WPDIS a :class:`WeightedEstimate` (value and resampling, for the bootstrap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simcore.algos.ope import Estimate


def _arr(name: str, value: Any, shape: tuple[int, ...] | None) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers") from None
    if a.ndim != 2 or (shape is not None and a.shape != shape) or a.size == 0:
        raise ValueError(f"{name}: expected shape {shape or '(N, H)'}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or inf")
    return a


@dataclass(frozen=True)
class _Episodes:
    reward: np.ndarray    # (N, H), 0 on padding
    rho: np.ndarray       # (N, H) cumulative rho_{0:t}
    rho_prev: np.ndarray  # (N, H) rho_{0:t-1}
    disc: np.ndarray      # (H,) gamma^t
    mask: np.ndarray      # (N, H) bool


def _episodes(reward: Any, pscore: Any, target_prob: Any, mask: Any, gamma: float) -> _Episodes:
    r = _arr("reward", reward, None)
    p = _arr("pscore", pscore, r.shape)
    q = _arr("target_prob", target_prob, r.shape)
    m = np.ones(r.shape, dtype=bool) if mask is None else np.asarray(mask)
    if m.shape != r.shape or m.dtype != bool:
        raise ValueError(f"mask: expected bool of shape {r.shape}, got {m.dtype} {m.shape}")
    if np.any(m[:, 1:] & ~m[:, :-1]):
        raise ValueError("mask: each episode's steps must come first (no True after a False)")
    if np.any((p[m] <= 0) | (p[m] > 1)):
        raise ValueError("pscore: propensities must lie in (0, 1] on the episodes' steps")
    if np.any((q[m] < 0) | (q[m] > 1)):
        raise ValueError("target_prob: probabilities must lie in [0, 1] on the episodes' steps")
    if not (isinstance(gamma, (int, float)) and 0 <= gamma <= 1):
        raise ValueError(f"gamma: expected a number in [0, 1], got {gamma!r}")
    ratio = np.where(m, q / np.where(m, p, 1.0), 1.0)
    rho = np.cumprod(ratio, axis=1)
    rho_prev = np.hstack([np.ones((r.shape[0], 1)), rho[:, :-1]])
    return _Episodes(np.where(m, r, 0.0), rho, rho_prev, float(gamma) ** np.arange(r.shape[1]), m)


def trajectory_is(reward: Any, pscore: Any, target_prob: Any, mask: Any = None, gamma: float = 1.0) -> Estimate:
    """Trajectory-wise importance sampling (module docstring)."""
    E = _episodes(reward, pscore, target_prob, mask, gamma)
    ret = (E.reward * E.disc).sum(axis=1)
    return Estimate("is", E.rho[:, -1] * ret, np.ones(ret.size))


def pdis(reward: Any, pscore: Any, target_prob: Any, mask: Any = None, gamma: float = 1.0) -> Estimate:
    """Per-decision importance sampling (module docstring)."""
    E = _episodes(reward, pscore, target_prob, mask, gamma)
    return Estimate("pdis", (E.rho * E.reward * E.disc).sum(axis=1), np.ones(E.reward.shape[0]))


def sequential_dr(reward: Any, pscore: Any, target_prob: Any, q_hat: Any, v_hat: Any, mask: Any = None,
                  gamma: float = 1.0) -> Estimate:
    """Sequential doubly robust; ``q_hat``, ``v_hat`` float (N, H) (module docstring)."""
    E = _episodes(reward, pscore, target_prob, mask, gamma)
    q = np.where(E.mask, _arr("q_hat", q_hat, E.reward.shape), 0.0)
    v = np.where(E.mask, _arr("v_hat", v_hat, E.reward.shape), 0.0)
    terms = E.rho * (E.reward - q) + E.rho_prev * v
    return Estimate("dr", (terms * E.disc).sum(axis=1), np.ones(E.reward.shape[0]))


@dataclass(frozen=True)
class WeightedEstimate:
    """WPDIS: per-episode, per-step numerators rho r gamma^t (N, H) and weights rho (N, H)."""

    name: str
    numer: np.ndarray
    weight: np.ndarray

    def resample(self, idx: np.ndarray) -> float:
        """The estimate on the episodes ``idx`` (int array, repeats allowed)."""
        num, den = self.numer[idx].sum(axis=0), self.weight[idx].sum(axis=0)
        return float(np.divide(num, den, out=np.zeros_like(num), where=den > 0).sum())

    @property
    def value(self) -> float:
        """sum_t sum_i numer_it / sum_i weight_it (steps with total weight 0 add 0)."""
        return self.resample(np.arange(self.numer.shape[0]))


def wpdis(reward: Any, pscore: Any, target_prob: Any, mask: Any = None, gamma: float = 1.0) -> WeightedEstimate:
    """Weighted per-decision importance sampling (module docstring).  An episode that
    ended stays in an absorbing state (reward 0, ratio 1): its weight rho carries on to
    the later steps' denominators."""
    E = _episodes(reward, pscore, target_prob, mask, gamma)
    return WeightedEstimate("wpdis", E.rho * E.reward * E.disc, E.rho)
