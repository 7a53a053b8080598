"""Plots of the tiered-traffic report, drawn from the results dict alone (error bars
and bands: between-seed Student-t 95 % CIs, as in the tables).

* ``frontier.png``: target-tier share lift against GMV change, every method, with the
  article's Double-11 point;
* ``lambda.png``: lift and GMV change against lambda (sensitivity);
* ``segments.png``: who absorbs the push: lift and GMV change per user segment;
* ``bounds.png``: CEM's bounds [L, U] and mean mu per tier next to the greedy action;
* ``transient.png``: online GMV change and the greedy policy's exact lift over training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simcore.report import new_figure, save_figure

__all__ = ["plot_all", "STYLE"]

#: method -> (colour, marker, legend)
STYLE = {
    "segment-opt": ("black", "s", "exact best static weights per segment"),
    "uniform-opt": ("tab:gray", "D", "exact best static weights (uniform)"),
    "uplift": ("tab:brown", "v", "classic fixed up-weighting (exact)"),
    "ddpg-cem": ("tab:blue", "o", "DDPG + CEM bounds (article)"),
    "ddpg-fixed": ("tab:orange", "^", "DDPG, fixed hand-set bounds"),
    "ddpg-cem-1d": ("tab:purple", "P", "DDPG + CEM, single-dimension exploration"),
    "cem-uniform": ("tab:green", "X", "CEM global action (uniform, learned)"),
    "cem-segment": ("tab:olive", "*", "CEM per segment (learned, simcore extension)"),
}


def _series(R: dict[str, Any], method: str, f: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pts = sorted((p for p in R["points"] if p["method"] == method), key=lambda p: p["value"])
    a = np.array([[p["value"], *p[f]] for p in pts], dtype=float).reshape(-1, 3)
    return a[:, 0], a[:, 1], np.nan_to_num(a[:, 2])


def plot_frontier(R: dict[str, Any], path: Path) -> None:
    fig, axes = new_figure(width=7.5, height=5.2)
    ax = axes[0][0]
    for method, (c, mk, lab) in STYLE.items():
        _, x, xh = _series(R, method, "gmv_change_pct")
        _, y, yh = _series(R, method, "lift_pct")
        if x.size == 0:
            continue
        exact = method in ("segment-opt", "uniform-opt", "uplift")
        ax.errorbar(x, y, xerr=xh, yerr=yh, color=c, marker=mk, ms=5, lw=1.2 if exact else 0,
                    elinewidth=1, capsize=2, ls="-" if exact else "none", label=lab)
    ax.plot([-1.0], [20.0], marker="*", ms=14, color="red", ls="none", label="article: +20 % share at ~1 % GMV loss")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.axvline(0, color="0.8", lw=0.8)
    ax.set_xlabel("GMV change vs control bucket (%)")
    ax.set_ylabel("target-tier share lift vs control bucket (%)")
    ax.set_title(f"Share lift / GMV frontier (tier {R['config']['target_tier']}, 95 % CI over seeds)")
    ax.legend(fontsize=7, loc="best")
    save_figure(fig, path)


def plot_lambda(R: dict[str, Any], path: Path) -> None:
    fig, axes = new_figure(ncols=2, width=5.5, height=4.2)
    for ax, f, lab in ((axes[0][0], "lift_pct", "share lift (%)"), (axes[0][1], "gmv_change_pct", "GMV change (%)")):
        for method in ("segment-opt", "uniform-opt", "ddpg-cem", "ddpg-fixed", "ddpg-cem-1d", "cem-uniform",
                       "cem-segment"):
            lam, m, h = _series(R, method, f)
            if lam.size < 2:
                continue
            c, mk, name = STYLE[method]
            ax.plot(lam, m, color=c, marker=mk, ms=4, label=name)
            ax.fill_between(lam, m - h, m + h, color=c, alpha=0.15)
        ax.set_xlabel("lambda (reward weight of the target-tier share lift)")
        ax.set_ylabel(lab)
        ax.set_title(f"Sensitivity to lambda: {lab}")
    axes[0][0].legend(fontsize=7)
    save_figure(fig, path)


def plot_segments(R: dict[str, Any], path: Path) -> None:
    seg = R["segments"]
    methods = [m for m in ("segment-opt", "uniform-opt", "ddpg-cem", "cem-uniform", "cem-segment")
               if m in seg["methods"]]
    G = len(seg["segments"])
    fig, axes = new_figure(ncols=2, width=6.0, height=4.2)
    w = 0.8 / max(len(methods), 1)
    labels = [f"seg {g}\naff {s['affinity'][0]:+.2f}" for g, s in enumerate(seg["segments"])]
    for ax, f, lab in ((axes[0][0], "lift_pct", "share lift (%)"), (axes[0][1], "gmv_change_pct", "GMV change (%)")):
        for j, method in enumerate(methods):
            rows = seg["methods"][method]
            m = np.array([r[f][0] if r else np.nan for r in rows])
            h = np.array([r[f][1] if r else np.nan for r in rows])
            c, _, name = STYLE[method]
            ax.bar(np.arange(G) + (j - (len(methods) - 1) / 2) * w, m, w, yerr=np.nan_to_num(h), color=c,
                   capsize=2, label=name)
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xticks(np.arange(G), labels, fontsize=7)
        ax.set_xlabel("user segment (mean tier affinity)")
        ax.set_ylabel(lab)
        ax.set_title(f"Who absorbs the push: {lab}, lambda = {R['config']['headline_lambda']:g}")
    axes[0][0].legend(fontsize=7)
    save_figure(fig, path)


def plot_bounds(R: dict[str, Any], path: Path) -> None:
    keys = [k for k in ("ddpg-cem", "ddpg-cem-1d") if k in R["curves"] and "low" in R["curves"][k]["trajectories"]]
    m_t = len(R["curves"][keys[0]]["trajectories"]["low"]["mean"][0]) if keys else 1
    fig, axes = new_figure(ncols=m_t, nrows=max(len(keys), 1), width=4.2, height=3.4)
    for r, key in enumerate(keys):
        tr = R["curves"][key]["trajectories"]
        it = np.array(tr["low"]["iteration"])
        lo, hi, mu = (np.array(tr[f]["mean"]) for f in ("low", "high", "mu"))
        ga = tr.get("greedy_action")
        for k in range(m_t):
            ax = axes[r][k]
            ax.fill_between(it, lo[:, k], hi[:, k], color=STYLE[key][0], alpha=0.2, label="CEM bounds [L, U]")
            ax.plot(it, mu[:, k], color=STYLE[key][0], lw=1.5, label="CEM mean mu")
            if ga:
                ax.plot(ga["iteration"], np.array(ga["mean"])[:, k], color="black", lw=1.2, ls="--",
                        label="greedy action (mean over states)")
            ax.set_xlabel("training iteration (-1: after the CEM warm-up)")
            ax.set_ylabel(f"tier {k} weight")
            ax.set_title(f"{key}: tier {k} (mean of seeds)", fontsize=9)
        axes[r][0].legend(fontsize=6)
    save_figure(fig, path)


def plot_transient(R: dict[str, Any], path: Path) -> None:
    fig, axes = new_figure(ncols=2, width=5.8, height=4.2)
    for key, cur in R["curves"].items():
        c, _, name = STYLE[key]
        on = np.array(cur["online_gmv_change"], dtype=float)
        it = np.arange(1, on.shape[0] + 1)
        axes[0][0].plot(it, on[:, 0], color=c, lw=1.2, label=name)
        axes[0][0].fill_between(it, on[:, 0] - np.nan_to_num(on[:, 1]), on[:, 0] + np.nan_to_num(on[:, 1]), color=c,
                                alpha=0.12)
        ev = np.array(cur["eval_iterations"])
        lift = np.array(cur["exact"]["lift_pct"], dtype=float)
        axes[0][1].errorbar(ev, lift[:, 0], yerr=np.nan_to_num(lift[:, 1]), color=c, marker="o", ms=3, capsize=2,
                            label=name)
    axes[0][0].axhline(0, color="0.5", lw=0.8)
    axes[0][0].set_xlabel("training iteration")
    axes[0][0].set_ylabel("online GMV change vs control bucket (%)")
    axes[0][0].set_title("Transient: GMV of the served (exploring) traffic")
    axes[0][1].axhline(20, color="red", lw=0.8, ls=":", label="article: +20 %")
    axes[0][1].set_xlabel("training iteration (-1: before learning)")
    axes[0][1].set_ylabel("greedy policy's share lift, exact (%)")
    axes[0][1].set_title("Where it settles: exact share lift")
    axes[0][0].legend(fontsize=7)
    axes[0][1].legend(fontsize=7)
    save_figure(fig, path)


def plot_all(R: dict[str, Any], out: Path) -> list[str]:
    """Writes every plot into ``out``; returns the file names."""
    files = []
    for name, fn in (("frontier.png", plot_frontier), ("lambda.png", plot_lambda), ("segments.png", plot_segments),
                     ("bounds.png", plot_bounds), ("transient.png", plot_transient)):
        fn(R, out / name)
        files.append(name)
    return files
