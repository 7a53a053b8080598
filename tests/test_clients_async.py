"""Gymnasium's AsyncVectorEnv with spawned workers: every array crosses a pickle
boundary (the dtype-by-identity bug made FeatureSelection's workers crash), and the
workers never imported simcore (the ``simcore:`` ids import it)."""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
import pytest

IDS = ["simcore:simcore/SearchSession-v0", "simcore:simcore/SearchSessionDiscrete-v0",
       "simcore:simcore/FeatureSelection-v0"]


@pytest.mark.parametrize("env_id", IDS)
def test_async_vector_env_spawn(env_id):
    fns = [functools.partial(gym.make, env_id) for _ in range(2)]
    env = gym.vector.AsyncVectorEnv(fns, context="spawn")
    try:
        obs, _ = env.reset(seed=[3, 3])
        assert np.array_equal(obs[0], obs[1])  # one seed per sub-env, equal seeds equal envs
        rewards = []
        for _ in range(12):
            obs, r, term, trunc, info = env.step(env.action_space.sample())
            assert obs.shape[0] == 2 and np.all(np.isfinite(r))
            rewards.append(r)
        ref = gym.make(env_id)
        ref.reset(seed=3)
        assert ref.observation_space.contains(obs[0].astype(ref.observation_space.dtype))
    finally:
        env.close()
