"""Linear contextual bandits behind the agent protocol, batched (NumPy/SciPy, torch-free).

Disjoint linear models (Li, Chu, Langford & Schapire 2010): arm a has its own ridge
regression of the reward on the context x (float (d,)),

    A_a = lambda I + sum_{i: a_i = a} x_i x_i^T        (d, d)
    b_a = sum_{i: a_i = a} r_i x_i                     (d,)
    theta_a = A_a^{-1} b_a.

* :class:`LinUCB`: argmax_a x^T theta_a + alpha sqrt(x^T A_a^{-1} x) (the exact width, from
  the Cholesky factor of A_a: ||L_a^{-1} x||_2 with A_a = L_a L_a^T);
* :class:`LinearTS` (Agrawal & Goyal 2013): theta~_a ~ N(theta_a, v^2 A_a^{-1}) per row,
  argmax_a x^T theta~_a.

``act(obs)``: obs float (B, d) -> int64 (B,); ``update(batch)``: ``batch.obs`` (n, d),
``batch.action`` (n,), ``batch.reward`` (n,).  An update adds the rows' X^T X and X^T r to
every touched arm at once and refactors A_a by Cholesky, keeping L_a^{-1} (O(d^3) per
touched arm and batch; exact, no drift from repeated rank-one updates); widths and TS
draws are then batched products with L_a^{-1}.  ``explore=False`` plays
argmax_a x^T theta_a.  State is plain Python values (exact round trip).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from simcore.algos.bandits import _real, argmax_random, batch_arms, check_obs2d
from simcore.algos.protocol import AgentBase, Batch
from simcore.util.checks import int_in_range


@dataclass(frozen=True)
class LinearBanditConfig:
    """Settings of :class:`LinUCB` and :class:`LinearTS`.

    Attributes:
        n_arms: K, integer in [1, 10000] (default 2).
        dim: context dimension d, integer in [1, 1000] (default 2).
        ridge: lambda, the prior precision, in (0, 1e6] (default 1.0).
        alpha: LinUCB's width multiplier in [0, 1e3] (default 1.0).
        v: LinearTS's posterior scale in [0, 1e3] (default 1.0).
        seed: the Generator seed (ties, TS draws), integer in [0, 2**63 - 1] (default 0).
    """

    n_arms: int = 2
    dim: int = 2
    ridge: float = 1.0
    alpha: float = 1.0
    v: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        int_in_range(self.n_arms, "n_arms", 1, 10_000)
        int_in_range(self.dim, "dim", 1, 1000)
        int_in_range(self.seed, "seed", 0, 2**63 - 1)
        _real("ridge", self.ridge, 0.0, 1e6, lo_open=True)
        _real("alpha", self.alpha, 0.0, 1e3)
        _real("v", self.v, 0.0, 1e3)


class _LinearBandit(AgentBase):
    def __init__(self, config: LinearBanditConfig, rng: np.random.Generator | None = None) -> None:
        self.config = config
        self.rng = rng if rng is not None else np.random.default_rng(config.seed)
        k, d = config.n_arms, config.dim
        self.A = np.tile(config.ridge * np.eye(d), (k, 1, 1))
        self.b = np.zeros((k, d))
        self._refactor(np.arange(k))

    def _refactor(self, arms: np.ndarray) -> None:
        """Per touched arm: A_a = L_a L_a^T, ``linv[a]`` = L_a^{-1} (so A_a^{-1} = L^-T L^-1)
        and theta_a = A_a^{-1} b_a."""
        k, d = self.config.n_arms, self.config.dim
        if not hasattr(self, "linv"):
            self.linv = np.zeros((k, d, d))
            self.theta = np.zeros((k, d))
        eye = np.eye(d)
        for a in arms:
            L = np.linalg.cholesky(self.A[a])
            self.linv[a] = np.linalg.solve(L, eye)
            self.theta[a] = self.linv[a].T @ (self.linv[a] @ self.b[a])

    def means(self, x: np.ndarray) -> np.ndarray:
        """float64 (B, K) x^T theta_a."""
        return x @ self.theta.T

    def widths(self, x: np.ndarray) -> np.ndarray:
        """float64 (B, K) sqrt(x^T A_a^{-1} x) for float (B, d) ``x``."""
        x = check_obs2d(x, self.config.dim)
        z = np.einsum("kij,bj->bki", self.linv, x)          # (B, K, d): L_a^-1 x
        return np.sqrt((z * z).sum(axis=2))

    def scores(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        x = check_obs2d(obs, self.config.dim)
        return argmax_random(self.scores(x) if explore else self.means(x), self.rng)

    def update(self, batch: Batch) -> dict[str, float]:
        a, r = batch_arms(batch, self.config.n_arms)
        if "obs" not in batch:
            raise ValueError(f"batch: needs the column 'obs' (columns: {batch.keys()})")
        x = check_obs2d(np.asarray(batch.obs), self.config.dim)
        if x.shape[0] != a.size:
            raise ValueError(f"batch.obs: expected {a.size} rows, got {x.shape[0]}")
        touched = np.unique(a)
        for arm in touched:
            m = a == arm
            self.A[arm] += x[m].T @ x[m]
            self.b[arm] += x[m].T @ r[m]
        self._refactor(touched)
        return {"mean_reward": float(r.mean()) if r.size else 0.0}

    def state_dict(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "A": self.A.tolist(), "b": self.b.tolist(),
                "rng": dict(self.rng.bit_generator.state)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        saved = {k: v for k, v in dict(state["config"]).items() if k != "seed"}
        mine = {k: v for k, v in asdict(self.config).items() if k != "seed"}
        if saved != mine:
            raise ValueError("state: saved with a different config")
        A, b = np.asarray(state["A"], dtype=np.float64), np.asarray(state["b"], dtype=np.float64)
        if A.shape != self.A.shape or b.shape != self.b.shape:
            raise ValueError(f"state: A/b must have shapes {self.A.shape}/{self.b.shape}")
        self.A, self.b = A, b
        self._refactor(np.arange(self.config.n_arms))
        self.rng.bit_generator.state = dict(state["rng"])


class LinUCB(_LinearBandit):
    """Disjoint LinUCB: argmax_a x^T theta_a + alpha sqrt(x^T A_a^{-1} x)."""

    name = "linucb"

    def scores(self, x: np.ndarray) -> np.ndarray:
        return self.means(x) + self.config.alpha * self.widths(x)


class LinearTS(_LinearBandit):
    """Linear Thompson sampling: theta~_a = theta_a + v L_a^{-T} z, z ~ N(0, I), per row."""

    name = "linear-ts"

    def scores(self, x: np.ndarray) -> np.ndarray:
        bsz, (k, d) = x.shape[0], (self.config.n_arms, self.config.dim)
        z = self.rng.standard_normal((k, d, bsz))
        # L^{-T} z has covariance (L L^T)^{-1} = A^{-1}
        dev = np.einsum("kji,kjb->bki", self.linv, z)        # (B, K, d)
        return self.means(x) + self.config.v * np.einsum("bkd,bd->bk", dev, x)
