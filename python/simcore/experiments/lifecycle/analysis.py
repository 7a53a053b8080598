"""Summaries of the lifecycle runs: per method and seed, then means with Student-t 95 %
CIs over seeds, paired differences (same seed = same population, activity and replay
log), the BPI table and the learning curves."""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore.experiments.lifecycle.config import LifecycleExperimentConfig
from simcore.experiments.lifecycle.learners import mtl_configs
from simcore.report.stats import paired, t_ci

__all__ = ["analyse", "per_seed", "ratio_lift", "DRL", "DRL_REFS", "ONLINE_KEYS"]

#: the DRL learner of the paired comparisons (LTV reward)
DRL = "a2c"
#: the learners the BPI lifts are computed against (the slides' "DRL"; a2c-conv has the
#: convRate objective itself)
DRL_REFS = ("a2c-conv", "a2c")
#: online metrics summarised
ONLINE_KEYS = ("ltv", "value", "spend", "spend_ratio", "conversions", "conv_rate", "conv_per_touch", "ctr",
               "touches", "blocked")
#: the slides' BPI table (convRate lift vs DRL, avgHitConvCost, avgAllConvCost)
SLIDES_BPI = {
    "MTL-TN-TT": (-0.1053, 3.80, 4.15), "MTL-TN-Tucker": (-0.1584, 3.96, 4.15), "MTL-TN-LAF": (-0.1826, 3.92, 4.15),
    "MTL-CS-125": (-0.1834, 3.72, 4.15), "MTL-CS-256": (-0.2055, 3.92, 4.15), "MTL-CS-525": (-0.1910, 3.99, 4.15),
}


def click_label(cfg: LifecycleExperimentConfig) -> str:
    """The max-CTR policy: the click tower of the first cross-stitch model."""
    return f"MTL-CS-{cfg.cs_widths[0]}-click"


def per_seed(cfg: LifecycleExperimentConfig, runs: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """method -> per seed index {"online": ..., "replay": ... (if any)}."""
    out: dict[str, list[dict[str, Any]]] = {}
    for s in range(cfg.seeds):
        for name, m in runs[f"rules/{s}"]["methods"].items():
            out.setdefault(name, []).append(m)
        for label in mtl_configs(cfg):
            r = runs[f"mtl/{label}/{s}"]
            out.setdefault(label, []).append(r["sign"])
            if label == f"MTL-CS-{cfg.cs_widths[0]}" and "click" in r:
                out.setdefault(click_label(cfg), []).append(r["click"])
        for key in cfg.learners:
            r = runs[f"learner/{key}/{s}"]
            out.setdefault(key, []).append({"online": r["online"], "replay": r["replay"]})
    return out


def _ci(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    m, h = t_ci(arr) if arr.size else (float("nan"), float("nan"))
    return {"mean": m, "half": h, "n": int(arr.size)}


def ratio_lift(x: list[float], y: list[float]) -> dict[str, float]:
    """Lift mean(x) / mean(y) - 1 of paired per-seed values, with a delta-method
    Student-t 95 % half-width: R = x_bar / y_bar, d_s = x_s - R y_s,
    se(R) = sd(d) / (sqrt(n) y_bar).  (A per-seed ratio explodes when a seed's
    reference convRate is near 0; the ratio of means does not.)"""
    from scipy import stats as st

    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    nan = float("nan")
    if a.size == 0 or b.mean() <= 0:
        return {"mean": nan, "half": nan, "n": int(a.size)}
    r = float(a.mean() / b.mean())
    if a.size < 2:
        return {"mean": r - 1.0, "half": nan, "n": 1}
    se = float(np.std(a - r * b, ddof=1) / (np.sqrt(a.size) * b.mean()))
    return {"mean": r - 1.0, "half": float(st.t.ppf(0.975, a.size - 1)) * se, "n": int(a.size)}


def _bpi(cfg: LifecycleExperimentConfig, seeds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per method with replay: convRate, its lift vs each DRL learner (ratio of seed
    means, :func:`ratio_lift`), avgHit/AllConvCost."""
    refs = {key: [r["replay"]["conv_rate"] for r in seeds[key]] for key in DRL_REFS if key in seeds}
    if not refs:
        return {}
    out: dict[str, Any] = {}
    for name, rows in seeds.items():
        if "replay" not in rows[0]:
            continue
        conv = [r["replay"]["conv_rate"] for r in rows]
        lifts = {key: ratio_lift(conv, ref) for key, ref in refs.items()}
        out[name] = {"conv_rate": _ci(conv), "lift": lifts.get(DRL), "lifts": lifts,
                     "hit_conv_cost": _ci([r["replay"]["hit_conv_cost"] for r in rows]),
                     "all_conv_cost": _ci([r["replay"]["all_conv_cost"] for r in rows]),
                     "hits": _ci([r["replay"]["hits"] for r in rows]),
                     "slides": SLIDES_BPI.get(name)}
    return out


def _pair(seeds: dict[str, list[dict[str, Any]]], a: str, b: str, key: str) -> dict[str, float]:
    if a not in seeds or b not in seeds:
        return {"mean": float("nan"), "half": float("nan"), "n": 0, "t": float("nan"), "p": float("nan")}
    return paired([r["online"][key] for r in seeds[a]], [r["online"][key] for r in seeds[b]])


def _curves(cfg: LifecycleExperimentConfig, runs: dict[str, Any]) -> dict[str, Any]:
    """Per learner: mean over seeds of the training LTV and the greedy evaluations, and
    the training wall time / customer-days."""
    out: dict[str, Any] = {}
    for key in cfg.learners:
        rs = [runs[f"learner/{key}/{s}"] for s in range(cfg.seeds)]
        n = len(rs[0]["curve"])
        train = np.array([[c.get("ltv", np.nan) for c in r["curve"]] for r in rs])
        evals = np.array([[c.get("eval_ltv", np.nan) for c in r["curve"]] for r in rs])
        out[key] = {
            "iterations": list(range(1, n + 1)),
            "samples_per_iteration": rs[0]["samples"] / n,
            "train_ltv": np.nanmean(train, axis=0).tolist(),
            "eval_ltv": [float(np.nanmean(col)) if np.isfinite(col).any() else float("nan") for col in evals.T],
            "price": np.mean([[c.get("price", np.nan) for c in r["curve"]] for r in rs], axis=0).tolist(),
            "train_seconds": _ci([r["train_seconds"] for r in rs]),
            "final_price": _ci([r["price"] for r in rs]),
        }
    return out


def analyse(cfg: LifecycleExperimentConfig, runs: dict[str, Any]) -> dict[str, Any]:
    """The summaries report.py renders (plain values)."""
    seeds = per_seed(cfg, runs)
    online = {name: {k: _ci([r["online"][k] for r in rows]) for k in ONLINE_KEYS} for name, rows in seeds.items()}
    click = click_label(cfg)
    pairs = {
        "drl_vs_myopic_ltv": _pair(seeds, DRL, "myopic-opt", "ltv"),
        "drl_vs_nothing_ltv": _pair(seeds, DRL, "do-nothing", "ltv"),
        "drl_vs_greedy_ltv": _pair(seeds, DRL, "greedy-uplift", "ltv"),
        "click_vs_drl_ctr": _pair(seeds, click, DRL, "ctr"),
        "click_vs_drl_ltv": _pair(seeds, click, DRL, "ltv"),
        "click_vs_myopic_ctr": _pair(seeds, click, "myopic-opt", "ctr"),
        "click_vs_myopic_ltv": _pair(seeds, click, "myopic-opt", "ltv"),
        "a3c_vs_a2c_ltv": _pair(seeds, "a3c", DRL, "ltv"),
    }
    classifiers = [m for m in mtl_configs(cfg) if m in online]
    best = max(classifiers, key=lambda m: online[m]["ltv"]["mean"]) if classifiers else None
    if best is not None:
        pairs["drl_vs_best_classifier_ltv"] = _pair(seeds, DRL, best, "ltv")
    max_ratio = max(r["online"]["spend_ratio"] for rows in seeds.values() for r in rows)
    curves = _curves(cfg, runs)
    if "a3c" in curves and DRL in curves:
        pairs["a3c_vs_a2c_seconds"] = paired([runs[f"learner/a3c/{s}"]["train_seconds"] for s in range(cfg.seeds)],
                                             [runs[f"learner/{DRL}/{s}"]["train_seconds"] for s in range(cfg.seeds)])
    return {"per_seed": seeds, "online": online, "bpi": _bpi(cfg, seeds), "pairs": pairs,
            "max_spend_ratio": max_ratio, "curves": curves, "click_label": click,
            "calibration": [runs[f"rules/{s}"]["calibration"] for s in range(cfg.seeds)],
            "best_classifier": best, "best_actions": _best_actions(cfg, runs)}


def _best_actions(cfg: LifecycleExperimentConfig, runs: dict[str, Any]) -> dict[str, Any]:
    """Per criterion: mean share of customers per true best action over seeds, and the
    entropy / top share with CIs (:func:`.learners.best_action_shares`)."""
    out: dict[str, Any] = {}
    rs = [runs[f"rules/{s}"].get("best_actions") for s in range(cfg.seeds)]
    if not all(rs):
        return out
    for k in rs[0]:
        out[k] = {"shares": np.mean([r[k]["shares"] for r in rs], axis=0).tolist(),
                  "entropy": _ci([r[k]["entropy"] for r in rs]), "top_share": _ci([r[k]["top_share"] for r in rs])}
    return out
