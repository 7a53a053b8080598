"""The lifecycle envs beyond the shared conformance suite: spaces, budget in the
observation, info fields, autoreset rows, reset options, backends, render."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import simcore  # noqa: F401  (registers the ids)
from simcore.domains.lifecycle.env import LifecycleEnv, LifecycleVectorEnv
from simcore.domains.lifecycle.spec import LIFECYCLE_DIMS, LIFECYCLE_STEP_SPEC

KW = {"config": {"population": {"n_users": 300}, "horizon_days": 5}}


def test_single_env_episode_and_info():
    env = gym.make("simcore/Lifecycle-v0", render_mode="ansi", **KW)
    obs, info = env.reset(seed=3, options={"user": 7})
    assert info["user"] == 7 and env.observation_space.contains(obs)
    assert isinstance(env.action_space, gym.spaces.Discrete) and env.action_space.n == 16
    total = 0.0
    for t in range(5):
        obs, r, term, trunc, info = env.step(t % 3)
        total += r
        assert not term and trunc == (t == 4)
        assert set(LIFECYCLE_STEP_SPEC.info_keys) <= set(info)
        assert r == pytest.approx(info["value"] - info["cost"])
        assert obs[18] == pytest.approx((t + 1) / 5)
    assert isinstance(env.render(), str)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_budget_is_in_the_observation():
    env = LifecycleVectorEnv(8, config={"population": {"n_users": 300}, "horizon_days": 20, "budget_per_user": 30.0})
    obs, _ = env.reset(seed=0)
    sl = LIFECYCLE_STEP_SPEC.obs_slices(LIFECYCLE_DIMS)
    assert np.all(obs[:, sl["budget"]] == 1.0)
    last = 1.0
    for _ in range(20):
        obs, _, _, _, info = env.step(np.full(8, 11))  # phone calls: always paid
        frac = obs[0, sl["budget"]][0]
        assert frac <= last and np.allclose(obs[:, sl["budget"]], frac)
        assert frac == pytest.approx(info["budget_left"][0] / env.sim.total_budget, rel=1e-6)
        last = frac
    assert last < 1.0


def test_vector_autoreset_rows_and_users_option():
    env = gym.make_vec("simcore/Lifecycle-v0", num_envs=4, vectorization_mode="vector_entry_point", **KW)
    env.reset(seed=1, options={"users": np.array([0, 1, 2, 3])})
    for _ in range(5):
        _, _, _, trunc, info = env.step(np.zeros(4, np.int64))
    assert trunc.all()
    _, r, term, trunc, info = env.step(np.ones(4, np.int64))
    assert np.all(info["action"] == -1) and np.all(info["stage"] == -1)
    assert np.all(r == 0) and not term.any() and not trunc.any()
    sim = env.sim if hasattr(env, "sim") else env.unwrapped.sim
    assert np.all(info["budget_left"] == sim.total_budget)


def test_backends_agree_through_the_env():
    runs = []
    for backend in ("cpp", "numpy"):
        env = LifecycleVectorEnv(6, backend=backend, **KW)
        out = [env.reset(seed=9)[0]]
        rng = np.random.default_rng(0)
        for _ in range(7):
            out.append(env.step(rng.integers(0, 16, 6))[0])
        runs.append(np.stack(out))
    assert np.array_equal(runs[0], runs[1])


def test_bad_env_arguments():
    with pytest.raises(TypeError, match="config"):
        LifecycleEnv(config=3)
    with pytest.raises(ValueError, match="horizon_days"):
        LifecycleEnv(horizon_days=0)
    env = LifecycleVectorEnv(2, **KW)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        env.step(np.array([0, 16]))
    with pytest.raises(TypeError, match="actions"):
        env.step(np.array([0.5, 1.0]))
