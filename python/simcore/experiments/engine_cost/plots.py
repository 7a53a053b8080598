"""Plots of the engine-cost report, drawn from the results dict alone: Pareto fronts
(cost saved against pairwise loss and against GMV change), training curves, and the
features evaluated / cost saved by request context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simcore.domains.feature_cost.data import FEATURE_NAMES
from simcore.report import new_figure, save_figure

__all__ = ["plot_pareto", "plot_learning", "plot_context", "plot_all"]

_STYLE = {
    "exhaustive": ("black", "o"),
    "static-hindsight": ("tab:gray", "s"),
    "static-greedy": ("tab:brown", "D"),
    "actor-critic": ("tab:blue", "^"),
    "reinforce": ("tab:orange", "v"),
    "all": ("tab:green", "*"),
}


def plot_pareto(results: dict[str, Any], out: Path) -> list[str]:
    """Cost saved against pairwise loss, and against GMV change (axes zoomed on the
    policies at the thresholds; far sweep points are left off-scale)."""
    P = results["policies"]
    xmax = 10 + max(100 * v["cost_saved"][0] for v in P.values() if v["threshold"] is not None)
    offsets = {"actor-critic": (6, 6), "reinforce": (6, -11), "exhaustive": (7, -3)}
    files = []
    for metric, ylabel, fname in (
        ("loss", "pairwise loss vs full ranking (% of pairs)", "pareto_loss.png"),
        ("gmv_change", "expected GMV change vs all features (%)", "pareto_gmv.png"),
    ):
        fig, axes = new_figure(1, 1, width=7.5, height=5.0)
        ax = axes[0, 0]
        shown = []
        for family, label in (("exhaustive", "exhaustive per request (oracle), lambda sweep"),
                              ("static-hindsight", "best static subset (hindsight), lambda sweep"),
                              ("static-greedy", "greedy static subsets (cost budgets)")):
            pts = sorted((100 * v["cost_saved"][0], 100 * v[metric][0]) for v in P.values()
                         if v["family"] == family and (v["lambda"] is not None or "budget" in v))
            if pts:
                c, mk = _STYLE[family]
                ax.plot(*zip(*pts), color=c, marker=mk, ms=5, lw=1.2, alpha=0.8, label=label)
                shown += [y for x, y in pts if x <= xmax]
        for v in P.values():
            fam = v["family"]
            if fam in ("actor-critic", "reinforce") or (fam == "exhaustive" and v["threshold"] is not None):
                c, mk = _STYLE[fam]
                x, y = 100 * v["cost_saved"][0], 100 * v[metric][0]
                err = 100 * v[metric][1] if metric == "gmv_change" else float("nan")
                face = "none" if fam == "exhaustive" else c
                ax.errorbar([x], [y], yerr=None if err != err else [err], fmt=mk, color=c, mfc=face, ms=9,
                            capsize=3)
                shown.append(y)
                tag = f"C={v['threshold']:g}" if v["threshold"] is not None else f"λ={v['lambda']:g}"
                ax.annotate(tag, (x, y), textcoords="offset points", xytext=offsets[fam], fontsize=7, color=c)
        for fam, lab in (("actor-critic", "actor-critic (learned)"), ("reinforce", "REINFORCE (learned)")):
            c, mk = _STYLE[fam]
            ax.plot([], [], mk, color=c, label=lab)
        ax.plot([], [], "o", color="black", mfc="none", label="exhaustive at threshold C")
        ax.plot([0], [0], "*", color="tab:green", ms=12, label="all features")
        ax.axhline(0, color="0.8", lw=0.8, zorder=0)
        lo, hi = min(shown + [0.0]), max(shown + [0.0])
        pad = 0.08 * (hi - lo + 1e-9)
        ax.set_xlim(-2, xmax)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlabel("engine cost saved (% of all-feature cost)")
        ax.set_ylabel(ylabel)
        ax.set_title("Engine cost vs ranking fidelity (held-out requests)" if metric == "loss"
                     else "Engine cost vs expected GMV (SSMDP simulator)", fontsize=10)
        ax.legend(fontsize=7, loc="upper left" if metric == "loss" else "lower left")
        ax.grid(alpha=0.3)
        save_figure(fig, out / fname)
        files.append(fname)
    return files


def plot_learning(results: dict[str, Any], out: Path) -> str:
    """Training return (threshold runs) and cost saved (all runs) per iteration."""
    H = results["histories"]
    P = results["policies"]
    fig, axes = new_figure(2, 1, width=6.0, height=4.2)
    ax, ax2 = axes[0, 0], axes[0, 1]
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive"]
    drawn_ref: set[float] = set()
    for i, (key, h) in enumerate(H.items()):
        color = palette[i % len(palette)]
        ls = "-" if key.startswith("actor") else "--"
        C = P[key]["threshold"]
        if C is not None:
            ax.plot(h["iteration"], h["return"], color=color, lw=1.2, ls=ls, label=key)
            ex = P.get(f"exhaustive C={C:g}")
            if ex is not None and "reward" in ex and C not in drawn_ref:
                drawn_ref.add(C)
                ax.axhline(ex["reward"][0], color="0.5", lw=0.8, ls=":")
                ax.annotate(f"optimum C={C:g}", (h["iteration"][0], ex["reward"][0]), fontsize=7, color="0.4",
                            textcoords="offset points", xytext=(2, 2))
        ax2.plot(h["iteration"], [100 * (1 - c) for c in h["cost"]], color=color, lw=1.2, ls=ls, label=key)
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean episode return (training, exploring)")
    ax.set_title("Training return, threshold reward (dotted: exhaustive optimum, held-out)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("cost saved (%, training episodes)")
    ax2.set_title("Cost saved while training (all runs)", fontsize=9)
    ax2.legend(fontsize=7, loc="upper left")
    ax2.grid(alpha=0.3)
    save_figure(fig, out / "learning.png")
    return "learning.png"


def plot_context(results: dict[str, Any], out: Path) -> str:
    """Which features each policy evaluates (threshold runs at the middle C), and cost
    saved against the request context (purchasing power + long-tail degree, 6 bins)."""
    P = results["policies"]
    C = results["config"]["thresholds"][len(results["config"]["thresholds"]) // 2]
    keys = [k for k in (f"exhaustive C={C:g}", f"actor-critic C={C:g}", f"reinforce C={C:g}", f"static greedy C={C:g}")
            if k in P]
    fig, axes = new_figure(2, 1, width=6.5, height=4.4)
    ax, ax2 = axes[0, 0], axes[0, 1]
    n = len(FEATURE_NAMES)
    width = 0.8 / max(1, len(keys))
    for i, k in enumerate(keys):
        c, _ = _STYLE[P[k]["family"]]
        ax.bar(np.arange(n) + (i - (len(keys) - 1) / 2) * width, 100 * np.asarray(P[k]["eval_frequency"]),
               width=width, color=c, label=k, alpha=0.85)
    ax.set_xticks(np.arange(n))
    costs = results["meta"]["feature_costs"]
    ax.set_xticklabels([f"{nm}\n(c={c:g})" for nm, c in zip(FEATURE_NAMES, costs)], rotation=60, fontsize=7)
    ax.set_ylabel("requests where the feature is evaluated (%)")
    ax.set_title(f"Evaluated features, threshold C={C:g}", fontsize=9, pad=28)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    score = np.asarray(results["per_request"]["context_score"])
    bins = np.linspace(score.min(), score.max() + 1e-9, 7)
    mid = 0.5 * (bins[1:] + bins[:-1])
    for k in keys:
        cost = np.asarray(results["per_request"]["cost"][k])
        c, mk = _STYLE[P[k]["family"]]
        saved = [100 * (1 - cost[(score >= a) & (score < b)].mean()) if ((score >= a) & (score < b)).any() else np.nan
                 for a, b in zip(bins[:-1], bins[1:])]
        ax2.plot(mid, saved, marker=mk, color=c, label=k)
    ax2.set_xlabel("purchasing power + query long-tail degree")
    ax2.set_ylabel("cost saved (%)")
    ax2.set_title("Cost saved by request context (held-out requests)", fontsize=9)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=7)
    save_figure(fig, out / "context.png")
    return "context.png"


def plot_all(results: dict[str, Any], out: Path) -> list[str]:
    """Every plot into ``out``; returns the file names."""
    return plot_pareto(results, out) + [plot_learning(results, out), plot_context(results, out)]
