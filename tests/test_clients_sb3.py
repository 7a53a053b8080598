"""Stable-Baselines3 works unchanged on every simcore id: make_vec_env (which asks for
render_mode="rgb_array" first and retries without on TypeError), check_env, PPO."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.envs.registration import simcore_env_ids

sb3 = pytest.importorskip("stable_baselines3")
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.env_checker import check_env  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402

SMALL_SEARCH = {"config": {"world": {"n_queries": 4, "n_items": 60}}}
SMALL = {
    "simcore/SearchSession-v0": SMALL_SEARCH,
    "simcore/SearchSessionDiscrete-v0": SMALL_SEARCH,
    "simcore/FeatureSelection-v0": {"config": {"data": {"n_contexts": 40, "n_items": 60}}},
}
IDS = simcore_env_ids()


@pytest.mark.parametrize("env_id", IDS)
def test_make_vec_env_and_ppo(env_id):
    venv = make_vec_env(env_id, n_envs=2, seed=0, env_kwargs=SMALL.get(env_id, {}))
    assert venv.num_envs == 2
    obs = venv.reset()
    assert obs.shape == (2, *venv.observation_space.shape)
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu", verbose=0)
    model.learn(total_timesteps=256)
    action, _ = model.predict(obs, deterministic=True)
    assert np.asarray(action).shape[0] == 2
    venv.close()


@pytest.mark.parametrize("env_id", IDS)
def test_sb3_check_env(env_id):
    import gymnasium as gym

    env = gym.make(env_id, **SMALL.get(env_id, {}))
    check_env(env, warn=True)
    env.close()
