"""Test-only RLlib env creator: a simcore env that logs every finished episode's return
(imported by Ray workers through the test session's PYTHONPATH)."""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym
import numpy as np


class EpisodeLog(gym.Wrapper):
    """Appends ``pid return single`` to ``path`` whenever an episode ends."""

    def __init__(self, env: gym.Env, path: str) -> None:
        super().__init__(env)
        self.path, self.ret = path, 0.0

    def reset(self, **kw: Any):
        self.ret = 0.0
        return self.env.reset(**kw)

    def step(self, action: Any):
        obs, r, term, trunc, info = self.env.step(action)
        self.ret += float(r)
        if term or trunc:
            with open(self.path, "a") as f:
                f.write(f"{os.getpid()} {self.ret!r} single\n")
        return obs, r, term, trunc, info


class VectorEpisodeLog(gym.vector.VectorWrapper):
    """The same for a NEXT_STEP-autoreset vector env (the C++-batched one): one
    running return per sub-env, logged (``pid return <env class>``) when that sub-env's episode ends."""

    def __init__(self, env: gym.vector.VectorEnv, path: str) -> None:
        super().__init__(env)
        self.path, self.ret = path, np.zeros(env.num_envs)

    def reset(self, **kw: Any):
        self.ret[:] = 0.0
        return self.env.reset(**kw)

    def step(self, actions: Any):
        obs, r, term, trunc, info = self.env.step(actions)
        self.ret += np.asarray(r, dtype=np.float64)  # the autoreset step's reward is 0
        done = np.flatnonzero(np.logical_or(term, trunc))
        if done.size:
            with open(self.path, "a") as f:
                kind = type(self.env.unwrapped).__name__  # the C++-batched env, not a SyncVectorEnv
                f.writelines(f"{os.getpid()} {float(self.ret[i])!r} {kind}\n" for i in done)
            self.ret[done] = 0.0
        return obs, r, term, trunc, info


def logged_env(env_config: dict) -> gym.Env | gym.vector.VectorEnv:
    """RLlib creator: ``env_config`` = {"env_id", "episode_log", ...env kwargs}; with
    ``num_envs`` (VECTOR_ENTRY_POINT mode) the C++-batched vector env, logged."""
    from simcore.envs.rllib import make_env

    cfg = dict(env_config)
    env_id, path = cfg.pop("env_id"), cfg.pop("episode_log")
    env = make_env(env_id, cfg)
    if isinstance(env, gym.vector.VectorEnv):
        return VectorEpisodeLog(env, path)
    return EpisodeLog(env, path)
