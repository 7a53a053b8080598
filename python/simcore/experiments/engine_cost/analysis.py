"""Summaries of the engine-cost run: per-policy metrics with 95% CIs over the held-out
requests, cost saved by request context, paired comparisons, thinned training curves.

All CIs are over the Q held-out requests (one training seed per learner: they do not
include seed-to-seed variation).  ``mean_ci`` gives (mean, normal-approximation
half-width); the comparisons use Student-t (paired) and Welch intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simcore.domains.feature_cost import baselines as B
from simcore.domains.feature_cost.data import FeatureCostData
from simcore.experiments.engine_cost.evaluation import PolicyEval
from simcore.report import mean_ci, paired, welch

__all__ = ["policy_summary", "context_summary", "per_request", "comparisons", "thin", "context_keys",
           "rich_tail"]

#: key prefixes of the policies whose cost saved is split by request context
_CONTEXT_PREFIXES = ("exhaustive C", "actor-critic C", "reinforce C", "static greedy C", "all")


def policy_summary(e: PolicyEval, ref: PolicyEval | None, threshold: float | None, penalty: float,
                   lam: float | None = None) -> dict[str, Any]:
    """Metrics of one policy (each a (mean, half-width) pair unless noted).

    Returns:
        ``cost_saved`` (1 - cost fraction), ``loss``; with a threshold C also
        ``violations`` (float: share of requests with loss > C) and ``reward`` (the env
        return -cost - r_p [loss > C]); with a reference and GMVs ``gmv`` (float: mean
        GMV) and ``gmv_change`` (paired mean GMV difference / reference mean GMV); with
        ``lam`` ``objective`` (loss + lam * cost); ``eval_frequency`` (list (n,): share
        of requests evaluating each feature).
    """
    out: dict[str, Any] = {
        "cost_saved": mean_ci(1.0 - e.cost),
        "loss": mean_ci(e.loss),
    }
    if threshold is not None:
        out["violations"] = float(np.mean(e.loss > threshold))
        out["reward"] = mean_ci(B.env_reward(e.loss, e.cost, threshold, penalty))
    if e.gmv is not None and ref is not None and ref.gmv is not None:
        base = float(ref.gmv.mean())
        m, h = mean_ci(e.gmv - ref.gmv)
        out["gmv"] = float(e.gmv.mean())
        out["gmv_change"] = (m / base, h / base)
    if lam is not None:
        out["objective"] = mean_ci(e.loss + lam * e.cost)
    out["eval_frequency"] = e.masks.mean(axis=0).tolist()
    return out


def rich_tail(test: FeatureCostData) -> np.ndarray:
    """bool (Q,) requests of users with purchasing power > 0.6 on queries with long-tail
    degree > 0.6 (the article's example of requests needing fewer features)."""
    return (test.power > 0.6) & (test.tail > 0.6)


def context_keys(keys: Sequence[str]) -> list[str]:
    """The policies whose cost saved is split by context."""
    return [k for k in keys if k.startswith(_CONTEXT_PREFIXES)]


def context_summary(test: FeatureCostData, evals: Mapping[str, PolicyEval]) -> dict[str, Any]:
    """Cost saved by request group: high power on long-tail queries vs the rest."""
    rich = rich_tail(test)
    out: dict[str, Any] = {"rich_tail_share": float(rich.mean())}
    for key in context_keys(list(evals)):
        e = evals[key]
        out[key] = {
            "cost_saved_rich_tail": float(1 - e.cost[rich].mean()) if rich.any() else float("nan"),
            "cost_saved_other": float(1 - e.cost[~rich].mean()) if (~rich).any() else float("nan"),
        }
    return out


def per_request(test: FeatureCostData, evals: Mapping[str, PolicyEval]) -> dict[str, Any]:
    """What the context plot needs per held-out request: ``context_score`` (Q,)
    purchasing power + long-tail degree, and ``cost`` key -> (Q,) cost fraction of
    the policies of :func:`context_keys`."""
    return {
        "context_score": (test.power + test.tail).tolist(),
        "cost": {k: evals[k].cost.tolist() for k in context_keys(list(evals))},
    }


def comparisons(test: FeatureCostData, evals: Mapping[str, PolicyEval], thresholds: Sequence[float],
                agents: Sequence[str], penalty: float) -> dict[str, Any]:
    """Paired and two-sample tests behind the claims table.

    Returns:
        ``"<agent> - static greedy C=<C>"``: the paired per-request difference of the
        env return (``paired``: mean, half, n, t, p); ``"<agent> C=<C> rich_tail -
        other"``: Welch's difference of mean cost saved between rich-tail requests and
        the rest (``welch``: mean, half, df, t, p).
    """
    rich = rich_tail(test)
    out: dict[str, Any] = {}
    for C in thresholds:
        st = evals.get(f"static greedy C={C:g}")
        for name in agents:
            e = evals.get(f"{name} C={C:g}")
            if e is None:
                continue
            if st is not None:
                ra = B.env_reward(e.loss, e.cost, C, penalty)
                rb = B.env_reward(st.loss, st.cost, C, penalty)
                out[f"{name} - static greedy C={C:g}"] = paired(ra, rb)
            out[f"{name} C={C:g} rich_tail - other"] = welch(1 - e.cost[rich], 1 - e.cost[~rich])
    return out


def thin(hist: Sequence[Mapping[str, Any]], keys: Sequence[str], points: int = 60) -> dict[str, list[float]]:
    """At most ``points`` evenly spaced records of a training history: ``iteration``
    and the float values of ``keys``."""
    idx = np.unique(np.linspace(0, len(hist) - 1, min(points, len(hist))).astype(int))
    return {"iteration": [int(i) for i in idx], **{k: [float(hist[i][k]) for i in idx] for k in keys}}
