"""The tiered-traffic envs (beyond the conformance suite) and the exact helper."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from simcore.domains.search.config import SessionConfig, WorldConfig
from simcore.domains.traffic.config import TrafficConfig, TrafficRewardConfig
from simcore.domains.traffic.exact import exact_static, panel
from simcore.domains.traffic.simulator import TrafficSimulator

SMALL = {"session": {"world": {"n_queries": 4, "n_items": 60}}}


def test_single_env_reward_decomposes_and_follows_the_action():
    env = gym.make("simcore/TieredTraffic-v0", config=SMALL, reward={"lambdas": [2.0, 1.0, 1.0]})
    obs, info = env.reset(seed=3)
    assert obs.shape == env.observation_space.shape and info["affinity"].shape == (3,)
    total = 0.0
    for _ in range(40):
        obs, r, term, trunc, info = env.step(np.array([1.0, -1.0, 0.0], np.float32))
        assert r == info["reward_gmv"] + info["reward_tier"]
        total += info["share"][0] - info["share_basic"][0]
        if term or trunc:
            env.reset()
    assert total > 0  # pushing tier 0 raises its share over the control's (summed over pages)
    with pytest.raises(ValueError, match="action"):
        env.step(np.zeros(2, np.float32))


def test_vector_env_sub_env_replays_the_single_env():
    vec = gym.make_vec("simcore/TieredTraffic-v0", num_envs=3, vectorization_mode="vector_entry_point", config=SMALL)
    single = gym.make("simcore/TieredTraffic-v0", config=SMALL)
    o_v, _ = vec.reset(seed=[11, 12, 13])
    o_s, _ = single.reset(seed=12)
    assert np.array_equal(o_v[1], o_s)
    a = np.array([[0.3, 0.0, -0.2]] * 3, np.float32)
    for _ in range(5):
        ov, rv, tv, trv, iv = vec.step(a)
        os_, rs, ts, trs, is_ = single.step(a[1])
        assert np.array_equal(ov[1], os_) and rv[1] == rs and iv["n_click"][1] == is_["n_click"]
        if ts or trs:
            break


def _monte_carlo_gmv(cfg: TrafficConfig, users: dict, w: np.ndarray, reps: int) -> np.ndarray:
    """Sampled paid GMV per session of static tier weights w, each user replayed reps times."""
    U = len(users["query"])
    sim = TrafficSimulator(cfg, U * reps, seed=17)
    sim.reset_to({k: np.concatenate([v] * reps) for k, v in users.items()})
    gmv, done = np.zeros(U * reps), np.zeros(U * reps, bool)
    for _ in range(sim.horizon):
        r = sim.step(sim.weights_for(w))
        gmv += np.where(done, 0.0, r.price)
        done |= r.terminated | r.truncated
    return gmv


def test_exact_static_agrees_with_sampling_and_has_no_lift_at_zero():
    cfg = TrafficConfig(session=SessionConfig(world=WorldConfig(n_queries=6, n_items=80), max_steps=8),
                        reward=TrafficRewardConfig(click=0.0, cart=0.0, buy=0.0, price=1.0, lambdas=(0.0,) * 3))
    users = panel(cfg, 50, seed=2)
    W = np.array([[0.0, 0.0, 0.0], [0.3, 0.0, 0.0]])
    ex = exact_static(TrafficSimulator(cfg, 100), W, users)
    np.testing.assert_array_equal(ex["lift"][0], 0.0)
    assert ex["lift"][1, 0] > 0.1
    np.testing.assert_allclose(ex["reward"], ex["gmv"], rtol=1e-12)  # price weight 1, no tier term
    for i in range(2):
        mc = _monte_carlo_gmv(cfg, users, W[i], reps=60)
        half = 4 * mc.std() / np.sqrt(mc.size)
        assert abs(mc.mean() - ex["gmv"][i]) < half, (i, mc.mean(), ex["gmv"][i], half)
    with pytest.raises(ValueError, match="sessions"):
        exact_static(TrafficSimulator(cfg, 7), W, users)
