"""The autoscaling envs beyond the conformance suite: action mapping, the vector env
equal to the simulator, render."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import simcore  # noqa: F401  (registers the ids)
from simcore.domains.autoscaling.config import AutoscalingConfig
from simcore.domains.autoscaling.env import action_to_ratio, ratio_to_action
from simcore.domains.autoscaling.simulator import AutoscalingSimulator


def test_action_mapping_round_trip():
    cfg = AutoscalingConfig()
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_allclose(action_to_ratio(x, cfg), [-0.5, -0.25, 0.0, 0.5, 1.0])
    np.testing.assert_allclose(ratio_to_action(action_to_ratio(x, cfg), cfg), x)


def test_vector_env_equals_simulator():
    env = gym.make_vec("simcore/Autoscaling-v0", num_envs=5, config={"horizon": 30})
    obs, _ = env.reset(seed=9)
    sim = AutoscalingSimulator(AutoscalingConfig(horizon=30), num_zones=5, seed=9)
    assert np.array_equal(obs, sim.reset())
    rng = np.random.default_rng(0)
    for _ in range(35):
        x = rng.uniform(-1, 1, (5, 1)).astype(np.float32)
        o, r, term, trunc, info = env.step(x)
        res = sim.step(np.clip(action_to_ratio(x[:, 0], sim.config), -0.5, 1.0))
        assert np.array_equal(o, res.obs) and np.array_equal(r, res.reward) and np.array_equal(info["vms"], res.vms)


def test_single_env_render_and_bad_action():
    env = gym.make("simcore/Autoscaling-v0", render_mode="ansi", config={"horizon": 5})
    env.reset(seed=0)
    assert "no step" in env.render()
    env.step(np.array([0.3], np.float32))
    assert "cpu" in env.render()
    with pytest.raises(ValueError, match="action"):
        env.step(np.array([1.5], np.float32))
