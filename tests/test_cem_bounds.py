"""CEM action bounds (a slow gradient step on the elite log-likelihood) and DDPG's
sigmoid head mapped into movable bounds [L, U]."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simcore.algos.bounds import ActionBounds
from simcore.algos.cem_bounds import (
    CEMBoundedAgent,
    CEMBounds,
    CEMBoundsConfig,
    confident_mean,
    elite_loglik_gradient,
)
from simcore.algos.ddpg import DDPG, DDPGConfig
from simcore.algos.protocol import Batch

torch.set_num_threads(1)

SMALL = dict(hidden=(16, 16), batch_size=8, warmup=8, replay_capacity=64)
OPT = np.array([1.2, -0.4, 0.3])


def quadratic(c: np.ndarray) -> np.ndarray:
    """R(a) = -||a - OPT||^2 (the known reward surface)."""
    return -((c - OPT) ** 2).sum(axis=1)


def _loglik(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> float:
    return float((-0.5 * np.log(2 * np.pi) - np.log(sigma) - (x - mu) ** 2 / (2 * sigma**2)).sum())


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    x, mu, sigma = rng.normal(size=(4, 3)), rng.normal(size=3), rng.uniform(0.3, 1.0, 3)
    g_mu, g_sigma = elite_loglik_gradient(x, mu, sigma)
    h = 1e-6
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        num_mu = (_loglik(x, mu + e, sigma) - _loglik(x, mu - e, sigma)) / (2 * h)
        num_sigma = (_loglik(x, mu, sigma + e) - _loglik(x, mu, sigma - e)) / (2 * h)
        assert g_mu[k] == pytest.approx(num_mu, rel=1e-6)
        assert g_sigma[k] == pytest.approx(num_sigma, rel=1e-6)


def test_one_step_is_the_gradient_step_not_a_jump():
    cfg = CEMBoundsConfig(n_candidates=8, elite_frac=0.25, alpha=0.004, init_std=0.5, min_std=0.2, seed=3)
    cem = CEMBounds(3, cfg)
    mu0, sigma0 = cem.mu.copy(), cem.sigma.copy()
    c = cem.ask()
    r = quadratic(c)
    elite = c[np.argsort(-r, kind="stable")[:2]]
    cem.tell(r)
    d = elite - mu0
    want_mu = mu0 + 0.004 * d.sum(0) / sigma0**2
    want_sigma = np.maximum(sigma0 + 0.004 * ((d**2).sum(0) / sigma0**3 - 2 / sigma0), 0.2)
    np.testing.assert_allclose(cem.mu, want_mu, rtol=1e-12)
    np.testing.assert_allclose(cem.sigma, want_sigma, rtol=1e-12)
    # no jump: mu lands strictly between the old mu and the elite mean (c = alpha |D| / sigma^2 = 0.032)
    frac = (cem.mu - mu0) / (elite.mean(0) - mu0)
    np.testing.assert_allclose(frac, 0.004 * 2 / 0.25, rtol=1e-10)
    lo, hi = cem.bounds()
    np.testing.assert_allclose(lo, cem.mu - 2 * cem.sigma)
    np.testing.assert_allclose(hi, cem.mu + 2 * cem.sigma)


def test_step_is_capped_at_the_elite_maximiser():
    """With c = alpha |D| / sigma^2 > 1 the plain step would pass the elite mean: it
    stops there, and sigma at the elite's RMS distance from the old mu."""
    cfg = CEMBoundsConfig(n_candidates=8, elite_frac=0.25, alpha=1.0, init_std=0.5, min_std=0.01, seed=3)
    cem = CEMBounds(3, cfg)
    mu0 = cem.mu.copy()
    c = cem.ask()
    r = quadratic(c)
    elite = c[np.argsort(-r, kind="stable")[:2]]
    cem.tell(r)
    np.testing.assert_allclose(cem.mu, elite.mean(0), rtol=1e-12)
    np.testing.assert_allclose(cem.sigma, np.maximum(np.sqrt(((elite - mu0) ** 2).mean(0)), 0.01), rtol=1e-12)
    assert cfg.cap_sigma == pytest.approx(np.sqrt(2.0))


def test_converges_towards_the_optimum_and_bounds_cover_it():
    cfg = CEMBoundsConfig(n_candidates=16, elite_frac=0.25, alpha=0.0025, init_std=0.6, min_std=0.2, seed=1)
    cem = CEMBounds(3, cfg)
    d0 = np.linalg.norm(cem.mu - OPT)
    steps = []
    for _ in range(150):
        before = cem.mu.copy()
        cem.step(quadratic)
        steps.append(np.abs(cem.mu - before).max())
    assert np.linalg.norm(cem.mu - OPT) < 0.15 * d0
    lo, hi = cem.bounds()
    assert np.all(lo < OPT) and np.all(OPT < hi)
    # slow: no single step moves mu by more than one sigma_max
    assert max(steps) < 0.6


def test_single_dimension_exploration_moves_one_dimension_per_iteration():
    cem = CEMBounds(3, CEMBoundsConfig(explore="one", seed=2))
    for it in range(6):
        mu0, s0 = cem.mu.copy(), cem.sigma.copy()
        c = cem.ask()
        k = it % 3
        others = [j for j in range(3) if j != k]
        np.testing.assert_array_equal(c[:, others], np.tile(mu0[others], (8, 1)))
        out = cem.tell(quadratic(c))
        assert out["cem_dim"] == k
        np.testing.assert_array_equal(cem.mu[others], mu0[others])
        np.testing.assert_array_equal(cem.sigma[others], s0[others])
        assert cem.mu[k] != mu0[k]


def test_box_clips_candidates_and_bounds():
    cem = CEMBounds(2, CEMBoundsConfig(low=0.0, high=1.0, init_std=2.0, seed=4), init_mean=[0.5, 0.9])
    c = cem.ask()
    assert c.min() >= 0 and c.max() <= 1
    lo, hi = cem.bounds()
    assert np.all(lo == 0.0) and np.all(hi == 1.0)


def test_cem_determinism_and_state_round_trip():
    def run(seed, n=5):
        cem = CEMBounds(3, CEMBoundsConfig(seed=seed))
        for _ in range(n):
            cem.step(quadratic)
        return cem

    a, b, c = run(7), run(7), run(8)
    np.testing.assert_array_equal(a.mu, b.mu)
    assert not np.array_equal(a.mu, c.mu)
    d = CEMBounds(3, CEMBoundsConfig(seed=7))
    for _ in range(2):
        d.step(quadratic)
    e = CEMBounds(3, CEMBoundsConfig(seed=7))
    e.load_state_dict(d.state_dict())
    for _ in range(3):
        e.step(quadratic)
    np.testing.assert_array_equal(e.mu, a.mu)
    np.testing.assert_array_equal(e.sigma, a.sigma)


@pytest.mark.parametrize("kw, name", [
    (dict(n_candidates=1), "n_candidates"), (dict(elite_frac=0.0), "elite_frac"), (dict(alpha=-1.0), "alpha"),
    (dict(min_std=0.0), "min_std"), (dict(init_std=0.05), "init_std"),
    (dict(explore="two"), "explore"), (dict(low=0.0), "low"), (dict(low=1.0, high=0.0), "low"),
    (dict(max_std=0.2), "max_std"), (dict(width=float("nan")), "width"),
])
def test_config_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        CEMBoundsConfig(**kw)


def test_cem_bad_input():
    with pytest.raises(ValueError, match="init_mean"):
        CEMBounds(3, init_mean=[0.0, 1.0])
    with pytest.raises(ValueError, match="init_mean"):
        CEMBounds(2, init_mean=[0.0, np.nan])
    cem = CEMBounds(2)
    with pytest.raises(ValueError, match="scores"):
        cem.tell(np.zeros(8))  # before ask
    cem.ask()
    with pytest.raises(ValueError, match="scores"):
        cem.tell(np.zeros(7))
    with pytest.raises(ValueError, match="scores"):
        cem.tell(np.r_[np.zeros(7), np.nan])


def test_confident_mean_stops_when_confident():
    rng = np.random.default_rng(0)
    mean, n, half = confident_mean(lambda i: 10 + 0.01 * rng.standard_normal(50), max_chunks=20, rel_tol=0.01)
    assert n == 50 and half <= 0.1 and mean == pytest.approx(10, abs=0.01)
    mean, n, half = confident_mean(lambda i: rng.standard_normal(50), max_chunks=4, rel_tol=0.001)
    assert n == 200 and half > 0.001 * abs(mean)
    with pytest.raises(ValueError, match="max_chunks"):
        confident_mean(lambda i: np.ones(3), max_chunks=0, rel_tol=0.1)


# ---------------------------------------------------------------- DDPG with bounds
def _obs(rng, n=32, D=5):
    return rng.uniform(-1, 1, (n, D)).astype(np.float32)


def _transitions(rng, agent, n, D=5):
    obs = _obs(rng, n, D)
    a = agent.act(obs)
    return Batch(obs=obs, action=a, reward=-((a - 0.8) ** 2).sum(1), next_obs=_obs(rng, n, D),
                 terminated=np.ones(n, bool), truncated=np.zeros(n, bool))


def test_bounded_actions_stay_inside_moving_bounds():
    rng = np.random.default_rng(0)
    bounds = ActionBounds([0.0, -1.0, 2.0], [1.0, 3.0, 2.5])
    agent = DDPG(5, 3, DDPGConfig(**SMALL, noise_std=2.0, seed=1), bounds=bounds)
    moves = [([0.0, -1.0, 2.0], [1.0, 3.0, 2.5]), ([0.4, 0.0, -1.0], [0.6, 0.1, 5.0]), ([-3.0, 1.0, 0.0], [-2.0, 1.0, 0.2])]
    for low, high in moves:
        bounds.set(low, high)
        for _ in range(3):
            agent.update(_transitions(rng, agent, 16))
            for explore in (True, False):
                a = agent.act(_obs(rng), explore)
                assert a.dtype == np.float32
                assert np.all(a >= np.float32(low)) and np.all(a <= np.float32(high))
    assert agent.gradient_steps > 0
    # with L = U the action is exactly that value
    np.testing.assert_array_equal(agent.act(_obs(rng))[:, 1], np.float32(1.0))


def test_bounded_actor_starts_at_the_midpoint_and_follows_the_bounds():
    rng = np.random.default_rng(1)
    bounds = ActionBounds([0.0, 2.0], [1.0, 4.0])
    agent = DDPG(5, 2, DDPGConfig(**SMALL, seed=2), bounds=bounds)
    obs = _obs(rng)
    np.testing.assert_allclose(agent.act(obs, explore=False), np.tile([0.5, 3.0], (32, 1)), atol=0.01)
    o = agent.actor(torch.as_tensor(obs)).detach().numpy()
    bounds.set([1.0, -2.0], [3.0, -1.0])
    np.testing.assert_allclose(agent.act(obs, explore=False), bounds.scale(o), rtol=1e-6)


def test_bounded_actor_gradient_flows_through_the_map():
    agent = DDPG(5, 2, DDPGConfig(**SMALL, seed=3), bounds=ActionBounds([0.0, 0.0], [2.0, 4.0]))
    obs = torch.as_tensor(_obs(np.random.default_rng(2), 8))
    o = agent.actor(obs)
    a = agent._policy(agent.actor, obs)
    torch.testing.assert_close(a, o * torch.tensor([2.0, 4.0]))
    (g,) = torch.autograd.grad(a[:, 1].sum(), [list(agent.actor.parameters())[-1]])
    assert g.abs().sum() > 0


def test_bounded_ddpg_learns_towards_the_rewarded_action():
    rng = np.random.default_rng(4)
    cfg = DDPGConfig(hidden=(16,), batch_size=32, warmup=32, replay_capacity=2048, noise_std=0.3, actor_lr=3e-3,
                     critic_lr=1e-2, reward_scale=1.0, seed=5)
    agent = DDPG(5, 2, cfg, bounds=ActionBounds([0.0, 0.0], [1.0, 1.0]))
    for _ in range(150):
        agent.update(_transitions(rng, agent, 32))
    a = agent.act(_obs(rng), explore=False)
    assert np.all(np.abs(a.mean(0) - 0.8) < 0.15)  # the reward peaks at 0.8 in every dimension


def test_bounded_ddpg_determinism():
    def final(seed):
        rng = np.random.default_rng(0)
        agent = DDPG(5, 3, DDPGConfig(**SMALL, seed=seed), bounds=ActionBounds(-1.0, 2.0, m=3))
        for _ in range(4):
            agent.update(_transitions(rng, agent, 16))
        return agent.act(_obs(np.random.default_rng(9)))

    np.testing.assert_array_equal(final(1), final(1))
    assert not np.array_equal(final(1), final(2))


def test_bounded_state_round_trip():
    rng = np.random.default_rng(5)
    a = DDPG(5, 2, DDPGConfig(**SMALL, seed=1), bounds=ActionBounds([0.0, 0.0], [1.0, 1.0]))
    for _ in range(3):
        a.update(_transitions(rng, a, 16))
    a.bounds.set([0.2, 0.1], [0.9, 0.5])
    b = DDPG(5, 2, DDPGConfig(**SMALL, seed=1), bounds=ActionBounds([0.0, 0.0], [1.0, 1.0]))
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(b.bounds.low, [0.2, 0.1])
    obs = _obs(rng)
    np.testing.assert_array_equal(a.act(obs), b.act(obs))
    with pytest.raises(ValueError, match="bounds"):
        DDPG(5, 2, DDPGConfig(**SMALL, seed=1)).load_state_dict(a.state_dict())


def test_noise_mask_limits_exploration_to_chosen_dimensions():
    agent = DDPG(5, 3, DDPGConfig(**SMALL, noise_std=0.5, seed=1), bounds=ActionBounds(0.0, 1.0, m=3))
    agent.noise_mask = np.array([False, True, False])
    obs = _obs(np.random.default_rng(6))
    greedy, explored = agent.act(obs, explore=False), agent.act(obs)
    np.testing.assert_array_equal(greedy[:, [0, 2]], explored[:, [0, 2]])
    assert not np.array_equal(greedy[:, 1], explored[:, 1])


@pytest.mark.parametrize("low, high, m, match", [
    ([0.0, 2.0], [1.0, 1.0], None, "L <= U"), ([0.0, 0.0], [1.0], None, "high"), ([0.0, np.nan], [1.0, 1.0], None, "low"),
    ([0.0, 0.0], [1.0, np.inf], None, "high"), ([0.0, 0.0], [1.0, 1.0], 3, "low"), ("a", [1.0], None, "low"),
])
def test_bounds_bad_input(low, high, m, match):
    with pytest.raises(ValueError, match=match):
        ActionBounds(low, high, m)
    b = ActionBounds(np.zeros(2), np.ones(2))
    if m is None:
        with pytest.raises(ValueError, match=match):
            b.set(low, high)
    np.testing.assert_array_equal(b.high, [1.0, 1.0])  # a rejected move leaves the bounds as they were


def test_ddpg_rejects_bounds_of_the_wrong_length():
    with pytest.raises(ValueError, match="bounds"):
        DDPG(5, 3, DDPGConfig(**SMALL), bounds=ActionBounds([0.0, 0.0], [1.0, 1.0]))


def test_cem_bounded_agent_moves_the_agents_bounds():
    rng = np.random.default_rng(7)
    cem = CEMBounds(3, CEMBoundsConfig(seed=1), init_mean=[0.5, 0.5, 0.5])
    inner = DDPG(5, 3, DDPGConfig(**SMALL, seed=1), bounds=ActionBounds(0.0, 1.0, m=3))
    agent = CEMBoundedAgent(inner, cem, quadratic, every=2)
    lo, hi = cem.bounds()
    np.testing.assert_array_equal(inner.bounds.low, lo)  # starts from CEM's initial bounds
    for it in range(4):
        agent.update(_transitions(rng, agent, 16))
        out = agent.end_iteration()
        assert ("cem_best" in out) == (it % 2 == 1)
        lo, hi = cem.bounds()
        np.testing.assert_array_equal(inner.bounds.low, lo)
        np.testing.assert_array_equal(inner.bounds.high, hi)
        a = agent.act(_obs(rng))
        assert np.all(a >= lo.astype(np.float32)) and np.all(a <= hi.astype(np.float32))
    assert cem.iteration == 2
    with pytest.raises(ValueError, match="agent"):
        CEMBoundedAgent(DDPG(5, 3, DDPGConfig(**SMALL)), cem, quadratic)


def test_single_dimension_agent_explores_the_cem_dimension():
    cem = CEMBounds(3, CEMBoundsConfig(explore="one", seed=1))
    inner = DDPG(5, 3, DDPGConfig(**SMALL, seed=1), bounds=ActionBounds(0.0, 1.0, m=3))
    agent = CEMBoundedAgent(inner, cem, quadratic)
    for it in range(4):
        np.testing.assert_array_equal(inner.noise_mask, np.arange(3) == it % 3)
        agent.end_iteration()
