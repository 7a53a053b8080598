"""Summaries of the tiered-traffic runs: frontier points with between-seed 95 % CIs
(Student-t over the seed values), paired comparisons, frontiers at a common share
lift, per-segment absorption, the online transient and the CEM bound trajectories.

Interpolation at a common lift: a family's frontier of one seed (its points sorted
by lift, with the control bucket (0 % lift, 0 % GMV change) added) is linearly
interpolated at the lift wanted; outside its range the value is NaN (no
extrapolation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simcore.experiments.tiered_traffic.config import TieredTrafficConfig, learner_runs
from simcore.report.stats import paired, t_ci

#: the exact families (static baselines) and their parameter name
EXACT = {"uplift": "delta", "uniform-opt": "lambda", "segment-opt": "lambda"}
#: summary fields reported with CIs
FIELDS = ("lift_pct", "gmv_change_pct", "reward", "page_lift", "share", "gmv")


def _ci(values: Sequence[float]) -> list[float]:
    m, h = t_ci([float(v) for v in values])
    return [m, h]


def _point(method: str, param: str, value: float, finals: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"method": method, "param": param, "value": value, "n": len(finals),
            **{f: _ci([x[f] for x in finals]) for f in FIELDS}, "per_seed": {f: [x[f] for x in finals] for f in FIELDS}}


def frontier_at(points: Sequence[tuple[float, float]], lift: float) -> float:
    """GMV change at ``lift`` on one seed's frontier [(lift, gmv change)] (module
    docstring; the control bucket (0, 0) is added)."""
    pts = sorted([(0.0, 0.0), *points])
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    if not x[0] <= lift <= x[-1]:
        return float("nan")
    keep = np.r_[True, np.diff(x) > 0]  # np.interp needs increasing x
    return float(np.interp(lift, x[keep], y[keep]))


def _family(exact: Sequence[Mapping[str, Any]], fam: str, s: int) -> list[tuple[float, float]]:
    return [(v["lift_pct"], v["gmv_change_pct"]) for v in exact[s][fam].values()]


def _learner_finals(cfg: TieredTrafficConfig, runs: Mapping[str, Any], key: str, lam: float) -> list[dict[str, Any]]:
    return [runs[f"learner/{key}/{lam:g}/{s}"]["final"] for s in range(cfg.seeds)]


def _segments(cfg: TieredTrafficConfig, runs: Mapping[str, Any], exact: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per segment, at the headline lambda: share lift and GMV change of each
    personalised / uniform policy (CIs over seeds), and the segment's affinity."""
    lam = f"{cfg.headline_lambda:g}"
    sources: dict[str, list[Any]] = {
        "segment-opt": [e["segment-opt"][lam]["by_segment"] for e in exact] if lam in exact[0]["segment-opt"] else [],
        "uniform-opt": [e["uniform-opt"][lam]["by_segment"] for e in exact] if lam in exact[0]["uniform-opt"] else [],
    }
    for key in ("ddpg-cem", "cem-uniform", "cem-segment", "ddpg-fixed"):
        if key in cfg.learners:
            sources[key] = [runs[f"learner/{key}/{lam}/{s}"]["final"]["by_segment"] for s in range(cfg.seeds)]
    G = len(exact[0]["segments"])
    out: dict[str, Any] = {"segments": [], "methods": {}}
    for g in range(G):
        out["segments"].append({k: _ci([e["segments"][g][k] for e in exact]) for k in ("users", "affinity", "likes",
                                                                                     "dislikes")})
    for name, per_seed in sources.items():
        if not per_seed:
            continue
        rows = []
        for g in range(G):
            vals = [p[g] for p in per_seed if p[g] is not None]
            rows.append({f: _ci([v[f] for v in vals]) for f in ("lift_pct", "gmv_change_pct", "share")} if vals
                        else None)
        out["methods"][name] = rows
    return out


def _change(rec: Mapping[str, Any], base: Mapping[str, Any]) -> float:
    """100 (egmv_per_page / the control bucket's - 1) of one iteration (NaN at 0)."""
    b = float(base["egmv_per_page"])
    return 100.0 * (float(rec["egmv_per_page"]) / b - 1.0) if b > 0 else float("nan")


def _curves(cfg: TieredTrafficConfig, runs: Mapping[str, Any], key: str, lam: float) -> dict[str, Any]:
    """Online GMV change vs the control bucket (expected GMV per served page, paired
    per iteration: same iteration seeds), the greedy
    policy's exact lift / GMV change at the eval points, bounds and greedy actions."""
    hs = [runs[f"learner/{key}/{lam:g}/{s}"]["history"] for s in range(cfg.seeds)]
    base = [runs[f"learner/basic/{cfg.headline_lambda:g}/{s}"]["history"] for s in range(cfg.seeds)]
    its = len(hs[0]) - 1
    online, online_lift = [], []
    for it in range(1, its + 1):
        online.append(_ci([_change(h[it], b[it]) for h, b in zip(hs, base)]))
        online_lift.append(_ci([h[it]["lift"][cfg.target_tier] for h in hs]))
    ev = [i for i, r in enumerate(hs[0]) if "exact" in r]
    exact = {f: [_ci([h[i]["exact"][f] for h in hs]) for i in ev] for f in ("lift_pct", "gmv_change_pct", "reward")}
    k = max(1, its // 10)
    first = [float(np.mean([_change(h[it], b[it]) for it in range(1, k + 1)])) for h, b in zip(hs, base)]
    last = [float(np.mean([_change(h[it], b[it]) for it in range(its - k + 1, its + 1)])) for h, b in zip(hs, base)]
    traj: dict[str, Any] = {}
    for f in ("low", "high", "mu", "greedy_action"):
        if f in hs[0][-1]:
            rows = [i for i, r in enumerate(hs[0]) if f in r]
            traj[f] = {"iteration": [hs[0][i]["iteration"] for i in rows],
                       "mean": [np.mean([h[i][f] for h in hs], axis=0).tolist() for i in rows],
                       "seed0": [hs[0][i][f] for i in rows]}
    return {"online_gmv_change": online, "online_page_lift": online_lift, "eval_iterations":
            [hs[0][i]["iteration"] for i in ev], "exact": exact, "transient_iterations": k,
            "transient": _ci(first), "settled": _ci(last), "recovery": _compare(last, first),
            "transient_seeds": first, "settled_seeds": last, "trajectories": traj}


def _compare(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    return paired([float(x) for x in a], [float(y) for y in b])


def analyse(cfg: TieredTrafficConfig, runs: Mapping[str, Any]) -> dict[str, Any]:
    """The summaries the report draws from (module docstring)."""
    S = cfg.seeds
    exact = [runs[f"exact/{s}"] for s in range(S)]
    points = []
    for fam, par in EXACT.items():
        for v in exact[0][fam]:
            points.append(_point(fam, par, float(v), [e[fam][v] for e in exact]))
    for key, lam in learner_runs(cfg):
        if key != "basic":
            points.append(_point(key, "lambda", lam, _learner_finals(cfg, runs, key, lam)))
    H = cfg.headline_lambda
    comps: dict[str, Any] = {}
    head = {k: _learner_finals(cfg, runs, k, H) for k in cfg.learners}
    for fam in ("segment-opt", "uniform-opt"):
        if f"{H:g}" in exact[0][fam]:
            head[fam] = [e[fam][f"{H:g}"] for e in exact]
    for a, b in (("ddpg-cem", "ddpg-fixed"), ("ddpg-cem", "ddpg-cem-1d"), ("ddpg-cem", "cem-uniform"),
                 ("ddpg-cem", "segment-opt"), ("ddpg-cem", "uniform-opt"), ("segment-opt", "uniform-opt"),
                 ("cem-segment", "cem-uniform"), ("cem-segment", "segment-opt"), ("ddpg-cem", "cem-segment")):
        if a in head and b in head:
            comps[f"{a} - {b}"] = {f: _compare([x[f] for x in head[a]], [x[f] for x in head[b]])
                                   for f in ("reward", "lift_pct", "gmv_change_pct")}
    at_lift: dict[str, Any] = {}
    if "ddpg-cem" in head:
        target = [x["lift_pct"] for x in head["ddpg-cem"]]
        for fam in EXACT:
            at = [frontier_at(_family(exact, fam, s), target[s]) for s in range(S)]
            at_lift[fam] = {"values": at, "ddpg_minus": _compare([x["gmv_change_pct"] for x in head["ddpg-cem"]],
                                                                  at)}
    at20 = {fam: _ci([frontier_at(_family(exact, fam, s), 20.0) for s in range(S)]) for fam in EXACT}
    vs_uplift: dict[str, Any] = {}
    for lift in (20.0, 100.0):
        up = [frontier_at(_family(exact, "uplift", s), lift) for s in range(S)]
        vs_uplift[f"{lift:g}"] = {fam: _compare([frontier_at(_family(exact, fam, s), lift) for s in range(S)], up)
                                  for fam in ("uniform-opt", "segment-opt")}
    curves = {k: _curves(cfg, runs, k, H) for k in cfg.learners}
    return {"points": points, "comparisons": comps, "at_ddpg_lift": at_lift, "at_20pct": at20, "vs_uplift": vs_uplift,
            "segments": _segments(cfg, runs, exact), "curves": curves,
            "basic": {"gmv": _ci([e["basic_gmv"] for e in exact]), "share": _ci([e["basic_share"] for e in exact])}}
