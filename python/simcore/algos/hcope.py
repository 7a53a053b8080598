"""High-confidence lower bounds on a policy's value from importance-weighted returns
(NumPy/SciPy).

Thomas, Theocharous & Ghavamzadeh, "High Confidence Off-Policy Evaluation" (AAAI 2015),
used for life-time-value ad recommendation by Theocharous, Thomas & Ghavamzadeh
(IJCAI 2015).  Inputs x_i = w_i R_i >= 0: the importance-weighted returns of n
independent logged episodes (rounds), returns R_i normalised to [0, 1] so that
E[x_i] = V(pi_e) (unbiased IS; the bound is on E[x]).

* :func:`ci_lower` - the paper's Theorem 1: with thresholds c_i > 0 and Y_i = min(x_i, c_i),
  with probability >= 1 - delta

      V >= (sum_i 1/c_i)^{-1} [ sum_i Y_i/c_i - 7 n ln(2/delta) / (3(n - 1))
                                - sqrt( ln(2/delta)/(n - 1) * sum_{i,j} (Y_i/c_i - Y_j/c_j)^2 ) ].

  Clipping only lowers the mean, so the bound stays a lower bound on E[x]; with one
  c for all it reads mean(Y) - 7 c ln(2/delta) / (3(n-1)) - sqrt(2 ln(2/delta) s_Y^2 / n).
* :func:`hcope_lower_bound` - c chosen on a split: a fraction ``pre`` of the rounds
  (random, from ``rng``) picks the c that maximises the bound *predicted* for the other
  rounds (the formula with n = n_post and the pre-split's mean and variance of Y); the
  bound is then computed on the remaining rounds alone with that c (valid: c does
  not depend on them).
* :func:`bootstrap_lower_bound` - the percentile bootstrap's delta quantile of the mean of
  x (approximate: no guarantee, often tighter);
* :func:`t_lower_bound` - mean - t_{1-delta, n-1} s / sqrt(n) (approximate, the
  normal/Student-t bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _x(x: object) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1 or a.size < 2:
        raise ValueError(f"x: expected shape (n,) with n >= 2, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("x: contains NaN or inf")
    if np.any(a < 0):
        raise ValueError("x: importance-weighted returns must be >= 0 (normalise returns to [0, 1])")
    return a


def _delta(delta: float) -> float:
    if not (isinstance(delta, (int, float)) and 0 < delta < 1):
        raise ValueError(f"delta: expected a number in (0, 1), got {delta!r}")
    return float(delta)


def ci_lower(x: object, c: float | np.ndarray, delta: float = 0.05) -> float:
    """Theorem 1's lower bound (module docstring) for thresholds ``c`` (> 0, scalar or (n,))."""
    a, d = _x(x), _delta(delta)
    n = a.size
    c_arr = np.asarray(c, dtype=np.float64)
    if c_arr.shape not in ((), a.shape):
        raise ValueError(f"c: expected a scalar or shape {a.shape}, got {c_arr.shape}")
    cc = np.broadcast_to(c_arr, a.shape)
    if not (np.all(np.isfinite(cc)) and np.all(cc > 0)):
        raise ValueError("c: thresholds must be finite and > 0")
    z = np.minimum(a, cc) / cc
    log_term = math.log(2.0 / d)
    # sum_{i,j} (z_i - z_j)^2 = 2 n sum_i (z_i - mean z)^2
    pair = 2.0 * n * float(((z - z.mean()) ** 2).sum())
    inner = z.sum() - 7.0 * n * log_term / (3.0 * (n - 1)) - math.sqrt(log_term / (n - 1) * pair)
    return float(inner / (1.0 / cc).sum())


def predicted_lower(x_pre: np.ndarray, c: float, n_post: int, delta: float) -> float:
    """The bound predicted for ``n_post`` rounds from the pre-split's clipped mean and
    variance: mean(Y) - 7 c ln(2/delta)/(3(m - 1)) - sqrt(2 ln(2/delta) var(Y)/m), m = n_post."""
    y = np.minimum(x_pre, c)
    log_term = math.log(2.0 / delta)
    var = float(y.var(ddof=1)) if y.size > 1 else 0.0
    return float(y.mean() - 7.0 * c * log_term / (3.0 * (n_post - 1)) - math.sqrt(2.0 * log_term * var / n_post))


@dataclass(frozen=True)
class HCOPEBound:
    """A high-confidence lower bound: ``lower`` (on V), the threshold ``c``, the split sizes."""

    lower: float
    c: float
    n_pre: int
    n_post: int


def choose_c(x_pre: np.ndarray, n_post: int, delta: float, n_grid: int = 200) -> float:
    """The c on a grid (quantiles of the positive pre-split values, and a geometric
    grid from their minimum to twice their maximum) maximising :func:`predicted_lower`."""
    pos = x_pre[x_pre > 0]
    if pos.size == 0:
        return 1.0
    grid = np.unique(np.concatenate([np.quantile(pos, np.linspace(0.0, 1.0, n_grid // 2)),
                                     np.geomspace(pos.min(), 2.0 * pos.max(), n_grid // 2)]))
    vals = [predicted_lower(x_pre, float(c), n_post, delta) for c in grid]
    return float(grid[int(np.argmax(vals))])


def hcope_lower_bound(x: object, delta: float = 0.05, *, pre: float = 0.05,
                      rng: np.random.Generator | None = None) -> HCOPEBound:
    """Thomas et al.'s bound with c chosen on a random fraction ``pre`` in (0, 1) of the
    rounds (at least 2 rounds on each side); ``rng`` None = the first rounds form the split."""
    a, d = _x(x), _delta(delta)
    if not 0 < pre < 1:
        raise ValueError(f"pre: expected a fraction in (0, 1), got {pre!r}")
    n_pre = max(2, int(round(pre * a.size)))
    if a.size - n_pre < 2:
        raise ValueError(f"x: {a.size} rounds are too few to split (need >= {n_pre + 2})")
    idx = rng.permutation(a.size) if rng is not None else np.arange(a.size)
    x_pre, x_post = a[idx[:n_pre]], a[idx[n_pre:]]
    c = choose_c(x_pre, x_post.size, d)
    return HCOPEBound(ci_lower(x_post, c, d), c, n_pre, int(x_post.size))


def bootstrap_lower_bound(x: object, delta: float = 0.05, *, rng: np.random.Generator,
                          n_boot: int = 2000) -> float:
    """The delta quantile of the bootstrap distribution of mean(x) (percentile method)."""
    a, d = _x(x), _delta(delta)
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise ValueError(f"n_boot: expected an int >= 100, got {n_boot!r}")
    chunk = max(1, 2_000_000 // a.size)
    means = np.concatenate([a[rng.integers(0, a.size, size=(min(chunk, n_boot - s), a.size))].mean(axis=1)
                            for s in range(0, n_boot, chunk)])
    return float(np.quantile(means, d))


def t_lower_bound(x: object, delta: float = 0.05) -> float:
    """mean(x) - t_{1-delta, n-1} s / sqrt(n)."""
    from scipy import stats

    a, d = _x(x), _delta(delta)
    return float(a.mean() - stats.t.ppf(1 - d, a.size - 1) * a.std(ddof=1) / math.sqrt(a.size))
