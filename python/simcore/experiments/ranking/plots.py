"""Plots of the ranking study: learning curves, RNEU, weight trajectories (overall and
per user segment) and the non-stationary run; each returns the file names written."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simcore.experiments.ranking.analysis import curve
from simcore.experiments.ranking.config import ALL_AGENTS, BASELINES, LABELS, RL_AGENTS, RankingConfig
from simcore.report import new_figure, save_figure


def plot_all(cfg: RankingConfig, runs: list[dict[str, Any]], summary: dict[str, Any], out: Path) -> list[str]:
    """Every plot into ``out``; returns the file names."""
    files = plot_learning(cfg, runs, out)
    if any(k in RL_AGENTS for k in cfg.agents):
        files.append(plot_rneu(cfg, runs, out))
    files += plot_weights(cfg, runs, summary, out)
    files.append(plot_final(cfg, summary, out))
    ns = plot_nonstationary(cfg, runs, out)
    if ns:
        files.append(ns)
    return files


def _colors(keys: Sequence[str]) -> dict[str, Any]:
    """A fixed, distinct colour per agent (tab20, so 13 agents never share one)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    order = list(ALL_AGENTS)
    return {k: cmap((2 * order.index(k)) % 20 + (order.index(k) >= 10)) if k in order else "k" for k in keys}


def plot_learning(cfg: RankingConfig, results: list[dict[str, Any]], out: Path) -> list[str]:
    """GMV and CTR per session over training: greedy evaluations and online (explored)
    sessions; mean over seeds, shaded 95% Student-t CI over seeds (as the tables);
    baselines dashed."""
    files = []
    steps = cfg.steps_per_iteration * cfg.num_envs
    col = _colors(cfg.agents)
    for prefix, fname, title in (("eval_", "learning_curves.png", "greedy policy, evaluation sessions"),
                                 ("", "online_curves.png", "online with exploration, training sessions")):
        fig, axes = new_figure(ncols=2, width=6.2, height=4.6)
        handles = []
        for k in cfg.agents:
            hs = [r["history"] for r in results if r["kind"] == "train" and r["agent"] == k]
            if not hs:
                continue
            for i, (ax, key) in enumerate(zip(axes[0], ("gmv_per_session", "ctr"))):
                its, mean, se = curve(hs, prefix + key)
                se = np.nan_to_num(se)
                if not len(its):
                    continue
                x = (its + 1) * steps / 1e3
                ls = "--" if k in BASELINES else "-"
                (h,) = ax.plot(x, mean, ls, color=col[k], label=LABELS[k], lw=2.0 if k in RL_AGENTS else 1.4,
                               marker="o" if (prefix and k in RL_AGENTS) else None, ms=3)
                if k in RL_AGENTS or k == "cem":
                    ax.fill_between(x, mean - se, mean + se, color=col[k], alpha=0.12)
                if i == 0:
                    handles.append(h)
        axes[0][0].set_ylabel("GMV per session")
        axes[0][1].set_ylabel("CTR (clicks / items shown)")
        for ax in axes[0]:
            ax.set_xlabel("training page requests (thousands)")
            ax.grid(alpha=0.3)
        axes[0][0].set_title(f"GMV ({title})", fontsize=10)
        axes[0][1].set_title(f"CTR ({title})", fontsize=10)
        fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8,
                   title=f"mean of {cfg.seeds} seeds, shaded 95% CI", title_fontsize=8)
        fig.tight_layout()
        fig.savefig(out / fname, dpi=120, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        files.append(fname)
    return files


def plot_rneu(cfg: RankingConfig, results: list[dict[str, Any]], out: Path) -> str:
    """RNEU per iteration: linear DPG agents and network agents in separate panels (their
    feature spaces differ, so only the shapes of the curves compare across panels)."""
    groups = [("linear DPG (critic features phi(s, a))", [k for k in ("dpg", "dpg-compat", "dpg-shaped")
                                                           if k in cfg.agents]),
              ("networks (gradient of Q in its parameters)", [k for k in ("ddpg", "ddpg-ltr", "dpg-fbe",
                                                                          "dpg-fbe-fitted") if k in cfg.agents])]
    groups = [g for g in groups if g[1]]
    fig, axes = new_figure(ncols=max(1, len(groups)), width=6.0, height=4.2)
    col = _colors(cfg.agents)
    steps = cfg.steps_per_iteration * cfg.num_envs
    for ax, (title, keys) in zip(axes[0], groups):
        for k in keys:
            hs = [r["history"] for r in results if r["kind"] == "train" and r["agent"] == k]
            if not hs or "rneu" not in hs[0][0]:
                continue
            x = (np.array([q["iteration"] for q in hs[0]]) + 1) * steps / 1e3
            vals = np.array([[q.get("rneu", np.nan) for q in h] for h in hs], dtype=float)
            for v in vals:
                ax.plot(x, v, color=col[k], alpha=0.25, lw=0.7)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                geo = np.exp(np.nanmean(np.log(np.maximum(vals, 1e-300)), axis=0))
            ax.plot(x, geo, color=col[k], lw=2, label=LABELS[k])
        ax.set_yscale("log")
        ax.set_xlabel("training page requests (thousands)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("RNEU = ||E[delta grad Q]||  (thin: seeds; thick: geometric mean)", fontsize=8)
    fig.suptitle("Norm of the expected TD update per iteration (article fig. 3)", fontsize=11)
    save_figure(fig, out / "rneu.png")
    return "rneu.png"


def _feature_names(m: int) -> list[str]:
    from simcore.domains.search.world import FEATURE_NAMES

    return [FEATURE_NAMES[j] if j < len(FEATURE_NAMES) else f"attr{j}" for j in range(m)]


def plot_weights(cfg: RankingConfig, results: list[dict[str, Any]], summary: dict[str, Any],
                 out: Path) -> list[str]:
    """Greedy weight per dimension over training (seed 0): one panel per learning agent,
    and per user segment for the best learning agent (the article's iphone / android
    figures)."""
    import matplotlib

    m = cfg.world.n_features
    names = _feature_names(m)
    cmap = matplotlib.colormaps["tab10"]
    files: list[str] = []
    keys = [k for k in cfg.agents if k in RL_AGENTS or k == "cem"]
    if not keys:
        return files
    steps = cfg.steps_per_iteration * cfg.num_envs

    def run0(k: str) -> list[dict[str, Any]]:
        return next(r for r in results if r["kind"] == "train" and r["agent"] == k and r["seed"] == 0)["history"]

    ncols = min(3, len(keys))
    fig, axes = new_figure(ncols=ncols, nrows=-(-len(keys) // ncols), width=5.0, height=3.5)
    flat = [a for row in axes for a in row]
    for ax, k in zip(flat, keys):
        h = run0(k)
        x = (np.array([q["iteration"] for q in h]) + 1) * steps / 1e3
        A = np.array([q["greedy_action"] for q in h], dtype=float)
        for j in range(m):
            ax.plot(x, A[:, j], color=cmap(j), label=names[j], lw=1.4)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(f"{LABELS[k]} (seed 0)", fontsize=9)
        ax.set_xlabel("page requests (thousands)", fontsize=8)
        ax.set_ylabel("greedy weight (mean over states)", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in flat[len(keys):]:
        ax.axis("off")
    handles, labels = flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, title="feature")
    save_figure(fig, out / "weights.png")
    files.append("weights.png")
    rl = [k for k in keys if k in RL_AGENTS]
    if rl:
        best = max(rl, key=lambda k: summary["final"][k]["gmv"][0])
        h = run0(best)
        G = len(h[0]["greedy_action_by_segment"])
        fig, axes = new_figure(ncols=G, width=4.0, height=3.4)
        x = (np.array([q["iteration"] for q in h]) + 1) * steps / 1e3
        for g, ax in enumerate(axes[0]):
            A = np.array([q["greedy_action_by_segment"][g] or [np.nan] * m for q in h], dtype=float)
            for j in range(m):
                ax.plot(x, A[:, j], color=cmap(j), label=names[j], lw=1.4)
            ax.axhline(0, color="k", lw=0.6)
            ax.set_title(f"segment {g}", fontsize=9)
            ax.set_xlabel("page requests (thousands)", fontsize=8)
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel("greedy weight")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, title="feature")
        fig.suptitle(f"{LABELS[best]} (best learning agent, seed 0): weights per user segment", fontsize=10)
        save_figure(fig, out / "weights_by_segment.png")
        files.append("weights_by_segment.png")
    return files


def plot_nonstationary(cfg: RankingConfig, results: list[dict[str, Any]], out: Path) -> str | None:
    from simcore.domains.search.world import FEATURE_NAMES

    ns = [r for r in results if r["kind"] == "nonstationary"]
    if not ns:
        return None
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    keys = [k for k in cfg.nonstationary_agents if any(r["agent"] == k for r in ns)]
    fig, axes = new_figure(ncols=3, nrows=len(keys), width=5.0, height=3.6)
    switch = cfg.ns_iterations // 2
    m = cfg.world.n_features
    names = [FEATURE_NAMES[j] if j < len(FEATURE_NAMES) else f"attr{j}" for j in range(m)]
    for row, k in zip(axes, keys):
        hs = [r["history"] for r in sorted(ns, key=lambda r: r["seed"]) if r["agent"] == k]
        ax = row[0]
        if "rneu" in hs[0][0]:
            its, mean, ci = curve(hs, "rneu")
            for h in hs:
                ax.plot([q["iteration"] for q in h], [q["rneu"] for q in h], color="grey", alpha=0.35, lw=0.8)
            ax.plot(its, mean, color="C3", lw=2, label="mean over seeds")
            ax.set_yscale("log")
        ax.set_title(f"{LABELS[k]}: RNEU", fontsize=9)
        ax.set_ylabel("RNEU")
        ax = row[1]
        for key, lab, c in (("gmv_per_session", "online", "C0"), ("eval_gmv_per_session", "greedy eval", "C2")):
            its, mean, ci = curve(hs, key)
            ci = np.nan_to_num(ci)
            ax.plot(its, mean, color=c, label=lab, marker="o" if key.startswith("eval") else None, ms=3)
            ax.fill_between(its, mean - ci, mean + ci, color=c, alpha=0.15)
        ax.set_title(f"{LABELS[k]}: GMV per session (mean, 95% CI)", fontsize=9)
        ax.legend(fontsize=7)
        ax = row[2]
        A = np.array([q["greedy_action"] for q in hs[0]], dtype=float)
        for j in range(m):
            ax.plot(A[:, j], color=cmap(j), label=names[j])
        ax.set_title(f"{LABELS[k]}: greedy weights (seed 0)", fontsize=9)
        ax.legend(fontsize=6, ncol=2)
        for ax in row:
            ax.axvline(switch - 0.5, color="k", ls=":", lw=1.2)
            ax.set_xlabel("iteration (dotted: behaviour shift)", fontsize=8)
            ax.grid(alpha=0.3)
    save_figure(fig, out / "nonstationary.png")
    return "nonstationary.png"


def _bars(ax: Any, rows: dict[str, Any], keys: list[str], ref: float | None, title: str) -> None:
    """Horizontal bars of the sampled and the exact GMV per agent with 95% CIs."""
    y = np.arange(len(keys))
    for off, field, lab, c in ((-0.2, "gmv", "sampled sessions", "C0"), (0.2, "exact_gmv", "exact (held-out panel)", "C1")):
        vals = [rows[k].get(field, (np.nan, np.nan)) for k in keys]
        ax.barh(y + off, [v[0] for v in vals], height=0.38, xerr=[np.nan_to_num(v[1]) for v in vals],
                color=c, alpha=0.8, label=lab, capsize=2)
    if ref is not None:
        ax.axvline(ref, color="k", ls="--", lw=1, label="per-segment optimum (sampled)")
    ax.set_yticks(y, [LABELS.get(k, k) for k in keys], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("GMV per session (mean over seeds, 95% CI)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=7, loc="lower right")


def plot_final(cfg: RankingConfig, summary: dict[str, Any], out: Path) -> str:
    """Final GMV per agent (sampled and exact, 95% CIs), and the equal-budget comparison
    with SB3 when it ran."""
    fin = summary["final"]
    keys = sorted((k for k in fin if k in ALL_AGENTS), key=lambda k: -fin[k]["gmv"][0])
    ref = fin["segment-opt"]["gmv"][0] if "segment-opt" in fin else None
    budget = summary["comparisons"].get("budget", {}).get("final", {})
    fig, axes = new_figure(ncols=2 if budget else 1, width=6.4, height=0.42 * len(keys) + 1.6)
    _bars(axes[0][0], fin, keys, ref, f"after {cfg.iterations * cfg.steps_per_iteration * cfg.num_envs:,} pages")
    if budget:
        pages = summary["comparisons"]["budget"]["pages"]
        _bars(axes[0][1], budget, list(budget), ref, f"equal budget: {pages:,} real pages each")
    fig.suptitle(f"Final greedy policies, {cfg.seeds} seeds", fontsize=11)
    save_figure(fig, out / "final_gmv.png")
    return "final_gmv.png"
