"""Figures of the discount study (PNG, house style of :mod:`simcore.report.plots`):
article figs. 10 and 11, V_gamma(h0) against E[GMV], and the gamma gaps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simcore.experiments.discount.config import ALGORITHMS, LABELS, LEARNERS, gamma_key
from simcore.report import new_figure, save_figure


def _colors(gammas: list[float]) -> dict[float, str]:
    return {g: c for g, c in zip(gammas, ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"] * 3)}


def _plot_fig10(results: dict[str, Any], out: Path) -> list[str]:
    """Article figure 10: gamma = 0 vs gamma = 1 for the three algorithms."""
    gammas = [float(g) for g in results["settings"]["gammas"]]
    dp, colors = results["dp"], _colors(gammas)
    g0, g1 = min(gammas), max(gammas)
    fig, axes = new_figure(2, 1, width=6.5, height=4.2)
    for ax, field_, title in (
        (axes[0][0], "gmv_mean", "average GMV per session during learning"),
        (axes[0][1], "checkpoint_gmv_exact", "exact GMV of the current policy"),
    ):
        for alg, ls in (("q_learning", "-"), ("actor_critic", "--")):
            for g in (g0, g1):
                c = results["curves"][alg][gamma_key(g)]
                x = c["sessions"] if field_ == "gmv_mean" else c["checkpoint_sessions"]
                ax.plot(x, c[field_], ls, color=colors[g], lw=1.6, label=f"{LABELS[alg]} γ={g:g}")
                if field_ == "gmv_mean":
                    y, e = np.array(c["gmv_mean"]), np.array(c["gmv_ci"])
                    ax.fill_between(x, y - e, y + e, color=colors[g], alpha=0.12, lw=0)
        for g in (g0, g1):
            ax.axhline(dp[gamma_key(g)]["gmv_exact"], color=colors[g], ls=":", lw=1.4, label=f"DP γ={g:g}")
        ax.set_xlabel("sessions per run")
        ax.set_ylabel("GMV per session")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][1].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"γ={g0:g} vs γ={g1:g} (article fig. 10)", fontsize=11)
    save_figure(fig, out / "fig10_gmv_gamma0_vs_gamma1.png")
    return ["fig10_gmv_gamma0_vs_gamma1.png"]


def _plot_fig11(results: dict[str, Any], out: Path) -> list[str]:
    """Article figure 11 (per learner): GMV curves and V_gamma(h0) curves for every gamma."""
    gammas = [float(g) for g in results["settings"]["gammas"]]
    dp, colors = results["dp"], _colors(gammas)
    g1 = max(gammas)
    files = []
    for alg in LEARNERS:
        fig, axes = new_figure(2, 1, width=6.5, height=4.2)
        for g in gammas:
            c = results["curves"][alg][gamma_key(g)]
            axes[0][0].plot(c["sessions"], c["gmv_mean"], color=colors[g], lw=1.5, label=f"γ={g:g}")
            axes[0][1].plot(c["checkpoint_sessions"], c["checkpoint_v_h0"], color=colors[g], lw=1.5, label=f"V_γ(h0), γ={g:g}")
            axes[0][1].axhline(dp[gamma_key(g)]["v_h0"], color=colors[g], ls=":", lw=1.0)
        axes[0][0].axhline(dp[gamma_key(g1)]["gmv_exact"], color="k", ls=":", lw=1.2, label=f"DP optimum (γ={g1:g})")
        axes[0][0].set_title("average GMV per session during learning", fontsize=10)
        axes[0][1].set_title("learned V_γ(h0)  (dotted: DP V_γ(h0))", fontsize=10)
        for ax in axes[0]:
            ax.set_xlabel("sessions per run")
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel("GMV per session")
        axes[0][1].set_ylabel("value of the initial state")
        axes[0][0].legend(fontsize=8, loc="lower right")
        axes[0][1].legend(fontsize=8, loc="best")
        fig.suptitle(f"{LABELS[alg]}: learning curves per γ (article fig. 11)", fontsize=11)
        name = f"fig11_{alg}_curves.png"
        save_figure(fig, out / name)
        files.append(name)
    return files


def _plot_v_vs_gmv(results: dict[str, Any], out: Path) -> list[str]:
    """V_gamma(h0) against E[GMV] of every final policy (Proposition 2)."""
    gammas = [float(g) for g in results["settings"]["gammas"]]
    colors = _colors(gammas)
    fig, axes = new_figure(1, 1, width=6.2, height=5.2)
    ax = axes[0][0]
    markers = {"dp": "o", "q_learning": "s", "actor_critic": "^"}
    lo, hi = float("inf"), -float("inf")
    for alg in ALGORITHMS:
        for g in gammas:
            r = results[alg][gamma_key(g)]
            x, y = r["gmv_exact"], r["v_h0_exact"]
            lo, hi = min(lo, x, y), max(hi, x, y)
            ax.scatter(x, y, marker=markers[alg], color=colors[g], s=60, edgecolor="k", lw=0.5, zorder=3)
            if alg != "dp":
                ax.scatter(x, r["v_h0"], marker=markers[alg], facecolor="none", edgecolor=colors[g], s=60, zorder=3)
    ax.plot([0, hi * 1.05], [0, hi * 1.05], "k--", lw=1, label="V_γ(h0) = E[GMV]")
    for alg in ALGORITHMS:
        ax.scatter([], [], marker=markers[alg], color="grey", label=LABELS[alg])
    for g in gammas:
        ax.scatter([], [], marker="o", color=colors[g], label=f"γ={g:g}")
    ax.scatter([], [], marker="s", facecolor="none", edgecolor="grey", label="learner's own estimate")
    ax.set_xlabel("E[GMV] per session of the final policy (exact, model)")
    ax.set_ylabel("V_γ(h0)")
    ax.set_title("Proposition 2: V_γ(h0) ≤ E[GMV], equal only at γ=1", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    ax.grid(alpha=0.3)
    save_figure(fig, out / "v_h0_vs_gmv.png")
    return ["v_h0_vs_gmv.png"]


def _plot_gaps(results: dict[str, Any], out: Path) -> list[str]:
    """GMV(g1) - GMV(g0) per algorithm and evaluation, with 95% CIs."""
    gammas = [float(g) for g in results["settings"]["gammas"]]
    g0, g1 = min(gammas), max(gammas)
    fig, axes = new_figure(1, 1, width=7.5, height=4.4)
    ax = axes[0][0]
    kinds = [
        ("model_exact", "model: exact"),
        ("model_mc", "model: Monte Carlo"),
        ("sim_exact", "simulator: exact (holdout users)"),
        ("sim_mc", "simulator: Monte Carlo"),
    ]
    w = 0.2
    for k, (field_, lab) in enumerate(kinds):
        xs = np.arange(len(ALGORITHMS)) + (k - 1.5) * w
        ys = [results["gaps"][a][field_] for a in ALGORITHMS]
        es = [results["gaps"][a][field_ + "_ci"] for a in ALGORITHMS]
        ax.bar(xs, ys, w, yerr=es, capsize=3, label=lab)
    labels = [LABELS[a] for a in ALGORITHMS]
    if results.get("tree"):
        t = results["tree"]
        x = len(ALGORITHMS)
        ax.bar([x - 0.5 * w], [t["gap"]], w, yerr=[t["gap_ci"]], capsize=3, color="#7f7f7f", label="tree DP in sample")
        ax.bar([x + 0.5 * w], [t["holdout_gap"]], w, yerr=[t["holdout_gap_ci"]], capsize=3, color="#bcbd22", label="tree DP holdout")
        labels.append(f"tree DP (T={t['horizon']})")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(labels)))
    ax.set_xticklabels(labels)
    ax.set_ylabel(f"GMV(γ={g1:g}) − GMV(γ={g0:g}) per session")
    ax.set_title("Gain from optimising the undiscounted return (95% CIs)", fontsize=10)
    lo_, hi_ = ax.get_ylim()
    ax.set_ylim(lo_, hi_ + 0.45 * (hi_ - lo_))  # room for the legend above the bars
    ax.legend(fontsize=8, loc="upper center", ncol=3)
    ax.grid(alpha=0.3, axis="y")
    save_figure(fig, out / "gap_gamma1_vs_gamma0.png")
    return ["gap_gamma1_vs_gamma0.png"]


def plot_all(results: dict[str, Any], out: Path) -> list[str]:
    """Writes every figure into ``out``; returns the file names."""
    return _plot_fig10(results, out) + _plot_fig11(results, out) + _plot_v_vs_gmv(results, out) + _plot_gaps(results, out)
