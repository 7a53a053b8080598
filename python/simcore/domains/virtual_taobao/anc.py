"""ANC, the action norm constraint (Virtual Taobao, Shi et al. 2019): an engine policy
trained inside a learned simulator is kept near the norm of the actions the logs
hold, so that it cannot exploit the simulator where the simulator has seen no data.

    penalty(a) = weight * max(0, ||a||_2 - ratio * reference_norm)

subtracted from the reward of every step (or from a static policy's value).
:class:`ActionNormConstraint` applies it to any vector env with Box actions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv, VectorWrapper

__all__ = ["anc_penalty", "ActionNormConstraint", "reference_norm"]


def _check(reference: float, ratio: float, weight: float) -> None:
    for name, v in (("reference", reference), ("ratio", ratio), ("weight", weight)):
        if not (isinstance(v, (int, float, np.floating)) and np.isfinite(v) and v >= 0):
            raise ValueError(f"{name}: must be a finite number >= 0, got {v!r}")


def reference_norm(actions: np.ndarray) -> float:
    """The mean L2 norm of logged actions float (n, m) (e.g. a log's ``action`` column)."""
    a = np.asarray(actions, np.float64)
    if a.ndim != 2 or a.shape[0] == 0:
        raise ValueError(f"actions: expected a non-empty (n, m) array, got shape {a.shape}")
    return float(np.linalg.norm(a, axis=1).mean())


def anc_penalty(actions: np.ndarray, reference: float, ratio: float = 1.0, weight: float = 1.0) -> np.ndarray:
    """float64 (B,) penalty of actions (B, m): weight * max(0, ||a|| - ratio * reference)."""
    _check(reference, ratio, weight)
    a = np.asarray(actions, np.float64)
    return weight * np.maximum(0.0, np.linalg.norm(a, axis=-1) - ratio * reference)


class ActionNormConstraint(VectorWrapper):
    """A vector env whose reward is r - :func:`anc_penalty` (actions, reference, ratio,
    weight); ``info["anc_penalty"]`` holds the penalty.  Autoreset steps (NEXT_STEP)
    are not penalised: the action of such a step is ignored by the env."""

    def __init__(self, env: VectorEnv, reference: float, ratio: float = 1.0, weight: float = 1.0) -> None:
        super().__init__(env)
        _check(reference, ratio, weight)
        self.reference, self.ratio, self.weight = float(reference), float(ratio), float(weight)
        self._fresh = np.ones(env.num_envs, bool)

    def reset(self, **kwargs: Any) -> Any:
        self._fresh = np.zeros(self.num_envs, bool)
        return self.env.reset(**kwargs)

    def step(self, actions: Any) -> Any:
        obs, reward, term, trunc, info = self.env.step(actions)
        pen = np.where(self._fresh, 0.0, anc_penalty(actions, self.reference, self.ratio, self.weight))
        self._fresh = np.logical_or(term, trunc)
        info = dict(info)
        info["anc_penalty"] = pen
        return obs, np.asarray(reward, np.float64) - pen, term, trunc, info
