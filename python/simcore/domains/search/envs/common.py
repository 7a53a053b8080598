"""Helpers shared by the single and vector search-session envs."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.spec import SEARCH_STEP_SPEC
from simcore.domains.search.world import default_action_set
from simcore.envs.standard import check_max_episode_steps


def resolve_config(
    config: SessionConfig | Mapping[str, Any] | None,
    overrides: Mapping[str, Any],
    max_episode_steps: object = None,
) -> SessionConfig:
    """A SessionConfig from a config object, a (nested) dict, and keyword overrides.

    ``max_episode_steps`` (Gymnasium's keyword; None: no limit) lowers ``max_steps``
    to min(max_steps, max_episode_steps), so that the env truncates itself at
    min(horizon, max_episode_steps) and ``pages shown / horizon`` uses that horizon.
    """
    limit = check_max_episode_steps(max_episode_steps)
    cfg = _resolve(config, overrides)
    if limit is not None and limit < cfg.max_steps:
        cfg = dataclasses.replace(cfg, max_steps=limit)
    return cfg


def _resolve(config: SessionConfig | Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> SessionConfig:
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


def sim_dims(sim: SearchSimulator) -> dict[str, int]:
    """The dims of :data:`SEARCH_STEP_SPEC` for a simulator (K, m, W, G, D); checks
    that the simulator's observation size agrees with the spec's layout."""
    dims = {
        "K": sim.config.page_size,
        "m": sim.num_features,
        "W": sim.config.user.window,
        "G": int(np.asarray(sim.world.segment_probs).shape[0]),
    }
    SEARCH_STEP_SPEC.check_obs_dim(sim.obs_dim, dims)
    dims["D"] = sim.obs_dim
    return dims


def continuous_actions(actions: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    """float32 ranking weights of ``shape`` from real (float or integer) numbers;
    TypeError for other dtypes, ValueError for a wrong shape or non-finite weights."""
    a = np.asarray(actions)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{name}: expected real ranking weights, got dtype {a.dtype}")
    if a.size != math.prod(shape) or (a.ndim and a.shape[-1] != shape[-1]):
        raise ValueError(f"{name}: expected shape {shape}, got {a.shape}")
    a = np.ascontiguousarray(a, dtype=np.float32).reshape(shape)
    # a float64 sum of float32 values is finite iff every value is (one reduction;
    # for one env's few weights a plain sum of Python floats is cheaper than a ufunc)
    total = sum(a.ravel().tolist()) if a.size <= 64 else np.add.reduce(a, axis=None, dtype=np.float64)
    if not math.isfinite(total):
        raise ValueError(f"{name}: weights must be finite")
    return a
