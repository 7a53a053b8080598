"""Baseline: the same hand-set ranking weights for every page (e.g. the LTR default)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simcore.algos.base import check_obs, np_to_tensor, tensor_to_np
from simcore.algos.protocol import AgentBase


class FixedWeights(AgentBase):
    """Always the weight vector ``weights`` (float (m,), finite).

    Args:
        weights: the ranking weights.
        name: label for reports (default "fixed").
    """

    def __init__(self, weights: np.ndarray, name: str = "fixed") -> None:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise ValueError(f"weights: expected a non-empty 1-d vector, got shape {w.shape}")
        if not np.all(np.isfinite(w)):
            raise ValueError("weights: contains NaN or inf")
        self.weights = w.astype(np.float32)
        self.name = name

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        obs = check_obs(obs)
        return np.tile(self.weights, (obs.shape[0], 1))

    def state_dict(self) -> dict[str, Any]:
        return {"weights": np_to_tensor(self.weights)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        w = tensor_to_np(state["weights"])
        if w.shape != self.weights.shape:
            raise ValueError(f"state: weights have shape {w.shape}, expected {self.weights.shape}")
        self.weights = w.astype(np.float32)
