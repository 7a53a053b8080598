"""DDPG's TD3 options (twin critics, target policy smoothing, delayed actor updates)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from simcore.algos.ddpg import DDPG, DDPGConfig
from simcore.algos.protocol import Batch

torch.set_num_threads(1)

SMALL = dict(hidden=(16, 16), batch_size=32, warmup=32, replay_capacity=512)
TD3 = dict(twin_critic=True, target_noise=0.2, target_noise_clip=0.3, policy_delay=2)


def _bandit_batch(rng: np.random.Generator, n: int, target: np.ndarray) -> Batch:
    """One-step problem: constant observation, reward 1 - ||a - target||^2, always terminal."""
    a = rng.uniform(-1, 1, size=(n, target.size)).astype(np.float32)
    obs = np.full((n, 3), 0.5, dtype=np.float32)
    r = 1.0 - ((a - target) ** 2).sum(axis=1)
    return Batch(obs=obs, action=a, reward=r, next_obs=obs.copy(), terminated=np.ones(n, bool),
                 truncated=np.zeros(n, bool))


def _random_batch(rng: np.random.Generator, n: int, D: int = 5, m: int = 3) -> Batch:
    return Batch(obs=rng.random((n, D), dtype=np.float32), action=rng.uniform(-1, 1, (n, m)).astype(np.float32),
                 reward=rng.random(n), next_obs=rng.random((n, D), dtype=np.float32),
                 terminated=rng.random(n) < 0.3, truncated=np.zeros(n, bool))


def test_td3_finds_the_optimum_of_a_known_bandit():
    target = np.array([0.5, -0.3], dtype=np.float32)
    agent = DDPG(3, 2, DDPGConfig(**SMALL, **TD3, reward_scale=1.0, actor_lr=3e-3, critic_lr=3e-3,
                                  updates_per_batch=4, seed=0))
    rng = np.random.default_rng(0)
    for _ in range(150):
        agent.update(_bandit_batch(rng, 32, target))
    mu = agent.act(np.full((1, 3), 0.5, dtype=np.float32), explore=False)[0]
    np.testing.assert_allclose(mu, target, atol=0.1)


def test_twin_target_is_min_of_the_two_target_critics():
    agent = DDPG(5, 3, DDPGConfig(**SMALL, twin_critic=True, gamma=0.9, reward_scale=0.5, seed=1))
    with torch.no_grad():  # make the two target critics differ, either one the smaller on some rows
        last = agent.critic2_target.net[-1]
        last.weight.copy_(torch.randn(last.weight.shape, generator=torch.Generator().manual_seed(3)))
        q = agent.critic2_target(torch.rand(64, 5, generator=torch.Generator().manual_seed(4)), torch.zeros(64, 3))
        last.bias.sub_(q.median())
    b = _random_batch(np.random.default_rng(2), 16)
    t = agent._tensors(b.columns())
    y = agent._critic_target(t).numpy()
    with torch.no_grad():
        a2 = agent.actor_target(t["next_obs"])
        q = np.minimum(agent.critic_target(t["next_obs"], a2).numpy(), agent.critic2_target(t["next_obs"], a2).numpy())
    done = b.terminated | b.truncated
    expected = 0.5 * b.reward + 0.9 * (1.0 - done) * q
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-7)
    with torch.no_grad():
        q1, q2 = agent.critic_target(t["next_obs"], a2).numpy(), agent.critic2_target(t["next_obs"], a2).numpy()
    assert np.any(q1 < q2) and np.any(q2 < q1)


def test_smoothing_noise_is_clipped_and_stays_in_the_action_box():
    agent = DDPG(5, 3, DDPGConfig(**SMALL, target_noise=5.0, target_noise_clip=0.3, seed=2))
    obs = torch.as_tensor(np.random.default_rng(3).random((200, 5), dtype=np.float32))
    with torch.no_grad():
        base = agent.actor_target(obs).numpy()
        noisy = agent._target_action(obs, smooth=True).numpy()
        plain = agent._target_action(obs, smooth=False).numpy()
    np.testing.assert_array_equal(plain, base)
    assert np.all(np.abs(noisy - base) <= 0.3 + 1e-6)
    assert np.all(np.abs(noisy) <= 1.0)
    assert np.abs(noisy - base).max() > 0.25  # the noise is there (clip reached)


def test_policy_delay_updates_the_actor_every_d_critic_steps():
    agent = DDPG(5, 3, DDPGConfig(**SMALL, policy_delay=3, updates_per_batch=2, seed=3))
    rng = np.random.default_rng(4)
    before = [p.detach().clone() for p in agent.actor.parameters()]
    agent.update(_random_batch(rng, 32))  # warm-up reached: 2 critic steps, no actor step yet
    assert (agent.critic_steps, agent.gradient_steps) == (2, 0)
    assert all(torch.equal(a, b) for a, b in zip(before, agent.actor.parameters()))
    for _ in range(5):
        agent.update(_random_batch(rng, 32))
    assert (agent.critic_steps, agent.gradient_steps) == (12, 4)


def _train(seed: int, steps: int = 6) -> DDPG:
    agent = DDPG(5, 3, DDPGConfig(**SMALL, **TD3, seed=seed))
    rng = np.random.default_rng(5)
    for _ in range(steps):
        agent.update(_random_batch(rng, 32))
    return agent


def test_same_seed_same_result_different_seed_different():
    a, b, c = _train(7), _train(7), _train(8)
    for p, q in zip(a.state_dict()["critic2"].values(), b.state_dict()["critic2"].values()):
        assert torch.equal(p, q)
    assert all(torch.equal(p, q) for p, q in zip(a.actor.parameters(), b.actor.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.actor.parameters(), c.actor.parameters()))


def test_checkpoint_round_trip_is_exact():
    a = _train(9)
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    buf.seek(0)
    b = DDPG(5, 3, DDPGConfig(**SMALL, **TD3, seed=0))
    b.load_state_dict(torch.load(buf, weights_only=True))
    rng1, rng2 = np.random.default_rng(6), np.random.default_rng(6)
    for _ in range(3):
        a.update(_random_batch(rng1, 32))
        b.update(_random_batch(rng2, 32))
    for p, q in zip(a.critic2.parameters(), b.critic2.parameters()):
        assert torch.equal(p, q)
    assert all(torch.equal(p, q) for p, q in zip(a.actor.parameters(), b.actor.parameters()))


def test_checkpoint_without_td3_fields_loads_into_plain_ddpg():
    a = DDPG(5, 3, DDPGConfig(**SMALL))
    state = a.state_dict()
    for k in ("twin_critic", "target_noise", "target_noise_clip", "policy_delay"):
        del state["config"][k]
    del state["critic_steps"]
    DDPG(5, 3, DDPGConfig(**SMALL)).load_state_dict(state)
    with pytest.raises(ValueError, match="twin_critic"):
        DDPG(5, 3, DDPGConfig(**SMALL, twin_critic=True)).load_state_dict(state)


def test_defaults_leave_ddpg_unchanged():
    assert DDPG(5, 3, DDPGConfig(**SMALL)).critic2 is None
    cfg = DDPGConfig()
    assert (cfg.twin_critic, cfg.target_noise, cfg.policy_delay) == (False, 0.0, 1)


@pytest.mark.parametrize("kw, name", [
    ({"policy_delay": 0}, "policy_delay"),
    ({"target_noise": -0.1}, "target_noise"),
    ({"target_noise_clip": 0.0}, "target_noise_clip"),
    ({"twin_critic": "yes"}, "twin_critic"),
])
def test_bad_td3_settings_name_the_argument(kw, name):
    with pytest.raises(ValueError, match=name):
        DDPGConfig(**kw)
