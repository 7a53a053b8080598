"""DDPG with LTR gradient fusion, DPG-FBE targets, the fitted outcome model, replay."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simcore.algos.ddpg import DDPG, DDPGConfig
from simcore.algos.protocol import Batch
from simcore.algos.replay import Replay
from simcore.domains.search.agents.fbe import dpg_fbe, exact_expected_reward
from simcore.domains.search.agents.fusion import LTRFusion, LTRFusionConfig, ltr_cross_entropy
from simcore.domains.search.agents.outcome_model import OutcomeModel
from test_agents_dpg import _batch  # tests/ is on sys.path (pytest rootdir-less import)

torch.set_num_threads(1)

SMALL = dict(hidden=(16, 16), batch_size=8, warmup=8, replay_capacity=64)


def test_ltr_cross_entropy_matches_numpy():
    rng = np.random.default_rng(0)
    n, K, m = 4, 5, 3
    a = rng.normal(size=(n, m))
    X = rng.uniform(size=(n, K, m))
    mask = rng.uniform(size=(n, K)) < 0.8
    mask[:, 0] = True
    y = (rng.uniform(size=(n, K)) < 0.3).astype(float)
    got = ltr_cross_entropy(torch.tensor(a), torch.tensor(X), torch.tensor(mask), torch.tensor(y), 0.4, 1.7).numpy()
    for i in range(n):
        s = 1.7 * (X[i] @ a[i]) + 0.4
        p = 1 / (1 + np.exp(-s))
        ce = -(y[i] * np.log(p) + (1 - y[i]) * np.log(1 - p))
        np.testing.assert_allclose(got[i], ce[mask[i]].mean(), rtol=1e-10)


def test_actor_gradient_is_fused_sum():
    """grad of the actor loss = -grad_a Q grad mu + lambda grad_a CE grad mu."""
    rng = np.random.default_rng(1)
    D, m = 6, 3
    lam = 0.7
    agent = DDPG(D, m, DDPGConfig(**SMALL, seed=3), actor_term=LTRFusion(LTRFusionConfig(weight=lam)))
    b = _batch(rng, 8, D, m)
    obs = torch.tensor(b.obs)
    X, mask = torch.tensor(b.page_features), torch.tensor(b.page_mask)
    y = torch.tensor(b.clicks | b.purchased).float()

    def grads(loss):
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(agent.actor.parameters()))])

    a = agent.actor(obs)
    with torch.no_grad():
        agent.actor_term.bias.fill_(0.3)
        agent.actor_term.log_scale.fill_(0.5)
    kappa = agent.actor_term.log_scale.exp()
    total = grads(-agent.critic(obs, a).mean()
                  + lam * ltr_cross_entropy(a, X, mask, y, agent.actor_term.bias, kappa).mean())
    # chain rule by hand: dL/dtheta = sum_i (dL/da_i) da_i/dtheta
    a = agent.actor(obs)
    a_leaf = a.detach().requires_grad_(True)
    loss_a = (-agent.critic(obs, a_leaf).mean()
              + lam * ltr_cross_entropy(a_leaf, X, mask, y, agent.actor_term.bias, kappa).mean())
    (g_a,) = torch.autograd.grad(loss_a, a_leaf)
    by_hand = grads((a * g_a).sum())
    torch.testing.assert_close(total, by_hand, rtol=1e-5, atol=1e-7)


def test_lambda_zero_is_plain_ddpg():
    rng = np.random.default_rng(2)
    agent = DDPG(5, 3, DDPGConfig(**SMALL), actor_term=LTRFusion(LTRFusionConfig(weight=0.0)))
    m = agent.update(_batch(rng, 16, 5, 3))
    assert m["ltr_ce"] == 0.0 and np.isfinite(m["critic_loss"])
    m2 = DDPG(5, 3, DDPGConfig(**SMALL), actor_term=LTRFusion(LTRFusionConfig(weight=1.0))).update(
        _batch(rng, 16, 5, 3))
    assert m2["ltr_ce"] > 0


def test_warmup_delays_learning_and_rneu_reported():
    rng = np.random.default_rng(3)
    agent = DDPG(5, 3, DDPGConfig(**{**SMALL, "warmup": 20}))
    before = [p.clone() for p in agent.actor.parameters()]
    assert agent.update(_batch(rng, 10, 5, 3)) == {}
    assert all(torch.equal(p, q) for p, q in zip(before, agent.actor.parameters()))
    assert "critic_loss" in agent.update(_batch(rng, 10, 5, 3))
    out = agent.end_iteration()
    assert out["rneu"] > 0 and np.isclose(out["rneu"] ** 2, out["neu"])


def test_ddpg_target_formula():
    rng = np.random.default_rng(4)
    agent = DDPG(5, 3, DDPGConfig(**SMALL, gamma=0.8, reward_scale=0.1))
    b = _batch(rng, 6, 5, 3)
    t = agent._tensors({k: getattr(b, k) for k in ("obs", "action", "reward", "next_obs", "terminated", "truncated")})
    y = agent._critic_target(t).numpy()
    with torch.no_grad():
        q2 = agent.critic_target(t["next_obs"], agent.actor_target(t["next_obs"])).numpy()
    want = 0.1 * b.reward + 0.8 * (~(b.terminated | b.truncated)) * q2
    np.testing.assert_allclose(y, want, rtol=1e-5)


@pytest.mark.parametrize("reward", ["gmv", "clicks"])
def test_fbe_target_is_full_expected_backup(reward):
    rng = np.random.default_rng(5)
    agent = dpg_fbe(5, 3, DDPGConfig(**SMALL, gamma=0.9, reward_scale=0.01), reward=reward)
    b = _batch(rng, 6, 5, 3)
    b.last_page[:] = [False, True, False, False, True, False]
    keys = ("obs", "action", "reward", "next_obs", "terminated", "truncated", "last_page", "b", "c", "m",
            "expected_clicks")
    t = agent._tensors({k: getattr(b, k) for k in keys})
    y = agent._critic_target(t).numpy()
    with torch.no_grad():
        q2 = agent.critic_target(t["next_obs"], agent.actor_target(t["next_obs"])).numpy()
    er = exact_expected_reward(b.b, b.m, b.expected_clicks, reward)
    want = 0.01 * er + 0.9 * b.c * (~b.last_page) * q2
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-7)
    # the sampled outcome and reward do not enter the target
    b2 = Batch(**{**b.columns(), "reward": b.reward * 0 + 1e6, "terminated": ~b.terminated})
    t2 = agent._tensors({k: getattr(b2, k) for k in keys})
    np.testing.assert_allclose(agent._critic_target(t2).numpy(), y)


def _logs(rng, n=4000, D=6):
    """Synthetic logs whose outcome depends on next_obs through a known logit."""
    z = rng.uniform(size=(n, D))
    logits = np.stack([np.zeros(n), -2 + 3 * z[:, 0], -1 + 2 * z[:, 1]], axis=1)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    u = rng.uniform(size=n)
    outcome = (u > p[:, 0]).astype(np.int8) + (u > p[:, 0] + p[:, 1])
    b = _batch(rng, n, D, 3, outcome=outcome.astype(np.int8))
    price = np.exp(3 + z[:, 2] + 0.1 * rng.normal(size=n))
    return Batch(**{**b.columns(), "next_obs": z.astype(np.float32),
                         "price": np.where(outcome == 1, price, 0.0)}), p


def test_outcome_model_recovers_probabilities():
    rng = np.random.default_rng(6)
    logs, p = _logs(rng)
    om = OutcomeModel().fit(logs)
    pred = om.predict(logs.next_obs)
    np.testing.assert_allclose(pred["b"] + pred["l"] + pred["c"], 1.0, rtol=1e-12)
    assert np.abs(pred["b"] - p[:, 1]).mean() < 0.03
    assert np.abs(pred["c"] - p[:, 0]).mean() < 0.03
    truth_m = np.exp(3 + logs.next_obs[:, 2] + 0.005)
    assert np.abs(np.log(pred["m"]) - np.log(truth_m)).mean() < 0.05
    clone = OutcomeModel()
    clone.load_state_dict(om.state_dict())
    np.testing.assert_array_equal(clone.predict(logs.next_obs[:5])["b"], pred["b"][:5])
    with pytest.raises(RuntimeError):
        OutcomeModel().predict(logs.next_obs)


def test_fbe_with_fitted_model_uses_predictions():
    rng = np.random.default_rng(7)
    logs, _ = _logs(rng, n=2000, D=5)
    om = OutcomeModel().fit(logs)
    agent = dpg_fbe(5, 3, DDPGConfig(**SMALL, gamma=1.0, reward_scale=1.0), outcome_model=om)
    b = logs.select(np.arange(6))
    keys = ("obs", "action", "reward", "next_obs", "terminated", "truncated", "last_page", "b", "c", "m",
            "expected_clicks")
    t = agent._tensors({k: getattr(b, k) for k in keys})
    pred = om.predict(b.next_obs)
    with torch.no_grad():
        q2 = agent.critic_target(t["next_obs"], agent.actor_target(t["next_obs"])).numpy()
    want = pred["b"] * pred["m"] + pred["c"] * (~b.last_page) * q2
    np.testing.assert_allclose(agent._critic_target(t).numpy(), want, rtol=1e-4)


def test_state_dict_round_trip_and_determinism():
    rng = np.random.default_rng(8)
    batches = [_batch(rng, 12, 5, 3) for _ in range(4)]
    a = dpg_fbe(5, 3, DDPGConfig(**SMALL, seed=1), actor_term=LTRFusion(LTRFusionConfig(weight=0.5)))
    for b in batches[:3]:
        a.update(b)
    sd = a.state_dict()
    path_like = __import__("io").BytesIO()
    torch.save(sd, path_like)
    path_like.seek(0)
    loaded = torch.load(path_like, weights_only=True)
    c = dpg_fbe(5, 3, DDPGConfig(**SMALL, seed=2), actor_term=LTRFusion(LTRFusionConfig(weight=0.5)))
    c.load_state_dict(loaded)
    obs = batches[3].obs
    np.testing.assert_array_equal(a.act(obs), c.act(obs))
    ma, mc = a.update(batches[3]), c.update(batches[3])
    assert ma == mc
    for p, q in zip(a.critic.parameters(), c.critic.parameters()):
        assert torch.equal(p, q)
    # same seed => same; different seed => different
    d1, d2 = DDPG(5, 3, DDPGConfig(**SMALL, seed=5)), DDPG(5, 3, DDPGConfig(**SMALL, seed=5))
    np.testing.assert_array_equal(d1.act(obs), d2.act(obs))
    assert not np.array_equal(d1.act(obs), DDPG(5, 3, DDPGConfig(**SMALL, seed=6)).act(obs))


def test_replay_ring_buffer():
    rng = np.random.default_rng(9)
    r = Replay(10, keys=("reward", "obs"))
    for _ in range(3):
        r.add(_batch(rng, 4, 2, 2))
    assert len(r) == 10 and r.pos == 2
    big = _batch(rng, 25, 2, 2)
    r.add(big)
    np.testing.assert_array_equal(np.sort(r.data["reward"]), np.sort(big.reward[-10:]))
    s = r.sample(np.random.default_rng(0), 7)
    assert s["obs"].shape == (7, 2)
    r2 = Replay(10, keys=("reward", "obs"))
    r2.load_state_dict(r.state_dict())
    np.testing.assert_array_equal(r2.data["reward"], r.data["reward"])
    with pytest.raises(ValueError, match="capacity"):
        Replay(0)
    with pytest.raises(ValueError, match="keys"):
        Replay(5, keys=("nope",)).add(_batch(rng, 4, 2, 2))
    with pytest.raises(ValueError, match="empty"):
        Replay(5).sample(np.random.default_rng(0), 1)


def test_bad_config():
    for kw, name in ((dict(tau=0.0), "tau"), (dict(gamma=-0.1), "gamma"), (dict(batch_size=0), "batch_size"),
                     (dict(actor_lr=0.0), "actor_lr"), (dict(hidden=()), "hidden")):
        with pytest.raises(ValueError, match=name):
            DDPGConfig(**kw)
    for kw, name in ((dict(label="views"), "label"), (dict(weight=-1.0), "weight")):
        with pytest.raises(ValueError, match=name):
            LTRFusionConfig(**kw)
    with pytest.raises(ValueError, match="reward"):
        dpg_fbe(4, 2, reward="revenue")
    with pytest.raises(ValueError, match="obs"):
        DDPG(4, 2, DDPGConfig(**SMALL)).act(np.zeros((3, 5), np.float32))
