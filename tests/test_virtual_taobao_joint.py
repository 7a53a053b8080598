"""Joint MAIL (issue 12): the engine's state from a PageData equals the learned
simulator's observation, the engine policy's density and MLE start, and on a tiny
known problem joint MAIL recovers a known engine policy's mean weights."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from simcore.domains.search.config import SessionConfig  # noqa: E402
from simcore.domains.search.world import default_action_set, make_world  # noqa: E402
from simcore.domains.virtual_taobao.joint import (  # noqa: E402
    EnginePolicy,
    JointMAILConfig,
    engine_states,
    train_joint_mail,
)
from simcore.domains.virtual_taobao.mail import generate_sessions  # noqa: E402
from simcore.domains.virtual_taobao.model import BehaviourConfig, seeded_model  # noqa: E402

SC = SessionConfig.from_dict({"world": {"n_queries": 4, "n_items": 60}})
G = 4


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _users(n, seed):
    rng = np.random.default_rng(seed)
    return {"query": rng.integers(0, 4, n), "segment": rng.integers(0, G, n).astype(np.int32),
            "power": rng.random(n)}


def _teacher():
    model = seeded_model(BehaviourConfig(hidden=8), 5)
    with torch.no_grad():
        model.outcome[-1].bias.copy_(torch.tensor([1.5, -1.0, 0.0]))
    return model


def test_engine_states_equal_the_simulators_observations():
    world = make_world(SC.world)
    seen: list[np.ndarray] = []
    rng = np.random.default_rng(0)

    def engine(obs):
        seen.append(obs.copy())
        return (default_action_set(8)[0] + 0.3 * rng.standard_normal((obs.shape[0], 8))).astype(np.float32)

    g = generate_sessions(_teacher(), SC, world, _users(64, 1), np.zeros(8), 0.0, seed=2, engine=engine)
    s = engine_states(g, G)
    for r in range(len(g)):
        np.testing.assert_allclose(s[r], seen[g.page[r]][g.session[r]], rtol=1e-5, atol=1e-6)
    assert g.action.shape == (len(g), 8) and (g.page > 1).any()


def test_engine_policy_density_and_mle_start():
    pol = EnginePolicy(5, 3, mean=np.array([1.0, 0.0, -1.0]), std=0.5)
    s, a = torch.randn(7, 5), torch.randn(7, 3)
    ref = torch.distributions.Normal(torch.tensor([1.0, 0.0, -1.0]), 0.5).log_prob(a).sum(1)
    torch.testing.assert_close(pol.log_prob(s, a), ref)
    acts = np.random.default_rng(0).normal([0.2, -0.4, 1.0], [0.1, 0.2, 0.3], (20_000, 3))
    pol.fit_logged(acts)
    np.testing.assert_allclose(pol.b.detach().numpy(), [0.2, -0.4, 1.0], atol=0.01)
    np.testing.assert_allclose(pol.log_std.exp().detach().numpy(), [0.1, 0.2, 0.3], rtol=0.03)
    with pytest.raises(ValueError, match="mean"):
        EnginePolicy(5, 3, mean=np.zeros(2))
    with pytest.raises(ValueError, match="std"):
        EnginePolicy(5, 3, std=0.0)
    with pytest.raises(ValueError, match="engine_lr"):
        JointMAILConfig(engine_lr=0.0)


def test_joint_mail_recovers_a_known_engine_mean():
    """The log comes from a known engine policy N(mu*, 0.1^2) and the teacher user; the
    learner's engine starts at another ranking (LTR, 1.07 away); joint MAIL must move its
    mean action on the log's states at least half of the way to mu* (measured: 0.17 away)."""
    world = make_world(SC.world)
    named = default_action_set(8)
    mu_star = named[1].astype(np.float64)
    log = generate_sessions(_teacher(), SC, world, _users(1500, 1), mu_star, 0.1, seed=4)
    engine = EnginePolicy(engine_states(log, G).shape[1], 8, mean=named[0], std=0.3)
    states = torch.from_numpy(engine_states(log, G))

    def distance() -> float:
        with torch.no_grad():
            return float(np.linalg.norm(engine.mean(states).mean(0).numpy() - mu_star))

    start = distance()
    rewards = train_joint_mail(log, _teacher(), engine, SC, world, JointMAILConfig(iterations=25, sessions=256,
                                                                                  seed=0))
    end = distance()
    assert len(rewards) == 25 and np.isfinite(rewards).all()
    assert end < 0.5 * start, (start, end)
    with pytest.raises(ValueError, match="no engine actions"):
        train_joint_mail(dataclasses.replace(log, action=None), _teacher(), engine, SC, world)
