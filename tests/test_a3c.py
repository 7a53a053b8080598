"""A3C: identical weights at 1 and N gradient threads (the fixed push order), different
seeds differ, W = 1 is exactly A2C, it learns the toy problem, checkpoints load."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from tests.toy_rollout import ToyHooks, ToyVecEnv

from simcore.algos.a2c import A2C, A2CConfig
from simcore.algos.a3c import A3C, A3CConfig
from simcore.train.loop import LoopConfig, train
from simcore.train.rollouts import RolloutCollector

SMALL = A2CConfig(hidden=(32, 32), lr=1e-2, gamma=0.9, seed=3)


def _flat(agent: A2C) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in agent.net.parameters()])


def _trained(workers: int, threads: int, seed: int = 3, iterations: int = 3) -> A3C:
    cfg = A3CConfig(a2c=A2CConfig(hidden=(32, 32), lr=1e-2, gamma=0.9, seed=seed), workers=workers, threads=threads)
    agent = A3C(3, 3, cfg)
    col = RolloutCollector(ToyVecEnv(12, horizon=3), 3, ToyHooks(), steps=6)
    train(agent, col, LoopConfig(iterations=iterations, seed=seed))
    agent.close()
    return agent


def test_identical_at_any_thread_count() -> None:
    one = _flat(_trained(4, 1))
    assert torch.equal(one, _flat(_trained(4, 2)))
    assert torch.equal(one, _flat(_trained(4, 4)))
    assert not torch.equal(one, _flat(_trained(4, 1, seed=4)))
    assert not torch.equal(one, _flat(_trained(2, 1)))  # the schedule matters, the threads do not


def test_identical_when_the_caller_runs_one_intra_op_thread() -> None:
    """torch's intra-op thread count is per OS thread: the workers must take the
    caller's (a regression: with the caller at 1 they ran at the default)."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = _flat(_trained(4, 1))
        assert torch.equal(one, _flat(_trained(4, 2)))
    finally:
        torch.set_num_threads(before)


def test_one_worker_is_a2c() -> None:
    a3c = _trained(1, 1)
    a2c = A2C(3, 3, A2CConfig(hidden=(32, 32), lr=1e-2, gamma=0.9, seed=3))
    train(a2c, RolloutCollector(ToyVecEnv(12, horizon=3), 3, ToyHooks(), steps=6), LoopConfig(iterations=3, seed=3))
    assert torch.equal(_flat(a3c), _flat(a2c))


def test_learns_the_toy_problem() -> None:
    agent = _trained(4, 2, seed=1, iterations=30)
    p = agent.probs(np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32))
    assert p[0].argmax() == 0 and p[1].argmax() == 2


def test_checkpoint_weights_only() -> None:
    a = _trained(3, 1)
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    buf.seek(0)
    b = A3C(3, 3, A3CConfig(a2c=A2CConfig(hidden=(32, 32), lr=1e-2, gamma=0.9, seed=3), workers=3))
    b.load_state_dict(torch.load(buf, weights_only=True))
    assert torch.equal(_flat(a), _flat(b))
    c = A3C(3, 3, A3CConfig(a2c=A2CConfig(hidden=(32, 32), lr=1e-2, gamma=0.9, seed=3), workers=2))
    with pytest.raises(ValueError, match="workers"):
        c.load_state_dict(a.state_dict())


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="workers"):
        A3CConfig(workers=0)
    with pytest.raises(ValueError, match="threads"):
        A3CConfig(threads=0)
    agent = A3C(3, 3, A3CConfig(a2c=SMALL, workers=20))
    with pytest.raises(ValueError, match="env slots"):
        train(agent, RolloutCollector(ToyVecEnv(4, 3), 3, ToyHooks()), LoopConfig(iterations=1))
