"""The PPO baseline's plumbing (domains/autoscaling/ppo.py): the observation rebuilt for
evaluation equals the env's, the SB3 VecEnv resets every zone at the horizon with
terminal observations, a short PPO run gives ratios in range and is deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.autoscaling.baselines import Observed, TargetTracking, observe
from simcore.domains.autoscaling.config import AutoscalingConfig
from simcore.domains.autoscaling.ppo import make_vec_env, obs_from, train_ppo
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.workload import draw_zones

CFG = AutoscalingConfig(num_threads=1, horizon=20, delay=2)


def test_obs_from_matches_the_env_observation():
    zones = draw_zones(CFG.workload, 16, 0)
    sim = AutoscalingSimulator(CFG, zones=zones, seed=1)
    obs0 = sim.reset().copy()
    np.testing.assert_array_equal(obs_from(observe(sim)), obs0)
    rule = TargetTracking(CFG)
    o = observe(sim)
    for _ in range(10):
        r = sim.step(rule.act(o))
        o = Observed(r.cpu.copy(), sim.state()["vms"], r.provisioned.copy(), r.traffic.copy(), sim.t)
        np.testing.assert_array_equal(obs_from(o), r.obs)


def test_vec_env_and_short_ppo():
    pytest.importorskip("stable_baselines3")
    import torch

    torch.set_num_threads(1)
    zones = draw_zones(CFG.workload, 8, 0)
    env = make_vec_env(CFG, zones, seed=3)
    obs = env.reset()
    assert obs.shape == (8, 9)
    for t in range(CFG.horizon):
        env.step_async(np.zeros((8, 1)))
        obs, rew, done, infos = env.step_wait()
        assert rew.shape == (8,) and obs.shape == (8, 9)
        assert done.all() == (t == CFG.horizon - 1)
    assert all("terminal_observation" in i for i in infos)
    assert env.sim.t == 0                                              # reset at once
    pols = [train_ppo(CFG, zones, 300, seed=5) for _ in range(2)]
    sim = AutoscalingSimulator(CFG, zones=zones, seed=1)
    sim.reset()
    o = observe(sim)
    a, b = pols[0].act(o), pols[1].act(o)
    np.testing.assert_array_equal(a, b)
    assert np.all(a >= CFG.ratio_min) and np.all(a <= CFG.ratio_max)
