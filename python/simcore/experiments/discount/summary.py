"""Between-seed summaries of the discount study: every conclusion is a Student-t 95 %
CI over the per-seed results (``t_ci`` of :mod:`simcore.report.stats`), one value per
seed replicate (learners: the mean over the replicate's R runs).

* :func:`per_seed` - the flat numbers of one replicate and state;
* :func:`summarise` - state -> metric -> {mean, half, n, values};
* :func:`learner_verdict` - the confirm rule: a learner's gap confirms the discount
  effect only where the DP gap is itself distinguishable from 0;
* :func:`curves` - learning curves, mean and between-seed half-width per point;
* :func:`check_counts` - in how many replicates each check held.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from simcore.experiments.discount.config import LEARNERS, DiscountConfig, gamma_key
from simcore.report import t_ci

#: the article's DP gap, GMV(gamma = 1) / GMV(gamma = 0) - 1, in percent (section 六)
ARTICLE_GAP_PCT = 6.0


def per_seed(st: dict[str, Any], gammas: Sequence[float]) -> dict[str, float]:
    """Flat metrics of one replicate's state result: ``<alg>_<where>_gap[_pct]`` for
    where in model/sim (exact; sim = the holdout panel), ``tree_gap[_pct]`` (in
    sample), ``tree_holdout_gap[_pct]``, ``<alg>_regret/<g>`` (DP optimum's E[GMV]
    minus the policy's), ``<alg>_v_regret/<g>`` (DP's V_g(h0) minus the policy's),
    ``<alg>_gmv/<g>``, ``<alg>_sim_gmv/<g>``, ``<alg>_g09_vs_1`` (GMV(1) - GMV(0.9))."""
    out: dict[str, float] = {}
    for alg, gp in st["gaps"].items():
        out[f"{alg}_model_gap"], out[f"{alg}_model_gap_pct"] = gp["model_exact"], gp["model_exact_pct"]
        out[f"{alg}_sim_gap"], out[f"{alg}_sim_gap_pct"] = gp["sim_exact"], gp["sim_exact_pct"]
    if st.get("tree"):
        t = st["tree"]
        out["tree_gap"], out["tree_gap_pct"] = t["gap"], t["gap_pct"]
        out["tree_holdout_gap"], out["tree_holdout_gap_pct"] = t["holdout_gap"], t["holdout_gap_pct"]
    for alg in ("dp", *LEARNERS):
        for g in gammas:
            r = st[alg][gamma_key(g)]
            out[f"{alg}_regret/{gamma_key(g)}"] = r["regret"]
            out[f"{alg}_v_regret/{gamma_key(g)}"] = r.get("v_regret", 0.0)
            out[f"{alg}_gmv/{gamma_key(g)}"] = r["gmv_exact"]
            out[f"{alg}_sim_gmv/{gamma_key(g)}"] = r["sim_gmv_exact"]
    if 0.9 in gammas and 1.0 in gammas:
        for alg in ("dp", *LEARNERS):
            out[f"{alg}_g09_vs_1"] = st[alg]["1.0"]["gmv_exact"] - st[alg]["0.9"]["gmv_exact"]
    return out


def summarise(cfg: DiscountConfig, reps: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """state -> metric -> ``{"mean", "half", "n", "values"}``: the t-CI over seeds of
    every :func:`per_seed` metric (half NaN with one seed)."""
    gammas = [float(g) for g in cfg.gammas]
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for state in cfg.states:
        rows = [per_seed(r["states"][state], gammas) for r in reps]
        out[state] = {}
        for key in rows[0]:
            vals = [row[key] for row in rows]
            m, h = t_ci(vals)
            out[state][key] = {"mean": m, "half": h, "n": len(vals), "values": vals}
    return out


def excludes_zero(mean: float, half: float) -> bool:
    """Whether the interval mean +/- half lies strictly on one side of 0 (False for a
    NaN half-width, i.e. fewer than 2 seeds)."""
    return bool(math.isfinite(half) and abs(mean) > half)


def learner_verdict(dp: tuple[float, float], learner: tuple[float, float]) -> str:
    """The confirm rule.  ``dp`` and ``learner``: (mean, half) of the gamma = 1 minus
    gamma = 0 GMV gap, between-seed 95 % CIs.

    * the DP gap's CI includes 0 -> "not informative (DP gap CI includes 0)": a
      learner's gap there cannot tell discounting from convergence;
    * else the learner's CI excludes 0 with the DP gap's sign -> "confirms";
    * its CI excludes 0 with the other sign -> "contradicts";
    * else -> "inconclusive (learner CI includes 0)".
    """
    if not excludes_zero(*dp):
        return "not informative (DP gap CI includes 0)"
    if not excludes_zero(*learner):
        return "inconclusive (learner CI includes 0)"
    return "confirms" if (learner[0] > 0) == (dp[0] > 0) else "contradicts"


def curves(cfg: DiscountConfig, reps: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """state -> learner -> gamma key -> per point the mean over seeds (of the
    replicates' run means) and the between-seed t half-width: ``gmv``/``gmv_ci``
    (behaviour sessions), ``ckpt_gmv``/``ckpt_gmv_ci`` (exact GMV of the current
    policy), ``ckpt_v``/``ckpt_v_ci`` (the learner's own V_gamma(h0))."""
    out: dict[str, Any] = {}
    with_curves = [r for r in reps if "curves" in r["states"][cfg.states[0]]]
    if not with_curves:
        return out
    for state in cfg.states:
        out[state] = {}
        for alg in LEARNERS:
            out[state][alg] = {}
            for g in cfg.gammas:
                cs = [r["states"][state]["curves"][alg][gamma_key(g)] for r in with_curves]
                entry: dict[str, Any] = {"sessions": cs[0]["sessions"],
                                         "checkpoint_sessions": cs[0]["checkpoint_sessions"]}
                for name, src in (("gmv", "gmv_mean"), ("ckpt_gmv", "checkpoint_gmv_exact"),
                                  ("ckpt_v", "checkpoint_v_h0")):
                    arr = np.array([c[src] for c in cs], dtype=np.float64)  # (n_seeds, points)
                    ci = [t_ci(arr[:, i]) for i in range(arr.shape[1])]
                    entry[name] = [m for m, _ in ci]
                    entry[name + "_ci"] = [h if math.isfinite(h) else 0.0 for _, h in ci]
                out[state][alg][gamma_key(g)] = entry
    return out


def check_counts(cfg: DiscountConfig, reps: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """state -> [{"name", "held", "seeds", "detail"}]: each check of replicate 0 with
    the number of replicates in which it held and replicate 0's measurement."""
    out = {}
    for state in cfg.states:
        first = reps[0]["states"][state]["checks"]
        rows = []
        for i, c in enumerate(first):
            held = sum(bool(r["states"][state]["checks"][i]["held"]) for r in reps)
            rows.append({"name": c["name"], "held": held, "seeds": len(reps), "detail": c["detail"]})
        out[state] = rows
    return out
