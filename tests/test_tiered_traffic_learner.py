"""The learner-side fixes of the tiered-traffic experiment: the sigmoid barrier keeps the
bounded DDPG actor unsaturated (and its actions inside [L, U]), the CEM evaluator's
common random numbers serve every candidate the same users, the expected-reward
training signal is the page's conditional expectation, config checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from simcore.algos.bounds import ActionBounds
from simcore.algos.ddpg import DDPG, DDPGConfig
from simcore.algos.protocol import Batch
from simcore.domains.traffic.simulator import TrafficSimulator
from simcore.experiments.tiered_traffic.barrier import SigmoidBarrier
from simcore.experiments.tiered_traffic.config import TieredTrafficConfig
from simcore.experiments.tiered_traffic.evaluate import cem_evaluator, session_returns
from simcore.experiments.tiered_traffic.learners import traffic_config
from simcore.util.seeds import SeedTree


def _push_batch(rng: np.random.Generator, n: int, D: int, m: int) -> Batch:
    """Rewards that grow without limit in every action dimension (the critic then
    pushes the actor toward U): the case where a plain sigmoid saturates."""
    obs = rng.random((n, D)).astype(np.float32)
    a = rng.uniform(-1, 1, (n, m)).astype(np.float32)
    return Batch(obs=obs, action=a, reward=(10.0 * a.sum(axis=1)).astype(np.float64), next_obs=obs,
                 terminated=np.ones(n, bool), truncated=np.zeros(n, bool))


def _sigmoid_outputs(beta: float, steps: int = 300) -> np.ndarray:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    D, m = 4, 2
    bounds = ActionBounds(-1.0, 1.0, m=m)
    cfg = DDPGConfig(hidden=(16,), batch_size=32, warmup=32, actor_lr=1e-2, critic_lr=1e-2, seed=1)
    ag = DDPG(D, m, cfg, actor_term=SigmoidBarrier(bounds, beta) if beta > 0 else None, bounds=bounds)
    for _ in range(steps):
        ag.update(_push_batch(rng, 32, D, m))
    obs = rng.random((64, D)).astype(np.float32)
    a = ag.act(obs, explore=True)
    assert np.all(a >= bounds.low - 1e-6) and np.all(a <= bounds.high + 1e-6)  # always inside [L, U]
    with torch.no_grad():
        return ag.actor(torch.as_tensor(obs)).numpy()


def test_barrier_keeps_the_sigmoid_responsive():
    """Plain DDPG saturates the sigmoid on a reward that always wants more; with the
    barrier the actor still moves toward U but its outputs stay off 0/1."""
    plain = _sigmoid_outputs(0.0)
    held = _sigmoid_outputs(0.02)
    assert plain.min() > 0.999  # saturated at U
    assert 0.6 < held.mean() < 0.995 and held.max() < 0.999  # pushed up, not saturated


def test_barrier_gradient_is_the_formula():
    bounds = ActionBounds([-1.0, 0.0], [1.0, 2.0])
    term = SigmoidBarrier(bounds, 0.5)
    a = torch.tensor([[0.5, 1.5], [-0.5, 0.2]], requires_grad=True)
    loss, metrics = term({}, a)
    o = (a.detach() - torch.tensor([-1.0, 0.0])) / 2.0
    want = 0.5 * float((-(torch.log(o) + torch.log1p(-o))).mean())
    assert float(loss.detach()) == pytest.approx(want, rel=1e-6) and metrics["barrier"] == pytest.approx(want / 0.5, rel=1e-6)
    loss.backward()
    # d/da of beta mean(-log o - log(1 - o)) = beta / (n m) (1 / (1 - o) - 1 / o) / width
    g = 0.5 / 4 * (1 / (1 - o) - 1 / o) / 2.0
    assert torch.allclose(a.grad, g, rtol=1e-5)
    bounds.set([-1.0, 0.0], [1.0, 2.0])  # the term reads the bounds at every call
    assert SigmoidBarrier(bounds, 0.0)({}, a)[0].item() == 0.0


@pytest.mark.parametrize("kw, name", [(dict(beta=-1.0), "beta"), (dict(beta=float("nan")), "beta"),
                                      (dict(bounds=None), "bounds")])
def test_barrier_bad_input(kw, name):
    args = {"bounds": ActionBounds(0.0, 1.0, m=2), "beta": 0.1, **kw}
    with pytest.raises(ValueError, match=name):
        SigmoidBarrier(**args)


def _evaluator(common: bool):
    cfg = TieredTrafficConfig()
    sim = TrafficSimulator(traffic_config(cfg, 0.5), num_sessions=16)
    return sim, cem_evaluator(sim, SeedTree(3).child("cem-eval"), max_chunks=2, rel_tol=1e-9, common=common)


def test_common_random_numbers_serve_every_candidate_the_same_sessions():
    sim, ev = _evaluator(True)
    C = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.1, 0.0, 0.0]])
    out = ev(C)
    assert out[0] == out[1]  # same candidate, same sessions: identical scores
    assert ev.sessions[0] == 3 * 2 * 16  # rel_tol unreachable: every chunk, every candidate
    seed = SeedTree(3).child("cem-eval").seed("call", 0, 0)  # call 0, chunk 0
    want = session_returns(sim, C[2], seed, expected=True)
    seed1 = SeedTree(3).child("cem-eval").seed("call", 0, 1)
    want = np.r_[want, session_returns(sim, C[2], seed1, expected=True)].mean()
    assert out[2] == pytest.approx(want, rel=1e-12)
    assert not np.array_equal(ev(C), out)  # the next call: fresh sessions


def test_independent_samples_differ_between_equal_candidates():
    _, ev = _evaluator(False)
    out = ev(np.zeros((2, 3)))
    assert out[0] != out[1]


def test_expected_training_reward_is_the_pages_conditional_expectation():
    from simcore.experiments.tiered_traffic.hooks import TrafficHooks
    from simcore.experiments.tiered_traffic.learners import make_env

    cfg = dataclasses.replace(TieredTrafficConfig(), num_envs=8)
    env = make_env(cfg, 0.5)
    obs, _ = env.reset(seed=4)
    a = np.full((8, 3), 0.05, np.float32)
    nobs, r, term, trunc, info = env.step(a)
    g = env.sim.config.reward
    want = (g.click * info["expected_clicks"] + g.cart * info["expected_carts"] + g.buy * info["b"]
            + g.price * info["b"] * info["m"] + info["reward_tier"])
    be = TrafficHooks(expected_reward=True).to_batch(env, obs, a, r, nobs, term, trunc, info)
    bs = TrafficHooks().to_batch(env, obs, a, r, nobs, term, trunc, info)
    np.testing.assert_allclose(be.reward, want, rtol=1e-12)
    np.testing.assert_array_equal(be.reward_sampled, r)
    np.testing.assert_array_equal(bs.reward, r)


@pytest.mark.parametrize("kw, name", [(dict(actor_barrier=-0.1), "actor_barrier"),
                                      (dict(ddpg_reward="mean"), "ddpg_reward"), (dict(cem_common=1), "cem_common")])
def test_config_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        TieredTrafficConfig(**kw)


def test_cem_noise_probe_regret_is_against_the_true_elite():
    """The diagnosis probe: the elite regret is >= 0 (the true top |D| by exact value
    is the best any |D| candidates can be) and the correlations are in [-1, 1]."""
    from simcore.algos.cem_bounds import CEMBoundsConfig
    from simcore.experiments.tiered_traffic.diagnose import cem_noise

    cfg = dataclasses.replace(TieredTrafficConfig(), panel=8, cem_chunk=4, cem_max_chunks=1,
                              cem=CEMBoundsConfig(n_candidates=4, elite_frac=0.5))
    rows = cem_noise(cfg, sigmas=(0.1,), reps=1)
    r = rows[0]
    assert r["regret_common"] >= -1e-12 and r["regret_independent"] >= -1e-12
    assert -1 <= r["spearman_common"] <= 1 and r["exact_sd"] > 0
