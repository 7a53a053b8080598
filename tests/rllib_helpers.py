"""Test-only RLlib env creator: a simcore env that logs every finished episode's return
(imported by Ray workers through the test session's PYTHONPATH)."""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym


class EpisodeLog(gym.Wrapper):
    """Appends ``pid return`` to ``path`` whenever an episode ends."""

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
                f.write(f"{os.getpid()} {self.ret!r}\n")
        return obs, r, term, trunc, info


def logged_env(env_config: dict) -> gym.Env:
    """RLlib creator: ``env_config`` = {"env_id", "episode_log", ...env kwargs}."""
    from simcore.envs.rllib import make_env

    cfg = dict(env_config)
    env_id, path = cfg.pop("env_id"), cfg.pop("episode_log")
    return EpisodeLog(make_env(env_id, cfg), path)
