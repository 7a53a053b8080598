"""Helpers every agent shares: exact (bit-identical) checkpoints of NumPy arrays and
NumPy/torch random state, config checks on load, and input validation.

The agent interface itself is :class:`simcore.algos.protocol.AgentProtocol` (with
:class:`~simcore.algos.protocol.AgentBase`); agents learn from
:class:`~simcore.algos.protocol.Batch`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch


def np_to_tensor(a: np.ndarray) -> torch.Tensor:
    """An exact torch copy of a NumPy array (any numeric or bool dtype)."""
    return torch.from_numpy(np.array(a, copy=True))


def tensor_to_np(t: Any) -> np.ndarray:
    """The NumPy array saved by :func:`np_to_tensor` (a copy)."""
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy().copy()
    return np.array(t, copy=True)


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """The bit-generator state of a NumPy Generator (plain Python values)."""
    return dict(rng.bit_generator.state)


def set_rng_state(rng: np.random.Generator, state: Mapping[str, Any]) -> None:
    """Restores :func:`rng_state` in place."""
    rng.bit_generator.state = dict(state)


def check_config(saved: Mapping[str, Any] | None, current: Mapping[str, Any]) -> None:
    """Raises ValueError if a checkpoint's agent config differs from the agent's own
    (``seed`` excepted: the RNG state is restored from the checkpoint)."""
    if saved is None:
        return

    def norm(d: Mapping[str, Any]) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if k != "seed"}

    a, b = norm(saved), norm(current)
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    if diff:
        raise ValueError(f"state: saved with a different config ({', '.join(diff)} differ)")


def check_obs(obs: object, dim: int | None = None) -> np.ndarray:
    """A float32 (B, D) observation array or ValueError/TypeError naming ``obs``."""
    if not isinstance(obs, np.ndarray):
        raise TypeError(f"obs: expected a numpy array, got {type(obs).__name__}")
    if obs.ndim != 2:
        raise ValueError(f"obs: expected shape (B, D), got {obs.shape}")
    if dim is not None and obs.shape[1] != dim:
        raise ValueError(f"obs: expected {dim} columns, got {obs.shape[1]}")
    if obs.dtype.kind != "f":
        raise TypeError(f"obs: expected floating observations, got dtype {obs.dtype}")
    if not np.all(np.isfinite(obs)):
        raise ValueError("obs: contains NaN or inf")
    return obs


def check_positive(name: str, value: float, allow_zero: bool = False) -> None:
    """Raises ValueError unless ``value`` is a finite number > 0 (>= 0 if allowed)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        raise ValueError(f"{name}: must be a number, got {value!r}")
    if value == float("inf") or (value < 0 if allow_zero else value <= 0):
        raise ValueError(f"{name}: must be {'>= 0' if allow_zero else '> 0'} and finite, got {value!r}")
