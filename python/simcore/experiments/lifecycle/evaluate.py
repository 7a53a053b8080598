"""Measuring a lifecycle policy: online (one activity in the simulator) and offline (the
slides' BPI by replay on a held-out random log).

Online, for B customers over one activity (``online``), per customer-episode:

* ``ltv`` = mean over customers of sum_t (value_t - cost_t) (dollars);
* ``value``, ``spend`` (marketing cost), ``conversions`` (offers converted + clubs
  joined), ``touches`` (days with an applied action != 0), ``purchases``;
* ``ctr`` = clicks / touches; ``conv_per_touch`` = conversions / touches;
* ``conv_rate`` = share of customers with at least one conversion in the activity;
* ``spend_ratio`` = total spend / episode budget; ``blocked`` = requested actions the
  budget replaced by do-nothing, per customer.

Offline (``replay``), the slides' A/B-test BPI on a uniformly random log (propensity
1/A, no binding budget: :func:`~simcore.domains.lifecycle.baselines.logging_config`):
a row is a *hit* when the policy's action on the logged observation (sampled, for a
stochastic policy) equals the logged action (the replay estimator, Li et al. 2011:
unbiased for a uniform logger)::

    convRate        = sum_hits converted / #hits
    avgHitConvCost  = sum_hits cost / sum_hits converted
    avgAllConvCost  = sum_all cost / sum_all converted      (the same for every method)
    convRate lift   = convRate(method) / convRate(DRL) - 1  (analysis, per seed)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore.domains.lifecycle.baselines import Policy
from simcore.domains.lifecycle.simulator import LifecycleSimulator

__all__ = ["online", "replay", "agent_policy"]


def agent_policy(agent: Any, explore: bool = False) -> Policy:
    """An agent's policy as ``policy(obs, sim)``: greedy, or (``explore``) its
    stochastic policy sampled from the agent's own stream."""
    return lambda obs, sim: np.asarray(agent.act(np.asarray(obs, dtype=np.float32), explore=explore), dtype=np.int64)


def online(sim: LifecycleSimulator, policy: Policy, seed: int) -> dict[str, float]:
    """One activity of ``sim``'s B slots under ``policy`` after ``sim.seed(seed)`` and a
    reset (common random numbers: the same seed gives every method the same customers
    and streams).  Returns the module docstring's metrics."""
    sim.seed(int(seed))
    obs = sim.reset()
    b = sim.num_users
    s = {"ltv": 0.0, "value": 0.0, "spend": 0.0, "conversions": 0.0, "touches": 0.0, "purchases": 0.0,
         "clicks": 0.0, "blocked": 0.0}
    converted_any = np.zeros(b, dtype=bool)
    for _ in range(sim.horizon):
        res = sim.step(policy(obs, sim))
        s["ltv"] += float(res.reward.sum())
        s["value"] += float(res.value.sum())
        s["spend"] += float(res.cost.sum())
        s["conversions"] += float(res.converted.sum())
        s["touches"] += float((res.action > 0).sum())
        s["purchases"] += float(res.purchased.sum())
        s["clicks"] += float(res.clicked.sum())
        s["blocked"] += float(res.blocked.sum())
        converted_any |= res.converted
        obs = res.obs
    out = {k: v / b for k, v in s.items() if k != "clicks"}
    out["ctr"] = s["clicks"] / s["touches"] if s["touches"] else 0.0
    out["conv_per_touch"] = s["conversions"] / s["touches"] if s["touches"] else 0.0
    out["conv_rate"] = float(converted_any.mean())
    out["spend_ratio"] = s["spend"] / sim.total_budget if sim.total_budget > 0 else 0.0
    out["budget_left"] = float(sim.budget_left)
    return out


def replay(log: dict[str, np.ndarray], actions: np.ndarray) -> dict[str, float]:
    """The replay BPI (module docstring) of a policy's ``actions`` int (n,) on the
    logged observations of ``log`` (a :func:`~simcore.domains.lifecycle.baselines.log_random` dict)."""
    a = np.asarray(actions, dtype=np.int64)
    if a.shape != log["action"].shape:
        raise ValueError(f"actions: expected shape {log['action'].shape}, got {a.shape}")
    hit = a == log["action"]
    conv, cost = log["converted"].astype(np.float64), log["cost"].astype(np.float64)
    n_hit, conv_hit = int(hit.sum()), float(conv[hit].sum())
    return {
        "hits": float(n_hit),
        "conv_rate": conv_hit / n_hit if n_hit else float("nan"),
        "hit_conv_cost": float(cost[hit].sum()) / conv_hit if conv_hit else float("nan"),
        "all_conv_cost": float(cost.sum()) / float(conv.sum()) if conv.sum() else float("nan"),
        "click_rate": float(log["clicked"][hit].mean()) if n_hit else float("nan"),
        "reward": float(log["reward"][hit].mean()) if n_hit else float("nan"),
    }
