"""A toy NEXT_STEP vector env and step hooks for the A2C/A3C tests (no simulator).

Each slot shows one of two contexts (one-hot, plus the step count / horizon); action
``a`` in {0, 1, 2} pays 1 when it matches the context and 0 otherwise, action 2 pays
1.5 in context 1 but costs 1 (a budget test); episodes last ``horizon`` steps
(truncated), and ending with a wrong action terminates (no bootstrap).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore.algos.protocol import Batch


class ToyVecEnv:
    """B slots, NEXT_STEP autoreset (the step after a done resets that slot)."""

    def __init__(self, num_envs: int = 8, horizon: int = 4, terminate_wrong: bool = False) -> None:
        self.num_envs, self.horizon, self.terminate_wrong = num_envs, horizon, terminate_wrong
        self.rng = np.random.default_rng(0)
        self.ctx = np.zeros(num_envs, dtype=np.int64)
        self.t = np.zeros(num_envs, dtype=np.int64)
        self.done = np.zeros(num_envs, dtype=bool)

    def _obs(self) -> np.ndarray:
        o = np.zeros((self.num_envs, 3), dtype=np.float32)
        o[np.arange(self.num_envs), self.ctx] = 1.0
        o[:, 2] = self.t / self.horizon
        return o

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        self.rng = np.random.default_rng(seed)
        self.ctx = self.rng.integers(0, 2, self.num_envs)
        self.t[:] = 0
        self.done[:] = False
        return self._obs(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        a = np.asarray(action, dtype=np.int64)
        reward = np.where(a == self.ctx, 1.0, 0.0) + np.where((a == 2) & (self.ctx == 1), 1.5, 0.0)
        cost = np.where(a == 2, 1.0, 0.0)
        wrong = (a != self.ctx) & ~((a == 2) & (self.ctx == 1))
        resetting = self.done.copy()
        reward[resetting], cost[resetting] = 0.0, 0.0
        self.t += 1
        term = (wrong & self.terminate_wrong) & ~resetting
        trunc = (self.t >= self.horizon) & ~term & ~resetting
        new_ctx = self.rng.integers(0, 2, self.num_envs)
        self.ctx = new_ctx
        self.t[resetting] = 0
        self.done = term | trunc
        return self._obs(), reward.astype(np.float32), term, trunc, {"cost": cost.astype(np.float32)}


class _Mean:
    def __init__(self) -> None:
        self.total, self.rows = 0.0, 0

    def add(self, batch: Batch, env_steps: int) -> None:
        self.total += float(batch.reward.sum())
        self.rows += len(batch)

    def record(self) -> dict[str, Any]:
        return {"reward": self.total / max(self.rows, 1), "rows": self.rows}


class ToyHooks:
    """to_batch with the rollout columns plus ``cost``."""

    eval_keys = ("reward",)
    progress_key = None

    def to_batch(self, env: Any, obs: np.ndarray, action: np.ndarray, reward: np.ndarray, next_obs: np.ndarray,
                 terminated: np.ndarray, truncated: np.ndarray, info: dict[str, Any]) -> Batch:
        return Batch(obs=obs.copy(), action=np.asarray(action, dtype=np.int64), reward=reward.copy(),
                     next_obs=next_obs.copy(), terminated=terminated.copy(), truncated=truncated.copy(),
                     cost=info["cost"].copy())

    def new_metrics(self, env: Any) -> _Mean:
        return _Mean()

    def end_record(self, env: Any, agent: Any, obs: np.ndarray) -> dict[str, Any]:
        return {}
