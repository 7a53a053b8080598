"""Detail plots of the engine-cost report: training curves (``learning.png``) and the
features evaluated / cost saved by request context (``context.png``), with 95 % CI
bands between training seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simcore.domains.feature_cost.data import FEATURE_NAMES
from simcore.experiments.engine_cost.analysis import seed_band
from simcore.experiments.engine_cost.losses import label
from simcore.report import new_figure, save_figure, t_ci

__all__ = ["STYLE", "plot_learning", "plot_context"]

#: colour and marker of each policy family
STYLE = {
    "exhaustive": ("black", "o"),
    "static-hindsight": ("tab:gray", "s"),
    "static-greedy": ("tab:brown", "D"),
    "actor-critic": ("tab:blue", "^"),
    "reinforce": ("tab:orange", "v"),
    "all": ("tab:green", "*"),
}
_PALETTE = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
            "tab:cyan", "tab:gray"]


def plot_learning(results: dict[str, Any], out: Path) -> str:
    """Training return and cost saved per iteration of the headline loss's threshold
    learners (mean over seeds, band: 95 % CI between seeds); colour = C, line style =
    learner."""
    cfg, H, P = results["config"], results["histories"], results["policies"]
    loss = cfg["losses"][0]
    keys = [k for k in H if P[k]["loss_def"] == loss and P[k]["threshold"] is not None]
    Cs = sorted({P[k]["threshold"] for k in keys})
    fig, axes = new_figure(2, 1, width=5.6, height=4.4)
    for k in keys:
        v, runs = P[k], H[k]
        color = _PALETTE[Cs.index(v["threshold"]) % len(_PALETTE)]
        ls = "-" if v["family"] == "actor-critic" else "--"
        it = np.asarray(runs[0]["iteration"])
        for ax, field, scale, off in ((axes[0, 0], "return", 1.0, 0.0), (axes[0, 1], "cost", -100.0, 100.0)):
            m, h = seed_band([r[field] for r in runs])
            m, h = off + scale * m, abs(scale) * h
            ax.plot(it, m, color=color, ls=ls, lw=1.2, label=f"{v['family']} C={v['threshold']:g}")
            if np.isfinite(h).any():
                ax.fill_between(it, m - h, m + h, color=color, alpha=0.15, lw=0)
    ax = axes[0, 0]
    ax.set_xlabel("training iteration")
    ax.set_ylabel("mean episode return (training, exploring)")
    ax.set_title(f"Training return ({label(cfg, loss)} loss; solid: actor-critic, dashed: REINFORCE)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    ax = axes[0, 1]
    ax.set_xlabel("training iteration")
    ax.set_ylabel("cost saved in training episodes (%)")
    ax.set_title(f"Cost saved while training (bands: 95 % CI between {cfg['seeds']} seeds)", fontsize=9)
    ax.grid(alpha=0.3)
    save_figure(fig, out / "learning.png")
    return "learning.png"


def _context_bins(score: np.ndarray, costs: list[list[float]], edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean cost saved (%) per context bin and its 95 % CI: between seeds for S > 1
    cost rows, over the bin's requests for one row."""
    c = np.asarray(costs, dtype=np.float64)
    ms, hs = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        sel = (score >= a) & (score < b)
        if not sel.any():
            ms.append(np.nan)
            hs.append(np.nan)
            continue
        m, h = t_ci(1 - c[:, sel].mean(axis=1)) if c.shape[0] > 1 else t_ci(1 - c[0, sel])
        ms.append(100 * m)
        hs.append(100 * h)
    return np.array(ms), np.array(hs)


def plot_context(results: dict[str, Any], out: Path) -> str:
    """Which features each policy evaluates at the headline loss's middle threshold
    (error bars: 95 % CI between seeds), and cost saved against the request context
    (purchasing power + long-tail degree, 6 bins; bands: 95 % CI)."""
    P, pr = results["policies"], results["per_request"]
    keys = [k for k in pr["cost"] if k != "all features" and k in P]
    fig, axes = new_figure(2, 1, width=6.5, height=4.4)
    ax, ax2 = axes[0, 0], axes[0, 1]
    n = len(FEATURE_NAMES)
    width = 0.8 / max(1, len(keys))
    for i, k in enumerate(keys):
        c, _ = STYLE[P[k]["family"]]
        half = P[k].get("eval_frequency_half")
        f = 100 * np.asarray(P[k]["eval_frequency"], dtype=float)
        err = None
        if half is not None:  # the CI, clipped to [0, 100] %
            h = 100 * np.nan_to_num(np.asarray(half, dtype=float))
            err = np.vstack([np.minimum(h, f), np.minimum(h, 100 - f)])
        ax.bar(np.arange(n) + (i - (len(keys) - 1) / 2) * width, f,
               width=width, color=c, label=k, alpha=0.85, yerr=err, capsize=1.5, error_kw={"lw": 0.7})
    ax.set_xticks(np.arange(n))
    costs = results["meta"]["feature_costs"]
    ax.set_xticklabels([f"{nm}\n(c={c:g})" for nm, c in zip(FEATURE_NAMES, costs)], rotation=60, fontsize=7)
    ax.set_ylabel("requests where the feature is evaluated (%)")
    ax.set_ylim(0, 105)
    ax.set_title("Evaluated features (error bars: 95 % CI between seeds)", fontsize=9, pad=34)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    score = np.asarray(pr["context_score"])
    edges = np.linspace(score.min(), score.max() + 1e-9, 7)
    mid = 0.5 * (edges[1:] + edges[:-1])
    for k in keys:
        c, mk = STYLE[P[k]["family"]]
        m, h = _context_bins(score, pr["cost"][k], edges)
        ax2.plot(mid, m, marker=mk, color=c, label=k)
        ok = np.isfinite(h)
        ax2.fill_between(mid[ok], (m - h)[ok], (m + h)[ok], color=c, alpha=0.15, lw=0)
    ax2.set_xlabel("purchasing power + query long-tail degree (6 bins)")
    ax2.set_ylabel("cost saved (% of full cost)")
    ax2.set_title("Cost saved by request context (held-out; bands: 95 % CI)", fontsize=9)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=7, loc="upper left")
    save_figure(fig, out / "context.png")
    return "context.png"
