"""MAIL (issue 12): rollouts of the user model in the learned simulator, reward-to-go,
and MAIL on a tiny known problem (a teacher behaviour model generates the log, a
student with a wrong leave bias is corrected towards it)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from simcore.domains.search.config import SessionConfig  # noqa: E402
from simcore.domains.search.world import default_action_set, make_world  # noqa: E402
from simcore.domains.virtual_taobao.mail import MAILConfig, generate_sessions, reward_to_go, train_mail  # noqa: E402
from simcore.domains.virtual_taobao.model import BehaviourConfig, seeded_model  # noqa: E402

SC = SessionConfig.from_dict({"world": {"n_queries": 4, "n_items": 60}})


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _users(n, seed):
    rng = np.random.default_rng(seed)
    return {"query": rng.integers(0, 4, n), "segment": rng.integers(0, 4, n).astype(np.int32),
            "power": rng.random(n)}


def _teacher():
    model = seeded_model(BehaviourConfig(hidden=8), 5)
    with torch.no_grad():
        model.outcome[-1].bias.copy_(torch.tensor([1.5, -1.0, 0.0]))  # continue / buy / leave
    return model


def test_generate_sessions_is_a_consistent_log():
    world = make_world(SC.world)
    users = _users(200, 0)
    mean = default_action_set(8)[0]
    g = generate_sessions(_teacher(), SC, world, users, mean, 0.1, seed=3)
    g2 = generate_sessions(_teacher(), SC, world, users, mean, 0.1, seed=3)
    assert np.array_equal(g.outcome, g2.outcome) and np.array_equal(g.features, g2.features)
    assert np.unique(g.session).size == 200
    for s in range(200):
        rows = np.flatnonzero(g.session == s)
        assert np.array_equal(g.page[rows], np.arange(rows.size))
        assert (g.outcome[rows[:-1]] == 0).all()  # only the last page ends the session
        assert g.outcome[rows[-1]] > 0 or rows.size == g.horizon
        assert g.query[rows[0]] == users["query"][s]
    buy = g.outcome == 1
    assert (g.bought[buy] >= 0).all() and (g.bought[~buy] == -1).all()
    # the window of a page holds the previous pages of its session
    r = np.flatnonzero(g.page >= 1)[0]
    assert g.window[r, 1] == r - 1


def test_reward_to_go():
    r = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    s = np.array([0, 0, 0, 1, 1])
    assert np.allclose(reward_to_go(r, s), [6.0, 5.0, 3.0, 9.0, 5.0])


def test_mail_moves_a_wrong_student_towards_the_teacher():
    world = make_world(SC.world)
    mean = default_action_set(8)[0]
    log = generate_sessions(_teacher(), SC, world, _users(1500, 1), mean, 0.1, seed=4)
    student = _teacher()
    with torch.no_grad():
        student.outcome[-1].bias.copy_(torch.tensor([1.5, -1.0, 1.5]))  # leaves far too often
    def length(model):
        return len(generate_sessions(model, SC, world, _users(1500, 2), mean, 0.1, seed=9)) / 1500
    target, before = len(log) / 1500, length(student)
    rewards = train_mail(log, student, SC, world, mean, MAILConfig(iterations=25, sessions=256, lr=1e-3, seed=0))
    after = length(student)
    assert len(rewards) == 25 and np.isfinite(rewards).all()
    assert abs(after - target) < 0.6 * abs(before - target), (target, before, after)
