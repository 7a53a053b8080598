"""Bandits behind the agent protocol (simcore.algos.bandits, linear_bandits, neural_bandit)
on the synthetic contextual bandit with exact means."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from simcore.algos.bandits import AGENTS, UCB1, BanditConfig, EpsilonGreedy, ThompsonSampling
from simcore.algos.linear_bandits import LinearBanditConfig, LinearTS, LinUCB
from simcore.algos.neural_bandit import NeuralBanditConfig, NeuralLinearTS
from simcore.algos.protocol import AgentProtocol, Batch
from simcore.domains.bandits.synthetic import SyntheticBandit, SyntheticBanditConfig
from simcore.util.seeds import SeedTree

MU3 = np.array([0.2, 0.5, 0.7])


def _run_mab(agent, steps: int = 60, b: int = 50, seed: int = 0) -> np.ndarray:
    rng = SeedTree(seed).generator("mab-env")
    played = []
    for _ in range(steps):
        a = agent.act(np.zeros((b, 1)))
        r = (rng.random(b) < MU3[a]).astype(float)
        agent.update(Batch(action=a, reward=r))
        played.append(a)
    return np.concatenate(played)


@pytest.mark.parametrize("make", [
    lambda: EpsilonGreedy(BanditConfig(n_arms=3, epsilon=0.1)),
    lambda: UCB1(BanditConfig(n_arms=3)),
    lambda: ThompsonSampling(BanditConfig(n_arms=3)),
    lambda: ThompsonSampling(BanditConfig(n_arms=3, kind="gaussian", noise_var=0.25)),
])
def test_mab_agents_find_the_best_arm(make):
    agent = make()
    assert isinstance(agent, AgentProtocol)
    played = _run_mab(agent)
    last = played[-1000:]
    assert (last == 2).mean() > 0.8
    assert agent.act(np.zeros((4, 1)), explore=False).tolist() == [2, 2, 2, 2]


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_mab_determinism_and_state_round_trip(name):
    cfg = BanditConfig(n_arms=3, seed=3)
    a1, a2 = AGENTS[name](cfg), AGENTS[name](cfg)
    assert np.array_equal(_run_mab(a1, 5, 10), _run_mab(a2, 5, 10))
    other = AGENTS[name](BanditConfig(n_arms=3, seed=4))
    assert not np.array_equal(_run_mab(AGENTS[name](cfg), 8, 10), _run_mab(other, 8, 10))
    buf = io.BytesIO()
    torch.save(a1.state_dict(), buf)
    buf.seek(0)
    b = AGENTS[name](BanditConfig(n_arms=3, seed=99))
    b.load_state_dict(torch.load(buf, weights_only=True))
    obs = np.zeros((20, 1))
    assert np.array_equal(a1.act(obs), b.act(obs))
    with pytest.raises(ValueError, match="different config"):
        AGENTS[name](BanditConfig(n_arms=3, c=3.0)).load_state_dict(a1.state_dict())


def test_mab_bad_input():
    agent = ThompsonSampling(BanditConfig(n_arms=3))
    with pytest.raises(ValueError, match="obs"):
        agent.act(np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        agent.act(np.full((2, 1), np.nan))
    with pytest.raises(ValueError, match="batch.action"):
        agent.update(Batch(action=np.array([3]), reward=np.array([1.0])))
    with pytest.raises(ValueError, match="batch.reward"):
        agent.update(Batch(action=np.array([0]), reward=np.array([2.0])))
    with pytest.raises(ValueError, match="column 'reward'"):
        agent.update(Batch(action=np.array([0])))
    for bad in ({"n_arms": 0}, {"epsilon": 1.5}, {"kind": "poisson"}, {"prior_a": 0.0}, {"c": float("nan")}):
        with pytest.raises((ValueError, TypeError)):
            BanditConfig(**bad)


def _fill(agent, rng, n=300, d=3, k=4):
    x = rng.standard_normal((n, d))
    a = rng.integers(0, k, n)
    r = rng.standard_normal(n)
    agent.update(Batch(obs=x, action=a, reward=r))
    return x, a, r


def test_linucb_widths_and_theta_match_a_direct_computation():
    rng = SeedTree(1).generator("linucb")
    agent = LinUCB(LinearBanditConfig(n_arms=4, dim=3, ridge=0.7, alpha=1.3))
    x, a, r = _fill(agent, rng)
    x2, a2, r2 = _fill(agent, rng, n=50)          # a second batch: incremental statistics
    xs, as_, rs = np.vstack([x, x2]), np.concatenate([a, a2]), np.concatenate([r, r2])
    q = rng.standard_normal((7, 3))
    for arm in range(4):
        m = as_ == arm
        A = 0.7 * np.eye(3) + xs[m].T @ xs[m]
        theta = np.linalg.solve(A, xs[m].T @ rs[m])
        width = np.sqrt(np.einsum("bi,ij,bj->b", q, np.linalg.inv(A), q))
        np.testing.assert_allclose(agent.theta[arm], theta, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(agent.widths(q)[:, arm], width, rtol=1e-10)
        np.testing.assert_allclose(agent.scores(q)[:, arm], q @ theta + 1.3 * width, rtol=1e-10, atol=1e-12)


def test_linear_ts_draws_have_the_posterior_covariance():
    rng = SeedTree(2).generator("lints")
    agent = LinearTS(LinearBanditConfig(n_arms=2, dim=3, v=0.5))
    _fill(agent, rng, n=60, k=2)
    x = np.tile(rng.standard_normal((1, 3)), (20000, 1))
    s = agent.scores(x)
    A = agent.A[0]
    var = 0.25 * x[0] @ np.linalg.inv(A) @ x[0]
    assert abs(s[:, 0].mean() - x[0] @ agent.theta[0]) < 4 * np.sqrt(var / 20000)
    assert abs(s[:, 0].var() / var - 1) < 0.05


def _contextual_regret(agent, env, rng, steps=60, b=32):
    total = 0.0
    for _ in range(steps):
        ctx = env.sample_contexts(b, rng)
        x = env.contexts[ctx]
        a = agent.act(x)
        total += env.regret(ctx, a).sum()
        agent.update(Batch(obs=x, action=a, reward=env.rewards(ctx, a, rng)))
    return total


@pytest.mark.parametrize("kind", ["linucb", "linear-ts", "neural"])
def test_contextual_agents_beat_uniform_and_round_trip(kind):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)          # a small network: one thread is fastest; restored below
    try:
        _contextual_case(kind)
    finally:
        torch.set_num_threads(threads)


def _contextual_case(kind):
    env = SyntheticBandit(SyntheticBanditConfig(reward="gaussian", n_arms=4, dim=4), SeedTree(3).generator("w"))
    make = {"linucb": lambda s: LinUCB(LinearBanditConfig(n_arms=4, dim=4, seed=s)),
            "linear-ts": lambda s: LinearTS(LinearBanditConfig(n_arms=4, dim=4, v=0.5, seed=s)),
            "neural": lambda s: NeuralLinearTS(NeuralBanditConfig(n_arms=4, dim=4, seed=s, train_every=512,
                                                                  n_steps=30))}[kind]
    agent = make(0)
    reg = _contextual_regret(agent, env, SeedTree(3).generator("play"))
    uniform = float((env.mu.max(axis=1) - env.mu.mean(axis=1)).mean()) * 60 * 32
    assert reg < 0.5 * uniform
    buf = io.BytesIO()
    torch.save(agent.state_dict(), buf)
    buf.seek(0)
    twin = make(5)
    twin.load_state_dict(torch.load(buf, weights_only=True))
    x = env.contexts[:16]
    assert np.array_equal(agent.act(x), twin.act(x))
    r1 = _contextual_regret(agent, env, SeedTree(4).generator("p"), steps=3)
    r2 = _contextual_regret(twin, env, SeedTree(4).generator("p"), steps=3)
    assert r1 == r2
    # same seed, same run
    again = make(0)
    assert _contextual_regret(again, env, SeedTree(3).generator("play")) == reg


def test_contextual_bad_input():
    agent = LinUCB(LinearBanditConfig(n_arms=2, dim=3))
    with pytest.raises(ValueError, match="3 columns"):
        agent.act(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="obs"):
        agent.update(Batch(action=np.array([0]), reward=np.array([1.0])))
    with pytest.raises(ValueError, match="batch.action"):
        agent.update(Batch(obs=np.zeros((2, 3)), action=np.array([0.5, 1.0]), reward=np.array([1.0, 0.0])))
    for bad in ({"dim": 0}, {"ridge": 0.0}, {"alpha": -1.0}):
        with pytest.raises((ValueError, TypeError)):
            LinearBanditConfig(**bad)
    with pytest.raises((ValueError, TypeError)):
        NeuralBanditConfig(hidden=0)



def test_linucb_runs_on_the_vector_env():
    import gymnasium as gym

    import simcore  # noqa: F401  (registers the ids)

    env = gym.make_vec("simcore/ContextualBandit-v0", num_envs=16, config={"horizon": 50})
    agent = LinUCB(LinearBanditConfig(n_arms=5, dim=5))
    obs, _ = env.reset(seed=0)
    regret = []
    for _ in range(50):
        a = agent.act(obs)
        nxt, r, term, trunc, info = env.step(a)
        agent.update(Batch(obs=obs, action=a, reward=r))
        regret.append(info["regret"].mean())
        obs = nxt
    assert trunc.all() and np.mean(regret[-10:]) < 0.5 * np.mean(regret[:5])
    w = env.unwrapped.world if hasattr(env, "unwrapped") else env.world
    assert np.allclose(info["mean_reward"], w.mu[info["context"], a])


def test_the_nonlinear_world_is_what_its_docstring_says_and_no_linear_model_fits_it():
    from simcore.domains.bandits.synthetic import SyntheticBandit, SyntheticBanditConfig

    cfg = SyntheticBanditConfig(n_contexts=400, reward="nonlinear", scale=2.0)
    env = SyntheticBandit(cfg, SeedTree(7).generator("w"))
    np.testing.assert_allclose(env.mu, np.sin(2.0 * env.contexts @ env.theta.T) + env.offset, rtol=0, atol=1e-12)
    # the same draws as the linear world of the same stream: only the mean function differs
    lin = SyntheticBandit(SyntheticBanditConfig(n_contexts=400, reward="gaussian"), SeedTree(7).generator("w"))
    np.testing.assert_array_equal(lin.contexts, env.contexts)
    X = np.hstack([env.contexts, np.ones((400, 1))])
    r2 = []
    for a in range(cfg.n_arms):
        y = env.mu[:, a]
        fit = X @ np.linalg.lstsq(X, y, rcond=None)[0]
        r2.append(1 - ((y - fit) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    assert np.median(r2) < 0.5, r2  # a linear fit explains little of most arms' means
    lin_r2 = [1 - ((lin.mu[:, a] - X @ np.linalg.lstsq(X, lin.mu[:, a], rcond=None)[0]) ** 2).sum() for a in range(5)]
    assert np.allclose(lin_r2, 1.0)  # ... and all of the linear world's
    r = env.rewards(np.zeros(20000, dtype=np.int64), np.zeros(20000, dtype=np.int64), SeedTree(1).generator("r"))
    assert abs(r.mean() - env.mu[0, 0]) < 4 * cfg.noise_sd / np.sqrt(20000)
    with pytest.raises(ValueError, match="^reward:"):
        SyntheticBanditConfig(reward="cubic")
