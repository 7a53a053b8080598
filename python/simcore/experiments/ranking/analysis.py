"""Summaries of the ranking runs: final GMV / CTR per agent with 95% CIs over seeds,
paired differences (every seed's agents share their evaluation sessions), early
learning, the non-stationary run's RNEU spike, and learning curves.

The intervals are Student-t over seeds (:func:`simcore.report.stats.t_ci`, exact
quantiles; before the named seeds this module rounded the quantiles to three decimals,
so recorded runs of that time differ in the fourth digit of their half-widths).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from simcore.experiments.ranking.config import NAMED, RL_AGENTS, SB3_AGENTS, RankingConfig
from simcore.report.stats import t_ci


def mean_ci(x: Any) -> tuple[float, float]:
    """Mean and the half-width of its 95% Student-t confidence interval over seeds
    (NaN half-width for one value)."""
    return t_ci(np.asarray(x, dtype=float).ravel())


def curve(histories: list[list[dict[str, Any]]], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(iterations, mean, CI half-width) of ``key`` over seeds, where present."""
    its = [r["iteration"] for r in histories[0] if key in r]
    vals = np.array([[r[key] for r in h if key in r] for h in histories], dtype=float)
    with warnings.catch_warnings():  # an all-NaN column (no session ended) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(vals, axis=0)
    ci = np.array([mean_ci(vals[:, j][np.isfinite(vals[:, j])])[1] for j in range(vals.shape[1])])
    return np.asarray(its), mean, ci


def se_curve(histories: list[list[dict[str, Any]]], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(iterations, mean, standard error) of ``key`` over seeds."""
    its = [r["iteration"] for r in histories[0] if key in r]
    vals = np.array([[r[key] for r in h if key in r] for h in histories], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(vals, axis=0)
        n = np.sum(np.isfinite(vals), axis=0)
        se = np.where(n > 1, np.nanstd(vals, axis=0, ddof=1) / np.sqrt(np.maximum(n, 1)), 0.0)
    return np.asarray(its), mean, np.nan_to_num(se)


def paired_diff(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """Mean of a - b over seeds with its 95% CI, and the relative difference
    ``rel = diff / mean(b)`` with ``rel_ci = ci / |mean(b)|``."""
    d = np.asarray(a, float) - np.asarray(b, float)
    m, ci = mean_ci(d)
    base = float(np.mean(b))
    return {"diff": m, "ci": ci, "rel": m / base if base else float("nan"),
            "rel_ci": ci / abs(base) if base else float("nan")}


def early_gmv(history: list[dict[str, Any]], frac: float) -> float:
    """Mean greedy GMV over the first ``frac`` of a run's evaluations (finite ones)."""
    evals = [r["eval_gmv_per_session"] for r in history if "eval_gmv_per_session" in r]
    k = max(1, int(round(frac * len(evals))))
    first = np.asarray(evals[:k], dtype=float)
    first = first[np.isfinite(first)]
    return float(first.mean()) if first.size else float("nan")


def _final_row(finals: list[dict[str, Any]], seconds: list[float],
               exact: list[dict[str, Any]] | None = None, cpu: list[float] | None = None) -> dict[str, Any]:
    g = [f["gmv_per_session"] for f in finals]
    c = [f["ctr"] for f in finals]
    row: dict[str, Any] = {}
    if exact:
        e = [x["gmv"] for x in exact]
        row = {"exact_gmv": mean_ci(e), "exact_gmv_per_seed": e,
               "exact_by_segment": np.mean([x["by_segment"] for x in exact], axis=0).tolist()}
    return {**row, "gmv": mean_ci(g), "ctr": mean_ci(c), "gmv_per_seed": g, "ctr_per_seed": c,
            "clicks_per_session": float(np.mean([f["clicks_per_session"] for f in finals])),
            "conversion": float(np.mean([f["conversion"] for f in finals])),
            "weights": np.mean([f["mean_action"] for f in finals], axis=0).tolist(),
            "seconds": float(np.mean(seconds)),
            "cpu_seconds": float(np.mean(cpu)) if cpu else float("nan")}


def _cpu(rs: list[dict[str, Any]]) -> list[float] | None:
    """The jobs' CPU seconds (None for results recorded before they were measured)."""
    return [float(r["cpu_seconds"]) for r in rs] if all("cpu_seconds" in r for r in rs) else None


def final_table(train: dict[str, list[dict[str, Any]]], named: list[dict[str, Any]]) -> dict[str, Any]:
    """Per agent (and per named vector, as "fixed-<name>"): final GMV / CTR with CIs."""
    final = {k: _final_row([r["final"] for r in rs], [r["seconds"] for r in rs], [r["exact"] for r in rs], _cpu(rs))
             for k, rs in train.items() if rs}
    for name in NAMED:
        rows = [r["final"][name] for r in named]
        final["fixed-" + name] = _final_row(rows, [0.0], [x["exact"] for x in rows])
    return final


def paired_both(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Paired differences of the sampled GMV (``diff`` ...) and of the exact GMV (``exact``)."""
    return {**paired_diff(a["gmv_per_seed"], b["gmv_per_seed"]),
            "exact": paired_diff(a["exact_gmv_per_seed"], b["exact_gmv_per_seed"])}


def segment_comparisons(final: dict[str, Any]) -> dict[str, Any]:
    """Every RL agent vs the per-segment static optimum and the global static optimum,
    paired by seed on the sampled and on the exact GMV."""
    out: dict[str, Any] = {}
    for k in (k for k in RL_AGENTS if k in final):
        out[k] = {ref: paired_both(final[k], final[ref]) for ref in ("tabular-opt", "segment-opt", "static-opt")
                  if ref in final}
    return out


def budget_table(cfg: RankingConfig, results: list[dict[str, Any]], final: dict[str, Any]) -> dict[str, Any]:
    """The equal-budget comparison: per agent its final row (with ``pages_per_seed``, the
    real pages each run consumed), and every simcore learner vs every SB3 learner and vs
    the per-segment optimum (paired by seed)."""
    rows = {}
    for k in cfg.budget_agents:
        rs = sorted([r for r in results if r["kind"] == "budget" and r["agent"] == k], key=lambda r: r["seed"])
        if rs:
            rows[k] = _final_row([r["final"] for r in rs], [r["seconds"] for r in rs], [r["exact"] for r in rs],
                                 _cpu(rs))
            # real pages consumed per seed (None: recorded before they were counted)
            rows[k]["pages_per_seed"] = [r.get("pages") for r in rs]
    ours = [k for k in rows if k not in SB3_AGENTS]
    refs = [k for k in rows if k in SB3_AGENTS]
    vs = {k: {ref: paired_both(rows[k], rows[ref]) for ref in refs} for k in ours}
    for k in rows:
        if "segment-opt" in final:
            vs.setdefault(k, {})["segment-opt"] = paired_both(rows[k], final["segment-opt"])
    return {"pages": cfg.budget_pages, "final": rows, "vs": vs}


def rl_comparisons(train: dict[str, Any], final: dict[str, Any]) -> dict[str, Any]:
    """Each RL agent vs the best static policy, the best LTR fit and the LTR default."""
    rl = [k for k in RL_AGENTS if k in train]
    static = [k for k in ("tabular-opt", "segment-opt", "segment-opt-nonneg", "static-opt", "cem", "ltr-gmv",
                          "ltr-click", "ltr-default")
              if k in final] + ["fixed-" + n for n in NAMED]
    best_static = max(static, key=lambda k: final[k]["gmv"][0]) if static else None
    ltr_fits = [k for k in ("ltr-gmv", "ltr-click") if k in final]
    best_ltr = max(ltr_fits, key=lambda k: final[k]["gmv"][0]) if ltr_fits else None
    comps: dict[str, Any] = {"best_static": best_static, "best_ltr_fit": best_ltr, "rl_vs": {}}
    for k in rl:
        refs = [best_static, best_ltr, "ltr-default" if "ltr-default" in final else None]
        comps["rl_vs"][k] = {ref: paired_diff(final[k]["gmv_per_seed"], final[ref]["gmv_per_seed"])
                             for ref in dict.fromkeys(r for r in refs if r)}  # ordered, no duplicates
    return comps


def early_comparisons(cfg: RankingConfig, train: dict[str, Any], final: dict[str, Any]) -> dict[str, Any]:
    """Shaping vs plain DPG and the LTR term vs plain DDPG: early and final differences."""
    early = {}
    for a, b in (("dpg-shaped", "dpg"), ("ddpg-ltr", "ddpg")):
        if a in train and b in train:
            ea = [early_gmv(r["history"], cfg.early_frac) for r in train[a]]
            eb = [early_gmv(r["history"], cfg.early_frac) for r in train[b]]
            early[f"{a} vs {b}"] = {"early_gmv": {a: mean_ci(ea), b: mean_ci(eb)}, **paired_diff(ea, eb),
                                    "frac": cfg.early_frac,
                                    "final_gmv": paired_diff(final[a]["gmv_per_seed"], final[b]["gmv_per_seed"]),
                                    "final_ctr": paired_diff(final[a]["ctr_per_seed"], final[b]["ctr_per_seed"])}
    return early


def nonstationary(cfg: RankingConfig, results: list[dict[str, Any]]) -> dict[str, Any]:
    """RNEU before, at the peak after and at the end of the behaviour shift."""
    ns = {}
    switch = cfg.ns_iterations // 2
    for k in cfg.nonstationary_agents:
        rs = [r for r in results if r["kind"] == "nonstationary" and r["agent"] == k]
        if not rs or "rneu" not in rs[0]["history"][0]:
            continue
        w = max(1, min(3, switch, cfg.ns_iterations - switch))  # iterations averaged
        pre = [np.mean([h["rneu"] for h in r["history"][switch - w:switch]]) for r in rs]
        post = [np.max([h["rneu"] for h in r["history"][switch:switch + w]]) for r in rs]
        end = [np.mean([h["rneu"] for h in r["history"][-w:]]) for r in rs]
        ns[k] = {"switch_iteration": switch, "rneu_before": mean_ci(pre), "rneu_peak_after": mean_ci(post),
                 "rneu_end": mean_ci(end), "spike_ratio": mean_ci(np.array(post) / np.array(pre)),
                 "final_gmv_shifted": mean_ci([r["final"]["gmv_per_session"] for r in rs])}
    return ns


def analyse(cfg: RankingConfig, results: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"final", "comparisons"}`` from the job results (JSON-ready)."""
    train = {k: sorted([r for r in results if r["kind"] == "train" and r["agent"] == k],
                       key=lambda r: r["seed"]) for k in cfg.agents}
    named = sorted([r for r in results if r["kind"] == "named"], key=lambda r: r["seed"])
    final = final_table(train, named)
    comps = rl_comparisons(train, final)
    comps["early"] = early_comparisons(cfg, train, final)
    comps["nonstationary"] = nonstationary(cfg, results)
    comps["vs_optimum"] = segment_comparisons(final)
    comps["budget"] = budget_table(cfg, results, final)
    return {"final": final, "comparisons": comps}
