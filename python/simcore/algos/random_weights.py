"""Baseline: independent uniform random ranking weights in [low, high]^m for every page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simcore.algos.base import check_obs, rng_state, set_rng_state
from simcore.algos.protocol import AgentBase


class RandomWeights(AgentBase):
    """A fresh weight vector per page and slot, uniform on [low, high]^m (also when
    ``explore=False``: its greedy policy is the random policy, so evaluating it draws
    from its Generator).

    Args:
        n_features: m.  seed: seed of its own NumPy Generator.  low, high: the box.
    """

    name = "random"

    def __init__(self, n_features: int, seed: int = 0, low: float = -1.0, high: float = 1.0) -> None:
        if n_features < 1:
            raise ValueError(f"n_features: must be >= 1, got {n_features}")
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError(f"low, high: need finite low < high, got {low}, {high}")
        self.m, self.low, self.high = int(n_features), float(low), float(high)
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        obs = check_obs(obs)
        return self.rng.uniform(self.low, self.high, size=(obs.shape[0], self.m)).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        return {"rng": rng_state(self.rng)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        set_rng_state(self.rng, state["rng"])
