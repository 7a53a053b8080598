"""simcore/FeatureSelection-v0: spaces, reward accounting, autoreset, seeding, bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import simcore.envs  # noqa: F401  (registers the ids)
from simcore.domains.feature_cost import data as D
from simcore.domains.feature_cost import kernels as K
from simcore.domains.feature_cost.env import (
    FeatureSelectionConfig,
    FeatureSelectionEnv,
    FeatureSelectionVectorEnv,
)

N_FEAT = 12


@pytest.fixture(scope="module")
def data():
    return D.generate(D.FeatureCostDataConfig(n_contexts=40, n_items=60, seed=5))


def _play(env, actions: np.ndarray):
    """Runs one episode of a vector env with actions (n, B); returns rewards (n, B), info."""
    R = []
    info = {}
    for t in range(actions.shape[0]):
        obs, r, term, trunc, info = env.step(actions[t])
        assert env.observation_space.contains(obs)
        R.append(r)
        assert bool(term.all()) == (t == actions.shape[0] - 1) and not trunc.any()
    return np.array(R), info


def test_check_env_and_registration(data):
    env = FeatureSelectionEnv(data=data)
    check_env(env, skip_render_check=True)
    made = gym.make("simcore/FeatureSelection-v0", data=data)
    assert isinstance(made.unwrapped, FeatureSelectionEnv)
    vec = gym.make_vec("simcore/FeatureSelection-v0", num_envs=4, data=data)
    assert isinstance(vec, FeatureSelectionVectorEnv)
    assert vec.single_action_space == gym.spaces.Discrete(2)
    assert vec.single_observation_space.shape == (8 + 2 * N_FEAT + 1,)


def test_observation_layout(data):
    env = FeatureSelectionVectorEnv(3, data=data)
    obs, _ = env.reset(seed=0, options={"contexts": np.array([1, 2, 3])})
    np.testing.assert_array_equal(obs[:, :8], data.context[[1, 2, 3]])
    assert np.all(obs[:, 8 : 8 + N_FEAT] == 0) and np.all(obs[:, 8 + N_FEAT] == 0)
    np.testing.assert_array_equal(obs[:, 8 + N_FEAT + 1], 1)  # one-hot of step 0
    obs, *_ = env.step(np.array([1, 0, 1]))
    np.testing.assert_array_equal(obs[:, 8], [1, 0, 1])
    assert np.allclose(obs[:, 8 + N_FEAT], 1 / N_FEAT)
    assert np.all(obs[:, 8 + N_FEAT + 2] == 1) and np.all(obs[:, 8 + N_FEAT + 1] == 0)


def test_all_eval_and_all_skip_returns(data):
    B = 8
    env = FeatureSelectionVectorEnv(B, FeatureSelectionConfig(loss_threshold=0.05, penalty=2.0), data=data)
    env.reset(seed=1)
    R, info = _play(env, np.ones((N_FEAT, B), np.int64))
    np.testing.assert_allclose(R.sum(axis=0), -1.0, atol=1e-12)
    assert np.all(info["loss"] == 0) and not info["penalized"].any()
    np.testing.assert_allclose(info["cost"], 1.0)
    # every step charges its own feature's cost share
    np.testing.assert_allclose(R[:, 0], -data.cost / data.cost.sum())
    env.reset(seed=1)
    R, info = _play(env, np.zeros((N_FEAT, B), np.int64))
    assert np.all(info["loss"] > 0.05)  # constant scores: index order
    np.testing.assert_allclose(R.sum(axis=0), -2.0)
    assert np.all(info["cost"] == 0)


@pytest.mark.parametrize("loss_weight", [0.0, 3.0])
def test_step_and_final_modes_give_the_same_return(data, loss_weight):
    B = 16
    rng = np.random.default_rng(0)
    acts = (rng.random((N_FEAT, B)) < 0.75).astype(np.int64)
    out = {}
    for mode in ("step", "final"):
        cfg = FeatureSelectionConfig(loss_threshold=0.03, penalty=1.5, loss_weight=loss_weight, penalty_mode=mode)
        env = FeatureSelectionVectorEnv(B, cfg, data=data)
        env.reset(seed=3)
        out[mode] = _play(env, acts)
    (Rs, info_s), (Rf, info_f) = out["step"], out["final"]
    np.testing.assert_allclose(Rs.sum(axis=0), Rf.sum(axis=0), atol=1e-12)
    np.testing.assert_array_equal(info_s["loss"], info_f["loss"])
    # the episode return is -cost - penalty * [loss > C] - loss_weight * loss
    want = -info_s["cost"] - 1.5 * (info_s["loss"] > 0.03) - loss_weight * info_s["loss"]
    np.testing.assert_allclose(Rs.sum(axis=0), want, atol=1e-12)
    # and the final loss is the kernel's loss of the final mask
    res = K.subset_eval(data.X, info_s["mask"], data.cost, data.weights, fill=K.feature_mean(data.X),
                        query_index=info_s["context"])
    np.testing.assert_array_equal(res.loss_fraction, info_s["loss"])
    # step mode charges the penalty at the step that crosses C
    crossed = np.flatnonzero(info_s["penalized"])
    assert crossed.size > 0
    assert np.all(Rs[:, crossed].min(axis=0) <= -1.5 + 1e-9)


def test_autoreset_next_step(data):
    env = FeatureSelectionVectorEnv(4, data=data)
    env.reset(seed=0)
    _play(env, np.ones((N_FEAT, 4), np.int64))
    obs, r, term, trunc, info = env.step(np.ones(4, np.int64))
    assert np.all(r == 0) and not term.any() and not trunc.any() and info == {}
    assert np.all(obs[:, 8 + N_FEAT] == 0)  # a fresh episode at step 0
    obs, r, term, *_ = env.step(np.ones(4, np.int64))
    assert np.all(r < 0) and not term.any()


def test_seeding(data):
    def contexts(seed):
        env = FeatureSelectionVectorEnv(16, data=data)
        env.reset(seed=seed)
        first = env.core.contexts.copy()
        env.reset()
        return np.concatenate([first, env.core.contexts])

    np.testing.assert_array_equal(contexts(3), contexts(3))
    assert not np.array_equal(contexts(3), contexts(4))


def test_single_env_matches_vector(data):
    single = FeatureSelectionEnv(data=data, loss_threshold=0.04)
    vec = FeatureSelectionVectorEnv(1, data=data, loss_threshold=0.04)
    acts = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1]
    obs_s, info = single.reset(seed=0, options={"context": 7})
    obs_v, _ = vec.reset(options={"contexts": np.array([7])})
    assert info["context"] == 7
    np.testing.assert_array_equal(obs_s, obs_v[0])
    for a in acts:
        obs_s, r_s, term_s, trunc_s, info_s = single.step(a)
        obs_v, r_v, term_v, _, info_v = vec.step(np.array([a]))
        np.testing.assert_array_equal(obs_s, obs_v[0])
        assert r_s == r_v[0] and term_s == term_v[0] and not trunc_s
    assert info_s["loss"] == info_v["loss"][0]
    np.testing.assert_array_equal(info_s["mask"], info_v["mask"][0])
    with pytest.raises(RuntimeError, match="reset"):
        single.step(1)


def test_bad_input(data):
    env = FeatureSelectionVectorEnv(4, data=data)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.ones(3, np.int64))
    with pytest.raises(ValueError, match="0 \\(Skip\\) or 1"):
        env.step(np.full(4, 2))
    with pytest.raises(TypeError, match="integer actions"):
        env.step(np.ones(4))
    with pytest.raises(ValueError, match="contexts"):
        env.reset(options={"contexts": np.array([0, 1, 2, 99])})
    for bad in (dict(loss_threshold=1.5), dict(penalty=-1.0), dict(loss_weight=float("nan")),
                dict(penalty_mode="x"), dict(top_k=0), dict(num_threads=0)):
        with pytest.raises(ValueError):
            FeatureSelectionConfig(**bad)
    with pytest.raises(ValueError, match="unknown"):
        FeatureSelectionConfig.from_dict({"C": 0.1})
    with pytest.raises(ValueError, match="fill"):
        FeatureSelectionVectorEnv(2, data=data, fill=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="num_envs"):
        FeatureSelectionVectorEnv(0, data=data)


def test_rllib_style_dict_and_top_k(data):
    from simcore.envs.rllib import make_env

    env = make_env("simcore/FeatureSelection-v0", {"num_envs": 3, "loss_threshold": 0.1, "top_k": 5, "data": data})
    assert isinstance(env, FeatureSelectionVectorEnv)
    assert env.num_envs == 3 and env.config.top_k == 5
    with pytest.raises(TypeError, match="num_envs"):
        FeatureSelectionVectorEnv({"num_envs": 3}, data=data)
    env.reset(seed=0)
    _, info = _play(env, np.zeros((N_FEAT, 3), np.int64))
    res = K.subset_eval(data.X, info["mask"], data.cost, data.weights, fill=K.feature_mean(data.X),
                        query_index=info["context"], top_k=5)
    np.testing.assert_array_equal(res.loss_fraction, info["loss"])


@pytest.mark.parametrize("mode", ["step", "final"])
def test_kl_loss_option(data, mode):
    """loss="kl": the env's t is eq. 2's KL between the full and subset softmax scores."""
    B = 16
    rng = np.random.default_rng(1)
    acts = (rng.random((N_FEAT, B)) < 0.7).astype(np.int64)
    cfg = FeatureSelectionConfig(loss="kl", kl_temperature=0.1, loss_threshold=0.2, penalty=1.5,
                                 loss_weight=2.0, penalty_mode=mode)
    env = FeatureSelectionVectorEnv(B, cfg, data=data)
    env.reset(seed=4)
    R, info = _play(env, acts)
    res = K.subset_eval(data.X, info["mask"], data.cost, data.weights, fill=K.feature_mean(data.X),
                        query_index=info["context"], kl_temperature=0.1)
    np.testing.assert_array_equal(info["loss"], res.kl)
    want = -info["cost"] - 1.5 * (info["loss"] > 0.2) - 2.0 * info["loss"]
    np.testing.assert_allclose(R.sum(axis=0), want, atol=1e-12)
    assert info["penalized"].any() and not info["penalized"].all()
    env.reset(seed=4)
    _, info = _play(env, np.ones((N_FEAT, B), np.int64))
    assert np.all(info["loss"] == 0)


def test_kl_loss_config_checks():
    FeatureSelectionConfig(loss="kl", loss_threshold=3.0)  # nats: above 1 is fine
    for bad in (dict(loss="x"), dict(loss="kl", kl_temperature=0.0), dict(loss="kl", loss_threshold=-0.1),
                dict(loss="kl", loss_threshold=float("inf")), dict(loss_threshold=1.5)):
        with pytest.raises(ValueError):
            FeatureSelectionConfig(**bad)


def test_vector_seed_list_equals_single_envs(data):
    """Slot i of the vector env under seed list [s0, s1, ...] draws exactly the
    requests of the single env after reset(seed=s_i)."""
    seeds = [3, 11, 3]
    vec = FeatureSelectionVectorEnv(3, data=data)
    got = [vec.reset(seed=seeds)[0]]
    for _ in range(2 * data.X.shape[2] + 1):
        got.append(vec.step(np.ones(3, np.int64))[0])
    for i, s in enumerate(seeds):
        single = FeatureSelectionEnv(data=data)
        want = [single.reset(seed=s)[0]]
        for t in range(2 * data.X.shape[2] + 1):
            o, _, term, _, _ = single.step(1) if not single.core.done else (single.reset()[0], 0, 0, 0, 0)
            want.append(o)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a[i], b)
    with pytest.raises(ValueError, match="seed"):
        vec.reset(seed=[1, 2])


def test_max_episode_steps_truncates(data):
    vec = FeatureSelectionVectorEnv(2, data=data, max_episode_steps=3)
    vec.reset(seed=0)
    for t in range(3):
        _, _, term, trunc, _ = vec.step(np.ones(2, np.int64))
    assert trunc.all() and not term.any()
    _, r, term, trunc, _ = vec.step(np.ones(2, np.int64))  # autoreset step
    assert not (term.any() or trunc.any()) and not r.any()
