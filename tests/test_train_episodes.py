"""The episode-wise collector (simcore.train.episodes) on a tiny fixed-length env."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from simcore.algos.protocol import AgentBase, Batch
from simcore.train.collector import Collector
from simcore.train.episodes import EpisodeCollector, play_episodes


class _CountEnv:
    """B slots, T steps; obs = (step / T, start value); reward = action + start value.
    The start values come from the env's own generator (seeded by reset)."""

    def __init__(self, B: int = 3, T: int = 4) -> None:
        self.num_envs, self.T = B, T
        self.rng = np.random.default_rng(0)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.start = self.rng.random(self.num_envs) if not options else np.asarray(options["start"], float)
        self.k = 0
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        return np.stack([np.full(self.num_envs, self.k / self.T), self.start], axis=1).astype(np.float32)

    def step(self, action: np.ndarray):
        self.k += 1
        done = np.full(self.num_envs, self.k >= self.T)
        return self._obs(), action + self.start, done, np.zeros(self.num_envs, bool), {"k": self.k}


class _Agent(AgentBase):
    name = "ones"

    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self.iterations = 0

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        return np.full(obs.shape[0], 1 if explore else 0, np.int64)

    def update(self, batch: Batch) -> dict[str, float]:
        self.batches.append(batch)
        return {"rows": float(len(batch))}

    def end_iteration(self) -> dict[str, float]:
        self.iterations += 1
        return {"iterations": float(self.iterations)}


def test_play_episodes_batch_layout():
    env = _CountEnv(B=3, T=4)
    batch, info = play_episodes(env, _Agent(), 4, seed=1)
    assert len(batch) == 4 and batch.keys() == ["obs", "action", "reward", "next_obs", "done"]
    assert batch.obs.shape == (4, 3, 2) and batch.obs.dtype == np.float32
    assert batch.action.shape == (4, 3) and batch.reward.shape == (4, 3) and batch.done.dtype == bool
    np.testing.assert_array_equal(batch.done, np.array([[0] * 3] * 3 + [[1] * 3], bool))
    np.testing.assert_array_equal(batch.obs[1:], batch.next_obs[:-1])
    np.testing.assert_allclose(batch.reward, 1 + np.tile(batch.obs[0, :, 1], (4, 1)), rtol=1e-6)
    assert info == {"k": 4}
    with pytest.raises(ValueError, match="not ended"):
        play_episodes(env, _Agent(), 3, seed=1)
    with pytest.raises(ValueError, match="length"):
        play_episodes(env, _Agent(), 0)


def test_collector_record_learn_keep_and_hook():
    env = _CountEnv(B=3, T=4)
    hook = lambda batch, info: {"last_k": info["k"], "first_reward": batch.reward[0].mean()}  # noqa: E731
    col = EpisodeCollector(env, 4, hook)
    proto: Collector = col  # static check: the Collector protocol
    assert proto.steps_per_iteration == 12
    agent, keep = _Agent(), []
    rec = col.run(agent, 5, keep=keep)
    assert len(keep) == 1 and agent.batches[0] is keep[0]
    assert rec["return"] == pytest.approx(float(keep[0].reward.sum(axis=0).mean()))
    assert rec["last_k"] == 4.0 and rec["rows"] == 4.0 and rec["iterations"] == 1.0
    # no learning: no update, no end_iteration; greedy actions
    ev = col.run(agent, 5, explore=False, learn=False)
    assert set(ev) == {"return", "last_k", "first_reward"} and len(agent.batches) == 1
    assert ev["return"] == pytest.approx(rec["return"] - 4.0)  # the same starts (seed 5), action 0


def test_collector_seeding():
    a = EpisodeCollector(_CountEnv(), 4).run(_Agent(), 3)
    b = EpisodeCollector(_CountEnv(), 4).run(_Agent(), 3)
    c = EpisodeCollector(_CountEnv(), 4).run(_Agent(), 4)
    assert a == b and a["return"] != c["return"]
    # reseed=False: the seed is ignored and the env's stream continues
    env = _CountEnv()
    env.reset(seed=3)
    col = EpisodeCollector(env, 4, reseed=False)
    r1, r2 = col.run(_Agent(), 0), col.run(_Agent(), 0)
    assert r1["return"] != r2["return"]
    env2 = _CountEnv()
    env2.reset(seed=3)
    assert EpisodeCollector(env2, 4, reseed=False).run(_Agent(), 99) == r1
    # options are passed to every reset
    fixed = EpisodeCollector(_CountEnv(B=2), 4, options={"start": [0.0, 1.0]}).run(_Agent(), 0, learn=False)
    assert fixed["return"] == pytest.approx(4 + 2.0)


def test_shared_loop_drives_the_collector():
    from simcore.train.loop import LoopConfig, evaluate, iteration_seed, train

    agent = _Agent()
    hist = train(agent, EpisodeCollector(_CountEnv(), 4), LoopConfig(iterations=3, seed=2))
    assert [h["iteration"] for h in hist] == [0, 1, 2] and agent.iterations == 3
    direct = EpisodeCollector(_CountEnv(), 4).run(_Agent(), iteration_seed(LoopConfig(iterations=3, seed=2), 1))
    assert hist[1]["return"] == direct["return"]  # iteration i runs on its named stream
    ev = evaluate(agent, EpisodeCollector(_CountEnv(), 4), 4, seed=0)
    assert set(ev) == {"return"} and agent.iterations == 3
    with pytest.raises(ValueError, match="steps"):
        evaluate(agent, EpisodeCollector(_CountEnv(), 4), 30, seed=0)
