"""The one training loop: any agent (:class:`simcore.algos.protocol.AgentProtocol`) on
any env, through a collector (:class:`simcore.train.collector.Collector`: the
step-wise one in :mod:`simcore.train.steps`, the episode-wise one in
:mod:`simcore.train.episodes`), which knows the domain.

Training runs in *iterations*.  Iteration i calls ``collector.run(agent, iteration_seed(config, i))``
(the collector resets its env with that seed, gathers experience and updates the
agent), and logs the record it returns, with ``iteration`` first.  Because every
iteration re-seeds the env and the agent carries all its random state in
``state_dict``, a run resumed from the checkpoint written after iteration i
continues bit-identically to an uninterrupted run (``tests/test_train_loop.py``
checks it).

Every ``eval_every`` iterations the greedy policy is evaluated (``explore=False``, no
learning) with a fixed seed, and the evaluation record's fields (those in the
collector's ``eval_keys`` if it has them, else all) are added as ``eval_<key>``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simcore.algos.protocol import AgentProtocol, Batch
from simcore.train.checkpoint import load_checkpoint, save_checkpoint
from simcore.train.collector import Collector
from simcore.util.progress import Progress
from simcore.util.seeds import SeedTree

#: a collector, or a function iteration -> collector (a schedule, e.g. a shift of the
#: users' behaviour mid-run)
CollectorSource = Collector | Callable[[int], Collector]


def iteration_seed(config: LoopConfig, iteration: int) -> int:
    """The env seed of training iteration ``iteration``: the named stream
    ``("iteration", i)`` of ``SeedTree(config.seed)``."""
    return SeedTree(config.seed).seed("iteration", int(iteration))


@dataclass(frozen=True)
class LoopConfig:
    """Settings of :func:`train`.

    Attributes:
        iterations: total iterations (>= 1; a resumed run continues up to this number).
        seed: root of the run's streams: iteration i runs its collector with
            ``SeedTree(seed).seed("iteration", i)`` (:func:`iteration_seed`; >= 0).
        checkpoint_path: where to save checkpoints (None: never).
        checkpoint_every: save after every this many iterations (>= 0; 0: only at the
            end when ``checkpoint_path`` is set).
        eval_every: every this many iterations (and after the last), evaluate the
            greedy policy (``explore=False``) and add ``eval_*`` fields to the record
            (>= 0; 0: never).  The evaluation re-seeds the env with ``eval_seed``
            (common random numbers across iterations and agents) and uses no agent
            randomness, so it does not change training (except for agents whose greedy
            policy is itself random, such as RandomWeights).
        eval_steps: steps of each evaluation (>= 1; batched env steps for the
            step-wise collector).
        eval_seed: env seed of every evaluation (>= 0; None: the named stream
            ``SeedTree(seed).seed("eval")``).
        progress: show a progress bar.
        desc: progress-bar label.
    """

    iterations: int = 20
    seed: int = 0
    checkpoint_path: str | None = None
    checkpoint_every: int = 0
    eval_every: int = 0
    eval_steps: int = 30
    eval_seed: int | None = None
    progress: bool = False
    desc: str = "train"

    def __post_init__(self) -> None:
        if not isinstance(self.iterations, int) or isinstance(self.iterations, bool) or self.iterations < 1:
            raise ValueError(f"iterations: must be an integer >= 1, got {self.iterations!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: must be a non-negative integer, got {self.seed!r}")
        if self.eval_seed is None:
            object.__setattr__(self, "eval_seed", SeedTree(self.seed).seed("eval"))
        for name in ("checkpoint_every", "eval_every", "eval_seed"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{name}: must be an integer >= 0, got {v!r}")
        if not isinstance(self.eval_steps, int) or self.eval_steps < 1:
            raise ValueError(f"eval_steps: must be an integer >= 1, got {self.eval_steps!r}")


def _collector_at(source: CollectorSource, iteration: int) -> Collector:
    if hasattr(source, "run"):
        return source  # type: ignore[return-value]
    if callable(source):
        col = source(iteration)
        if hasattr(col, "run"):
            return col
    raise TypeError(
        f"collector: expected a Collector (with .run) or a function iteration -> Collector, got "
        f"{type(source).__name__} (wrap an env: simcore.domains.search.training.search_collector(env, steps))"
    )


def _run(collector: Collector, agent: AgentProtocol, seed: int, steps: int | None, **kw: Any) -> dict[str, Any]:
    if steps is None:
        return collector.run(agent, seed, **kw)
    return collector.run(agent, seed, steps=steps, **kw)  # type: ignore[call-arg]


def _resume(agent: AgentProtocol, path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], int]:
    ckpt = load_checkpoint(path)
    if ckpt["agent_name"] != agent.name:
        raise ValueError(f"resume_from: checkpoint is for agent {ckpt['agent_name']!r}, not {agent.name!r}")
    agent.load_state_dict(ckpt["agent"])
    return list(ckpt["history"]), int(ckpt["iteration"])


def _due(every: int, done: int, total: int) -> bool:
    return bool(every) and (done % every == 0 or done == total)


def train(
    agent: AgentProtocol,
    collector: CollectorSource,
    config: LoopConfig,
    resume_from: str | os.PathLike[str] | None = None,
    on_iteration: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Trains ``agent`` and returns the per-iteration records.

    Args:
        agent: any agent.
        collector: a :class:`Collector`, or a function iteration -> Collector.
        config: :class:`LoopConfig`.
        resume_from: a checkpoint written by this loop; training continues after its
            last iteration, with its history, up to ``config.iterations``.
        on_iteration: called with each new record.
    """
    history: list[dict[str, Any]] = []
    start = 0
    if resume_from is not None:
        history, start = _resume(agent, resume_from)
    first = _collector_at(collector, start)
    bar = Progress((config.iterations - start) * first.steps_per_iteration, desc=config.desc,
                   unit="steps", enabled=config.progress)
    try:
        for it in range(start, config.iterations):
            col = first if it == start else _collector_at(collector, it)
            rec: dict[str, Any] = {"iteration": it}
            rec.update(col.run(agent, iteration_seed(config, it)))
            done = it + 1
            if _due(config.eval_every, done, config.iterations):
                ev = evaluate(agent, col, config.eval_steps, config.eval_seed)
                keys = getattr(col, "eval_keys", None)
                for k in (ev if keys is None else keys):
                    rec["eval_" + k] = ev[k]
            history.append(rec)
            if on_iteration is not None:
                on_iteration(rec)
            key = getattr(col, "progress_key", None)
            bar.update(col.steps_per_iteration, postfix=f"{key} {rec[key]:.2f}" if key in rec else "")
            if config.checkpoint_path is not None and (
                _due(config.checkpoint_every, done, config.iterations) or done == config.iterations
            ):
                save_checkpoint(config.checkpoint_path, agent, done, history)
    finally:
        bar.close()
    return history


def evaluate(agent: AgentProtocol, collector: Collector, steps: int | None, seed: int) -> dict[str, Any]:
    """The agent's greedy policy (``explore=False``, no learning) for ``steps`` steps
    (None: the collector's own) after a reset with ``seed``: the collector's record."""
    return _run(collector, agent, seed, steps, explore=False, learn=False)


def collect(
    agent: Any, collector: Collector, steps: int | None, seed: int, explore: bool = True
) -> tuple[Batch, dict[str, Any]]:
    """Logged experience: all valid rows of ``steps`` steps (None: the collector's own)
    of ``agent`` (no learning; it needs only ``act``) and the run's record.  Used to
    fit LTR and outcome models."""
    keep: list[Batch] = []
    rec = _run(collector, agent, seed, steps, explore=explore, learn=False, keep=keep)
    return Batch.concat(keep), rec
