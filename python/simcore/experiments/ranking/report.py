"""Report of the ranking-control study: learning, RNEU, weight and non-stationary plots,
report.md and results.json (``write_outputs``), from what
:func:`simcore.experiments.ranking.run.run` collects.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from simcore.experiments.ranking.run import (
    ALL_AGENTS,
    BASELINES,
    LABELS,
    RL_AGENTS,
    RankingConfig,
    _curve,
    _paired,
)
from simcore.report import markdown_table, new_figure, save_figure, write_json


def write_outputs(config: RankingConfig, results: list[dict[str, Any]], summary: dict[str, Any],
                  meta: dict[str, Any], data: dict[str, Any], out: Path) -> None:
    """All plots, report.md and results.json into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    plots = plot_learning(config, results, out)
    if any(k in RL_AGENTS for k in config.agents):
        plots.append(plot_rneu(config, results, out))
    plots += plot_weights(config, results, summary, out)
    ns = plot_nonstationary(config, results, out)
    if ns:
        plots.append(ns)
    write_report(config, summary, meta, plots, out)
    write_json(out / "results.json", data)


# ------------------------------------------------------------------------------ plots


def _colors(keys: Sequence[str]) -> dict[str, Any]:
    """A fixed, distinct colour per agent (tab20, so 13 agents never share one)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    order = list(ALL_AGENTS)
    return {k: cmap((2 * order.index(k)) % 20 + (order.index(k) >= 10)) if k in order else "k" for k in keys}


def _se_curve(histories: list[list[dict[str, Any]]], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(iterations, mean, standard error) of ``key`` over seeds."""
    its = [r["iteration"] for r in histories[0] if key in r]
    vals = np.array([[r[key] for r in h if key in r] for h in histories], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(vals, axis=0)
        n = np.sum(np.isfinite(vals), axis=0)
        se = np.where(n > 1, np.nanstd(vals, axis=0, ddof=1) / np.sqrt(np.maximum(n, 1)), 0.0)
    return np.asarray(its), mean, np.nan_to_num(se)


def plot_learning(cfg: RankingConfig, results: list[dict[str, Any]], out: Path) -> list[str]:
    """GMV and CTR per session over training: greedy evaluations and online (explored)
    sessions; mean over seeds, shaded +-1 standard error; baselines dashed."""
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
                its, mean, se = _se_curve(hs, prefix + key)
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
                   title=f"mean of {cfg.seeds} seeds, shaded ±1 s.e.", title_fontsize=8)
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
    flat[0].legend(fontsize=7, ncol=2)
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
        axes[0][0].legend(fontsize=7, ncol=2)
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
            its, mean, ci = _curve(hs, "rneu")
            for h in hs:
                ax.plot([q["iteration"] for q in h], [q["rneu"] for q in h], color="grey", alpha=0.35, lw=0.8)
            ax.plot(its, mean, color="C3", lw=2, label="mean over seeds")
            ax.set_yscale("log")
        ax.set_title(f"{LABELS[k]}: RNEU", fontsize=9)
        ax.set_ylabel("RNEU")
        ax = row[1]
        for key, lab, c in (("gmv_per_session", "online", "C0"), ("eval_gmv_per_session", "greedy eval", "C2")):
            its, mean, se = _se_curve(hs, key)
            ax.plot(its, mean, color=c, label=lab, marker="o" if key.startswith("eval") else None, ms=3)
            ax.fill_between(its, mean - se, mean + se, color=c, alpha=0.15)
        ax.set_title(f"{LABELS[k]}: GMV per session (mean, ±1 s.e.)", fontsize=9)
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


# ------------------------------------------------------------------------------ report


def _pm(x: tuple[float, float], d: int = 2) -> str:
    m, ci = x
    return f"{m:.{d}f} ± {ci:.{d}f}" if ci == ci else f"{m:.{d}f}"


def write_report(cfg: RankingConfig, summary: dict[str, Any], meta: dict[str, Any], plots: list[str], out: Path) -> None:
    fin, comps = summary["final"], summary["comparisons"]
    order = sorted((k for k in fin if not (k == "fixed-ltr" and "ltr-default" in fin)),
                   key=lambda k: -fin[k]["gmv"][0])
    ref = "ltr-default" if "ltr-default" in fin else None
    rows = []
    for k in order:
        rel = ""
        if ref and k != ref:
            p = _paired(fin[k]["gmv_per_seed"], fin[ref]["gmv_per_seed"])
            rel = (f"{100 * p['rel']:+.0f}% ± {100 * p['rel_ci']:.0f}%" if p["rel_ci"] == p["rel_ci"]
                   else f"{100 * p['rel']:+.0f}%")
        rows.append([LABELS.get(k, k), _pm(fin[k]["gmv"]), _pm(fin[k]["ctr"], 4),
                     f"{fin[k]['clicks_per_session']:.2f}", f"{fin[k]['conversion']:.3f}", rel])
    lines = [
        "# Ranking control: DPG, reward shaping, DDPG + LTR gradient, DPG-FBE",
        "",
        f"Generated by `simcore reproduce ranking` in {meta['wall_seconds']:.0f} s wall "
        f"({meta['workers']} worker processes, load average before the run {meta['load_before']}, "
        f"{meta['cpus']} CPUs).  Protocol: `docs/ranking.md`.",
        "",
        f"Setting: {cfg.seeds} seeds; each run trains for {cfg.iterations} iterations x "
        f"{cfg.steps_per_iteration} batched steps x {cfg.num_envs} sessions = "
        f"{cfg.iterations * cfg.steps_per_iteration * cfg.num_envs:,} page requests; env reward "
        f"`{cfg.reward}` (price on purchase, else number of clicks); catalogue N={cfg.world.n_items}, "
        f"m={cfg.world.n_features}, {cfg.world.n_queries} queries.  Final numbers: the greedy policy on "
        f"{cfg.final_eval_steps} batched steps of fresh sessions (the same sessions for every agent of a "
        "seed, so differences are paired by seed).  ± is the half-width of the 95% Student-t CI over seeds.",
        "",
        "## Final GMV and CTR per session",
        "",
        markdown_table(["agent", "GMV / session", "CTR", "clicks / session", "conversion",
                        "GMV vs fixed LTR default"], rows),
        "",
    ]
    bs, bl = comps["best_static"], comps["best_ltr_fit"]
    lines += ["## Does RL beat the best fixed weights and the fitted LTR model?", ""]
    crow = []
    for k, row in comps["rl_vs"].items():
        for refk, p in row.items():
            crow.append([LABELS[k], LABELS.get(refk, refk), _pm((p["diff"], p["ci"])),
                         _pm((100 * p["rel"], 100 * p["rel_ci"]), 1) + "%"])
    lines += [f"Best static policy (over the exact-GMV CEM optimum, online CEM, the fitted LTR models and the "
              f"named weight vectors): "
              f"**{LABELS.get(bs, bs)}**; best fitted LTR model: **{LABELS.get(bl, bl)}**.", "",
              markdown_table(["RL agent", "reference", "GMV difference", "relative"], crow), ""]
    lines += _verdicts(cfg, summary)
    names = _feature_names(cfg.world.n_features)
    wkeys = [k for k in ("static-opt", "cem", "ltr-gmv", "ltr-click", "ltr-default", *RL_AGENTS) if k in fin]
    if wkeys:
        lines += ["## Final greedy weights", "",
                  "Mean ranking weights of each final policy over the evaluation states and seeds (the ranking "
                  "depends only on the direction of the weight vector).  The article's softmax actor can only "
                  "output positive weights; the DDPG/FBE actors (tanh) and the baselines can go negative.", "",
                  markdown_table(["agent", *names], [[LABELS.get(k, k), *[f"{w:+.2f}" for w in fin[k]["weights"]]]
                                                     for k in wkeys]), ""]
        if bs in fin:
            neg = [f"{n} ({w:+.2f})" for n, w in zip(names, fin[bs]["weights"]) if w < -0.05]
            lines += [f"Features with a clearly negative weight (< -0.05) in the best static policy "
                      f"({LABELS.get(bs, bs)}): {', '.join(neg) if neg else 'none'}.", ""]
    if comps["early"]:
        lines += ["## Early learning: reward shaping and the LTR term", "",
                  f"Mean greedy-policy GMV over the first {100 * cfg.early_frac:.0f}% of the learning-curve "
                  "evaluations (paired by seed):", ""]
        erow = []
        for name, e in comps["early"].items():
            a, b = name.split(" vs ")
            fg, fc = e["final_gmv"], e["final_ctr"]
            erow.append([f"{LABELS[a]} vs {LABELS[b]}", _pm(e["early_gmv"][a]), _pm(e["early_gmv"][b]),
                         f"{e['diff']:+.2f} ± {e['ci']:.2f}", f"{fg['diff']:+.2f} ± {fg['ci']:.2f}",
                         f"{fc['diff']:+.4f} ± {fc['ci']:.4f}"])
        lines += [markdown_table(["comparison", "early GMV (first)", "early GMV (second)", "early difference",
                                  "final GMV difference", "final CTR difference"], erow), ""]
    if comps["nonstationary"]:
        lines += ["## Non-stationary run (user behaviour shifts mid-run)", "",
                  f"At iteration {cfg.ns_iterations // 2} of {cfg.ns_iterations} the user model changes to "
                  f"{cfg.shift_user} and the segment mix to {cfg.shift_segment_probs}.", ""]
        nrow = [[LABELS[k], _pm(v["rneu_before"], 4), _pm(v["rneu_peak_after"], 4), _pm(v["spike_ratio"], 1),
                 _pm(v["rneu_end"], 4), _pm(v["final_gmv_shifted"])] for k, v in comps["nonstationary"].items()]
        lines += [markdown_table(["agent", "RNEU before", "RNEU peak after", "spike ratio", "RNEU at end",
                                  "final GMV (shifted users)"], nrow), ""]
    lines += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    (out / "report.md").write_text("\n".join(lines))


def _verdicts(cfg: RankingConfig, summary: dict[str, Any]) -> list[str]:
    """Plain-language conclusions computed from the numbers (never hard-coded)."""
    comps = summary["comparisons"]
    out = []
    for k, row in comps["rl_vs"].items():
        for refk, p in row.items():
            lo, hi = p["diff"] - p["ci"], p["diff"] + p["ci"]
            if not (p["ci"] == p["ci"]):
                verdict = "undetermined (one seed)"
            elif lo > 0:
                verdict = "beats"
            elif hi < 0:
                verdict = "is beaten by"
            else:
                verdict = "is not distinguishable from"
            out.append(f"- {LABELS[k]} {verdict} {LABELS.get(refk, refk)} on GMV "
                       f"({100 * p['rel']:+.1f}% ± {100 * p['rel_ci']:.1f}%).")
    for name, e in comps["early"].items():
        a, b = name.split(" vs ")
        lo, hi = e["diff"] - e["ci"], e["diff"] + e["ci"]
        word = "faster" if lo > 0 else ("slower" if hi < 0 else "no detectable difference")
        out.append(f"- Early learning, {LABELS[a]} vs {LABELS[b]}: {word} "
                   f"(early GMV difference {e['diff']:+.2f} ± {e['ci']:.2f}).")
    return out + [""]
