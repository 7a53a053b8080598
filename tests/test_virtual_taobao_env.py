"""The learned search env (simcore/LearnedSearch-v0): the search env's conformance
suite, the same spaces and info as SearchSession-v0, exact expectation mode."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import simcore  # noqa: E402,F401
from simcore.domains.virtual_taobao import env as learned_env  # noqa: E402,F401  (registers the id)
from simcore.domains.virtual_taobao.model import BehaviourConfig, seeded_model  # noqa: E402
from simcore.domains.virtual_taobao.sim import LearnedSimulator  # noqa: E402
from simcore.domains.virtual_taobao.users import EmpiricalUsers  # noqa: E402
from simcore.envs import conformance as C  # noqa: E402

ID = "simcore/LearnedSearch-v0"
SMALL_CFG = {"world": {"n_queries": 4, "n_items": 60}}
KW = {"config": SMALL_CFG}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_gymnasium_checker():
    C.check_gymnasium(ID, KW)


@pytest.mark.parametrize("how", sorted(C.COPIERS))
@pytest.mark.parametrize("vector", [False, True], ids=["single", "vector"])
def test_copy_roundtrip(vector, how):
    C.check_copy_roundtrip(ID, vector, how, KW)


@pytest.mark.parametrize("vector", [False, True], ids=["single", "vector"])
def test_seeding(vector):
    C.check_seeding(ID, vector, KW)


def test_vector_checks():
    C.check_vector_seed_list(ID, KW)
    C.check_autoreset(ID, KW)
    C.check_thread_independence(ID, KW)
    C.check_standard_kwargs(ID, KW)


@pytest.mark.parametrize("vector", [False, True], ids=["single", "vector"])
def test_bad_actions(vector):
    C.check_bad_actions(ID, vector, KW)


def test_same_spaces_and_info_as_the_search_env():
    true = C.make_vector("simcore/SearchSession-v0", 3, KW)
    learned = C.make_vector(ID, 3, KW)
    assert true.single_observation_space == learned.single_observation_space
    assert true.single_action_space == learned.single_action_space
    for env in (true, learned):
        env.reset(seed=0)
    a = np.tile(np.array([0, 0.3, 0.3, 0.4, 0, 0, 0, 0], np.float32), (3, 1))
    for _ in range(4):
        t, lr = true.step(a), learned.step(a)
        assert set(t[4]) == set(lr[4])
        for k in t[4]:
            assert t[4][k].dtype == lr[4][k].dtype and t[4][k].shape == lr[4][k].shape, k
        for x, y in zip(t[:4], lr[:4]):
            assert x.dtype == y.dtype and x.shape == y.shape
        assert learned.single_observation_space.contains(lr[0][0])
    # the engine's ranking is the true simulator's: the same first page for the same query
    users = {"query": np.array([0, 1, 2]), "segment": np.array([0, 1, 2], np.int32), "power": np.full(3, 0.5)}
    true.reset(seed=1, options={"users": {**users, "patience": np.zeros(3), "prefs": np.zeros((3, 8))}})
    learned.reset(seed=1, options={"users": users})
    np.testing.assert_array_equal(true.step(a)[4]["page"], learned.step(a)[4]["page"])


def test_expectation_mode_and_outputs():
    cfg = simcore.SessionConfig.from_dict(SMALL_CFG)
    model = seeded_model(BehaviourConfig(hidden=16), 3)
    sim = LearnedSimulator(model, cfg, num_sessions=5, seed=2)
    sim.reset()
    a = np.tile(np.array([0, 0.3, 0.3, 0.4, 0, 0, 0, 0], np.float32), (5, 1))
    seen = [set() for _ in range(5)]
    for t in range(sim.horizon):
        r = sim.step(a, sample=False)
        np.testing.assert_allclose(r.b + r.l + r.c, 1.0, atol=1e-6)
        np.testing.assert_allclose(r.reward, r.b * r.m)
        assert np.all(r.outcome == 0) and not r.terminated.any()
        assert r.truncated.all() == (t == sim.horizon - 1)
        for i in range(5):  # depletion: no item shown twice in a session
            items = set(r.page[i][r.page[i] >= 0].tolist())
            assert not items & seen[i]
            seen[i] |= items
    users = EmpiricalUsers({"query": np.array([3]), "segment": np.array([1], np.int32), "power": np.array([0.2])})
    sim = LearnedSimulator(model, cfg, num_sessions=4, seed=0, users=users)
    sim.reset()
    assert np.all(sim.users()["query"] == 3)
    r = sim.step(a[:4])
    buy = r.outcome == 1
    assert np.all(r.item[~buy] == -1) and np.all(r.price[~buy] == 0)
    with pytest.raises(ValueError, match="model"):
        LearnedSimulator(seeded_model(BehaviourConfig(window=2), 0), cfg)
    with pytest.raises(ValueError, match="actions"):
        sim.step(np.zeros((4, 7), np.float32))
    with pytest.raises(TypeError, match="model"):
        gym.make(ID, config=SMALL_CFG, model=3)
