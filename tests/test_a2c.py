"""A2C: K-step returns against a hand computation (episode ends, truncation, rollout
end), the loss ignores autoreset rows, the rollout collector's valid mask, learning a
toy problem, the budget price, checkpoints (weights_only) and bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from tests.toy_rollout import ToyHooks, ToyVecEnv

from simcore.algos.a2c import A2C, A2CConfig, a2c_loss, kstep_returns, rollout_tensors
from simcore.algos.protocol import Batch
from simcore.train.loop import LoopConfig, train
from simcore.train.rollouts import RolloutCollector

SMALL = dict(hidden=(32, 32), lr=1e-2, entropy_coef=0.01, gamma=0.9)


def test_kstep_returns_hand_computation() -> None:
    g = 0.5
    r = torch.tensor([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]])
    nv = torch.tensor([[10.0, 20.0, 30.0, 40.0]] * 3)
    term = torch.tensor([[False, True, False, False], [False] * 4, [False] * 4])
    trunc = torch.tensor([[False] * 4, [False, True, False, False], [False] * 4])
    got = kstep_returns(r, nv, term, trunc, g)
    # row 0: t=3 bootstraps V(s_4)=40; t=2 uses k=2; t=1 terminates; t=0 stops at it
    # row 1: truncation at t=1 bootstraps V(next_obs_1)=20
    # row 2: every t bootstraps V(s_4): sum_{i<k} g^i r_{t+i} + g^k 40, k = 4 - t
    want = np.array([
        [1 + g * 2, 2, 3 + g * 4 + g**2 * 40, 4 + g * 40],
        [1 + g * (2 + g * 20), 2 + g * 20, 3 + g * 4 + g**2 * 40, 4 + g * 40],
        [sum(g**i * (1 + i) for i in range(4)) + g**4 * 40, sum(g**i * (2 + i) for i in range(3)) + g**3 * 40,
         3 + g * 4 + g**2 * 40, 4 + g * 40],
    ])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def _rollout(seed: int = 0, b: int = 4, k: int = 5) -> Batch:
    env = ToyVecEnv(b, horizon=2)
    hooks = ToyHooks()
    agent = A2C(3, 3, A2CConfig(**SMALL, seed=seed))
    kept: list[Batch] = []

    class Grab:
        def __init__(self) -> None:
            self.batches: list[Batch] = []

        def __getattr__(self, name: str):  # act, end_iteration from the agent
            return getattr(agent, name)

        def update(self, batch: Batch) -> dict[str, float]:
            self.batches.append(batch)
            return {}

    grab = Grab()
    RolloutCollector(env, k, hooks, steps=k).run(grab, seed, keep=kept)  # type: ignore[arg-type]
    return grab.batches[0]


def test_rollout_valid_mask_follows_dones() -> None:
    roll = _rollout()
    assert roll.obs.shape == (4, 5, 3) and roll.valid.shape == (4, 5)
    done = roll.terminated | roll.truncated
    # horizon 2: done at t = 1, 3 (after the reset row at t = 2): reset rows are the steps after a done
    expect = np.ones_like(roll.valid)
    expect[:, 1:] = ~done[:, :-1]
    np.testing.assert_array_equal(roll.valid, expect)
    assert not roll.valid.all()


def test_loss_ignores_autoreset_rows() -> None:
    roll = _rollout()
    agent = A2C(3, 3, A2CConfig(**SMALL))
    t = rollout_tensors(roll, 3)
    base, _ = a2c_loss(agent.net, t, agent.config, 0.0)
    cols = roll.columns()
    cols["reward"] = np.where(roll.valid, roll.reward, 1e3).astype(np.float32)
    cols["action"] = np.where(roll.valid, roll.action, 2)
    changed, _ = a2c_loss(agent.net, rollout_tensors(Batch(**cols), 3), agent.config, 0.0)
    assert base.item() == pytest.approx(changed.item(), rel=1e-6)


def test_learns_the_toy_problem() -> None:
    env = ToyVecEnv(16, horizon=4)
    agent = A2C(3, 3, A2CConfig(**SMALL, seed=1))
    col = RolloutCollector(env, 4, ToyHooks(), steps=8)
    hist = train(agent, col, LoopConfig(iterations=40, seed=3, eval_every=40, eval_steps=8))
    assert hist[-1]["eval_reward"] > 1.2  # optimum 1.25 (ctx 0: a=0 pays 1; ctx 1: a=2 pays 2.5)
    p = agent.probs(np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32))
    assert p[0].argmax() == 0 and p[1].argmax() == 2


def test_budget_price_cuts_spend() -> None:
    # without a price the agent buys action 2 in context 1 (cost 1 per such step, mean 0.5 per row)
    env = ToyVecEnv(16, horizon=4)
    cfg = A2CConfig(**SMALL, seed=1, cost_limit=0.05, price_lr=1.0)
    agent = A2C(3, 3, cfg)
    col = RolloutCollector(env, 4, ToyHooks(), steps=8)
    hist = train(agent, col, LoopConfig(iterations=60, seed=3))
    assert max(h["price"] for h in hist) > 1.0
    assert np.mean([h["mean_cost"] for h in hist[-10:]]) < 0.15


def test_state_dict_roundtrip_weights_only_and_exact_continuation() -> None:
    env = ToyVecEnv(8, horizon=3)
    col = RolloutCollector(env, 3, ToyHooks(), steps=6)
    a = A2C(3, 3, A2CConfig(**SMALL, seed=2, cost_limit=0.2))
    train(a, col, LoopConfig(iterations=3, seed=1))
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    buf.seek(0)
    b = A2C(3, 3, A2CConfig(**SMALL, seed=99, cost_limit=0.2))
    b.load_state_dict(torch.load(buf, weights_only=True))
    obs = np.eye(3, dtype=np.float32)
    np.testing.assert_array_equal(a.act(obs), b.act(obs))
    ra = col.run(a, 5)
    rb = col.run(b, 5)
    assert ra == rb
    for (ka, va), (kb, vb) in zip(a.net.state_dict().items(), b.net.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


def test_seeds_differ_and_repeat() -> None:
    def weights(seed: int) -> torch.Tensor:
        ag = A2C(3, 3, A2CConfig(**SMALL, seed=seed))
        train(ag, RolloutCollector(ToyVecEnv(8, 3), 3, ToyHooks(), steps=6), LoopConfig(iterations=2, seed=seed))
        return torch.cat([p.detach().flatten() for p in ag.net.parameters()])

    assert torch.equal(weights(4), weights(4))
    assert not torch.equal(weights(4), weights(5))


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="gamma"):
        A2CConfig(gamma=1.5)
    with pytest.raises(ValueError, match="cost_limit"):
        A2CConfig(cost_limit=-1.0)
    with pytest.raises(ValueError, match="n_actions"):
        A2C(3, 1)
    agent = A2C(3, 3, A2CConfig(**SMALL))
    with pytest.raises(ValueError, match="obs"):
        agent.act(np.full((2, 3), np.nan, dtype=np.float32))
    roll = _rollout()
    cols = roll.columns()
    cols["action"] = np.full_like(roll.action, 7)
    with pytest.raises(ValueError, match="action"):
        agent.update(Batch(**cols))
    cols = roll.columns()
    del cols["valid"]
    with pytest.raises(ValueError, match="valid"):
        agent.update(Batch(**cols))


def test_building_an_agent_leaves_torch_global_rng_alone() -> None:
    """Regression: nn.Linear's default init (then overwritten from the agent's own
    generator) advanced torch's global generator, so building an agent changed other
    code's global draws."""
    from simcore.algos.a3c import A3C, A3CConfig
    from simcore.algos.mtl import MTLConfig, MTLPolicy

    before = torch.get_rng_state()
    A2C(3, 3, A2CConfig(**SMALL))
    A3C(3, 3, A3CConfig(a2c=A2CConfig(**SMALL), workers=2))
    MTLPolicy(3, 3, MTLConfig(kind="cross-stitch", width=8))
    assert torch.equal(before, torch.get_rng_state())
    # and the weights still come from the seed alone
    a = A2C(3, 3, A2CConfig(**SMALL, seed=7))
    torch.manual_seed(123)
    b = A2C(3, 3, A2CConfig(**SMALL, seed=7))
    for pa, pb in zip(a.net.parameters(), b.net.parameters()):
        assert torch.equal(pa, pb)


def _one_state_batch(a: int, r_all: np.ndarray, d: int = 3) -> Batch:
    """One slot, K = 1, a terminal step in a fixed state, action a."""
    obs = np.full((1, 1, d), 0.3, dtype=np.float32)
    return Batch(obs=obs, next_obs=obs, action=np.array([[a]]), reward=np.array([[r_all[a]]], dtype=np.float32),
                 terminated=np.ones((1, 1), bool), truncated=np.zeros((1, 1), bool), valid=np.ones((1, 1), bool),
                 reward_all=r_all[None, None, :].astype(np.float32),
                 cost_all=np.zeros((1, 1, r_all.size), np.float32))


def test_all_action_term_has_the_sampled_gradient_in_expectation() -> None:
    """E_{a ~ pi}[grad of the all-action loss] = E_{a ~ pi}[grad of the sampled loss]
    = -sum_a grad pi(a) r(a) (enumerated exactly over the 4 actions, entropy off, no
    standardisation); the all-action loss's gradient is closer to it per sample."""
    r_all = np.array([0.1, 0.7, -0.2, 0.4])
    grads = {}
    for mode in (False, True):
        cfg = A2CConfig(hidden=(8,), entropy_coef=0.0, all_actions=mode, seed=3)
        agent = A2C(3, 4, cfg)
        pi = agent.probs(np.full((1, 3), 0.3, dtype=np.float32))[0]
        total, per = None, []
        for a in range(4):
            t = rollout_tensors(_one_state_batch(a, r_all), 4)
            loss, _ = a2c_loss(agent.net, t, cfg, 0.0)
            agent.net.zero_grad()
            loss.backward()
            g = torch.cat([p.grad.flatten() for p in agent.net.policy.parameters()]).clone()
            per.append(g)
            total = g * pi[a] if total is None else total + g * pi[a]
        grads[mode] = (total, per)
    torch.testing.assert_close(grads[True][0], grads[False][0], rtol=1e-4, atol=1e-7)
    spread = [float(sum(torch.linalg.norm(g - grads[m][0]) for g in grads[m][1])) for m in (False, True)]
    assert spread[1] < spread[0]


def test_all_action_needs_its_columns() -> None:
    cfg = A2CConfig(hidden=(8,), all_actions=True)
    agent = A2C(3, 4, cfg)
    b = _one_state_batch(1, np.zeros(4))
    cols = {k: b[k] for k in b.keys() if k not in ("reward_all", "cost_all")}
    with pytest.raises(ValueError, match="reward_all"):
        agent.update(Batch(**cols))
    with pytest.raises(ValueError, match="reward_all: expected shape"):
        agent.update(Batch(**{**cols, "reward_all": np.zeros((1, 1, 3), np.float32)}))
