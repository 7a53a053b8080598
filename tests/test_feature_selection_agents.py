"""Actor-critic and REINFORCE agents for FeatureSelection-v0 (AgentProtocol over the
episode Batch of simcore.train.episodes)."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import torch

from simcore.algos.protocol import AgentProtocol
from simcore.domains.feature_cost import agent_config as C
from simcore.domains.feature_cost import agents as A
from simcore.domains.feature_cost import data as D
from simcore.domains.feature_cost import policies as P
from simcore.domains.feature_cost import training as T
from simcore.domains.feature_cost.env import FeatureSelectionConfig, FeatureSelectionVectorEnv
from simcore.train.loop import LoopConfig, train


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks; the machine is shared
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data():
    return D.generate(D.FeatureCostDataConfig(n_contexts=64, n_items=40, seed=2))


def _env(data, B=32, **kw):
    env = FeatureSelectionVectorEnv(B, FeatureSelectionConfig(**kw), data=data)
    env.reset(seed=0)
    return env


@pytest.mark.parametrize("cls", [A.ActorCriticAgent, A.ReinforceAgent])
def test_act_shapes_and_determinism(data, cls):
    env = _env(data)
    obs, _ = env.reset(seed=0)
    a1 = cls(env.core.obs_dim, C.FeatureSelectionAgentConfig(seed=3))
    a2 = cls(env.core.obs_dim, C.FeatureSelectionAgentConfig(seed=3))
    assert isinstance(a1, AgentProtocol)
    x1, x2 = a1.act(obs), a2.act(obs)
    assert x1.dtype == np.int64 and x1.shape == (32,) and set(np.unique(x1)) <= {0, 1}
    np.testing.assert_array_equal(x1, x2)
    a3 = cls(env.core.obs_dim, C.FeatureSelectionAgentConfig(seed=4))
    assert not np.array_equal(
        np.concatenate([a1.act(obs) for _ in range(5)]), np.concatenate([a3.act(obs) for _ in range(5)])
    )
    p = a1.eval_probability(obs)
    np.testing.assert_allclose(p, 0.9, atol=0.05)  # init_eval_prob
    np.testing.assert_array_equal(a1.act(obs, explore=False), (p >= 0.5).astype(np.int64))
    with pytest.raises(ValueError, match="obs"):
        a1.act(obs[:, :-1])
    with pytest.raises(TypeError, match="obs"):
        a1.act(obs.tolist())


def test_returns():
    r = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    done = np.array([[False, False], [False, True], [True, False]])
    G = P.discounted_returns(r, done, 0.5)
    np.testing.assert_allclose(G[:, 0], [1 + 0.5 * 3 + 0.25 * 5, 3 + 0.5 * 5, 5])
    np.testing.assert_allclose(G[:, 1], [2 + 0.5 * 4, 4, 6])


@pytest.mark.parametrize("cls", [A.ActorCriticAgent, A.ReinforceAgent])
def test_update_and_checkpoint_roundtrip(data, cls):
    env = _env(data, loss_threshold=0.05, penalty=1.5)
    agent = cls(env.core.obs_dim, C.FeatureSelectionAgentConfig(seed=1))
    hist = train(agent, T.make_collector(env), LoopConfig(iterations=3))
    assert len(hist) == 3 and all(np.isfinite(v) for h in hist for v in h.values())
    buf = io.BytesIO()
    torch.save(agent.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    clone = cls(env.core.obs_dim, C.FeatureSelectionAgentConfig(seed=99))
    clone.load_state_dict(state)
    # continuing from the checkpoint: the same actions and the same updates
    e1 = _env(data, loss_threshold=0.05, penalty=1.5)
    e2 = _env(data, loss_threshold=0.05, penalty=1.5)
    h1 = train(agent, T.make_collector(e1), LoopConfig(iterations=2))
    h2 = train(clone, T.make_collector(e2), LoopConfig(iterations=2))
    assert h1 == h2
    for p1, p2 in zip(agent.policy.parameters(), clone.policy.parameters()):
        assert torch.equal(p1, p2)
    with pytest.raises(ValueError, match="saved by"):
        other = A.ReinforceAgent if cls is A.ActorCriticAgent else A.ActorCriticAgent
        other(env.core.obs_dim).load_state_dict(state)


def test_training_is_deterministic(data):
    def run():
        env = _env(data, loss_threshold=0.05, penalty=1.5)
        agent = A.ActorCriticAgent(env.core.obs_dim, C.FeatureSelectionAgentConfig(seed=5))
        return train(agent, T.make_collector(env), LoopConfig(iterations=4))

    assert run() == run()


def test_learns_to_skip_a_free_feature(data):
    """Feature 0 (price) has ranker weight 0: skipping it never changes the ranking.  Made
    expensive (40 of the 82 cost units), it is the obvious saving: both learners lower
    pi(Eval) for it well below the initial 0.9 while they keep evaluating relevance
    (skipping it breaks the ranking)."""
    cost = data.cost.copy()
    cost[0] = 40.0
    d = dataclasses.replace(data, cost=cost)
    for cls in (A.ActorCriticAgent, A.ReinforceAgent):
        env = FeatureSelectionVectorEnv(64, FeatureSelectionConfig(loss_threshold=0.05, penalty=1.5), data=d)
        env.reset(seed=0)
        agent = cls(env.core.obs_dim, C.FeatureSelectionAgentConfig(seed=0, lr_policy=1e-2))
        train(agent, T.make_collector(env), LoopConfig(iterations=50))
        obs, _ = env.reset(seed=1)
        assert agent.eval_probability(obs).mean() < 0.6, cls.name
        for _ in range(2):
            obs, *_ = env.step(np.ones(64, np.int64))
        assert agent.eval_probability(obs).mean() > 0.9, cls.name


def test_greedy_masks(data):
    env = _env(data, B=16)
    agent = A.ActorCriticAgent(env.core.obs_dim)
    m = T.greedy_masks(env, agent, np.arange(40))
    assert m.shape == (40, 12) and m.dtype == bool
    assert m.all()  # init_eval_prob 0.9: greedy evaluates everything


def test_config_rejects():
    for bad in (dict(hidden=(0,)), dict(lr_policy=0.0), dict(gamma=1.5), dict(l1=-1.0),
                dict(init_eval_prob=1.0), dict(heads=-1), dict(policy_optimizer="rmsprop"),
                dict(critic_steps=0), dict(logit_bound=-1.0)):
        with pytest.raises(ValueError):
            C.FeatureSelectionAgentConfig(**bad)
    with pytest.raises(ValueError, match="heads"):
        A.ActorCriticAgent(5, C.FeatureSelectionAgentConfig(heads=12))


def test_agent_names_match_registry():
    assert tuple(A.AGENTS) == C.AGENT_NAMES
