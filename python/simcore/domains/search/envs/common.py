"""Helpers shared by the single and vector search-session envs."""

from __future__ import annotations

import numbers
from typing import Any, Mapping

import numpy as np

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.world import default_action_set


def resolve_config(config: SessionConfig | Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> SessionConfig:
    """A SessionConfig from a config object, a (nested) dict, and keyword overrides."""
    if isinstance(config, SessionConfig):
        if overrides:
            d = {k: getattr(config, k) for k in ("world", "user", "page_size", "max_steps", "reward", "num_threads")}
            d.update(overrides)
            return SessionConfig.from_dict(d)
        return config
    if config is not None and not isinstance(config, Mapping):
        raise TypeError(f"config: expected SessionConfig, dict or None, got {type(config).__name__}")
    d = dict(config or {})
    d.update(overrides)
    return SessionConfig.from_dict(d)


def resolve_action_set(action_set: object, m: int) -> np.ndarray:
    """float32 (n_actions, m) weight vectors; default: :func:`simcore.domains.search.world.default_action_set`."""
    if action_set is None:
        return default_action_set(m)
    a = np.asarray(action_set, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != m:
        raise ValueError(f"action_set: expected shape (n_actions, {m}), got {a.shape}")
    if a.shape[0] == 0:
        raise ValueError("action_set: must contain at least one weight vector")
    if not np.all(np.isfinite(a)):
        raise ValueError("action_set: contains NaN or inf")
    return np.ascontiguousarray(a, dtype=np.float32)
