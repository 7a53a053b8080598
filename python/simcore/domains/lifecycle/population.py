"""The customer population of the lifecycle simulator: latent traits, observable features
and the history before the activity (docs/lifecycle_model.md, "Population").

Generated once, in NumPy, from ``PopulationConfig.seed`` (a :class:`SeedTree` path), and
handed to the C++ simulator and its NumPy twin as read-only arrays; every episode starts
each slot from its customer's state at the end of this history.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

from simcore.domains.lifecycle.config import PopulationConfig
from simcore.util.seeds import SeedTree

__all__ = ["Population", "make_population", "generate_population", "simulate_history"]


@dataclass(frozen=True)
class Population:
    """P customers (arrays of length P; read-only by convention).

    Attributes:
        features: float32 (P, 4) observable features in [0, 1] (config.FEATURES).
        lam: float64 (P,) BG/NBD purchase rate per day while alive (> 0).
        p: float64 (P,) dropout probability after each purchase, in (0, 1).
        spend: float64 (P,) mean purchase value m in dollars (> 0).
        resp: float64 (P, 3) click log-odds responsiveness per channel (push, sms, phone).
        sens: float64 (P,) benefit sensitivity (> 0, population mean 1).
        n0: int32 (P,) purchases before the activity (>= 1: the first one included).
        recency0: int32 (P,) days since the last purchase at the activity's start (>= 1).
        alive0: bool (P,) latent: still alive at the start.
    """

    features: np.ndarray
    lam: np.ndarray
    p: np.ndarray
    spend: np.ndarray
    resp: np.ndarray
    sens: np.ndarray
    n0: np.ndarray
    recency0: np.ndarray
    alive0: np.ndarray

    @property
    def size(self) -> int:
        """P."""
        return int(self.lam.shape[0])

    def check(self) -> None:
        """ValueError naming the field for a wrong shape, dtype or value (NaN included)."""
        P = self.size
        spec = {"features": (np.float32, (P, 4)), "lam": (np.float64, (P,)), "p": (np.float64, (P,)),
                "spend": (np.float64, (P,)), "resp": (np.float64, (P, 3)), "sens": (np.float64, (P,)),
                "n0": (np.int32, (P,)), "recency0": (np.int32, (P,)), "alive0": (np.bool_, (P,))}
        for name, (dt, shape) in spec.items():
            a = getattr(self, name)
            if not isinstance(a, np.ndarray) or a.dtype != dt or a.shape != shape:
                got = f"{a.dtype} {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__
                raise ValueError(f"population.{name}: expected {np.dtype(dt).name} {shape}, got {got}")
            if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
                raise ValueError(f"population.{name}: contains NaN or inf")
        if P < 1:
            raise ValueError("population: needs at least one customer")
        if not (np.all(self.features >= 0) and np.all(self.features <= 1)):
            raise ValueError("population.features: must lie in [0, 1]")
        if not np.all(self.lam > 0) or not np.all(self.spend > 0) or not np.all(self.sens > 0):
            raise ValueError("population.lam, spend, sens: must be > 0")
        if not (np.all(self.p >= 0) and np.all(self.p <= 1)):
            raise ValueError("population.p: must lie in [0, 1]")
        if not np.all(self.n0 >= 1) or not np.all(self.recency0 >= 0):
            raise ValueError("population.n0 >= 1 and population.recency0 >= 0 are required")


def _standard(x: np.ndarray) -> np.ndarray:
    sd = float(np.std(x))
    return (x - np.mean(x)) / sd if sd > 0 else np.zeros_like(x)


def simulate_history(lam: np.ndarray, p: np.ndarray, days: int, rng: np.random.Generator,
                     age: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BG/NBD in days before the activity: customer i is acquired (first purchase)
    A_i ~ U{1..days} days before day 0 (or ``age[i]``); on each later day, alive, buys
    with probability 1 - exp(-lam_i) and then dies with probability p_i.  Returns (n0
    int32, recency0 int32 = A_i - day of the last purchase, alive0 bool)."""
    P = lam.size
    age = rng.integers(1, days + 1, size=P) if age is None else np.asarray(age)
    q = -np.expm1(-lam)
    n = np.ones(P, dtype=np.int64)
    last = np.zeros(P, dtype=np.int64)
    alive = np.ones(P, dtype=bool)
    for k in range(1, days):
        active = alive & (k < age)
        buy = active & (rng.random(P) < q)
        n += buy
        last[buy] = k
        alive &= ~(buy & (rng.random(P) < p))
    return n.astype(np.int32), (age - last).astype(np.int32), alive


def make_population(cfg: PopulationConfig | None = None) -> Population:
    """The population of ``cfg`` (cached per config: the arrays are shared and read-only);
    see :func:`generate_population`."""
    return _cached(cfg if cfg is not None else PopulationConfig())


@functools.lru_cache(maxsize=8)
def _cached(cfg: PopulationConfig) -> Population:
    pop = generate_population(cfg)
    for f in dataclasses.fields(pop):
        getattr(pop, f.name).flags.writeable = False
    return pop


def generate_population(cfg: PopulationConfig | None = None) -> Population:
    """P customers from ``cfg`` (deterministic in cfg.seed): lambda ~ Gamma(r, 1/alpha),
    p ~ Beta(a, b), m ~ LogNormal, resp ~ N(0, resp_sd^2) per channel, sens ~
    LogNormal(-sd^2/2, sd) with corr(log sens, log m) = sens_spend_corr; features by a
    Gaussian copula with correlation feature_corr to (-logit p, log m, log lambda,
    resp_sms - resp_push); the history by
    :func:`simulate_history`."""
    from scipy.special import ndtr  # (imported here: `import simcore` stays free of scipy)

    cfg = cfg if cfg is not None else PopulationConfig()
    rng = SeedTree(cfg.seed).generator("lifecycle", "population")
    P = cfg.n_users
    lam = rng.gamma(cfg.r, 1.0 / cfg.alpha, size=P)
    lam = np.maximum(lam, 1e-12)  # Gamma(r < 1) can underflow to 0
    p = rng.beta(cfg.a, cfg.b, size=P)
    spend = rng.lognormal(cfg.spend_log_mean, cfg.spend_log_sd, size=P)
    resp = rng.normal(0.0, cfg.resp_sd, size=(P, 3))
    # log sens = -sd^2/2 + sd (c z_m + sqrt(1 - c^2) e): c = sens_spend_corr, z_m the
    # standardised log spend (smaller baskets, more price-sensitive when c < 0)
    c = cfg.sens_spend_corr
    z_s = c * _standard(np.log(spend)) + np.sqrt(1.0 - c * c) * rng.normal(size=P)
    sens = np.exp(-0.5 * cfg.sens_sd**2 + cfg.sens_sd * z_s)
    with np.errstate(divide="ignore"):
        logit_p = np.log(np.clip(p, 1e-12, 1 - 1e-12)) - np.log1p(-np.clip(p, 1e-12, 1 - 1e-12))
    traits = np.stack([-_standard(logit_p), _standard(np.log(spend)), _standard(np.log(lam)),
                       _standard(resp[:, 1] - resp[:, 0])], axis=1)
    rho = cfg.feature_corr
    eps = rng.normal(size=(P, 4))
    features = ndtr(rho * traits + np.sqrt(1 - rho**2) * eps).astype(np.float32)
    n0, rec0, alive0 = simulate_history(lam, p, cfg.history_days, rng)
    pop = Population(features=features, lam=lam, p=p, spend=spend, resp=resp, sens=sens,
                     n0=n0, recency0=rec0, alive0=alive0)
    pop.check()
    return pop
