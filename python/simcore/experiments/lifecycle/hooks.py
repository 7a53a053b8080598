"""Collector hooks of the lifecycle learners (:class:`simcore.train.steps.StepHooks`,
served to :class:`simcore.train.rollouts.RolloutCollector`).

A step's rows: obs, action (the *requested* action: the policy's decision; a blocked
one ran as do-nothing, part of the dynamics), reward, next_obs, terminated, truncated,
cost (what the budget price is on), plus spend / value / converted / clicked / touched
for the metrics.

* reward: ``objective="ltv"``: value - cost (dollars, the simulator's reward);
  ``"conv"``: 1 for a conversion (offer converted or club joined), else 0.  With
  ``expected=True`` (the experiment's default) the learner gets the step's exact
  conditional expectation instead, E[value - cost | state, action] or P(convert |
  state, action) (the simulator's ``expected_value - expected_cost`` / ``p_convert``
  of the applied action): the same expected return, without the purchase and funnel
  draws' noise (Rao-Blackwellisation; the state's later evolution stays sampled).  The
  budget price of :class:`~simcore.algos.a2c.A2C` subtracts mu * cost from either.
* cost (what the price is on): ``price_on="spend"`` (default): the realised cost of
  the day (what the simulator's budget grants: a requested action runs only if its
  realised cost fits the budget left), cost_limit budget_per_user / horizon_days;
  ``"reservation"``: the worst-case cost of the requested action
  (``sim.worst_cost()[a]``, 0 for do nothing), cost_limit budget_per_user.
* all actions (``A2CConfig.all_actions``): with :class:`ExpectationsVectorEnv` the rows
  also carry ``reward_all`` / ``cost_all`` (B, A): the exact expected reward (value -
  cost, or P(convert)) and cost of every action in the state the action was taken in
  (``sim.expectations_all()`` before the step), for A2C's all-action immediate term.
* the activity's last day ends the objective (LTV over the activity, the horizon in the
  observation), so it is a *termination* for learning (no bootstrap from a state the
  next activity never continues).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from simcore.algos.protocol import Batch
from simcore.domains.lifecycle.env import LifecycleVectorEnv

OBJECTIVES = ("ltv", "conv")
PRICE_ON = ("reservation", "spend")


class ExpectationsVectorEnv(LifecycleVectorEnv):
    """:class:`LifecycleVectorEnv` whose step info also holds the exact expectations of
    every action in the pre-step state: ``expected_reward_all``, ``expected_cost_all``,
    ``p_convert_all`` float64 (B, A) (budget not applied; stale on an autoreset step,
    whose row no learner uses)."""

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        e = self.sim.expectations_all()
        obs, reward, terminated, truncated, info = super().step(actions)
        info.update(expected_reward_all=e["expected_reward"], expected_cost_all=e["expected_cost"],
                    p_convert_all=e["p_convert"])
        return obs, reward, terminated, truncated, info


class LifecycleMetrics:
    """Per-iteration sums over valid rows: reward (value - cost), value, cost, clicks,
    touches, conversions; record() gives them per customer-episode (B slots)."""

    def __init__(self, num_envs: int, horizon: int) -> None:
        self.b, self.horizon = num_envs, horizon
        self.sums = {"ltv": 0.0, "value": 0.0, "spend": 0.0, "clicks": 0.0, "touches": 0.0, "conversions": 0.0}
        self.rows = 0

    def add(self, batch: Batch, env_steps: int) -> None:
        if not len(batch):
            return
        s = self.sums
        s["ltv"] += float(batch.value.sum() - batch.spend.sum())
        s["value"] += float(batch.value.sum())
        s["spend"] += float(batch.spend.sum())
        s["clicks"] += float(batch.clicked.sum())
        s["touches"] += float(batch.touched.sum())
        s["conversions"] += float(batch.converted.sum())
        self.rows += len(batch)

    def record(self) -> dict[str, Any]:
        episodes = max(self.rows / self.horizon, 1e-12)
        out = {k: v / episodes for k, v in self.sums.items() if k not in ("clicks", "touches")}
        out["ctr"] = self.sums["clicks"] / self.sums["touches"] if self.sums["touches"] else 0.0
        out["rows"] = self.rows
        return out


class LifecycleHooks:
    """The hooks (module docstring).

    Args:
        objective: "ltv" or "conv".
        expected: learn from the exact expected reward of the step (module docstring).
        price_on: "reservation" or "spend" (module docstring).
    """

    eval_keys: Sequence[str] | None = ("ltv", "spend", "conversions", "ctr")
    progress_key: str | None = "ltv"

    def __init__(self, objective: str = "ltv", expected: bool = True, price_on: str = "spend") -> None:
        if objective not in OBJECTIVES:
            raise ValueError(f"objective: expected one of {OBJECTIVES}, got {objective!r}")
        if price_on not in PRICE_ON:
            raise ValueError(f"price_on: expected one of {PRICE_ON}, got {price_on!r}")
        self.objective, self.expected, self.price_on = objective, bool(expected), price_on

    def _reward(self, reward: np.ndarray, info: dict[str, Any]) -> np.ndarray:
        if self.objective == "ltv":
            if self.expected:
                return np.asarray(info["expected_value"], np.float64) - np.asarray(info["expected_cost"], np.float64)
            return np.asarray(reward, dtype=np.float64)
        return np.asarray(info["p_convert" if self.expected else "converted"], dtype=np.float64)

    def to_batch(self, env: Any, obs: np.ndarray, action: np.ndarray, reward: np.ndarray, next_obs: np.ndarray,
                 terminated: np.ndarray, truncated: np.ndarray, info: dict[str, Any]) -> Batch:
        conv = np.asarray(info["converted"], dtype=bool)
        r = self._reward(reward, info)
        spend = np.asarray(info["cost"], dtype=np.float64)
        a = np.asarray(action, dtype=np.int64)
        priced = env.sim.worst_cost()[a] if self.price_on == "reservation" else spend
        extra: dict[str, np.ndarray] = {}
        if "expected_reward_all" in info:
            r_all = info["expected_reward_all"] if self.objective == "ltv" else info["p_convert_all"]
            c_all = (np.broadcast_to(env.sim.worst_cost(), r_all.shape) if self.price_on == "reservation"
                     else info["expected_cost_all"])
            extra = {"reward_all": np.asarray(r_all, np.float32), "cost_all": np.asarray(c_all, np.float32)}
        return Batch(**extra, obs=np.array(obs, dtype=np.float32), action=a,
                     reward=r.astype(np.float32), next_obs=np.array(next_obs, dtype=np.float32),
                     terminated=np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool),
                     truncated=np.zeros(len(r), dtype=bool), cost=np.asarray(priced, dtype=np.float32), spend=spend,
                     value=np.asarray(info["value"], dtype=np.float64), converted=conv,
                     clicked=np.asarray(info["clicked"], dtype=bool),
                     touched=np.asarray(info["action"], dtype=np.int64) > 0)

    def new_metrics(self, env: Any) -> LifecycleMetrics:
        return LifecycleMetrics(int(env.num_envs), int(env.sim.horizon))

    def end_record(self, env: Any, agent: Any, obs: np.ndarray) -> dict[str, Any]:
        return {}
