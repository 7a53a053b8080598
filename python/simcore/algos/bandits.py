"""Multi-armed bandits behind the agent protocol, batched (NumPy only, torch-free).

Each agent keeps per-arm sufficient statistics over K arms and acts on B rows at once:

* ``act(obs, explore) -> int64 (B,)``: ``obs`` float (B, D) (ignored apart from B by
  the context-free agents here; the contextual ones are in
  :mod:`simcore.algos.linear_bandits` and :mod:`simcore.algos.neural_bandit`);
* ``update(batch)``: ``batch.action`` int (n,) in [0, K), ``batch.reward`` float (n,);
  all n rows update the statistics at once (the B rows of one ``act`` call share one
  state: batched, delayed feedback, as on a vector env).

Agents:

* :class:`EpsilonGreedy`: with probability epsilon a uniform arm, else the arm of the
  largest empirical mean (unpulled arms first);
* :class:`UCB1` (Auer, Cesa-Bianchi & Fischer 2002): the arm maximising
  mean_a + sqrt(c ln t / n_a), t = total pulls (c = 2 is the paper's; rewards in [0, 1]);
* :class:`ThompsonSampling`: ``kind="bernoulli"``: theta_a ~ Beta(a0 + s_a, b0 + n_a - s_a)
  (rewards in [0, 1], fractional ones update s by r); ``kind="gaussian"``: known noise
  variance sigma^2, prior N(m0, v0), posterior N(m_a, v_a) with
  1/v_a = 1/v0 + n_a/sigma^2, m_a = v_a (m0/v0 + S_a/sigma^2); the arm of the largest draw.

With ``explore=False`` every agent plays the greedy arm of its posterior/empirical mean.
Ties are broken uniformly at random.  Seeded: the agent's own Generator
(``np.random.default_rng(seed)``, or one passed in from a :class:`~simcore.util.seeds.SeedTree`);
``state_dict`` holds plain Python values (lists, floats, the bit-generator state), so a
checkpoint round-trips exactly and ``torch.load(..., weights_only=True)`` reads it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from simcore.algos.protocol import AgentBase, Batch
from simcore.util.checks import int_in_range


def check_obs2d(obs: object, dim: int | None = None) -> np.ndarray:
    """float64 (B, D) finite observations, or ValueError/TypeError naming ``obs``."""
    if not isinstance(obs, np.ndarray):
        raise TypeError(f"obs: expected a numpy array, got {type(obs).__name__}")
    if obs.ndim != 2 or obs.shape[0] < 1:
        raise ValueError(f"obs: expected shape (B, D) with B >= 1, got {obs.shape}")
    if dim is not None and obs.shape[1] != dim:
        raise ValueError(f"obs: expected {dim} columns, got {obs.shape[1]}")
    if obs.dtype.kind not in "fiu":
        raise TypeError(f"obs: expected numeric observations, got dtype {obs.dtype}")
    x = obs.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("obs: contains NaN or inf")
    return x


def batch_arms(batch: Batch, n_arms: int, lo: float = -math.inf, hi: float = math.inf) -> tuple[np.ndarray, np.ndarray]:
    """(action int64 (n,), reward float64 (n,)) from ``batch``, checked: actions integers
    in [0, n_arms), rewards finite in [lo, hi]."""
    for col in ("action", "reward"):
        if col not in batch:
            raise ValueError(f"batch: needs the column {col!r} (columns: {batch.keys()})")
    a = np.asarray(batch.action).reshape(-1)
    r = np.asarray(batch.reward, dtype=np.float64).reshape(-1)
    if a.size != r.size:
        raise ValueError(f"batch: {a.size} actions but {r.size} rewards")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise ValueError("batch.action: expected integer arm indices")
    elif a.dtype.kind not in "iu":
        raise ValueError(f"batch.action: expected integer arm indices, got dtype {a.dtype}")
    a = a.astype(np.int64)
    if a.size and (a.min() < 0 or a.max() >= n_arms):
        raise ValueError(f"batch.action: expected ints in [0, {n_arms}), got range [{a.min()}, {a.max()}]")
    if not np.all(np.isfinite(r)):
        raise ValueError("batch.reward: contains NaN or inf")
    if r.size and (r.min() < lo or r.max() > hi):
        raise ValueError(f"batch.reward: expected values in [{lo}, {hi}], got range [{r.min():.4g}, {r.max():.4g}]")
    return a, r


def argmax_random(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """int64 (B,) row-wise argmax of float (B, K) ``scores``, ties uniformly at random."""
    top = scores.max(axis=1, keepdims=True)
    ties = scores == top
    u = rng.random(scores.shape)
    return np.argmax(np.where(ties, u + 1.0, 0.0), axis=1).astype(np.int64)


def _real(name: str, v: float, lo: float, hi: float, lo_open: bool = False) -> None:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        raise ValueError(f"{name}: expected a finite real, got {v!r}")
    if v < lo or v > hi or (lo_open and v == lo):
        raise ValueError(f"{name}: must lie in {'(' if lo_open else '['}{lo:g}, {hi:g}], got {v!r}")


@dataclass(frozen=True)
class BanditConfig:
    """Settings of the context-free bandits (each agent reads the fields it needs).

    Attributes:
        n_arms: K, integer in [1, 100000] (default 2).
        epsilon: EpsilonGreedy's exploration probability in [0, 1] (default 0.1).
        c: UCB1's width constant in (0, 100] (default 2.0, Auer et al.'s).
        kind: ThompsonSampling's model, "bernoulli" (default) or "gaussian".
        prior_a, prior_b: Beta prior of the Bernoulli model, each in (0, 1e6] (default 1, 1).
        prior_mean, prior_var: Gaussian prior N(m0, v0); m0 finite, v0 in (0, 1e12]
            (default 0, 1).
        noise_var: the Gaussian model's known reward variance sigma^2 in (0, 1e12] (default 1).
        seed: the agent's Generator seed, integer in [0, 2**63 - 1] (default 0).
    """

    n_arms: int = 2
    epsilon: float = 0.1
    c: float = 2.0
    kind: str = "bernoulli"
    prior_a: float = 1.0
    prior_b: float = 1.0
    prior_mean: float = 0.0
    prior_var: float = 1.0
    noise_var: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        int_in_range(self.n_arms, "n_arms", 1, 100_000)
        int_in_range(self.seed, "seed", 0, 2**63 - 1)
        _real("epsilon", self.epsilon, 0.0, 1.0)
        _real("c", self.c, 0.0, 100.0, lo_open=True)
        if self.kind not in ("bernoulli", "gaussian"):
            raise ValueError(f"kind: expected 'bernoulli' or 'gaussian', got {self.kind!r}")
        _real("prior_a", self.prior_a, 0.0, 1e6, lo_open=True)
        _real("prior_b", self.prior_b, 0.0, 1e6, lo_open=True)
        _real("prior_mean", self.prior_mean, -1e12, 1e12)
        _real("prior_var", self.prior_var, 0.0, 1e12, lo_open=True)
        _real("noise_var", self.noise_var, 0.0, 1e12, lo_open=True)


class _CountingBandit(AgentBase):
    """Per-arm counts n (K,) and reward sums S (K,); subclasses score the arms."""

    reward_range: tuple[float, float] = (-math.inf, math.inf)

    def __init__(self, config: BanditConfig, rng: np.random.Generator | None = None) -> None:
        self.config = config
        self.rng = rng if rng is not None else np.random.default_rng(config.seed)
        self.counts = np.zeros(config.n_arms)
        self.sums = np.zeros(config.n_arms)

    @property
    def means(self) -> np.ndarray:
        """float64 (K,) empirical means (0 for unpulled arms)."""
        return np.divide(self.sums, self.counts, out=np.zeros_like(self.sums), where=self.counts > 0)

    def greedy_scores(self, b: int) -> np.ndarray:
        """float64 (B, K) the scores ``explore=False`` maximises (default: empirical means)."""
        return np.broadcast_to(self.means, (b, self.config.n_arms))

    def scores(self, b: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        b = check_obs2d(obs).shape[0]
        return argmax_random(self.scores(b) if explore else self.greedy_scores(b), self.rng)

    def update(self, batch: Batch) -> dict[str, float]:
        a, r = batch_arms(batch, self.config.n_arms, *self.reward_range)
        self.counts += np.bincount(a, minlength=self.config.n_arms)
        self.sums += np.bincount(a, weights=r, minlength=self.config.n_arms)
        return {"pulls": float(self.counts.sum()), "mean_reward": float(r.mean()) if r.size else 0.0}

    def state_dict(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "counts": self.counts.tolist(), "sums": self.sums.tolist(),
                "rng": dict(self.rng.bit_generator.state)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        saved = {k: v for k, v in dict(state["config"]).items() if k != "seed"}
        mine = {k: v for k, v in asdict(self.config).items() if k != "seed"}
        if saved != mine:
            diff = sorted(k for k in mine if saved.get(k) != mine[k])
            raise ValueError(f"state: saved with a different config ({', '.join(diff)} differ)")
        counts, sums = np.asarray(state["counts"], dtype=np.float64), np.asarray(state["sums"], dtype=np.float64)
        if counts.shape != (self.config.n_arms,) or sums.shape != counts.shape:
            raise ValueError(f"state: counts/sums must have shape ({self.config.n_arms},)")
        self.counts, self.sums = counts, sums
        self.rng.bit_generator.state = dict(state["rng"])


class EpsilonGreedy(_CountingBandit):
    """Epsilon-greedy: a uniform arm with probability epsilon, else argmax of the means."""

    name = "epsilon-greedy"

    def greedy_scores(self, b: int) -> np.ndarray:
        m = np.where(self.counts > 0, self.means, np.inf)
        return np.broadcast_to(m, (b, self.config.n_arms))

    def scores(self, b: int) -> np.ndarray:
        s = np.array(self.greedy_scores(b))
        explore = self.rng.random(b) < self.config.epsilon
        s[explore] = self.rng.random((int(explore.sum()), self.config.n_arms))
        return s


class UCB1(_CountingBandit):
    """UCB1: argmax_a mean_a + sqrt(c ln t / n_a), unpulled arms first (index +inf)."""

    name = "ucb1"

    def scores(self, b: int) -> np.ndarray:
        t = max(float(self.counts.sum()), 1.0)
        width = np.sqrt(self.config.c * math.log(t) / np.maximum(self.counts, 1.0))
        idx = np.where(self.counts > 0, self.means + width, np.inf)
        return np.broadcast_to(idx, (b, self.config.n_arms))


class ThompsonSampling(_CountingBandit):
    """Thompson sampling, Bernoulli-Beta or Gaussian with known noise (module docstring)."""

    name = "thompson"

    def __init__(self, config: BanditConfig, rng: np.random.Generator | None = None) -> None:
        super().__init__(config, rng)
        self.name = f"thompson-{config.kind}"
        self.reward_range = (0.0, 1.0) if config.kind == "bernoulli" else (-math.inf, math.inf)

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Bernoulli: (alpha, beta) float64 (K,); Gaussian: (mean, variance) float64 (K,)."""
        c = self.config
        if c.kind == "bernoulli":
            return c.prior_a + self.sums, c.prior_b + self.counts - self.sums
        var = 1.0 / (1.0 / c.prior_var + self.counts / c.noise_var)
        return var * (c.prior_mean / c.prior_var + self.sums / c.noise_var), var

    def greedy_scores(self, b: int) -> np.ndarray:
        p, q = self.posterior()
        mean = p / (p + q) if self.config.kind == "bernoulli" else p
        return np.broadcast_to(mean, (b, self.config.n_arms))

    def scores(self, b: int) -> np.ndarray:
        p, q = self.posterior()
        k = self.config.n_arms
        if self.config.kind == "bernoulli":
            return self.rng.beta(p, q, size=(b, k))
        return p + np.sqrt(q) * self.rng.standard_normal((b, k))


#: agent name -> class
AGENTS: dict[str, type[_CountingBandit]] = {
    "epsilon-greedy": EpsilonGreedy, "ucb1": UCB1, "thompson": ThompsonSampling,
}
