"""The K-step rollout collector: on-policy learners (A2C, A3C) updated once per rollout
of K batched env steps, for any domain.

One iteration (:meth:`RolloutCollector.run`)::

    obs = env.reset(seed)
    repeat for each rollout of K steps (``steps`` batched steps in all; the last may be shorter):
        for t in 0 .. K-1:
            action = agent.act(obs, explore)
            next_obs, reward, terminated, truncated, info = env.step(action)
            row_t = hooks.to_batch(env, obs, action, reward, next_obs, terminated, truncated, info)
            valid_t = not (slot was done after the previous step)      (NEXT_STEP autoreset rows)
            metrics.add(row_t[valid_t], B);  keep.append(row_t[valid_t])
            obs = next_obs
        agent.update(rollout)   if learn
    record = metrics.record() + means of the update metrics
             (+ hooks.end_record(env, agent, obs) + agent.end_iteration() if learn)

``rollout`` is a :class:`~simcore.algos.protocol.Batch` with one row per env slot
(B rows): every column of the hooks' per-step batch stacked along a new step axis
((B, K, ...)), plus ``valid`` (bool (B, K)).  The autoreset state carries over from
one rollout to the next (the first row of a rollout may be a reset row).  The hooks are
the step-wise collector's (:class:`simcore.train.steps.StepHooks`), so a domain serves
both collectors with one object.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore.algos.protocol import AgentProtocol, Batch
from simcore.train.steps import StepHooks, _MeanMetrics


def stack_rollout(rows: list[Batch], valid: list[np.ndarray]) -> Batch:
    """K per-step batches of B rows (same columns) -> one Batch of B rows with columns
    (B, K, ...) and ``valid`` (B, K)."""
    if not rows:
        raise ValueError("rows: needs at least one step")
    cols = {k: np.stack([r[k] for r in rows], axis=1) for k in rows[0].keys()}
    cols["valid"] = np.stack(valid, axis=1)
    return Batch(**cols)


class RolloutCollector:
    """The K-step rollout :class:`simcore.train.collector.Collector` (module docstring).

    Args:
        env: a gymnasium vector env with NEXT_STEP autoreset (``num_envs`` slots).
        k: steps per rollout (>= 1).
        steps: batched steps per iteration (>= 1; default k: one rollout).
        hooks: the domain's :class:`~simcore.train.steps.StepHooks`.
    """

    def __init__(self, env: Any, k: int, hooks: StepHooks, steps: int | None = None) -> None:
        for name, v in (("k", k), ("steps", k if steps is None else steps)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        self.env, self.k, self.hooks = env, k, hooks
        self.steps = k if steps is None else steps
        self.num_envs = int(getattr(env, "num_envs", 1))
        self.eval_keys = hooks.eval_keys
        self.progress_key = hooks.progress_key
        #: slot-steps of one iteration: steps x B
        self.steps_per_iteration = self.steps * self.num_envs

    def run(
        self,
        agent: AgentProtocol,
        seed: int,
        *,
        explore: bool = True,
        learn: bool = True,
        keep: list[Batch] | None = None,
        steps: int | None = None,
    ) -> dict[str, Any]:
        """One iteration (module docstring); returns its record."""
        env, hooks = self.env, self.hooks
        stats = hooks.new_metrics(env)
        metrics = _MeanMetrics()
        obs, _ = env.reset(seed=int(seed))
        obs = np.array(obs, copy=True)
        pending = np.zeros(obs.shape[0], dtype=bool)
        left = self.steps if steps is None else int(steps)
        while left > 0:
            rows: list[Batch] = []
            valid: list[np.ndarray] = []
            for _ in range(min(self.k, left)):
                action = np.asarray(agent.act(obs, explore=explore))
                next_obs, reward, terminated, truncated, info = env.step(action)
                row = hooks.to_batch(env, obs, action, reward, next_obs, terminated, truncated, info)
                ok = ~pending
                pending = np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)
                good = row if ok.all() else row.select(ok)
                stats.add(good, env_steps=obs.shape[0])
                if keep is not None:
                    keep.append(good)
                rows.append(row)
                valid.append(ok)
                obs = np.array(next_obs, copy=True)
            left -= len(rows)
            if learn:
                metrics.add(agent.update(stack_rollout(rows, valid)))
        rec = stats.record()
        rec.update(metrics.means())
        if learn:
            rec.update(hooks.end_record(env, agent, obs))
            rec.update(agent.end_iteration())
        return rec
