"""Report of the discount study: report.md (opening with the claims table), results.json
and the PNG figures.

``write_report(results, out_dir, command)`` takes what
:func:`simcore.experiments.discount.run.run` returns; it computes nothing new.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from simcore.domains.search.config import UserModelConfig, WorldConfig
from simcore.experiments.discount.claims import claims
from simcore.experiments.discount.config import ALGORITHMS, LABELS, LEARNERS, gamma_key
from simcore.experiments.discount.plots import plot_all
from simcore.report import claims_table, markdown_table, plus_minus, write_json
from simcore.report.claims import claims_json


def write_report(results: dict[str, Any], out_dir: str | os.PathLike[str], command: str = "") -> list[str]:
    """Writes report.md (opening with the claims table), results.json and the PNG
    plots into out_dir; returns the file names (report.md first)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cl = claims(results)
    write_json(out / "results.json", {**results, "claims": claims_json(cl)})
    files = ["results.json"] + plot_all(results, out)
    lines = _header(results, cl, command)
    for section in (_checks_section, _policies_section, _gaps_section, _tree_section, _transfer_section,
                    _coincide_section, _paths_section):
        lines += section(results)
    lines.append("## Plots\n")
    lines += [f"![{f}]({f})" for f in files if f.endswith(".png")]
    lines.append("")
    lines += _settings_section(results)
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return ["report.md"] + files


def _header(results: dict[str, Any], cl: list, command: str) -> list[str]:
    lines = ["# Discount study: DP, Q-learning and actor-critic on the SSMDP\n"]
    lines.append("## Claims\n")
    lines.append(claims_table(cl))
    lines.append("")
    lines.append(
        "Reproduction of the article's sections 5.2 and 6 (强化学习为何有用): optimising the "
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
    return lines


def _checks_section(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    n_ok = sum(c["held"] for c in results["checks"])
    lines.append(f"## Checks ({n_ok} of {len(results['checks'])} held)\n")
    lines.append(
        markdown_table(
            ["check", "held", "measured"],
            [[c["name"], "yes" if c["held"] else "**no**", c["detail"]] for c in results["checks"]],
        )
    )
    lines.append("")
    return lines


def _policies_section(results: dict[str, Any]) -> list[str]:
    gammas = [float(g) for g in results["settings"]["gammas"]]
    lines: list[str] = []
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
                    plus_minus(r["gmv"], r["gmv_ci"]),
                    plus_minus(r["gmv_exact"], r.get("gmv_exact_ci", float("nan"))),
                    plus_minus(r["v_h0_exact"], r.get("v_h0_exact_ci", float("nan"))),
                    "–" if alg == "dp" else plus_minus(r["v_h0"], r.get("v_h0_ci", float("nan"))),
                    plus_minus(r["regret"], r.get("regret_ci", float("nan"))),
                ]
            )
    lines.append(
        markdown_table(
            ["algorithm", "γ", "GMV (MC)", "GMV exact", "V_γ(h0) exact", "V_γ(h0) learned", "regret to DP"], rows
        )
    )
    lines.append("")
    return lines


def _gaps_section(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    lines.append("## γ=1 vs γ=0\n")
    rows = []
    for alg in ALGORITHMS:
        gp = results["gaps"][alg]
        rows.append(
            [
                LABELS[alg],
                f"{plus_minus(gp['model_exact'], gp['model_exact_ci'], 3)} ({gp['model_exact_pct']:+.2f}%)",
                plus_minus(gp["model_mc"], gp["model_mc_ci"], 3),
                f"{plus_minus(gp['sim_exact'], gp['sim_exact_ci'], 3)} ({gp['sim_exact_pct']:+.2f}%)",
                plus_minus(gp["sim_mc"], gp["sim_mc_ci"], 3),
            ]
        )
    lines.append(
        markdown_table(
            ["algorithm", "model, exact", "model, Monte Carlo", "real simulator, exact (holdout)", "real simulator, MC"],
            rows,
        )
    )
    lines.append("")
    return lines


def _tree_section(results: dict[str, Any]) -> list[str]:
    if not results.get("tree"):
        return []
    gammas = [float(g) for g in results["settings"]["gammas"]]
    st = results["settings"]
    lines: list[str] = []
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
        rows.append([f"{g:g}", r["gmv"], r["v_h0"], plus_minus(r["holdout_gmv"], r["holdout_gmv_ci"]), str(r["sequences"])])
    lines.append(markdown_table(["γ", "GMV (panel)", "V_γ(h0) (panel)", "GMV (holdout)", "sequence per segment"], rows))
    lines.append(
        f"\nGap γ=1 − γ=0: in sample {t['gap']:+.3f} ({t['gap_pct']:+.2f}%); holdout "
        f"{plus_minus(t['holdout_gap'], t['holdout_gap_ci'], 3)} ({t['holdout_gap_pct']:+.2f}%).\n"
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
            rows.append([f"{g:g}", r["gmv"], plus_minus(r["holdout_gmv"], r["holdout_gmv_ci"]), str(r["sequences"])])
        lines.append(markdown_table(["γ", "GMV (panel)", "GMV (holdout)", "sequence per segment"], rows))
        lines.append(
            f"\nGap γ=1 − γ=0 under the contrast user model: in sample {c['gap']:+.3f} ({c['gap_pct']:+.2f}%); "
            f"holdout {plus_minus(c['holdout_gap'], c['holdout_gap_ci'], 3)} ({c['holdout_gap_pct']:+.2f}%).\n"
        )
    return lines


def _transfer_section(results: dict[str, Any]) -> list[str]:
    gammas = [float(g) for g in results["settings"]["gammas"]]
    st = results["settings"]
    lines: list[str] = []
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
                [LABELS[alg], f"{g:g}", r["gmv_exact"], plus_minus(r["sim_gmv_exact"], r["sim_gmv_exact_ci"]), plus_minus(r["sim_gmv"], r["sim_gmv_ci"])]
            )
    lines.append(markdown_table(["algorithm", "γ", "GMV on the model", "simulator: exact", "simulator: MC"], rows))
    lines.append("")
    return lines


def _coincide_section(results: dict[str, Any]) -> list[str]:
    if not results.get("coincide"):
        return []
    lines: list[str] = []
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
                f"- {LABELS[alg]}: GMV(1) − GMV(0.9) = {plus_minus(c[alg]['gmv_diff'], c[alg]['gmv_diff_ci'], 3)}; "
                f"greedy paths identical for {100 * c[alg]['paths_identical_share']:.0f}% of (run, segment) pairs."
            )
    lines.append("")
    return lines


def _paths_section(results: dict[str, Any]) -> list[str]:
    gammas = [float(g) for g in results["settings"]["gammas"]]
    lines: list[str] = []
    lines.append("## DP paths (action per page, first 12 pages, per segment)\n")
    names = ("ltr", "premium", "popular", "quality", "bargain")
    for g in gammas:
        p = results["dp"][gamma_key(g)]["paths"]
        lines.append(f"- γ={g:g}: " + "; ".join(f"seg {i}: " + " ".join(str(a) for a in row[:12]) for i, row in enumerate(p)))
    if len(results["settings"]["actions"]) == 5:
        lines.append(f"\n(actions 0-4: {', '.join(names)})")
    lines.append("")
    return lines


def _settings_section(results: dict[str, Any]) -> list[str]:
    st = results["settings"]
    lines: list[str] = []
    mi = results["model"]
    lines.append("## Settings\n")
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
    return lines


def _fmt_settings(st: dict[str, Any], indent: str = "") -> str:
    out = []
    for k, v in st.items():
        if isinstance(v, dict):
            out.append(f"{indent}{k}:")
            out.append(_fmt_settings(v, indent + "  "))
        else:
            out.append(f"{indent}{k}: {v}")
    return "\n".join(out)
