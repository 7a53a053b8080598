"""Plots of the engine-cost report, drawn from the results dict alone.

* ``sweep_c.png``: cost saved, GMV change and loss against the threshold C, one column
  per loss definition (bands: 95 % CI, between seeds for learners, over requests for
  baselines);
* ``pareto_gmv.png``: cost saved against GMV change (learners with 2-D error bars
  between seeds; static subsets as points; a second panel compares the loss
  definitions);
* ``learning.png`` and ``context.png``: :mod:`.plots_detail`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simcore.experiments.engine_cost.losses import label, unit
from simcore.experiments.engine_cost.plots_detail import STYLE, plot_context, plot_learning
from simcore.report import new_figure, save_figure

__all__ = ["plot_sweep", "plot_pareto", "plot_all", "STYLE"]

#: families drawn against C, with their legend names
_CURVES = (("actor-critic", "actor-critic (learned)"), ("reinforce", "REINFORCE (learned)"),
           ("exhaustive", "exhaustive per request (oracle)"), ("static-greedy", "greedy static subset (fitted)"),
           ("static-hindsight", "best static subset (hindsight)"))
#: colours of the loss definitions in the comparison panel
LOSS_COLORS = {"pairs": "tab:blue", "top-k": "tab:purple", "kl": "tab:red"}


def _series(P: dict[str, Any], family: str, loss: str, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(C, mean, half) of a family's threshold policies under ``loss``, sorted by C
    (``metric`` is a (mean, half) pair; ``violations`` of a baseline has no half)."""
    rows = []
    for v in P.values():
        if v["family"] == family and v["loss_def"] == loss and v["threshold"] is not None and metric in v:
            x = v[metric]
            m, h = (x[0], x[1]) if isinstance(x, (list, tuple)) else (x, float("nan"))
            rows.append((v["threshold"], m, h))
    rows.sort()
    a = np.array(rows, dtype=float).reshape(-1, 3)
    return a[:, 0], a[:, 1], a[:, 2]


def _band(ax: Any, x: np.ndarray, m: np.ndarray, h: np.ndarray, color: str, marker: str, lab: str,
          ls: str = "-") -> None:
    ax.plot(x, m, color=color, marker=marker, ms=5, lw=1.3, ls=ls, label=lab)
    ok = np.isfinite(h)
    if ok.any():
        ax.fill_between(x[ok], (m - h)[ok], (m + h)[ok], color=color, alpha=0.18, lw=0)


def plot_sweep(results: dict[str, Any], out: Path) -> str:
    """Cost saved, GMV change and mean loss against C, one column per loss definition."""
    cfg, P = results["config"], results["policies"]
    losses = cfg["losses"]
    fig, axes = new_figure(len(losses), 3, width=4.6, height=3.0)
    rows = (("cost_saved", "engine cost saved (% of full cost)", 100.0),
            ("gmv_change", "expected GMV change vs all features (%)", 100.0),
            ("loss", "mean loss t on held-out requests", 1.0))
    for j, loss in enumerate(losses):
        for i, (metric, ylab, scale) in enumerate(rows):
            ax = axes[i, j]
            for fam, lab in _CURVES:
                x, m, h = _series(P, fam, loss, metric)
                if x.size:
                    c, mk = STYLE[fam]
                    _band(ax, x, scale * m, scale * h, c, mk, lab, ls="--" if fam.startswith("static") else "-")
            if metric == "gmv_change":
                ax.axhline(0, color="0.5", lw=0.8, zorder=0)
            grid = np.array(sorted({v["threshold"] for v in P.values()
                                    if v["loss_def"] == loss and v["threshold"] is not None}))
            if metric == "loss":
                ax.plot(grid, grid, color="0.5", lw=0.8, ls=":", label="t = C (the threshold)")
            ax.set_xscale("log")
            ax.minorticks_off()
            ax.set_xticks(grid)
            ax.set_xticklabels([f"{c:g}" for c in grid], rotation=45 if grid.size > 3 else 0, fontsize=7)
            ax.set_xlabel(f"threshold C ({unit(loss)}, log scale)")
            ax.set_ylabel(ylab, fontsize=8)
            ax.set_title(f"{label(cfg, loss)} loss: {ylab.split(' (')[0]}", fontsize=9)
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    axes[2, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Engine cost against the loss threshold C\n(bands: 95 % CI; learners between "
                 f"{cfg['seeds']} seeds, baselines over {cfg['n_test']} requests)", fontsize=10)
    save_figure(fig, out / "sweep_c.png")
    return "sweep_c.png"


def _static_points(P: dict[str, Any], loss: str) -> dict[str, list[tuple[float, float, float, float]]]:
    """Distinct static subsets (x, y, xerr, yerr) in % by family: greedy budget
    subsets and the best static subsets in hindsight (C and lambda sweeps)."""
    out: dict[str, list[tuple[float, float, float, float]]] = {"static-greedy": [], "static-hindsight": []}
    seen: set[tuple[str, tuple[bool, ...]]] = set()
    for v in P.values():
        fam = v["family"]
        if fam not in out or v["loss_def"] != loss:
            continue
        sig = (fam, tuple(f > 0.5 for f in v["eval_frequency"]))
        if sig in seen or (fam == "static-greedy" and "budget" not in v):
            continue
        seen.add(sig)
        out[fam].append((100 * v["cost_saved"][0], 100 * v["gmv_change"][0], 100 * v["cost_saved"][1],
                         100 * v["gmv_change"][1]))
    return out


def _zoom(ax: Any, P: dict[str, Any], loss: str) -> None:
    """Axes on the policies at the thresholds (and static points within their cost
    range); static subsets far beyond it are left off-scale."""
    pts = [(100 * v["cost_saved"][0], 100 * v["gmv_change"][0], 100 * np.nan_to_num(v["gmv_change"][1]))
           for v in P.values() if v["loss_def"] == loss and v["threshold"] is not None and "gmv_change" in v]
    if not pts:
        return
    xmax = 8 + max(x for x, _, _ in pts)
    near = pts + [(x, y, h) for fam in _static_points(P, loss).values() for x, y, _, h in fam if x <= xmax]
    lo = min(min(y - h for _, y, h in near), 0.0)
    hi = max(max(y + h for _, y, h in near), 0.0)
    pad = 0.08 * (hi - lo + 1e-9)
    ax.set_xlim(-3, xmax)
    ax.set_ylim(lo - pad, hi + pad)


def _pareto_headline(ax: Any, results: dict[str, Any]) -> None:
    cfg, P = results["config"], results["policies"]
    loss = cfg["losses"][0]
    for fam, lab in (("exhaustive", "exhaustive per request (oracle), at each C"),
                     ("actor-critic", "actor-critic (learned), at each C"),
                     ("reinforce", "REINFORCE (learned), at each C")):
        _, x, xh = _series(P, fam, loss, "cost_saved")
        _, y, yh = _series(P, fam, loss, "gmv_change")
        if x.size:
            c, mk = STYLE[fam]
            ax.errorbar(100 * x, 100 * y, xerr=np.nan_to_num(100 * xh), yerr=np.nan_to_num(100 * yh), fmt=mk + "-",
                        color=c, mfc="none" if fam == "exhaustive" else c, ms=7, lw=1.0, capsize=3, label=lab)
    names = {"static-greedy": "greedy static subsets (cost budgets)",
             "static-hindsight": "best static subsets in hindsight (each C, lambda)"}
    for fam, pts in _static_points(P, loss).items():
        if pts:
            a = np.array(pts)
            c, mk = STYLE[fam]
            ax.errorbar(a[:, 0], a[:, 1], yerr=a[:, 3], fmt=mk, color=c, ms=6, capsize=2, ls="none", label=names[fam])
    ax.plot([0], [0], "*", color=STYLE["all"][0], ms=13, label="all features", zorder=5)
    ax.axhline(0, color="0.6", lw=0.8, zorder=0)
    _zoom(ax, P, loss)
    ax.set_xlabel("engine cost saved (% of all-feature cost)")
    ax.set_ylabel("expected GMV change vs all features (%)")
    ax.set_title(f"{label(cfg, loss)} loss; C grows left to right along each curve\n(far static "
                 "subsets off-scale)", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)


def _pareto_losses(ax: Any, results: dict[str, Any]) -> None:
    cfg, P = results["config"], results["policies"]
    for loss in cfg["losses"]:
        c = LOSS_COLORS[loss]
        for fam, mk, ls, tag in (("actor-critic", "^", "-", "actor-critic"), ("exhaustive", "o", ":", "oracle")):
            _, x, xh = _series(P, fam, loss, "cost_saved")
            _, y, yh = _series(P, fam, loss, "gmv_change")
            if x.size:
                ax.errorbar(100 * x, 100 * y, xerr=np.nan_to_num(100 * xh), yerr=np.nan_to_num(100 * yh),
                            fmt=mk, ls=ls, color=c, mfc="none" if fam == "exhaustive" else c, ms=6, lw=1.0,
                            capsize=2, label=f"{tag}, {label(cfg, loss)}")
    ax.axhline(0, color="0.6", lw=0.8, zorder=0)
    ax.set_xlabel("engine cost saved (% of all-feature cost)")
    ax.set_ylabel("expected GMV change vs all features (%)")
    ax.set_title("Loss definitions compared (each curve: its C grid)", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)


def plot_pareto(results: dict[str, Any], out: Path) -> str:
    """Cost saved against GMV change: the headline loss (learners, oracle, static
    subsets as points) and, with several loss definitions, their comparison."""
    cfg = results["config"]
    many = len(cfg["losses"]) > 1
    fig, axes = new_figure(2 if many else 1, 1, width=6.4, height=5.0)
    _pareto_headline(axes[0, 0], results)
    if many:
        _pareto_losses(axes[0, 1], results)
    fig.suptitle(f"Engine cost vs expected GMV (SSMDP simulator)\n(error bars: 95 % CI, learners between "
                 f"{cfg['seeds']} seeds, baselines over {cfg['n_test']} requests)", fontsize=10)
    save_figure(fig, out / "pareto_gmv.png")
    return "pareto_gmv.png"


def plot_all(results: dict[str, Any], out: Path) -> list[str]:
    """Every plot into ``out``; returns the file names."""
    return [plot_sweep(results, out), plot_pareto(results, out), plot_learning(results, out),
            plot_context(results, out)]
