"""Report of the discount study: curves and comparison plots, report.md.

``write_report(results, out_dir)`` takes what :func:`simcore.experiments.discount.run.run`
returns and writes the Markdown report and PNG figures next to its results.json.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np

from simcore.experiments.discount.run import ALGORITHMS, LABELS, LEARNERS, gamma_key
from simcore.report import markdown_table, new_figure, save_figure, write_json


def _plot_curves(results: dict[str, Any], out: Path) -> list[str]:
    files = []
    gammas = [float(g) for g in results["settings"]["gammas"]]
    dp = results["dp"]
    colors = {g: c for g, c in zip(gammas, ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"] * 3)}
    g0, g1 = min(gammas), max(gammas)
    # Article figure 10: gamma = 0 vs gamma = 1 for the three algorithms.
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
    files.append("fig10_gmv_gamma0_vs_gamma1.png")
    # Article figure 11 (per learner): GMV curves and V_gamma(h0) curves for every gamma.
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
    # V_gamma(h0) against GMV.
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
    files.append("v_h0_vs_gmv.png")
    # gamma = 1 vs gamma = 0 gap.
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
    files.append("gap_gamma1_vs_gamma0.png")
    return files


def _pm(m: float, c: float, d: int = 2) -> str:
    if c != c or c is None:
        return f"{m:.{d}f}"
    return f"{m:.{d}f} ± {c:.{d}f}"


def write_report(results: dict[str, Any], out_dir: str | os.PathLike[str], command: str = "") -> list[str]:
    """Writes report.md, results.json and the PNG plots into out_dir; returns file names."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", results)
    files = ["results.json"]
    files += _plot_curves(results, out)
    gammas = [float(g) for g in results["settings"]["gammas"]]
    st = results["settings"]
    lines: list[str] = []
    lines.append("# Discount study: DP, Q-learning and actor-critic on the SSMDP\n")
    lines.append(
        "Reproduction of the article's sections 4-6 (强化学习为何有用): optimising the "
        "undiscounted return (γ=1) maximises the expected GMV per session (Proposition 2), "
        "so a γ=1 policy should earn more than a γ=0 one.  Protocol: docs/discount.md.\n"
    )
    if command:
        lines.append(f"Command: `{command}`  \n")
    lines.append(
        f"Runtime: {results['runtime_s']:.1f} s on {results['machine']['cpus']} CPUs "
        f"(stages: {', '.join(f'{k} {v:.1f}s' for k, v in results['stage_seconds'].items())}).  "
        f"Seed: {results['seed']}.\n"
    )
    n_ok = sum(c["held"] for c in results["checks"])
    lines.append(f"## Checks ({n_ok} of {len(results['checks'])} held)\n")
    lines.append(
        markdown_table(
            ["check", "held", "measured"],
            [[c["name"], "yes" if c["held"] else "**no**", c["detail"]] for c in results["checks"]],
        )
    )
    lines.append("")
    lines.append("## Final policies on the tabular model\n")
    lines.append(
        "`GMV (MC)`: Monte Carlo on the model with 95% CI (learners: sessions pooled over the "
        "runs' final policies).  `GMV exact` / `V_γ(h0) exact`: backward evaluation of the "
        "final policy (learners: mean ± 95% CI over runs).  `V_γ(h0) learned`: the learner's "
        "own estimate (max_a Q or the critic).  Regret: DP-optimal E[GMV] minus the policy's "
        "exact E[GMV].  Actor-critic's final policy is its softmax.\n"
    )
    rows = []
    for alg in ALGORITHMS:
        for g in gammas:
            r = results[alg][gamma_key(g)]
            rows.append(
                [
                    LABELS[alg],
                    f"{g:g}",
                    _pm(r["gmv"], r["gmv_ci"]),
                    _pm(r["gmv_exact"], r.get("gmv_exact_ci", float("nan"))),
                    _pm(r["v_h0_exact"], r.get("v_h0_exact_ci", float("nan"))),
                    "–" if alg == "dp" else _pm(r["v_h0"], r.get("v_h0_ci", float("nan"))),
                    _pm(r["regret"], r.get("regret_ci", float("nan"))),
                ]
            )
    lines.append(
        markdown_table(
            ["algorithm", "γ", "GMV (MC)", "GMV exact", "V_γ(h0) exact", "V_γ(h0) learned", "regret to DP"], rows
        )
    )
    lines.append("")
    lines.append("## γ=1 vs γ=0\n")
    rows = []
    for alg in ALGORITHMS:
        gp = results["gaps"][alg]
        rows.append(
            [
                LABELS[alg],
                f"{_pm(gp['model_exact'], gp['model_exact_ci'], 3)} ({gp['model_exact_pct']:+.2f}%)",
                _pm(gp["model_mc"], gp["model_mc_ci"], 3),
                f"{_pm(gp['sim_exact'], gp['sim_exact_ci'], 3)} ({gp['sim_exact_pct']:+.2f}%)",
                _pm(gp["sim_mc"], gp["sim_mc_ci"], 3),
            ]
        )
    lines.append(
        markdown_table(
            ["algorithm", "model, exact", "model, Monte Carlo", "real simulator, exact (holdout)", "real simulator, MC"],
            rows,
        )
    )
    lines.append("")
    if results.get("tree"):
        t = results["tree"]
        lines.append(f"## Exact DP over the full page-history tree of the real simulator (T={t['horizon']})\n")
        lines.append(
            f"{t['users']} panel users × all {len(results['settings']['actions'])}^{t['horizon']} action "
            f"sequences, exact b, c, m in expectation mode; the γ-optimal per-segment sequences are "
            f"then evaluated exactly on {t['holdout_users']} fresh users (holdout).\n"
        )
        rows = []
        for g in gammas:
            r = t["gammas"][gamma_key(g)]
            rows.append([f"{g:g}", r["gmv"], r["v_h0"], _pm(r["holdout_gmv"], r["holdout_gmv_ci"]), str(r["sequences"])])
        lines.append(markdown_table(["γ", "GMV (panel)", "V_γ(h0) (panel)", "GMV (holdout)", "sequence per segment"], rows))
        lines.append(
            f"\nGap γ=1 − γ=0: in sample {t['gap']:+.3f} ({t['gap_pct']:+.2f}%); holdout "
            f"{_pm(t['holdout_gap'], t['holdout_gap_ci'], 3)} ({t['holdout_gap_pct']:+.2f}%).\n"
        )
        if t.get("contrast"):
            c = t["contrast"]
            changed = {k: v for k, v in c["user"].items() if v != st["session"]["user"].get(k)}
            lines.append(
                (
                    "Contrast: the same tree DP with the user model changed to "
                    + ", ".join(f"{k}={v}" for k, v in changed.items())
                    + " (the package default; the study raises leave_frustration, see docs/discount.md):\n"
                )
                if changed
                else "Contrast: the same tree DP on the contrast configuration (same user model, other settings):\n"
            )
            rows = []
            for g in gammas:
                r = c["gammas"][gamma_key(g)]
                rows.append([f"{g:g}", r["gmv"], _pm(r["holdout_gmv"], r["holdout_gmv_ci"]), str(r["sequences"])])
            lines.append(markdown_table(["γ", "GMV (panel)", "GMV (holdout)", "sequence per segment"], rows))
            lines.append(
                f"\nGap γ=1 − γ=0 under the contrast user model: in sample {c['gap']:+.3f} ({c['gap_pct']:+.2f}%); "
                f"holdout {_pm(c['holdout_gap'], c['holdout_gap_ci'], 3)} ({c['holdout_gap_pct']:+.2f}%).\n"
            )
    lines.append("## Transfer of the tabular policies to the real simulator\n")
    lines.append(
        "`exact`: deterministic (greedy) policies run in expectation mode on "
        f"{st['holdout_users']} fresh users (mean ± 95% CI over users; learners averaged over runs; "
        "actor-critic uses its greedy policy here).  `MC`: sessions with sampled outcomes, the final "
        "policy as learned (actor-critic: softmax).\n"
    )
    rows = []
    for alg in ALGORITHMS:
        for g in gammas:
            r = results[alg][gamma_key(g)]
            rows.append(
                [LABELS[alg], f"{g:g}", r["gmv_exact"], _pm(r["sim_gmv_exact"], r["sim_gmv_exact_ci"]), _pm(r["sim_gmv"], r["sim_gmv_ci"])]
            )
    lines.append(markdown_table(["algorithm", "γ", "GMV on the model", "simulator: exact", "simulator: MC"], rows))
    lines.append("")
    if results.get("coincide"):
        lines.append("## γ=0.9 vs γ=1\n")
        c = results["coincide"]
        if "dp" in c:
            lines.append(
                f"- DP: per-segment paths identical: {c['dp']['segments_identical']}; first differing page: "
                f"{c['dp']['first_different_page']}; same action in {100 * c['dp']['states_equal_share']:.1f}% "
                f"of all states; GMV(1) − GMV(0.9) = {c['dp']['gmv_diff']:+.4f}."
            )
        for alg in LEARNERS:
            if alg in c:
                lines.append(
                    f"- {LABELS[alg]}: GMV(1) − GMV(0.9) = {_pm(c[alg]['gmv_diff'], c[alg]['gmv_diff_ci'], 3)}; "
                    f"greedy paths identical for {100 * c[alg]['paths_identical_share']:.0f}% of (run, segment) pairs."
                )
        lines.append("")
    lines.append("## DP paths (action per page, first 12 pages, per segment)\n")
    names = ("ltr", "premium", "popular", "quality", "bargain")
    for g in gammas:
        p = results["dp"][gamma_key(g)]["paths"]
        lines.append(f"- γ={g:g}: " + "; ".join(f"seg {i}: " + " ".join(str(a) for a in row[:12]) for i, row in enumerate(p)))
    if len(results["settings"]["actions"]) == 5:
        lines.append(f"\n(actions 0-4: {', '.join(names)})")
    lines.append("")
    lines.append("## Plots\n")
    for f in files:
        if f.endswith(".png"):
            lines.append(f"![{f}]({f})")
    lines.append("")
    mi = results["model"]
    lines.append("## Settings\n")
    from simcore.domains.search.config import UserModelConfig, WorldConfig

    udef, wdef = dataclasses.asdict(UserModelConfig()), dataclasses.asdict(WorldConfig())
    du = {k: v for k, v in st["session"]["user"].items() if udef.get(k) != v}
    dw = {k: v for k, v in st["session"]["world"].items() if wdef.get(k) != v and not (isinstance(v, list) and tuple(v) == wdef.get(k))}
    lines.append(
        "- Simulator: package defaults"
        + (" with user model " + ", ".join(f"{k}={v}" for k, v in du.items()) if du else "")
        + (" and catalogue " + ", ".join(f"{k}={v}" for k, v in dw.items()) if dw else "")
        + ".\n"
    )
    lines.append(
        f"- Tabular state: (page, last L={st['memory']} actions, segment): {mi['states']:,} states × "
        f"{len(st['actions'])} actions; horizon T={st['session']['horizon']}, K={st['session']['page_size']}.\n"
        f"- Model: {mi['sessions']:,} users in {len(mi['rounds'])} rounds "
        f"({'; '.join(r['behaviour'] + ' × ' + format(r['sessions'], ',') for r in mi['rounds'])}); "
        f"back-off below ESS {mi['min_ess']:g}: {mi['backoff_states']:,} states "
        f"({100 * mi['backoff_weight']:.1f}% of the expected page views under the estimation behaviour).\n"
        f"- Learners: R={st['runs']} runs × S={st['sessions']:,} sessions per (algorithm, γ), "
        f"{st['learner']['lanes']} concurrent sessions per run (batched updates), step size "
        f"(n+1)^-{st['learner']['step_exponent']}, ε {st['learner']['epsilon_start']}→{st['learner']['epsilon_end']} "
        f"over {st['learner']['epsilon_decay']:.0%} of the sessions, actor step {st['learner']['actor_lr']}.\n"
        f"- Evaluation: {st['eval_sessions']:,} Monte Carlo sessions on the model and {st['sim_sessions']:,} on the "
        f"real simulator per (algorithm, γ); {st['holdout_users']:,} holdout users for the exact transfer.\n"
    )
    lines.append("<details><summary>all settings</summary>\n\n```\n" + _fmt_settings(st) + "\n```\n</details>\n")
    (out / "report.md").write_text("\n".join(lines) + "\n")
    files.insert(0, "report.md")
    return files


def _fmt_settings(st: dict[str, Any], indent: str = "") -> str:
    out = []
    for k, v in st.items():
        if isinstance(v, dict):
            out.append(f"{indent}{k}:")
            out.append(_fmt_settings(v, indent + "  "))
        else:
            out.append(f"{indent}{k}: {v}")
    return "\n".join(out)
