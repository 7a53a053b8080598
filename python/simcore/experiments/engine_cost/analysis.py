"""Summaries of the engine-cost run: per-policy metrics with 95 % CIs, cost saved by
request context, comparisons, thinned training curves.

Two kinds of interval (both Student-t, :func:`simcore.report.t_ci`):

* baselines (all features, static subsets, the exhaustive optimum) are deterministic
  given the data: their CIs are over the Q held-out requests (``ci = "requests"``);
* learned policies are trained with S seeds: their CIs are between the seeds' means
  over the same held-out requests (``ci = "seeds"``), and their GMV change also has a
  request-level CI (of the seed-averaged per-request GMV difference).

"Flat GMV" (the article's 基本持平, a bucket test allowing a slight fall): the GMV
change's mean plus the half-widths it has (requests and, for learners, seeds; added in
quadrature) is >= 0, i.e. no significant fall (:func:`is_flat`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simcore.domains.feature_cost import baselines as B
from simcore.domains.feature_cost.data import FeatureCostData
from simcore.experiments.engine_cost.evaluation import PolicyEval
from simcore.report import t_ci, welch

__all__ = ["baseline_summary", "learned_summary", "is_flat", "context_summary", "per_request", "comparisons",
           "thin", "rich_tail", "seed_band"]


def is_flat(mean: float, *halves: float) -> bool:
    """True when mean + sqrt(sum of squared half-widths) >= 0 (NaN halves count as 0):
    the GMV change's 95 % CI reaches 0 or lies above it."""
    h = math.sqrt(sum(x * x for x in halves if x == x))
    return bool(mean == mean and mean + h >= 0)


def _gmv_change(e: PolicyEval, ref: PolicyEval) -> np.ndarray:
    """float64 (Q,) per-request GMV difference to the reference / reference mean GMV."""
    assert e.gmv is not None and ref.gmv is not None
    return (e.gmv - ref.gmv) / float(ref.gmv.mean())


def _scalars(e: PolicyEval, ref: PolicyEval | None, threshold: float | None, penalty: float,
             lam: float | None) -> dict[str, float]:
    """Means over the requests of one policy (one seed)."""
    out = {"cost_saved": float(np.mean(1.0 - e.cost)), "loss": float(np.mean(e.loss))}
    if threshold is not None:
        out["violations"] = float(np.mean(e.loss > threshold))
        out["reward"] = float(np.mean(B.env_reward(e.loss, e.cost, threshold, penalty)))
    if ref is not None and e.gmv is not None and ref.gmv is not None:
        out["gmv_change"] = float(_gmv_change(e, ref).mean())
    if lam is not None:
        out["objective"] = float(np.mean(e.loss + lam * e.cost))
    return out


def baseline_summary(e: PolicyEval, ref: PolicyEval | None, threshold: float | None, penalty: float,
                     lam: float | None = None) -> dict[str, Any]:
    """Metrics of a deterministic policy, each a (mean, half-width) pair over the
    requests: ``cost_saved`` (1 - cost fraction), ``loss``; with a threshold C
    ``violations`` (share of requests with loss > C, a float) and ``reward`` (env
    return -cost - r_p [loss > C]); with GMVs ``gmv_change`` (paired GMV difference
    / reference mean GMV), ``gmv`` (mean GMV, a float) and ``flat``; with ``lam``
    ``objective`` (loss + lam cost); ``eval_frequency`` (n,) share of requests
    evaluating each feature."""
    out: dict[str, Any] = {"ci": "requests", "n_seeds": 0, "cost_saved": t_ci(1.0 - e.cost), "loss": t_ci(e.loss)}
    if threshold is not None:
        out["violations"] = float(np.mean(e.loss > threshold))
        out["reward"] = t_ci(B.env_reward(e.loss, e.cost, threshold, penalty))
    if ref is not None and e.gmv is not None and ref.gmv is not None:
        out["gmv"] = float(e.gmv.mean())
        out["gmv_change"] = t_ci(_gmv_change(e, ref))
        out["flat"] = is_flat(*out["gmv_change"])
    if lam is not None:
        out["objective"] = t_ci(e.loss + lam * e.cost)
    out["eval_frequency"] = e.masks.mean(axis=0).tolist()
    return out


def learned_summary(evals: Sequence[PolicyEval], ref: PolicyEval | None, threshold: float | None, penalty: float,
                    lam: float | None = None) -> dict[str, Any]:
    """Metrics of a learned policy over its S training seeds: the keys of
    :func:`baseline_summary`, each a Student-t (mean, half-width) between the S seed
    means (``violations`` too); ``gmv_change_requests`` (the request-level CI of the
    seed-averaged per-request GMV change), ``flat`` (both CIs in quadrature),
    ``eval_frequency_half`` (n,) and ``per_seed`` (the seeds' means)."""
    per_seed = [_scalars(e, ref, threshold, penalty, lam) for e in evals]
    out: dict[str, Any] = {"ci": "seeds", "n_seeds": len(evals), "per_seed": per_seed}
    for k in per_seed[0]:
        out[k] = t_ci([s[k] for s in per_seed])
    if "gmv_change" in out:
        assert ref is not None
        d = np.mean([_gmv_change(e, ref) for e in evals], axis=0)
        out["gmv_change_requests"] = t_ci(d)
        out["gmv"] = float(np.mean([e.gmv.mean() for e in evals if e.gmv is not None]))
        out["flat"] = is_flat(out["gmv_change"][0], out["gmv_change"][1], out["gmv_change_requests"][1])
    freq = np.array([e.masks.mean(axis=0) for e in evals])
    band = [t_ci(freq[:, j]) for j in range(freq.shape[1])]
    out["eval_frequency"] = [b[0] for b in band]
    out["eval_frequency_half"] = [b[1] for b in band]
    return out


def rich_tail(test: FeatureCostData) -> np.ndarray:
    """bool (Q,) requests of users with purchasing power > 0.6 on queries with long-tail
    degree > 0.6 (the article's example of requests needing fewer features)."""
    return (test.power > 0.6) & (test.tail > 0.6)


def _split(e: PolicyEval, rich: np.ndarray) -> tuple[float, float]:
    nan = float("nan")
    a = float(1 - e.cost[rich].mean()) if rich.any() else nan
    b = float(1 - e.cost[~rich].mean()) if (~rich).any() else nan
    return a, b


def context_summary(test: FeatureCostData, evals: Mapping[str, Sequence[PolicyEval]]) -> dict[str, Any]:
    """Cost saved by request group, high power on long-tail queries (rich tail) vs the
    rest, for every policy in ``evals`` (key -> one eval per seed; one for a
    baseline): ``cost_saved_rich_tail``, ``cost_saved_other`` (seed means) and
    ``difference``: rich tail minus other, Student-t between seeds for a learner
    (``{"mean", "half", "ci": "seeds"}``), Welch over requests for a baseline."""
    rich = rich_tail(test)
    out: dict[str, Any] = {"rich_tail_share": float(rich.mean())}
    for key, es in evals.items():
        parts = np.array([_split(e, rich) for e in es])
        if len(es) > 1:
            m, h = t_ci(parts[:, 0] - parts[:, 1])
            diff = {"mean": m, "half": h, "ci": "seeds"}
        else:
            w = welch(1 - es[0].cost[rich], 1 - es[0].cost[~rich])
            diff = {"mean": w["mean"], "half": w["half"], "ci": "requests"}
        out[key] = {"cost_saved_rich_tail": float(parts[:, 0].mean()), "cost_saved_other": float(parts[:, 1].mean()),
                    "difference": diff}
    return out


def per_request(test: FeatureCostData, evals: Mapping[str, Sequence[PolicyEval]]) -> dict[str, Any]:
    """What the context plot needs per held-out request: ``context_score`` (Q,)
    purchasing power + long-tail degree, and ``cost`` key -> (S, Q) cost fraction per
    seed (S = 1 for a baseline)."""
    return {
        "context_score": (test.power + test.tail).tolist(),
        "cost": {k: [e.cost.tolist() for e in es] for k, es in evals.items()},
    }


def comparisons(learned: Mapping[str, Sequence[PolicyEval]], baselines: Mapping[str, PolicyEval],
                pairs: Sequence[tuple[str, str, float]], penalty: float) -> dict[str, Any]:
    """Env return of a learned policy minus a baseline's at the same threshold C:
    ``pairs`` holds (learned key, baseline key, C); for each ``"<learned> - <baseline>"``
    the per-seed mean difference over the requests, Student-t between the seeds
    (``{"mean", "half", "n", "per_seed"}``)."""
    out: dict[str, Any] = {}
    for lk, bk, C in pairs:
        if lk not in learned or bk not in baselines:
            continue
        b = baselines[bk]
        rb = B.env_reward(b.loss, b.cost, C, penalty)
        d = [float(np.mean(B.env_reward(e.loss, e.cost, C, penalty) - rb)) for e in learned[lk]]
        m, h = t_ci(d)
        out[f"{lk} - {bk}"] = {"mean": m, "half": h, "n": len(d), "per_seed": d}
    return out


def seed_band(curves: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise mean and Student-t 95 % half-width of S equally long curves (S, T)
    (half NaN for S = 1)."""
    a = np.asarray(curves, dtype=np.float64)
    ci = [t_ci(a[:, i]) for i in range(a.shape[1])]
    return np.array([c[0] for c in ci]), np.array([c[1] for c in ci])


def thin(hist: Sequence[Mapping[str, Any]], keys: Sequence[str], points: int = 60) -> dict[str, list[float]]:
    """At most ``points`` evenly spaced records of a training history: ``iteration``
    and the float values of ``keys``."""
    idx = np.unique(np.linspace(0, len(hist) - 1, min(points, len(hist))).astype(int))
    return {"iteration": [int(i) for i in idx], **{k: [float(hist[i][k]) for i in idx] for k in keys}}
