"""Baseline: the cross-entropy method over static action vectors (one vector for every
step and slot), optimised online on a score column of the rows each candidate serves
(the ranking experiment scores by the purchase price: GMV).

Each iteration the B session slots are split among ``n_candidates`` weight vectors
drawn from N(mean, diag(std^2)) (clipped to the action box): slot j uses candidate
j mod n.  At the iteration's end every candidate is scored by the sum of the
``score_column`` of its slots' rows per ended episode, the ``elite_frac`` best are kept, and mean / std move towards
the elite's mean / std with step ``smoothing`` (std floored at ``min_std``), as in the
CEM action-bound method of the source article (section 分层流量调控).  The greedy
policy (``explore=False``) is the current mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from simcore.algos.base import (
    check_config,
    check_obs,
    check_positive,
    np_to_tensor,
    rng_state,
    set_rng_state,
    tensor_to_np,
)
from simcore.algos.protocol import AgentBase, Batch


@dataclass(frozen=True)
class CEMConfig:
    """Settings of :class:`CEMWeights`.

    Attributes:
        n_candidates: weight vectors tried per iteration.
        elite_frac: fraction kept as the elite (at least one).
        init_std: initial std of every dimension.
        smoothing: step of mean / std towards the elite statistics (1: replace).
        min_std: std floor (keeps exploring).
        low, high: the action box candidates are clipped to.
        score_column: the batch column summed per candidate (per ended episode) as its
            score (default "reward"; the search domain's GMV: "price").
        seed: seed of the candidate draws.
    """

    n_candidates: int = 16
    elite_frac: float = 0.25
    init_std: float = 0.5
    smoothing: float = 0.7
    min_std: float = 0.05
    low: float = -1.0
    high: float = 1.0
    score_column: str = "reward"
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.n_candidates, int) or self.n_candidates < 2:
            raise ValueError(f"n_candidates: must be an integer >= 2, got {self.n_candidates!r}")
        if not 0.0 < self.elite_frac <= 1.0:
            raise ValueError(f"elite_frac: must lie in (0, 1], got {self.elite_frac!r}")
        if not 0.0 < self.smoothing <= 1.0:
            raise ValueError(f"smoothing: must lie in (0, 1], got {self.smoothing!r}")
        check_positive("init_std", self.init_std)
        check_positive("min_std", self.min_std, allow_zero=True)
        if not self.low < self.high:
            raise ValueError(f"low, high: need low < high, got {self.low}, {self.high}")


class CEMWeights(AgentBase):
    """CEM over static weights (module docstring).

    Args:
        n_features: m.  config: :class:`CEMConfig`.  init_mean: float (m,) starting
            mean (default zeros).
    """

    name = "cem"

    def __init__(self, n_features: int, config: CEMConfig | None = None, init_mean: np.ndarray | None = None) -> None:
        self.config = cfg = config if config is not None else CEMConfig()
        if n_features < 1:
            raise ValueError(f"n_features: must be >= 1, got {n_features}")
        self.m = int(n_features)
        mean = np.zeros(self.m) if init_mean is None else np.asarray(init_mean, dtype=np.float64)
        if mean.shape != (self.m,) or not np.all(np.isfinite(mean)):
            raise ValueError(f"init_mean: expected {self.m} finite numbers, got {init_mean!r}")
        self.mean = mean.copy()
        self.std = np.full(self.m, cfg.init_std)
        self.rng = np.random.default_rng([int(cfg.seed), 2])
        self._draw()

    def _draw(self) -> None:
        cfg = self.config
        z = self.rng.standard_normal((cfg.n_candidates, self.m))
        self.candidates = np.clip(self.mean + self.std * z, cfg.low, cfg.high)
        self.gmv = np.zeros(cfg.n_candidates)
        self.sessions = np.zeros(cfg.n_candidates)

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        obs = check_obs(obs)
        B = obs.shape[0]
        if not explore:
            return np.tile(self.mean, (B, 1)).astype(np.float32)
        return self.candidates[np.arange(B) % self.config.n_candidates].astype(np.float32)

    def update(self, batch: Batch) -> dict[str, float]:
        """Adds the rows' scores and ended episodes to their candidates (column ``slot``:
        int (n,) the act() row of each transition)."""
        cand = batch.slot % self.config.n_candidates
        np.add.at(self.gmv, cand, batch[self.config.score_column])
        np.add.at(self.sessions, cand, (batch.terminated | batch.truncated).astype(np.float64))
        return {}

    def end_iteration(self) -> dict[str, float]:
        cfg = self.config
        score = self.gmv / np.maximum(self.sessions, 1.0)
        n_elite = max(1, int(round(cfg.elite_frac * cfg.n_candidates)))
        order = np.argsort(-score, kind="stable")
        elite = self.candidates[order[:n_elite]]
        a = cfg.smoothing
        self.mean = (1 - a) * self.mean + a * elite.mean(axis=0)
        self.std = np.maximum((1 - a) * self.std + a * elite.std(axis=0), cfg.min_std)
        best, avg = float(score[order[0]]), float(score.mean())
        self._draw()
        return {"cem_best_gmv": best, "cem_mean_gmv": avg, "cem_std": float(self.std.mean())}

    def state_dict(self) -> dict[str, Any]:
        return {
            "config": asdict(self.config),
            "mean": np_to_tensor(self.mean),
            "std": np_to_tensor(self.std),
            "candidates": np_to_tensor(self.candidates),
            "gmv": np_to_tensor(self.gmv),
            "sessions": np_to_tensor(self.sessions),
            "rng": rng_state(self.rng),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_config(state.get("config"), asdict(self.config))
        self.mean = tensor_to_np(state["mean"])
        self.std = tensor_to_np(state["std"])
        self.candidates = tensor_to_np(state["candidates"])
        self.gmv = tensor_to_np(state["gmv"])
        self.sessions = tensor_to_np(state["sessions"])
        set_rng_state(self.rng, state["rng"])
