"""A synthetic incentive-marketing population with exact responses (NumPy), for the
allocation and uplift studies.

n users with features x_i (float (n, d), N(0, 1)); K incentives k = 1..K with face costs
f_k (e.g. coupon amounts).  The conversion probability without an incentive is
p_0(x) = sigmoid(x^T w + b); with incentive k it is

    p_k(x) = sigmoid(x^T w + b + g_k * softplus(x^T u + u0))

(g_k > 0 increasing in k: a larger incentive lifts more, with a user-dependent
sensitivity softplus(x^T u + u0) >= 0).  The coupon is paid only on conversion, so:

* value of giving k to user i: v_ik = p_k(x_i) - p_0(x_i) (incremental conversions);
* its expected cost: c_ik = f_k p_k(x_i).

``values()``/``costs()`` give these exactly (n, K); :meth:`IncentivePopulation.experiment`
draws a randomised experiment (treatment t in {0..K} with given shares, outcome
y ~ Bernoulli(p_t(x))) for the uplift learners, whose true uplift is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.envs.ranges import check_int, check_real


@dataclass(frozen=True)
class IncentiveConfig:
    """An :class:`IncentivePopulation`.

    Attributes:
        n_users: integer in [1, 10**7] (default 2000).
        dim: feature dimension d, integer in [1, 1000] (default 6).
        face_costs: the K incentives' face values f_k, comma-separated reals > 0
            (default "1,2,4").
        lifts: g_k, comma-separated reals > 0, one per incentive (default "0.3,0.5,0.7").
        base_logit: b, in [-20, 20] (default -2.0: about 15 % convert without incentive).
    """

    n_users: int = 2000
    dim: int = 6
    face_costs: str = "1,2,4"
    lifts: str = "0.3,0.5,0.7"
    base_logit: float = -2.0

    def __post_init__(self) -> None:
        check_int("n_users", self.n_users, 1, 10**7)
        check_int("dim", self.dim, 1, 1000)
        check_real("base_logit", self.base_logit, -20.0, 20.0)
        f, g = self.face(), self.lift()
        if f.size < 1 or f.size != g.size or np.any(f <= 0) or np.any(g <= 0):
            raise ValueError(f"face_costs/lifts: expected equally many reals > 0, "
                             f"got {self.face_costs!r} / {self.lifts!r}")

    def face(self) -> np.ndarray:
        """float64 (K,) face costs."""
        return _floats("face_costs", self.face_costs)

    def lift(self) -> np.ndarray:
        """float64 (K,) lifts g_k."""
        return _floats("lifts", self.lifts)


def _floats(name: str, s: str) -> np.ndarray:
    try:
        a = np.array([float(v) for v in s.split(",") if v.strip()])
    except ValueError:
        raise ValueError(f"{name}: expected comma-separated numbers, got {s!r}") from None
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected finite numbers, got {s!r}")
    return a


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class IncentivePopulation:
    """Users, incentives and exact responses (module docstring), drawn from ``rng``."""

    def __init__(self, config: IncentiveConfig, rng: np.random.Generator) -> None:
        c = self.config = config
        self.x = rng.standard_normal((c.n_users, c.dim))
        self.w = rng.standard_normal(c.dim) * 0.5
        self.u = rng.standard_normal(c.dim) * 0.8
        self.u0 = float(rng.normal(0.0, 0.5))
        self.face = c.face()
        self.lift = c.lift()
        base = self.x @ self.w + c.base_logit
        sens = np.logaddexp(0.0, self.x @ self.u + self.u0)
        #: float64 (n, K + 1) exact conversion probabilities p_0..p_K
        self.p = _sigmoid(np.column_stack([base] + [base + g * sens for g in self.lift]))

    @property
    def n_incentives(self) -> int:
        """K."""
        return int(self.face.size)

    def values(self) -> np.ndarray:
        """float64 (n, K) v_ik = p_k - p_0."""
        return self.p[:, 1:] - self.p[:, :1]

    def costs(self) -> np.ndarray:
        """float64 (n, K) c_ik = f_k p_k."""
        return self.p[:, 1:] * self.face

    def experiment(self, shares: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """A randomised experiment over the users: ``t`` int64 (n,) in [0, K] drawn with
        ``shares`` float (K + 1,) (summing to 1), ``y`` float64 (n,) 0/1 conversions."""
        s = np.asarray(shares, dtype=np.float64)
        if s.shape != (self.n_incentives + 1,) or np.any(s < 0) or not np.isclose(s.sum(), 1.0):
            raise ValueError(f"shares: expected {self.n_incentives + 1} probabilities summing to 1")
        n = self.x.shape[0]
        t = np.minimum((rng.random((n, 1)) > np.cumsum(s)).sum(axis=1), self.n_incentives)
        y = (rng.random(n) < self.p[np.arange(n), t]).astype(np.float64)
        return {"t": t.astype(np.int64), "y": y}
