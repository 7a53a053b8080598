"""Figures of the discount study (PNG, house style of :mod:`simcore.report.plots`):
article figs. 10 and 11 per tabular state with between-seed 95 % CI bands, V_gamma(h0)
against E[GMV] (seed 0), the gamma gaps per state and the sensitivity curves.  Bands
and error bars are the same between-seed Student-t 95 % CIs as the tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simcore.experiments.discount.config import ALGORITHMS, LABELS, LEARNERS, STATE_LABELS, gamma_key
from simcore.experiments.discount.summary import ARTICLE_GAP_PCT
from simcore.report import new_figure, save_figure

_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _colors(gammas: list[float]) -> dict[float, str]:
    return {g: c for g, c in zip(gammas, _PALETTE * 3)}


def _band(ax: Any, x: list, y: list, e: list, color: str, ls: str, label: str) -> None:
    y_, e_ = np.asarray(y, float), np.asarray(e, float)
    ax.plot(x, y_, ls, color=color, lw=1.5, label=label)
    ax.fill_between(x, y_ - e_, y_ + e_, color=color, alpha=0.15, lw=0)


def _legend_above(ax: Any, ncol: int = 3) -> None:
    """A legend in headroom added above the data, so it covers no curve."""
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.45 * (hi - lo))
    ax.legend(fontsize=7, loc="upper center", ncol=ncol)


def _plot_fig10(results: dict[str, Any], out: Path) -> list[str]:
    """Article figure 10: gamma = 0 vs gamma = 1, rows = states."""
    st = results["settings"]
    gammas = [float(g) for g in st["gammas"]]
    colors, g0, g1 = _colors(gammas), min(gammas), max(gammas)
    fig, axes = new_figure(2, len(st["states"]), width=6.0, height=4.0)
    for row, state in enumerate(st["states"]):
        s = results["summary"][state]
        for ax, field_, title in ((axes[row][0], "gmv", "average GMV per session during learning"),
                                  (axes[row][1], "ckpt_gmv", "exact GMV of the current policy (model)")):
            for alg, ls in (("q_learning", "-"), ("actor_critic", "--")):
                for g in (g0, g1):
                    c = results["curves"][state][alg][gamma_key(g)]
                    x = c["sessions"] if field_ == "gmv" else c["checkpoint_sessions"]
                    _band(ax, x, c[field_], c[field_ + "_ci"], colors[g], ls, f"{LABELS[alg]} γ={g:g}")
            for g in (g0, g1):
                ax.axhline(s[f"dp_gmv/{gamma_key(g)}"]["mean"], color=colors[g], ls=":", lw=1.4, label=f"DP γ={g:g}")
            ax.set_xlabel("sessions per run")
            ax.set_ylabel("GMV per session")
            ax.set_title(f"{STATE_LABELS[state]}: {title}", fontsize=9)
            ax.grid(alpha=0.3)
        for ax in axes[row]:
            _legend_above(ax)
    fig.suptitle(f"γ={g0:g} vs γ={g1:g} (article fig. 10); bands: 95 % CI over {st['n_seeds']} seeds", fontsize=11)
    save_figure(fig, out / "fig10_gmv_gamma0_vs_gamma1.png")
    return ["fig10_gmv_gamma0_vs_gamma1.png"]


def _plot_fig11(results: dict[str, Any], out: Path) -> list[str]:
    """Article figure 11 (per learner): GMV and V_gamma(h0) curves per gamma, rows = states."""
    st = results["settings"]
    gammas = [float(g) for g in st["gammas"]]
    colors, g1 = _colors(gammas), max(gammas)
    files = []
    for alg in LEARNERS:
        fig, axes = new_figure(2, len(st["states"]), width=6.0, height=4.0)
        for row, state in enumerate(st["states"]):
            s = results["summary"][state]
            for g in gammas:
                c = results["curves"][state][alg][gamma_key(g)]
                _band(axes[row][0], c["sessions"], c["gmv"], c["gmv_ci"], colors[g], "-", f"γ={g:g}")
                _band(axes[row][1], c["checkpoint_sessions"], c["ckpt_v"], c["ckpt_v_ci"], colors[g], "-", f"γ={g:g}")
            axes[row][0].axhline(s[f"dp_gmv/{gamma_key(g1)}"]["mean"], color="k", ls=":", lw=1.2,
                                 label=f"DP optimum (γ={g1:g})")
            axes[row][0].set_title(f"{STATE_LABELS[state]}: average GMV per session during learning", fontsize=9)
            axes[row][1].set_title(f"{STATE_LABELS[state]}: learned V_γ(h0)", fontsize=9)
            for ax in axes[row]:
                ax.set_xlabel("sessions per run")
                ax.grid(alpha=0.3)
            axes[row][0].set_ylabel("GMV per session")
            axes[row][1].set_ylabel("value of the initial state (GMV units)")
            _legend_above(axes[row][0])
            _legend_above(axes[row][1])
        fig.suptitle(f"{LABELS[alg]}: learning curves per γ (article fig. 11); bands: 95 % CI over "
                     f"{st['n_seeds']} seeds", fontsize=11)
        name = f"fig11_{alg}_curves.png"
        save_figure(fig, out / name)
        files.append(name)
    return files


def _plot_v_vs_gmv(results: dict[str, Any], out: Path) -> list[str]:
    """V_gamma(h0) against E[GMV] of every final policy of seed 0 (Proposition 2)."""
    st = results["settings"]
    gammas = [float(g) for g in st["gammas"]]
    colors = _colors(gammas)
    markers = {"dp": "o", "q_learning": "s", "actor_critic": "^"}
    fig, axes = new_figure(len(st["states"]), 1, width=5.6, height=5.0)
    for col, state in enumerate(st["states"]):
        ax, rep = axes[0][col], results["replicates"][0]["states"][state]
        hi = 0.0
        for alg in ALGORITHMS:
            for g in gammas:
                r = rep[alg][gamma_key(g)]
                hi = max(hi, r["gmv_exact"], r["v_h0_exact"])
                ax.scatter(r["gmv_exact"], r["v_h0_exact"], marker=markers[alg], color=colors[g], s=55,
                           edgecolor="k", lw=0.5, zorder=3)
        ax.plot([0, hi * 1.05], [0, hi * 1.05], "k--", lw=1, label="V_γ(h0) = E[GMV]")
        for alg in ALGORITHMS:
            ax.scatter([], [], marker=markers[alg], color="grey", label=LABELS[alg])
        for g in gammas:
            ax.scatter([], [], marker="o", color=colors[g], label=f"γ={g:g}")
        ax.set_xlabel("E[GMV] per session of the final policy (exact, model)")
        ax.set_ylabel("V_γ(h0) (exact, model)")
        ax.set_title(f"{STATE_LABELS[state]}, seed 0", fontsize=9)
        ax.legend(fontsize=7, loc="upper left", ncol=2)
        ax.grid(alpha=0.3)
    fig.suptitle("Proposition 2: V_γ(h0) ≤ E[GMV], equal only at γ=1", fontsize=11)
    save_figure(fig, out / "v_h0_vs_gmv.png")
    return ["v_h0_vs_gmv.png"]


_GAP_KINDS = (("dp_model_gap_pct", "DP, model"), ("dp_sim_gap_pct", "DP, simulator"),
              ("tree_gap_pct", "tree DP, in sample"), ("tree_holdout_gap_pct", "tree DP, holdout"),
              ("q_learning_model_gap_pct", "Q-learning, model"), ("q_learning_sim_gap_pct", "Q-learning, simulator"),
              ("actor_critic_model_gap_pct", "actor-critic, model"),
              ("actor_critic_sim_gap_pct", "actor-critic, simulator"))


def _plot_gaps(results: dict[str, Any], out: Path) -> list[str]:
    """GMV(g1)/GMV(g0) - 1 per state and evaluation, between-seed 95 % CIs."""
    st = results["settings"]
    fig, axes = new_figure(1, 1, width=9.0, height=4.6)
    ax = axes[0][0]
    w = 0.8 / len(_GAP_KINDS)
    for k, (key, lab) in enumerate(_GAP_KINDS):
        xs, ys, es = [], [], []
        for i, state in enumerate(st["states"]):
            s = results["summary"][state]
            if key in s:
                xs.append(i + (k - (len(_GAP_KINDS) - 1) / 2) * w)
                ys.append(s[key]["mean"])
                es.append(s[key]["half"] if np.isfinite(s[key]["half"]) else 0.0)
        ax.bar(xs, ys, w, yerr=es, capsize=2, color=_PALETTE[k], label=lab)
    ax.axhline(ARTICLE_GAP_PCT, color="k", ls="--", lw=1.0, label=f"article: +{ARTICLE_GAP_PCT:g} %")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(st["states"])))
    ax.set_xticklabels([STATE_LABELS[s] for s in st["states"]])
    ax.set_ylabel("GMV(γ=1) / GMV(γ=0) − 1 (%)")
    ax.set_title(f"Gain from optimising the undiscounted return (95 % CI over {st['n_seeds']} seeds)", fontsize=10)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(alpha=0.3, axis="y")
    save_figure(fig, out / "gap_gamma1_vs_gamma0.png")
    return ["gap_gamma1_vs_gamma0.png"]


_SENS_KINDS = (("dp_model_gap_pct", "DP, model", "o-"), ("dp_sim_gap_pct", "DP, simulator (holdout)", "s-"),
               ("tree_holdout_gap_pct", "tree DP, holdout", "D-"), ("q_learning_model_gap_pct", "Q-learning, model", "v--"),
               ("actor_critic_model_gap_pct", "actor-critic, model", "^--"))


def _plot_sensitivity(results: dict[str, Any], out: Path) -> list[str]:
    """The gap (%) over each swept parameter, rows = states, with the article's 6 %
    and the calibrated default marked."""
    sens = results.get("sensitivity")
    if not sens:
        return []
    st = results["settings"]
    params = list(dict.fromkeys(p["param"] for p in sens["points"]))
    fig, axes = new_figure(len(params), len(st["states"]), width=5.2, height=3.8)
    for row, state in enumerate(st["states"]):
        for col, par in enumerate(params):
            ax = axes[row][col]
            pts = [p for p in sens["points"] if p["param"] == par]
            x = np.array([p["value"] for p in pts])
            for k, (key, lab, fmt) in enumerate(_SENS_KINDS):
                if key not in pts[0]["summary"][state]:
                    continue
                y = np.array([p["summary"][state][key]["mean"] for p in pts])
                e = np.array([p["summary"][state][key]["half"] for p in pts])
                off = (k - 2) * 0.012 * (np.ptp(x) or 1.0)  # small offsets so error bars do not overlap
                ax.errorbar(x + off, y, yerr=np.nan_to_num(e), fmt=fmt, color=_PALETTE[k], ms=4, lw=1.2,
                            capsize=2, label=lab)
            ax.axhline(ARTICLE_GAP_PCT, color="k", ls="--", lw=1.0, label=f"article: +{ARTICLE_GAP_PCT:g} %")
            ax.axhline(0, color="k", lw=0.6)
            ax.axvline(sens["default"][par], color="grey", ls=":", lw=1.2, label="calibrated default")
            ax.set_xlabel(f"user model {par}")
            ax.set_ylabel("GMV(γ=1) / GMV(γ=0) − 1 (%)")
            ax.set_title(f"{STATE_LABELS[state]}", fontsize=9)
            ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.suptitle(f"Sensitivity of the discount gap\n(95 % CI over {st['n_seeds']} seeds per point; "
                 "each point re-fitted to fig. 3)", fontsize=10)
    save_figure(fig, out / "sensitivity.png")
    return ["sensitivity.png"]


def plot_all(results: dict[str, Any], out: Path) -> list[str]:
    """Writes every figure into ``out``; returns the file names."""
    files = _plot_fig10(results, out) + _plot_fig11(results, out) + _plot_v_vs_gmv(results, out)
    return files + _plot_gaps(results, out) + _plot_sensitivity(results, out)
