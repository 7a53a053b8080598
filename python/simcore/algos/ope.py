"""Off-policy evaluation for contextual bandits (NumPy only).

Logged data: n rounds ``i`` with context x_i, logged action a_i (int in [0, A)), the
behaviour policy's probability of it p_b,i = pi_b(a_i | x_i) in (0, 1] and reward r_i.
The target policy pi_e is given by its action probabilities ``action_dist``:

* float (n, A): ``action_dist[i, a] = pi_e(a | x_i)``, each row summing to 1; or
* float (n, A, L) for ranked lists (the Open Bandit Dataset's convention): the
  probability of item ``a`` at position ``l``, each ``[i, :, l]`` summing to 1, with the
  logged ``position`` (int (n,), in [0, L)) selecting the slice that applies to round i.

With w_i = pi_e(a_i | x_i) / p_b,i (the importance weight) and a reward model q_hat
(same shape as ``action_dist``; q_hat(x_i, a) read at the round's position) the value
V(pi_e) = E_x E_{a ~ pi_e} [r] is estimated by

    IPS     V = (1/n) sum_i w_i r_i                                        (Horvitz-Thompson)
    SNIPS   V = sum_i w_i r_i / sum_i w_i                                  (self-normalised)
    DM      V = (1/n) sum_i sum_a pi_e(a|x_i) q_hat(x_i, a)                (direct method)
    DR      V = DM + (1/n) sum_i w_i (r_i - q_hat(x_i, a_i))               (Dudik et al. 2011)
    SWITCH  V = DM + (1/n) sum_i 1{w_i <= tau} w_i (r_i - q_hat(x_i, a_i)) (Wang et al. 2017)

IPS and DR are unbiased when p_b is exact and pi_b covers pi_e; DM is unbiased when
q_hat is the true mean reward; switch-DR trades the correction of rounds with weights
above tau for variance (tau = inf gives DR, tau = 0 gives DM); SNIPS is biased by
O(1/n) and consistent.

Every estimator returns an :class:`Estimate` holding per-round numerators and
denominators, ``value = sum(numer) / sum(denom)`` (denom = 1 except for SNIPS), so a
bootstrap resample is one index array (:func:`bootstrap_ci`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from simcore.util.seeds import PathPart, SeedTree

#: tolerance on the sums of probabilities
PROB_ATOL = 1e-6


@dataclass(frozen=True)
class Estimate:
    """An estimate of V(pi_e) with its per-round terms.

    Attributes:
        name: the estimator ("ips", "snips", "dm", "dr", "switch-dr").
        numer: float64 (n,) per-round numerators.
        denom: float64 (n,) per-round denominators (ones except for SNIPS: the weights).
    """

    name: str
    numer: np.ndarray
    denom: np.ndarray

    @property
    def value(self) -> float:
        """The estimate sum(numer) / sum(denom)."""
        return float(self.numer.sum() / self.denom.sum())

    @property
    def contributions(self) -> np.ndarray:
        """float64 (n,) per-round contributions c_i with mean(c) = value:
        c_i = numer_i / mean(denom)."""
        return self.numer / self.denom.mean()

    def stderr(self) -> float:
        """Standard error of the value: sd(c)/sqrt(n) for the linear estimators; for
        SNIPS the delta method's sd(w_i (r_i - V)) / (mean(w) sqrt(n))."""
        n = self.numer.size
        if n < 2:
            return float("nan")
        lin = (self.numer - self.value * self.denom) / self.denom.mean()
        return float(lin.std(ddof=1) / np.sqrt(n))

    def resample(self, idx: np.ndarray) -> float:
        """The estimate on the rounds ``idx`` (int array, repeats allowed)."""
        return float(self.numer[idx].sum() / self.denom[idx].sum())


def _vector(name: str, value: Any, n: int | None, dtype: Any = np.float64) -> np.ndarray:
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers") from None
    if v.ndim != 1 or (n is not None and v.size != n) or v.size < 1:
        want = f"({n},)" if n is not None else "(n,) with n >= 1"
        raise ValueError(f"{name}: expected shape {want}, got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name}: contains NaN or inf")
    if dtype is np.int64:
        if not np.all(v == np.round(v)):
            raise ValueError(f"{name}: expected integers")
        return v.astype(np.int64)
    return v


def _check_dist(name: str, value: Any, n: int, probabilities: bool) -> np.ndarray:
    try:
        d = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers") from None
    if d.ndim not in (2, 3) or d.shape[0] != n or d.shape[1] < 1:
        raise ValueError(f"{name}: expected shape ({n}, A) or ({n}, A, L), got {d.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError(f"{name}: contains NaN or inf")
    if probabilities:
        if np.any(d < 0):
            raise ValueError(f"{name}: negative probabilities")
        s = d.sum(axis=1)
        if not np.allclose(s, 1.0, rtol=0, atol=PROB_ATOL):
            bad = float(np.abs(s - 1).max())
            raise ValueError(f"{name}: probabilities over actions must sum to 1 (off by {bad:.3g})")
    return d


@dataclass(frozen=True)
class _Rounds:
    reward: np.ndarray      # float64 (n,)
    action: np.ndarray      # int64 (n,)
    pscore: np.ndarray      # float64 (n,)
    pi: np.ndarray          # float64 (n, A): pi_e(. | x_i) at the round's position
    position: np.ndarray    # int64 (n,) (zeros for 2-D inputs)
    three_d: bool

    @property
    def weight(self) -> np.ndarray:
        """float64 (n,) w_i = pi_e(a_i|x_i) / p_b,i."""
        return self.pi[np.arange(self.action.size), self.action] / self.pscore


def _rounds(reward: Any, action: Any, pscore: Any, action_dist: Any, position: Any) -> _Rounds:
    r = _vector("reward", reward, None)
    n = r.size
    a = _vector("action", action, n, np.int64)
    p = _vector("pscore", pscore, n)
    if np.any(p <= 0) or np.any(p > 1):
        raise ValueError(f"pscore: propensities must lie in (0, 1], got range [{p.min():.3g}, {p.max():.3g}]")
    d = _check_dist("action_dist", action_dist, n, probabilities=True)
    n_actions = d.shape[1]
    if np.any(a < 0) or np.any(a >= n_actions):
        raise ValueError(f"action: expected ints in [0, {n_actions}), got range [{a.min()}, {a.max()}]")
    if d.ndim == 3:
        if position is None:
            raise ValueError("position: required when action_dist is (n, A, L)")
        pos = _vector("position", position, n, np.int64)
        if np.any(pos < 0) or np.any(pos >= d.shape[2]):
            raise ValueError(f"position: expected ints in [0, {d.shape[2]}), got range [{pos.min()}, {pos.max()}]")
        pi = d[np.arange(n), :, pos]
    else:
        if position is not None:
            raise ValueError("position: given, but action_dist is (n, A) (no positions)")
        pos = np.zeros(n, dtype=np.int64)
        pi = d
    return _Rounds(r, a, p, pi, pos, d.ndim == 3)


def _model(rounds: _Rounds, q_hat: Any, shape: tuple[int, ...]) -> np.ndarray:
    """q_hat(x_i, .) at the round's position: float64 (n, A)."""
    q = _check_dist("q_hat", q_hat, rounds.reward.size, probabilities=False)
    if q.shape != shape:
        raise ValueError(f"q_hat: expected the shape of action_dist {shape}, got {q.shape}")
    n = rounds.reward.size
    return q[np.arange(n), :, rounds.position] if rounds.three_d else q


def _shape(action_dist: Any) -> tuple[int, ...]:
    return tuple(np.shape(action_dist))


def ips(reward: Any, action: Any, pscore: Any, action_dist: Any, position: Any = None) -> Estimate:
    """Inverse propensity scoring: V = (1/n) sum_i w_i r_i.  Shapes as the module says."""
    R = _rounds(reward, action, pscore, action_dist, position)
    return Estimate("ips", R.weight * R.reward, np.ones_like(R.reward))


def snips(reward: Any, action: Any, pscore: Any, action_dist: Any, position: Any = None) -> Estimate:
    """Self-normalised IPS: V = sum_i w_i r_i / sum_i w_i (``denom`` = the weights)."""
    R = _rounds(reward, action, pscore, action_dist, position)
    w = R.weight
    if w.sum() <= 0:
        raise ValueError("action_dist: the target gives probability 0 to every logged action (sum of weights is 0)")
    return Estimate("snips", w * R.reward, w)


def dm(reward: Any, action: Any, pscore: Any, action_dist: Any, q_hat: Any, position: Any = None) -> Estimate:
    """Direct method: V = (1/n) sum_i sum_a pi_e(a|x_i) q_hat(x_i, a).  The logged
    rewards, actions and propensities are validated but not used."""
    R = _rounds(reward, action, pscore, action_dist, position)
    q = _model(R, q_hat, _shape(action_dist))
    return Estimate("dm", (R.pi * q).sum(axis=1), np.ones_like(R.reward))


def dr(reward: Any, action: Any, pscore: Any, action_dist: Any, q_hat: Any, position: Any = None) -> Estimate:
    """Doubly robust: V = (1/n) sum_i [sum_a pi_e(a|x_i) q_hat(x_i,a) + w_i (r_i - q_hat(x_i,a_i))]."""
    return switch_dr(reward, action, pscore, action_dist, q_hat, position, tau=np.inf, name="dr")


def switch_dr(
    reward: Any,
    action: Any,
    pscore: Any,
    action_dist: Any,
    q_hat: Any,
    position: Any = None,
    tau: float = np.inf,
    name: str = "switch-dr",
) -> Estimate:
    """Switch-DR: V = (1/n) sum_i [sum_a pi_e(a|x_i) q_hat(x_i,a) + 1{w_i <= tau} w_i (r_i - q_hat(x_i,a_i))].

    ``tau`` >= 0 (inf: DR; 0: DM, rounds with w_i = 0 aside, whose correction is 0 anyway).
    """
    if not (isinstance(tau, (int, float)) and tau >= 0):
        raise ValueError(f"tau: expected a number >= 0 (inf allowed), got {tau!r}")
    R = _rounds(reward, action, pscore, action_dist, position)
    q = _model(R, q_hat, _shape(action_dist))
    n = R.reward.size
    w = R.weight
    base = (R.pi * q).sum(axis=1)
    corr = np.where(w <= tau, w * (R.reward - q[np.arange(n), R.action]), 0.0)
    return Estimate(name, base + corr, np.ones_like(R.reward))


def bootstrap_ci(
    stat: Callable[[np.ndarray], float] | Estimate,
    n: int,
    seeds: SeedTree,
    *path: PathPart,
    n_boot: int = 2000,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat`` over rounds resampled with replacement.

    Args:
        stat: a function of an int (n,) index array returning a float, or an
            :class:`Estimate` (its :meth:`Estimate.resample`).
        n: the number of rounds (>= 2).
        seeds: the experiment's seed tree; the resamples come from the stream
            ``seeds.generator("bootstrap", *path)`` (same tree and path, same interval).
        n_boot: number of resamples (>= 100).
        level: coverage in (0, 1).

    Returns:
        (low, high): the (1-level)/2 and (1+level)/2 quantiles of the resampled statistic.
    """
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: expected an int >= 2, got {n!r}")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise ValueError(f"n_boot: expected an int >= 100, got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level: expected a number in (0, 1), got {level!r}")
    fn = stat.resample if isinstance(stat, Estimate) else stat
    if isinstance(stat, Estimate) and stat.numer.size != n:
        raise ValueError(f"n: the estimate has {stat.numer.size} rounds, got n={n}")
    rng = seeds.generator("bootstrap", *path)
    with np.errstate(divide="ignore", invalid="ignore"):
        vals = np.array([fn(rng.integers(0, n, size=n)) for _ in range(n_boot)])
    bad = int((~np.isfinite(vals)).sum())
    if bad:
        raise ValueError(f"stat: {bad} of {n_boot} resamples gave a non-finite value (SNIPS: a resample "
                         "without a positive weight); the percentile interval is undefined")
    lo, hi = np.quantile(vals, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


#: estimator name -> function; those taking q_hat are in MODEL_BASED
ESTIMATORS: dict[str, Callable[..., Estimate]] = {
    "ips": ips, "snips": snips, "dm": dm, "dr": dr, "switch-dr": switch_dr,
}
MODEL_BASED = frozenset({"dm", "dr", "switch-dr"})
