"""The step-wise collector: ``steps`` batched env steps per iteration, the agent updated
after every step (off-policy and TD learners), for any domain.

One iteration (:meth:`StepCollector.run`)::

    obs = env.reset(seed)
    repeat steps times:
        action = agent.act(obs, explore)
        next_obs, reward, terminated, truncated, info = env.step(action)
        batch = hooks.to_batch(env, obs, action, reward, next_obs, terminated, truncated, info)
        batch = batch without the NEXT_STEP autoreset rows
        metrics.add(batch, B);  keep.append(batch);  agent.update(batch) if learn
        obs = next_obs
    record = metrics.record() + means of the update metrics
             (+ hooks.end_record(env, agent, obs) + agent.end_iteration() if learn)

NEXT_STEP autoreset (gymnasium's vector-env default): a slot whose episode ended
(terminated or truncated) is reset by the *next* step, whose row is then no
transition of the MDP; the collector drops exactly those rows (the slots that were
done after the previous step).  Episodes still running at an iteration boundary are
cut by the next reset (their last transition bootstraps normally).

Page budget (``pages``): instead of a fixed number of batched steps, an iteration can
step until exactly ``pages`` *real* rows (transitions that are not autoreset rows) have
been collected: the last step's batch is cut to the first rows (in slot order) still
needed, the rest of that step is discarded (neither learned from nor counted), so the
iteration's ``pages`` equals the budget exactly (no overshoot).  ``env_steps`` still
counts every slot-step simulated, cut and autoreset rows included.

The domain supplies :class:`StepHooks`: how a step becomes a :class:`Batch` (all B
rows, in slot order), which business metrics an iteration reports, and what is
recorded at the iteration's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from simcore.algos.protocol import AgentProtocol, Batch


class MetricsAccumulator(Protocol):
    """Accumulates a domain's metrics over the valid rows of one iteration."""

    def add(self, batch: Batch, env_steps: int) -> None:
        """Adds the valid rows of one step (``env_steps``: slot-steps incl. dropped rows)."""
        ...

    def record(self) -> dict[str, Any]:
        """The iteration's metrics (plain values)."""
        ...


class StepHooks(Protocol):
    """What a domain tells the step-wise collector."""

    #: record keys copied as ``eval_<key>`` by the training loop's evaluations (None: all)
    eval_keys: Sequence[str] | None
    #: record key shown in the progress bar (None: nothing)
    progress_key: str | None

    def to_batch(self, env: Any, obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
                 next_obs: np.ndarray, terminated: np.ndarray, truncated: np.ndarray,
                 info: dict[str, Any]) -> Batch:
        """All B rows of one step as a Batch (copies), called right after ``env.step``."""
        ...

    def new_metrics(self, env: Any) -> MetricsAccumulator:
        """A fresh accumulator for one iteration on ``env``."""
        ...

    def end_record(self, env: Any, agent: AgentProtocol, obs: np.ndarray) -> dict[str, Any]:
        """Extra record fields at the end of a learning iteration (``obs``: the B states
        reached)."""
        ...


class _MeanMetrics:
    """Running means of the agent's update metrics (a key counts where reported)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, metrics: dict[str, float]) -> None:
        for k, v in metrics.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v)
            self.counts[k] = self.counts.get(k, 0) + 1

    def means(self) -> dict[str, float]:
        return {k: v / self.counts[k] for k, v in self.sums.items()}


class StepCollector:
    """The step-wise :class:`simcore.train.collector.Collector` (module docstring).

    Args:
        env: a gymnasium vector env with NEXT_STEP autoreset (``num_envs`` slots).
        steps: batched steps per iteration (>= 1).
        hooks: the domain's :class:`StepHooks`.
        pages: if given (integer >= 1), a :meth:`run` without an explicit ``steps``
            collects exactly this many real pages instead of
            ``steps`` batched steps (module docstring, "Page budget").
    """

    def __init__(self, env: Any, steps: int, hooks: StepHooks, pages: int | None = None) -> None:
        for name, v in (("steps", steps), ("pages", 1 if pages is None else pages)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        self.env, self.steps, self.hooks, self.pages = env, steps, hooks, pages
        self.num_envs = int(getattr(env, "num_envs", 1))
        self.eval_keys = hooks.eval_keys
        self.progress_key = hooks.progress_key

    @property
    def steps_per_iteration(self) -> int:
        """Slot-steps of one iteration: steps x B (the page budget if one is set)."""
        return self.steps * self.num_envs if self.pages is None else self.pages

    def run(
        self,
        agent: AgentProtocol,
        seed: int,
        *,
        explore: bool = True,
        learn: bool = True,
        keep: list[Batch] | None = None,
        steps: int | None = None,
        pages: int | None = None,
    ) -> dict[str, Any]:
        """One iteration: reset with ``seed``, then batched steps, the agent updated after
        each if ``learn``; every valid batch appended to ``keep`` if given.  It runs
        ``pages`` real pages if given, else ``steps`` batched steps if given, else the
        collector's page budget if it has one, else ``self.steps`` steps (the training
        loop's evaluations pass ``steps``, so they keep their fixed length).  Returns the
        iteration's record (module docstring)."""
        if pages is None and steps is None:
            pages = self.pages
        if pages is not None and (not isinstance(pages, int) or isinstance(pages, bool) or pages < 1):
            raise ValueError(f"pages: must be an integer >= 1, got {pages!r}")
        n_steps = self.steps if steps is None else int(steps)
        env, hooks = self.env, self.hooks
        stats = hooks.new_metrics(env)
        metrics = _MeanMetrics()
        obs, _ = env.reset(seed=int(seed))
        obs = np.array(obs, copy=True)
        pending_reset = np.zeros(obs.shape[0], dtype=bool)
        done_steps = real = 0
        while (real < pages) if pages is not None else (done_steps < n_steps):
            action = np.asarray(agent.act(obs, explore=explore))
            next_obs, reward, terminated, truncated, info = env.step(action)
            batch = hooks.to_batch(env, obs, action, reward, next_obs, terminated, truncated, info)
            if pending_reset.any():
                batch = batch.select(~pending_reset)
            if pages is not None and real + len(batch) > pages:
                batch = batch.select(np.arange(pages - real))  # the budget's last pages only
            pending_reset = np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)
            stats.add(batch, env_steps=obs.shape[0])
            real += len(batch)
            done_steps += 1
            if keep is not None:
                keep.append(batch)
            if learn and len(batch):
                metrics.add(agent.update(batch))
            obs = np.array(next_obs, copy=True)
        rec = stats.record()
        rec.update(metrics.means())
        if learn:
            rec.update(hooks.end_record(env, agent, obs))
            rec.update(agent.end_iteration())
        return rec
