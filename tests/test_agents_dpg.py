"""The article's linear DPG: analytic Jacobian vs torch autograd, the exact update rules,
reward-shaping potentials, RNEU, determinism, bad input, state round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.algos.dpg import (
    DPGConfig,
    LinearDPG,
    softmax_actor,
    softmax_actor_jacobian,
    state_features,
)
from simcore.algos.protocol import Batch
from simcore.domains.search.agents.shaping import PotentialShaping, page_log_likelihood, potential

torch.set_num_threads(1)


def _torch_mu(theta: torch.Tensor, phi: torch.Tensor, C: torch.Tensor) -> torch.Tensor:
    return C * torch.softmax(theta @ phi, dim=0)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 6), d=st.integers(1, 7), seed=st.integers(0, 10_000))
def test_jacobian_matches_autograd(m, d, seed):
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 1.5, (m, d))
    phi = rng.uniform(-1, 1, d)
    C = rng.uniform(0.2, 3.0, m)
    J = softmax_actor_jacobian(theta, phi, C)  # [i, j, k]
    Jt = torch.autograd.functional.jacobian(
        lambda th: _torch_mu(th, torch.tensor(phi), torch.tensor(C)), torch.tensor(theta)
    ).numpy()  # [i, j, k]
    np.testing.assert_allclose(J, Jt, rtol=1e-10, atol=1e-12)


def _batch(rng, n, D, m, K=5, done=None, outcome=None):
    page_mask = rng.uniform(size=(n, K)) < 0.9
    clicks = (rng.uniform(size=(n, K)) < 0.3) & page_mask
    outcome = rng.integers(0, 3, n).astype(np.int8) if outcome is None else outcome
    purchased = np.zeros((n, K), bool)
    for i in np.flatnonzero(outcome == 1):
        purchased[i, rng.integers(0, K)] = True
    purchased &= page_mask
    return Batch(
        obs=rng.uniform(size=(n, D)).astype(np.float32),
        action=rng.uniform(-0.2, 0.8, (n, m)).astype(np.float32),
        reward=rng.exponential(5.0, n),
        next_obs=rng.uniform(size=(n, D)).astype(np.float32),
        terminated=(outcome != 0) if done is None else done,
        truncated=np.zeros(n, bool),
        last_page=np.zeros(n, bool),
        outcome=outcome,
        price=np.where(outcome == 1, rng.uniform(10, 200, n), 0.0),
        page_features=(rng.uniform(size=(n, K, m)) * page_mask[..., None]).astype(np.float32),
        page_mask=page_mask,
        clicks=clicks,
        purchased=purchased,
        item_prices=rng.uniform(5, 300, (n, K)) * page_mask,
        b=rng.uniform(0, 0.2, n),
        l=rng.uniform(0, 0.3, n),
        c=rng.uniform(0.5, 0.8, n),
        m=rng.uniform(10, 100, n),
        expected_clicks=rng.uniform(0, 3, n),
        slot=np.arange(n),
        segment=rng.integers(0, 4, n),
    )


def _reference_update(agent: LinearDPG, batch: Batch, r: np.ndarray):
    """The article's rules, per transition with autograd Jacobians, then averaged."""
    cfg = agent.config
    th, w, v = agent.theta.copy(), agent.w.copy(), agent.v.copy()
    dth, dw, dv = np.zeros_like(th), np.zeros_like(w), np.zeros_like(v)
    C = torch.tensor(agent.C)
    for i in range(len(batch)):
        phi = state_features(batch.obs[i : i + 1])[0]
        phi2 = state_features(batch.next_obs[i : i + 1])[0]
        J = torch.autograd.functional.jacobian(
            lambda t: _torch_mu(t, torch.tensor(phi), C), torch.tensor(th)
        ).numpy()  # (m, m, d): d mu_i / d theta
        Jf = J.reshape(J.shape[0], -1).T  # grad_theta mu as (n_params, m)
        mu = _torch_mu(torch.tensor(th), torch.tensor(phi), C).numpy()
        a = batch.action[i].astype(np.float64)
        grad_a_q = Jf.T @ w.ravel()
        q = (a - mu) @ grad_a_q + phi @ v
        boot = 0.0 if (batch.terminated | batch.truncated)[i] else cfg.gamma * (phi2 @ v)
        delta = r[i] + boot - q
        dth += (Jf @ grad_a_q).reshape(th.shape)
        feat = (a - mu) if cfg.compatible_features else a
        dw += delta * (Jf @ feat).reshape(w.shape)
        dv += delta * phi
    n = len(batch)
    return (th + cfg.alpha_theta * dth / n, w + cfg.alpha_w * dw / n, v + cfg.alpha_v * dv / n)


@pytest.mark.parametrize("compatible", [False, True])
@pytest.mark.parametrize("n", [1, 4])
def test_update_matches_article_rules(compatible, n):
    rng = np.random.default_rng(3 + n)
    D, m = 5, 3
    agent = LinearDPG(D, m, DPGConfig(alpha_theta=0.3, alpha_w=0.7, alpha_v=0.2, gamma=0.9,
                                      C=(1.0, 2.0, 0.5), compatible_features=compatible))
    agent.theta = rng.normal(0, 0.5, agent.theta.shape)
    agent.w = rng.normal(0, 0.5, agent.w.shape)
    agent.v = rng.normal(0, 0.5, agent.v.shape)
    batch = _batch(rng, n, D, m)
    r = agent.shaped_reward(batch)
    expected = _reference_update(agent, batch, r)
    agent.update(batch)
    for got, want in zip((agent.theta, agent.w, agent.v), expected):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_critic_action_gradient_is_compatible():
    rng = np.random.default_rng(0)
    D, m = 4, 3
    agent = LinearDPG(D, m)
    agent.theta = rng.normal(size=agent.theta.shape)
    agent.w = rng.normal(size=agent.w.shape)
    obs = rng.uniform(size=(1, D)).astype(np.float32)
    a0 = agent.mu(obs)
    eps = 1e-6
    num = [(agent.critic(obs, a0 + eps * np.eye(m)[j]) - agent.critic(obs, a0 - eps * np.eye(m)[j]))[0] / (2 * eps)
           for j in range(m)]
    phi = state_features(obs)[0]
    J = softmax_actor_jacobian(agent.theta, phi, agent.C)
    analytic = np.einsum("ijk,jk->i", J, agent.w)  # grad_theta mu^T w
    np.testing.assert_allclose(num, analytic, rtol=1e-5, atol=1e-8)


def test_actor_is_softmax_scaled_and_positive():
    agent = LinearDPG(3, 4, DPGConfig(C=(1.0, 2.0, 3.0, 4.0)))
    obs = np.random.default_rng(1).uniform(size=(6, 3)).astype(np.float32)
    mu = agent.mu(obs)
    np.testing.assert_allclose(mu, np.tile([0.25, 0.5, 0.75, 1.0], (6, 1)))  # theta = 0
    agent.theta = np.random.default_rng(2).normal(size=agent.theta.shape)
    mu, p = softmax_actor(agent.theta, state_features(obs), agent.C)
    assert np.all(mu > 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_exploration_is_seeded():
    obs = np.random.default_rng(0).uniform(size=(8, 5)).astype(np.float32)
    a1 = LinearDPG(5, 3, DPGConfig(seed=7)).act(obs)
    a2 = LinearDPG(5, 3, DPGConfig(seed=7)).act(obs)
    a3 = LinearDPG(5, 3, DPGConfig(seed=8)).act(obs)
    np.testing.assert_array_equal(a1, a2)
    assert not np.array_equal(a1, a3)
    assert a1.dtype == np.float32 and a1.shape == (8, 3)
    assert np.all(np.abs(a1) <= 1.0)
    greedy = LinearDPG(5, 3).act(obs, explore=False)
    np.testing.assert_allclose(greedy, 1 / 3, rtol=1e-6)


def test_rneu_is_norm_of_mean_td_update():
    rng = np.random.default_rng(5)
    D, m = 4, 3
    agent = LinearDPG(D, m, DPGConfig(alpha_theta=0, alpha_w=0, alpha_v=0))
    agent.theta = rng.normal(size=agent.theta.shape)
    agent.w = rng.normal(size=agent.w.shape)
    agent.v = rng.normal(size=agent.v.shape)
    b1, b2 = _batch(rng, 3, D, m), _batch(rng, 5, D, m)
    agent.update(b1)
    agent.update(b2)
    # reference: mean over the 8 transitions of delta * [phi_w(s, a), phi(s)]
    both = Batch.concat([b1, b2])
    r = agent.shaped_reward(both)
    phi, phi2 = state_features(both.obs), state_features(both.next_obs)
    vecs = []
    for i in range(len(both)):
        J = softmax_actor_jacobian(agent.theta, phi[i], agent.C)
        q = agent.critic(both.obs[i : i + 1], both.action[i : i + 1])[0]
        boot = 0.0 if (both.terminated | both.truncated)[i] else phi2[i] @ agent.v
        delta = r[i] + boot - q
        fw = np.einsum("ijk,i->jk", J, both.action[i].astype(np.float64)).ravel()
        vecs.append(delta * np.concatenate([fw, phi[i]]))
    want = np.linalg.norm(np.mean(vecs, axis=0))
    out = agent.end_iteration()
    np.testing.assert_allclose(out["rneu"], want, rtol=1e-9)
    np.testing.assert_allclose(out["neu"], want**2, rtol=1e-9)
    assert agent.end_iteration() == {}  # accumulators reset


def test_log_likelihood_and_potentials_match_direct_formula():
    rng = np.random.default_rng(9)
    b = _batch(rng, 6, 3, 4, outcome=np.array([0, 1, 2, 1, 0, 0], np.int8))
    a = rng.normal(size=(6, 4))
    bought = b.outcome == 1
    phi = potential(a, b.page_features, b.page_mask, b.clicks, b.purchased, bought, b.price)
    phi_page = potential(a, b.page_features, b.page_mask, b.clicks, b.purchased, bought, b.price,
                         b.item_prices, price_term="page")
    for i in range(6):
        ll_c = ll_p = 0.0
        for k in range(b.page_mask.shape[1]):
            if not b.page_mask[i, k]:
                continue
            s = float(b.page_features[i, k].astype(np.float64) @ a[i])
            ll_c += b.clicks[i, k] * s - np.log1p(np.exp(s))
            ll_p += b.purchased[i, k] * s - np.log1p(np.exp(s))
        if bought[i]:
            np.testing.assert_allclose(phi[i], ll_p + np.log(b.price[i]), rtol=1e-9)
            want = ll_p + np.log(b.item_prices[i][b.page_mask[i]]).sum()
            np.testing.assert_allclose(phi_page[i], want, rtol=1e-9)
        else:
            np.testing.assert_allclose(phi[i], ll_c, rtol=1e-9)
            np.testing.assert_allclose(phi_page[i], ll_c, rtol=1e-9)
    ll = page_log_likelihood(a, b.page_features, b.page_mask, b.clicks)
    assert ll.shape == (6,) and np.all(ll <= 0)


def test_shaped_reward_modes():
    rng = np.random.default_rng(11)
    b = _batch(rng, 5, 4, 3)
    base = LinearDPG(4, 3, DPGConfig(reward_scale=0.5))
    np.testing.assert_allclose(base.shaped_reward(b), 0.5 * b.reward)
    art = LinearDPG(4, 3, DPGConfig(reward_scale=0.5), shaping=PotentialShaping("article", weight=2.0))
    bought = b.outcome == 1
    phi = potential(b.action, b.page_features, b.page_mask, b.clicks, b.purchased, bought, b.price)
    np.testing.assert_allclose(art.shaped_reward(b), 0.5 * (b.reward + 2.0 * phi))
    cen = LinearDPG(4, 3, DPGConfig(), shaping=PotentialShaping("centred"))
    at_mu = Batch(**{**b.columns(), "action": cen.mu(b.obs).astype(np.float32)})
    np.testing.assert_allclose(cen.shaped_reward(at_mu), 0.01 * at_mu.reward, atol=1e-6)


def test_bad_input_and_config():
    agent = LinearDPG(4, 3)
    with pytest.raises(ValueError, match="obs"):
        agent.act(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="obs"):
        agent.act(np.full((2, 4), np.nan, np.float32))
    with pytest.raises(TypeError, match="obs"):
        agent.act([[0.0] * 4])
    with pytest.raises(ValueError, match="gamma"):
        DPGConfig(gamma=1.5)
    with pytest.raises(ValueError, match="mode"):
        PotentialShaping(mode="bogus")
    with pytest.raises(ValueError, match="C"):
        DPGConfig(C=(1.0, -1.0))
    with pytest.raises(ValueError, match="alpha_w"):
        DPGConfig(alpha_w=float("nan"))
    with pytest.raises(ValueError, match="price_term"):
        potential(np.zeros((1, 2)), np.zeros((1, 3, 2)), np.ones((1, 3), bool), np.zeros((1, 3), bool),
                  np.zeros((1, 3), bool), np.zeros(1, bool), np.zeros(1), price_term="x")


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(2)
    a = LinearDPG(4, 3, DPGConfig(seed=1))
    for _ in range(3):
        a.update(_batch(rng, 4, 4, 3))
    b = LinearDPG(4, 3, DPGConfig(seed=99))
    b.load_state_dict(a.state_dict())
    batch = _batch(rng, 4, 4, 3)
    obs = batch.obs
    np.testing.assert_array_equal(a.act(obs), b.act(obs))
    a.update(batch)
    b.update(batch)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert a.end_iteration() == b.end_iteration()
    with pytest.raises(ValueError, match="theta"):
        LinearDPG(5, 3, DPGConfig(seed=1)).load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="alpha_w"):
        LinearDPG(4, 3, DPGConfig(alpha_w=9.0)).load_state_dict(a.state_dict())
