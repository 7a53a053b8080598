"""The one training loop: any :class:`simcore.algos.base.Agent` on the C++-batched
search-session vector env (``gymnasium.make_vec("simcore/SearchSession-v0", ...)``).

Training runs in *iterations*.  Iteration i starts with ``env.reset(seed=seed + i)``,
takes ``steps_per_iteration`` batched steps (act -> env.step -> update), then calls
``agent.end_iteration()`` and logs one record.  Because every iteration re-seeds the
env and the agent carries all its random state in ``state_dict``, a run resumed from
the checkpoint written after iteration i continues bit-identically to an
uninterrupted run (``tests/test_train_loop.py`` checks it).

NEXT_STEP autoreset: a slot whose session ended is reset on the next step, which
reports ``info["outcome"] == -1`` and whose (s, a, r, s') is not a transition of the
MDP; those rows are dropped before ``agent.update``.  Sessions still running at an
iteration boundary are cut by the reset (their last transition bootstraps normally).

Per-iteration record (all floats unless noted):
    iteration (int), env_steps (int: slot-steps incl. autoreset rows), pages (int),
    sessions (int: sessions that ended), gmv_per_session (purchase prices / ended
    sessions), ctr (clicks / items shown), clicks_per_session, conversion (purchases /
    ended sessions), reward_per_page, mean_action (m: weights actually used, exploration
    included), mean_action_by_segment (G x m), greedy_action and
    greedy_action_by_segment (the greedy policy ``act(obs, explore=False)`` on the B
    states reached at the end of the iteration: the weight trajectories of the
    article's figures; None for a segment absent from them), plus the means of the
    agent's update metrics and its end_iteration metrics.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Union

import numpy as np

from simcore.algos.base import Agent, Transition
from simcore.train.checkpoint import load_checkpoint, save_checkpoint
from simcore.util.progress import Progress

EnvSource = Union[Any, Callable[[int], Any]]


@dataclass(frozen=True)
class LoopConfig:
    """Settings of :func:`train`.

    Attributes:
        iterations: total iterations (a resumed run continues up to this number).
        steps_per_iteration: batched env steps per iteration.
        seed: iteration i resets the env with ``seed + i``.
        checkpoint_path: where to save checkpoints (None: never).
        checkpoint_every: save after every this many iterations (0: only at the end
            when ``checkpoint_path`` is set).
        eval_every: every this many iterations (and after the last), evaluate the
            greedy policy (``explore=False``) and add ``eval_*`` fields to the
            record (0: never).  The evaluation re-seeds the env with ``eval_seed``
            (common random numbers across iterations and agents) and uses no agent
            randomness, so it does not change training (except for agents whose
            greedy policy is itself random, such as RandomWeights).
        eval_steps: batched steps of each evaluation.
        eval_seed: env seed of every evaluation.
        progress: show a progress bar.
        desc: progress-bar label.
    """

    iterations: int = 20
    steps_per_iteration: int = 100
    seed: int = 0
    checkpoint_path: str | None = None
    checkpoint_every: int = 0
    eval_every: int = 0
    eval_steps: int = 30
    eval_seed: int = 1_000_000
    progress: bool = False
    desc: str = "train"

    def __post_init__(self) -> None:
        for name in ("iterations", "steps_per_iteration"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: must be a non-negative integer, got {self.seed!r}")
        for name in ("checkpoint_every", "eval_every", "eval_seed"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{name}: must be an integer >= 0, got {v!r}")
        if not isinstance(self.eval_steps, int) or self.eval_steps < 1:
            raise ValueError(f"eval_steps: must be an integer >= 1, got {self.eval_steps!r}")


class _Stats:
    """Accumulates business metrics over the valid rows of an iteration."""

    def __init__(self, m: int, G: int) -> None:
        self.env_steps = 0
        self.pages = 0
        self.sessions = 0
        self.gmv = 0.0
        self.purchases = 0
        self.clicks = 0
        self.impressions = 0
        self.reward = 0.0
        self.action_sum = np.zeros(m)
        self.seg_action_sum = np.zeros((G, m))
        self.seg_count = np.zeros(G)
        self.metric_sums: dict[str, float] = {}
        self.metric_counts: dict[str, int] = {}

    def add(self, batch: Transition, env_steps: int) -> None:
        self.env_steps += env_steps
        n = len(batch)
        self.pages += n
        self.sessions += int(batch.done.sum())
        self.gmv += float(batch.price.sum())
        self.purchases += int((batch.outcome == 1).sum())
        self.clicks += int(batch.clicks.sum())
        self.impressions += int(batch.page_mask.sum())
        self.reward += float(batch.reward.sum())
        a = batch.action.astype(np.float64)
        self.action_sum += a.sum(axis=0)
        np.add.at(self.seg_action_sum, batch.segment, a)
        self.seg_count += np.bincount(batch.segment, minlength=self.seg_count.shape[0])

    def add_metrics(self, metrics: dict[str, float]) -> None:
        for k, v in metrics.items():
            self.metric_sums[k] = self.metric_sums.get(k, 0.0) + float(v)
            self.metric_counts[k] = self.metric_counts.get(k, 0) + 1

    def record(self) -> dict[str, Any]:
        s = max(self.sessions, 1)
        rec: dict[str, Any] = {
            "env_steps": self.env_steps,
            "pages": self.pages,
            "sessions": self.sessions,
            "gmv_per_session": self.gmv / s if self.sessions else float("nan"),
            "ctr": self.clicks / self.impressions if self.impressions else float("nan"),
            "clicks_per_session": self.clicks / s if self.sessions else float("nan"),
            "conversion": self.purchases / s if self.sessions else float("nan"),
            "reward_per_page": self.reward / self.pages if self.pages else float("nan"),
            "mean_action": (self.action_sum / max(self.pages, 1)).tolist(),
            "mean_action_by_segment": (
                self.seg_action_sum / np.maximum(self.seg_count, 1)[:, None]
            ).tolist(),
        }
        for k, v in self.metric_sums.items():
            rec[k] = v / self.metric_counts[k]
        return rec


def _sim(env: Any) -> Any:
    sim = getattr(env, "sim", None)
    if sim is None or not hasattr(sim, "world"):
        raise TypeError(
            "env: expected simcore's SearchSessionVectorEnv (gymnasium.make_vec("
            "'simcore/SearchSession-v0', ...)) with a .sim attribute"
        )
    return sim


def make_transition(
    sim: Any,
    obs: np.ndarray,
    action: np.ndarray,
    reward: np.ndarray,
    next_obs: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    info: dict[str, np.ndarray],
) -> Transition:
    """The valid rows of one vector-env step as a :class:`Transition` (copies).

    Rows with ``info["outcome"] == -1`` (NEXT_STEP autoreset) are dropped.  Must be
    called right after the step (it reads the slots' users and step counters).
    """
    valid = np.asarray(info["outcome"]) != -1
    idx = np.flatnonzero(valid)
    users = sim.users()
    query = np.asarray(users["query"])[idx]
    segment = np.asarray(users["segment"], dtype=np.int64)[idx]
    steps_taken = np.asarray(sim.steps_taken(), dtype=np.int64)[idx]
    page = np.asarray(info["page"])[idx]
    mask = page >= 0
    safe = np.where(mask, page, 0)
    world = sim.world
    X = world.features[query[:, None], safe] * mask[..., None]
    item_prices = np.where(mask, world.prices[query[:, None], safe], 0.0)
    outcome = np.asarray(info["outcome"])[idx]
    item = np.asarray(info["item"])[idx]
    purchased = mask & (page == item[:, None]) & (outcome == 1)[:, None]
    return Transition(
        obs=np.array(obs[idx], dtype=np.float32),
        action=np.array(action[idx], dtype=np.float32),
        reward=np.array(reward[idx], dtype=np.float64),
        next_obs=np.array(next_obs[idx], dtype=np.float32),
        terminated=np.array(terminated[idx], dtype=bool),
        truncated=np.array(truncated[idx], dtype=bool),
        last_page=steps_taken >= sim.horizon,
        outcome=outcome.astype(np.int8),
        price=np.array(info["price"][idx], dtype=np.float64),
        page_features=X.astype(np.float32),
        page_mask=mask,
        clicks=np.array(info["clicks"][idx], dtype=bool) & mask,
        purchased=purchased,
        item_prices=item_prices.astype(np.float64),
        b=np.array(info["b"][idx], dtype=np.float64),
        l=np.array(info["l"][idx], dtype=np.float64),
        c=np.array(info["c"][idx], dtype=np.float64),
        m=np.array(info["m"][idx], dtype=np.float64),
        expected_clicks=np.array(info["expected_clicks"][idx], dtype=np.float64),
        slot=idx.astype(np.int64),
        segment=segment,
    )


def run_iteration(
    agent: Agent,
    env: Any,
    seed: int,
    steps: int,
    explore: bool = True,
    learn: bool = True,
    keep: list[Transition] | None = None,
) -> dict[str, Any]:
    """One iteration: reset with ``seed``, ``steps`` batched steps, optional learning.

    Args:
        keep: if given, every valid :class:`Transition` batch is appended to it.

    Returns:
        the iteration's record (see the module docstring), without ``iteration``.
    """
    sim = _sim(env)
    G = int(sim.world.segment_probs.shape[0])
    stats = _Stats(sim.num_features, G)
    obs, _ = env.reset(seed=int(seed))
    obs = np.array(obs, copy=True)
    for _ in range(steps):
        action = np.asarray(agent.act(obs, explore=explore))
        next_obs, reward, terminated, truncated, info = env.step(action)
        batch = make_transition(sim, obs, action, reward, next_obs, terminated, truncated, info)
        stats.add(batch, env_steps=obs.shape[0])
        if keep is not None:
            keep.append(batch)
        if learn and len(batch):
            stats.add_metrics(agent.update(batch))
        obs = np.array(next_obs, copy=True)
    rec = stats.record()
    if learn:
        greedy = np.asarray(agent.act(obs, explore=False), dtype=np.float64)
        seg = np.asarray(sim.users()["segment"], dtype=np.int64)
        counts = np.bincount(seg, minlength=G)
        sums = np.zeros((G, greedy.shape[1]))
        np.add.at(sums, seg, greedy)
        rec["greedy_action"] = greedy.mean(axis=0).tolist()
        rec["greedy_action_by_segment"] = [
            (sums[g] / counts[g]).tolist() if counts[g] else None for g in range(G)
        ]
        rec.update(agent.end_iteration())
    return rec


def _env_at(env: EnvSource, iteration: int) -> Any:
    return env(iteration) if callable(env) and not hasattr(env, "step") else env


def train(
    agent: Agent,
    env: EnvSource,
    config: LoopConfig,
    resume_from: str | os.PathLike[str] | None = None,
    on_iteration: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Trains ``agent`` and returns the per-iteration records.

    Args:
        agent: any :class:`Agent`.
        env: the vector env, or a function iteration -> vector env (a schedule, e.g. a
            user-behaviour shift mid-run).
        config: :class:`LoopConfig`.
        resume_from: a checkpoint written by this loop; training continues after its
            last iteration, with its history, up to ``config.iterations``.
        on_iteration: called with each new record.
    """
    history: list[dict[str, Any]] = []
    start = 0
    if resume_from is not None:
        ckpt = load_checkpoint(resume_from)
        if ckpt["agent_name"] != agent.name:
            raise ValueError(
                f"resume_from: checkpoint is for agent {ckpt['agent_name']!r}, not {agent.name!r}"
            )
        agent.load_state_dict(ckpt["agent"])
        history = list(ckpt["history"])
        start = int(ckpt["iteration"])
    first_env = _env_at(env, start)
    B = int(getattr(first_env, "num_envs", 1))
    bar = Progress(
        (config.iterations - start) * config.steps_per_iteration * B,
        desc=config.desc,
        unit="steps",
        enabled=config.progress,
    )
    try:
        for it in range(start, config.iterations):
            e = first_env if it == start else _env_at(env, it)
            rec = {"iteration": it}
            rec.update(run_iteration(agent, e, config.seed + it, config.steps_per_iteration))
            done = it + 1
            if config.eval_every and (done % config.eval_every == 0 or done == config.iterations):
                ev = evaluate(agent, e, config.eval_steps, config.eval_seed)
                for k in ("gmv_per_session", "ctr", "clicks_per_session", "conversion", "sessions",
                          "mean_action", "mean_action_by_segment"):
                    rec["eval_" + k] = ev[k]
            history.append(rec)
            if on_iteration is not None:
                on_iteration(rec)
            bar.update(
                config.steps_per_iteration * int(getattr(e, "num_envs", B)),
                postfix=f"gmv/session {rec['gmv_per_session']:.2f}",
            )
            if config.checkpoint_path is not None and (
                (config.checkpoint_every and done % config.checkpoint_every == 0)
                or done == config.iterations
            ):
                save_checkpoint(config.checkpoint_path, agent, done, history)
    finally:
        bar.close()
    return history


def evaluate(agent: Agent, env: Any, steps: int, seed: int) -> dict[str, Any]:
    """The agent's greedy policy (``explore=False``, no learning) on ``steps`` batched
    steps after ``env.reset(seed=seed)``: the record of :func:`run_iteration`."""
    return run_iteration(agent, env, seed, steps, explore=False, learn=False)


def collect(
    agent: Agent, env: Any, steps: int, seed: int, explore: bool = True
) -> tuple[Transition, dict[str, Any]]:
    """Logged sessions: all valid transitions of ``steps`` batched steps of ``agent``
    (no learning) and the run's record.  Used to fit LTR and outcome models."""
    keep: list[Transition] = []
    rec = run_iteration(agent, env, seed, steps, explore=explore, learn=False, keep=keep)
    return Transition.concat(keep), rec
