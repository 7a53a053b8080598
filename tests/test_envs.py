"""Gymnasium envs: API conformance, vector env semantics, seeding."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import simcore  # noqa: F401  (registers the ids)
from simcore.domains.search.envs import (
    SearchSessionDiscreteEnv,
    SearchSessionDiscreteVectorEnv,
    SearchSessionEnv,
    SearchSessionVectorEnv,
)
from simcore.domains.search.simulator import SearchSimulator

SMALL = {"world": {"n_queries": 4, "n_items": 60}}


@pytest.mark.parametrize("env_id", ["simcore/SearchSession-v0", "simcore/SearchSessionDiscrete-v0"])
def test_check_env(env_id):
    env = gym.make(env_id, config=SMALL)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_single_env_episode(small_config):
    env = SearchSessionEnv(small_config)
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    assert {"query", "segment", "power"} <= set(info)
    total, steps, done = 0.0, 0, False
    while not done:
        obs, r, term, trunc, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs)
        total += r
        steps += 1
        done = term or trunc
        assert info["outcome"] in ("continue", "buy", "leave")
        assert term == (info["outcome"] in ("buy", "leave"))
        assert abs(info["b"] + info["l"] + info["c"] - 1) < 1e-12
    assert steps <= env.sim.horizon
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.action_space.sample())


def test_single_env_seeding():
    def run(seed):
        env = gym.make("simcore/SearchSessionDiscrete-v0", config=SMALL)
        out = [env.reset(seed=seed)[0]]
        for t in range(40):
            o, r, term, trunc, _ = env.step(t % 5)
            out += [o, r]
            if term or trunc:
                out.append(env.reset()[0])
        return out

    a, b, c = run(1), run(1), run(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_discrete_env_actions():
    env = SearchSessionDiscreteEnv(SMALL, action_set=np.eye(8)[:3])
    assert env.action_space.n == 3
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(3)
    with pytest.raises(ValueError, match="action_set"):
        SearchSessionDiscreteEnv(SMALL, action_set=np.zeros((0, 8)))


def test_make_vec_returns_cpp_batched_env():
    env = gym.make_vec("simcore/SearchSession-v0", num_envs=8, config=SMALL)
    assert isinstance(env, SearchSessionVectorEnv)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, _ = env.reset(seed=0)
    assert obs.shape == (8, env.single_observation_space.shape[0])
    assert env.observation_space.contains(obs)
    obs, rew, term, trunc, info = env.step(env.action_space.sample())
    assert rew.shape == term.shape == trunc.shape == (8,)
    assert info["page"].shape == (8, 10)
    env.close()
    denv = gym.make_vec("simcore/SearchSessionDiscrete-v0", num_envs=4, config=SMALL)
    assert isinstance(denv, SearchSessionDiscreteVectorEnv)
    denv.reset(seed=1)
    denv.step(np.array([0, 1, 2, 4]))
    with pytest.raises(ValueError, match="actions"):
        denv.step(np.array([0, 1, 2, 5]))
    with pytest.raises(TypeError, match="actions"):
        denv.step(np.zeros(4))


def test_vector_env_rllib_style_config_dict():
    """RLlib's env_config dict goes through the creator, not the constructor."""
    from simcore.envs.rllib import make_env

    env = make_env("simcore/SearchSession-v0", {"config": SMALL, "num_envs": 5, "max_steps": 3, "reward": "clicks"})
    assert env.num_envs == 5 and env.config.max_steps == 3 and env.config.reward == "clicks"
    assert isinstance(env, SearchSessionVectorEnv)
    denv = make_env("simcore/SearchSessionDiscrete-v0", {"config": SMALL, "num_envs": 2, "action_set": np.eye(8)[:2]})
    assert denv.single_action_space.n == 2
    with pytest.raises(TypeError, match="num_envs"):
        SearchSessionVectorEnv({**SMALL, "num_envs": 5})


def test_vector_env_next_step_autoreset_and_truncation():
    env = SearchSessionVectorEnv(16, config={**SMALL, "max_steps": 3})
    env.reset(seed=4)
    prev_done = np.zeros(16, bool)
    lengths = np.zeros(16, int)
    for _ in range(12):
        obs, rew, term, trunc, info = env.step(env.action_space.sample())
        assert (info["outcome"][prev_done] == -1).all() and (rew[prev_done] == 0).all()
        lengths = np.where(prev_done, 0, lengths + 1)
        assert (lengths[trunc] == 3).all()  # truncation exactly at max_steps
        prev_done = term | trunc


def test_vector_env_seed_determinism_and_thread_independence():
    def run(seed, threads):
        # 300 sessions: two threads really split the batch (>= 128 sessions each)
        env = SearchSessionVectorEnv(300, config={**SMALL, "num_threads": threads})
        out = [env.reset(seed=seed)[0]]
        act = np.random.default_rng(0).uniform(-1, 1, size=(30, 300, 8)).astype(np.float32)
        for a in act:
            o, r, te, tr, info = env.step(a)
            out += [o, r, te, tr, info["page"]]
        return out

    a = run(7, 1)
    assert all(np.array_equal(x, y) for x, y in zip(a, run(7, 2)))
    assert not all(np.array_equal(x, y) for x, y in zip(a, run(8, 1)))


def test_vector_env_reset_with_given_users():
    env = SearchSessionVectorEnv(3, config=SMALL)
    env.reset(seed=0)
    users = env.sim.users()
    users["segment"] = np.array([2, 2, 2], np.int32)
    obs, _ = env.reset(options={"users": users})
    assert (env.sim.users()["segment"] == 2).all()
    assert (obs[:, -5 + 2] == 1).all()  # segment one-hot (G = 4, then t/horizon)


def _vector_run(seed, actions, env_id="simcore/SearchSession-v0"):
    env = gym.make_vec(env_id, num_envs=4, config=SMALL)
    out = [env.reset(seed=seed)[0]]
    for a in actions:
        obs, rew, term, trunc, info = env.step(a)
        out += [obs, rew, term, trunc, info["outcome"], info["page"]]
    return out


def test_vector_seed_list_identical_entries_give_identical_sub_envs():
    acts = np.tile(np.random.default_rng(0).uniform(-1, 1, (40, 1, 8)).astype(np.float32), (1, 4, 1))
    run = _vector_run([5, 5, 5, 5], acts)
    for x in run:
        for i in range(1, 4):
            np.testing.assert_array_equal(x[i], x[0])
    assert (np.concatenate(run[5::6]) == -1).any()  # autoresets happened (outcome -1)
    np.testing.assert_array_equal(run[0], _vector_run([5, 5, 5, 5], acts)[0])
    differ = _vector_run([1, 2, 3, 4], acts)
    assert not any(np.array_equal(differ[0][i], differ[0][j]) for i in range(4) for j in range(i))
    other = _vector_run([1, 2, 3, 5], acts)
    assert all(np.array_equal(x[:3], y[:3]) for x, y in zip(differ, other))  # slot i: seed[i] only
    assert not all(np.array_equal(x[3], y[3]) for x, y in zip(differ, other))


@pytest.mark.parametrize("env_id, discrete", [("simcore/SearchSession-v0", False),
                                               ("simcore/SearchSessionDiscrete-v0", True)])
def test_vector_slot_equals_single_env_with_its_seed(env_id, discrete):
    seeds = [11, 0, 2**64 - 1, 11]
    rng = np.random.default_rng(3)
    acts = rng.integers(0, 5, (60, 4)) if discrete else rng.uniform(-1, 1, (60, 4, 8)).astype(np.float32)
    vec = gym.make_vec(env_id, num_envs=4, config=SMALL)
    vobs, _ = vec.reset(seed=seeds)
    vsteps = [vec.step(a) for a in acts]
    for i, s in enumerate(seeds):
        single = gym.make(env_id, config=SMALL)
        obs, _ = single.reset(seed=s)
        np.testing.assert_array_equal(vobs[i], obs)
        done, episodes = False, 1
        for t, v in enumerate(vsteps):
            if done:  # the vector env's NEXT_STEP autoreset is the single env's reset()
                obs, _ = single.reset()
                assert v[4]["outcome"][i] == -1 and v[1][i] == 0
                episodes += 1
                done = False
            else:
                obs, rew, term, trunc, info = single.step(acts[t][i])
                assert (v[1][i], v[2][i], v[3][i]) == (rew, term, trunc), f"slot {i} step {t}"
                assert SearchSimulator.outcome_name(v[4]["outcome"][i]) == info["outcome"]
                np.testing.assert_array_equal(v[4]["page"][i], info["page"])
                done = term or trunc
            np.testing.assert_array_equal(v[0][i], obs, err_msg=f"slot {i} step {t}")
        assert episodes >= 3


def test_vector_seed_list_validation_and_entropy():
    env = SearchSessionVectorEnv(4, SMALL)
    with pytest.raises(ValueError, match="seed"):
        env.reset(seed=[1, 2, 3])
    with pytest.raises(TypeError, match=r"seed\[1\]"):
        env.reset(seed=[1, 2.5, 3, 4])
    with pytest.raises(ValueError, match=r"seed\[2\]"):
        env.reset(seed=[1, 2, -3, 4])
    with pytest.raises(ValueError, match=r"seed\[3\]"):
        env.reset(seed=[1, 2, 3, 2**64])
    env.reset(seed=np.array([1, 2, 3, 4], dtype=np.uint64))
    a, _ = env.reset(seed=[1, None, 3, None])
    b, _ = env.reset(seed=[1, None, 3, None])
    np.testing.assert_array_equal(a[[0, 2]], b[[0, 2]])
    assert not np.array_equal(env.sim._sim.get_state()["slot_seed"][1], 0)


def test_vector_env_pickles_with_slot_seeds():
    import pickle

    env = SearchSessionVectorEnv(4, SMALL)
    env.reset(seed=[7, 7, 8, None])
    acts = np.random.default_rng(1).uniform(-1, 1, (50, 4, 8)).astype(np.float32)
    for a in acts[:10]:
        env.step(a)
    clone = pickle.loads(pickle.dumps(env))
    for a in acts[10:]:  # through autoresets: the restored slots keep their seeds
        x, y = env.step(a), clone.step(a)
        for p, q in zip(x[:4], y[:4]):
            np.testing.assert_array_equal(p, q)
        np.testing.assert_array_equal(x[4]["outcome"], y[4]["outcome"])


@pytest.mark.parametrize("bad", [2.7, "2", True, np.bool_(True), np.array([1.0]), None])
def test_discrete_single_rejects_non_integer_actions(bad):
    env = SearchSessionDiscreteEnv(SMALL)
    env.reset(seed=0)
    with pytest.raises(TypeError, match="action"):
        env.step(bad)
    env.step(np.int64(2))
    env.reset(seed=1)  # the first page may have ended the session
    env.step(np.array(1))


def test_max_episode_steps_and_render_mode_in_make_vec():
    for env_id in ("simcore/SearchSession-v0", "simcore/SearchSessionDiscrete-v0"):
        env = gym.make_vec(env_id, num_envs=3, config=SMALL, max_episode_steps=2, render_mode=None)
        assert env.sim.horizon == 2
        env.reset(seed=0)
        _, _, term1, _, _ = env.step(env.action_space.sample())
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        assert np.all(trunc[~term1 & ~term]) and not np.any(trunc[term1])
    with pytest.raises(TypeError, match="render_mode"):
        SearchSessionVectorEnv(2, SMALL, render_mode="human")
    with pytest.raises(ValueError, match="max_episode_steps"):
        SearchSessionVectorEnv(2, SMALL, max_episode_steps=0)
