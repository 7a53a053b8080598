"""The lifecycle report's PNGs: learning curves (LTV against customer-days and against
wall time), LTV against CTR per method, spend against budget per method."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simcore.report.plots import new_figure, save_figure

__all__ = ["plot_all"]


def _curves(R: dict[str, Any], path: Path) -> None:
    fig, ax = new_figure(2, 1, width=5.5)
    for key, c in R["curves"].items():
        x = np.asarray(c["iterations"]) * c["samples_per_iteration"]
        ev = np.asarray(c["eval_ltv"], dtype=float)
        ok = np.isfinite(ev)
        ax[0][0].plot(x, c["train_ltv"], alpha=0.35, label=f"{key} (training activity)")
        if ok.any():
            ax[0][0].plot(x[ok], ev[ok], marker="o", label=f"{key} (greedy, fixed activity)")
        per_it = c["train_seconds"]["mean"] / len(c["iterations"])
        ax[0][1].plot(np.asarray(c["iterations"]) * per_it, c["train_ltv"], label=key)
    for name in ("myopic-opt", "do-nothing"):
        if name in R["online"]:
            for a in (ax[0][0], ax[0][1]):
                a.axhline(R["online"][name]["ltv"]["mean"], ls="--", lw=1, color="gray")
                a.text(a.get_xlim()[0], R["online"][name]["ltv"]["mean"], name, fontsize=7, va="bottom")
    ax[0][0].set_xlabel("customer-days of training")
    ax[0][1].set_xlabel("training wall time (s, mean over seeds)")
    for a in ax[0]:
        a.set_ylabel("LTV per customer ($, mean over seeds)")
        a.legend(fontsize=7)
    save_figure(fig, path)


def _ltv_ctr(R: dict[str, Any], path: Path) -> None:
    fig, ax = new_figure(1, 1, width=6.5, height=4.5)
    for name, o in R["online"].items():
        if name == "do-nothing":
            continue
        x, y = o["ctr"]["mean"], o["ltv"]["mean"]
        ax[0][0].errorbar(x, y, xerr=np.nan_to_num(o["ctr"]["half"]), yerr=np.nan_to_num(o["ltv"]["half"]),
                          fmt="o", ms=4)
        ax[0][0].annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if "do-nothing" in R["online"]:
        ax[0][0].axhline(R["online"]["do-nothing"]["ltv"]["mean"], ls="--", lw=1, color="gray")
    ax[0][0].set_xlabel("CTR (clicks / touches)")
    ax[0][0].set_ylabel("LTV per customer over the activity ($)")
    save_figure(fig, path)


def _spend(R: dict[str, Any], path: Path) -> None:
    names = list(R["online"])
    fig, ax = new_figure(1, 1, width=7.5, height=4.0)
    v = [R["online"][n]["spend_ratio"]["mean"] for n in names]
    e = [np.nan_to_num(R["online"][n]["spend_ratio"]["half"]) for n in names]
    ax[0][0].bar(range(len(names)), v, yerr=e)
    ax[0][0].axhline(1.0, color="red", lw=1, label="episode budget")
    ax[0][0].set_xticks(range(len(names)))
    ax[0][0].set_xticklabels(names, rotation=60, ha="right", fontsize=7)
    ax[0][0].set_ylabel("spend / episode budget")
    ax[0][0].legend(fontsize=7)
    save_figure(fig, path)


def plot_all(R: dict[str, Any], out: Path) -> list[str]:
    """Writes the PNGs into ``out``; returns their file names."""
    files = []
    if R["curves"]:
        _curves(R, out / "learning_curves.png")
        files.append("learning_curves.png")
    _ltv_ctr(R, out / "ltv_vs_ctr.png")
    _spend(R, out / "spend_vs_budget.png")
    return [*files, "ltv_vs_ctr.png", "spend_vs_budget.png"]
