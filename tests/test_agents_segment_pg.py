"""The segment-head clipped policy gradient (simcore.algos.segment_pg): GAE against a
plain per-episode recursion, the greedy class (one vector per segment), learning a
known per-segment optimum, determinism, exact checkpoints, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.algos.protocol import Batch
from simcore.algos.segment_pg import SegmentPG, SegmentPGConfig, gae

torch.set_num_threads(1)

G, M, D = 3, 4, 8  # segments, features, obs size (one-hot at D-1-G : D-1)


def _gae_reference(reward, done, value, next_value, slot, gamma, lam):
    """Per slot, walk its rows backwards: A = delta + gamma lam (1 - done) A_next."""
    adv = np.zeros(len(reward))
    for s in np.unique(slot):
        nxt = 0.0
        for i in np.flatnonzero(slot == s)[::-1]:
            delta = reward[i] + gamma * (1 - done[i]) * next_value[i] - value[i]
            nxt = delta + gamma * lam * (1 - done[i]) * nxt
            adv[i] = nxt
    return adv


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.floats(0, 1), st.floats(0, 1), st.integers(0, 2**31 - 1))
def test_gae_matches_per_episode_recursion(n_slots, n_steps, gamma, lam, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(n_steps):  # each step keeps a random subset of slots (dropped autoreset rows)
        keep = np.flatnonzero(rng.uniform(size=n_slots) < 0.8)
        rows += [(t, s) for s in keep]
    step = np.array([r[0] for r in rows], dtype=np.int64)
    slot = np.array([r[1] for r in rows], dtype=np.int64)
    n = len(rows)
    if n == 0:
        assert gae(np.zeros(0), np.zeros(0, bool), np.zeros(0), np.zeros(0), slot, step, gamma, lam).shape == (0,)
        return
    reward, value, next_value = rng.normal(size=(3, n))
    done = rng.uniform(size=n) < 0.3
    got = gae(reward, done, value, next_value, slot, step, gamma, lam)
    np.testing.assert_allclose(got, _gae_reference(reward, done, value, next_value, slot, gamma, lam),
                               rtol=1e-12, atol=1e-12)


def _obs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    obs = rng.uniform(size=(n, D)).astype(np.float32)
    seg = rng.integers(0, G, size=n)
    obs[:, D - 1 - G:D - 1] = 0.0
    obs[np.arange(n), D - 1 - G + seg] = 1.0
    return obs, seg


def test_greedy_is_one_vector_per_segment():
    agent = SegmentPG(D, M, SegmentPGConfig(n_segments=G, seed=1))
    theta = np.random.default_rng(0).normal(size=(G, M)).astype(np.float32)
    with torch.no_grad():
        agent.theta.copy_(torch.as_tensor(theta))
    obs, seg = _obs(np.random.default_rng(1), 50)
    np.testing.assert_allclose(agent.act(obs, explore=False), np.tanh(theta)[seg], rtol=1e-6)
    np.testing.assert_allclose(agent.greedy_table(), np.tanh(theta), rtol=1e-6)
    a = agent.act(obs, explore=True)
    assert a.dtype == np.float32 and np.all(np.abs(a) < 1) and not np.allclose(a, np.tanh(theta)[seg])


def _bandit(agent: SegmentPG, target: np.ndarray, rounds: int, seed: int, n: int = 64) -> None:
    """A one-page problem per session: reward -|a - target[g]|^2, every session ends."""
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        obs, seg = _obs(rng, n)
        a = agent.act(obs, explore=True)
        r = -np.sum((a - target[seg]) ** 2, axis=1)
        agent.update(Batch(obs=obs, action=a, reward=r, next_obs=obs, terminated=np.ones(n, bool),
                           truncated=np.zeros(n, bool), slot=np.arange(n)))
    agent.end_iteration()


def test_learns_a_known_per_segment_optimum():
    target = np.array([[0.6, -0.5, 0.2, 0.0], [-0.6, 0.4, 0.0, 0.5], [0.0, 0.0, -0.7, 0.7]])
    agent = SegmentPG(D, M, SegmentPGConfig(n_segments=G, rollout_steps=2, actor_lr=0.03, init_std=0.3,
                                            learn_std=False, seed=3))
    before = np.abs(agent.greedy_table() - target).max()
    _bandit(agent, target, 120, seed=4)
    after = np.abs(agent.greedy_table() - target).max()
    assert before > 0.5 and after < 0.15, (before, after)


def test_std_decay_anneals_the_fixed_std_to_its_floor():
    """std_k = max(min_std, init_std * decay^k) after k policy updates."""
    cfg = SegmentPGConfig(n_segments=G, rollout_steps=1, init_std=0.4, min_std=0.05, learn_std=False,
                          std_decay=0.5, seed=1)
    agent = SegmentPG(D, M, cfg)
    obs, _ = _obs(np.random.default_rng(0), 8)
    for k in range(1, 6):
        _bandit(agent, np.zeros((G, M)), 1, seed=k)
        _, std = agent._dist(torch.as_tensor(obs))
        np.testing.assert_allclose(std.numpy(), max(0.05, 0.4 * 0.5**k), rtol=1e-6)
    assert agent.updates == 5


def test_polyak_average_is_the_greedy_policy():
    agent = SegmentPG(D, M, SegmentPGConfig(n_segments=G, rollout_steps=1, average=0.5, seed=2))
    target = np.full((G, M), 0.5)
    _bandit(agent, target, 3, seed=1)
    obs, seg = _obs(np.random.default_rng(2), 10)
    np.testing.assert_allclose(agent.act(obs, explore=False), np.tanh(agent.theta_bar.numpy())[seg], rtol=1e-6)
    assert not torch.allclose(agent.theta_bar, agent.theta.detach())


def test_deterministic_and_seed_dependent():
    target = np.full((G, M), 0.3)

    def run(seed: int) -> np.ndarray:
        agent = SegmentPG(D, M, SegmentPGConfig(n_segments=G, rollout_steps=2, seed=seed))
        _bandit(agent, target, 6, seed=0)
        return agent.greedy_table()

    np.testing.assert_array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))


def test_checkpoint_continues_bit_identically():
    target = np.full((G, M), -0.2)
    cfg = SegmentPGConfig(n_segments=G, rollout_steps=2, average=0.1, seed=9)
    a = SegmentPG(D, M, cfg)
    _bandit(a, target, 4, seed=0)
    state = a.state_dict()
    b = SegmentPG(D, M, cfg)
    b.load_state_dict(state)
    _bandit(a, target, 4, seed=1)
    _bandit(b, target, 4, seed=1)
    np.testing.assert_array_equal(a.greedy_table(), b.greedy_table())
    obs, _ = _obs(np.random.default_rng(3), 5)
    np.testing.assert_array_equal(a.act(obs, explore=True), b.act(obs, explore=True))
    with pytest.raises(ValueError, match="config"):
        SegmentPG(D, M, SegmentPGConfig(n_segments=G, rollout_steps=3)).load_state_dict(state)


def test_reads_only_what_an_off_the_shelf_learner_gets():
    """No simulator expectations (b, c, m) are needed: the batch has the env's columns only."""
    agent = SegmentPG(D, M, SegmentPGConfig(n_segments=G, rollout_steps=1, seed=0))
    obs, _ = _obs(np.random.default_rng(0), 16)
    batch = Batch(obs=obs, action=agent.act(obs), reward=np.ones(16), next_obs=obs,
                  terminated=np.zeros(16, bool), truncated=np.ones(16, bool), slot=np.arange(16))
    out = agent.update(batch)
    assert set(out) >= {"actor_loss", "critic_loss", "clip_frac", "std"} and agent.updates == 1


@pytest.mark.parametrize("kw, name", [
    (dict(n_segments=0), "n_segments"), (dict(rollout_steps=0), "rollout_steps"), (dict(gamma=1.5), "gamma"),
    (dict(lam=-0.1), "lam"), (dict(clip=0.0), "clip"), (dict(actor_lr=float("nan")), "actor_lr"),
    (dict(init_std=0.1, min_std=0.2), "min_std"), (dict(learn_std=1), "learn_std"), (dict(average=2.0), "average"),
    (dict(reward_key="gmv"), "reward_key"), (dict(std_decay=0.0), "std_decay"), (dict(std_decay=0.9), "std_decay"), (dict(hidden=()), "hidden"), (dict(minibatch=2.5), "minibatch"),
])
def test_bad_config_names_the_argument(kw, name):
    with pytest.raises(ValueError, match=name):
        SegmentPGConfig(**kw)


def test_bad_obs_and_sizes():
    agent = SegmentPG(D, M, SegmentPGConfig(n_segments=G))
    with pytest.raises(ValueError, match="obs"):
        agent.act(np.zeros((2, D + 1), np.float32))
    with pytest.raises(TypeError, match="obs"):
        agent.act([[0.0] * D])
    with pytest.raises(ValueError, match="obs_dim"):
        SegmentPG(G, M, SegmentPGConfig(n_segments=G))
