"""The per-replicate sections of the discount report: seed 0's policies, gaps, tree
DP, transfer, gamma = 0.9 vs 1 and DP paths for one tabular state (within-run CIs:
over runs, users or sessions of that replicate).  Each takes a per-state view of the
results (:func:`~simcore.experiments.discount.report.state_view`).
"""

from __future__ import annotations

from typing import Any

from simcore.experiments.discount.config import ALGORITHMS, LABELS, LEARNERS, gamma_key
from simcore.report import markdown_table, plus_minus


def _checks_section(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    n_ok = sum(c["held"] for c in results["checks"])
    lines.append(f"### Checks of seed 0 ({n_ok} of {len(results['checks'])} held)\n")
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
    lines.append("### Final policies on the tabular model\n")
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
    lines.append("### γ=1 vs γ=0\n")
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
            ["algorithm", "model, exact", "model, Monte Carlo", "real simulator, exact (holdout)",
             "real simulator, MC"],
            rows,
        )
    )
    lines.append("")
    return lines


def _tree_section(results: dict[str, Any]) -> list[str]:
    if not results.get("tree"):
        return []
    gammas = [float(g) for g in results["settings"]["gammas"]]
    lines: list[str] = []
    t = results["tree"]
    lines.append(f"### Exact DP over the full page-history tree of the real simulator (T={t['horizon']})\n")
    lines.append(
        f"{t['users']} panel users × all {len(results['settings']['actions'])}^{t['horizon']} action "
        f"sequences, exact b, c, m in expectation mode; the γ-optimal per-segment sequences are "
        f"then evaluated exactly on {t['holdout_users']} fresh users (holdout).\n"
    )
    rows = []
    for g in gammas:
        r = t["gammas"][gamma_key(g)]
        rows.append([f"{g:g}", r["gmv"], r["v_h0"], plus_minus(r["holdout_gmv"], r["holdout_gmv_ci"]),
                     str(r["sequences"])])
    lines.append(markdown_table(["γ", "GMV (panel)", "V_γ(h0) (panel)", "GMV (holdout)", "sequence per segment"], rows))
    lines.append(
        f"\nGap γ=1 − γ=0: in sample {t['gap']:+.3f} ({t['gap_pct']:+.2f}%); holdout "
        f"{plus_minus(t['holdout_gap'], t['holdout_gap_ci'], 3)} ({t['holdout_gap_pct']:+.2f}%).\n"
    )
    return lines


def _transfer_section(results: dict[str, Any]) -> list[str]:
    gammas = [float(g) for g in results["settings"]["gammas"]]
    st = results["settings"]
    lines: list[str] = []
    lines.append("### Transfer of the tabular policies to the real simulator\n")
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
                [LABELS[alg], f"{g:g}", r["gmv_exact"], plus_minus(r["sim_gmv_exact"], r["sim_gmv_exact_ci"]),
                 plus_minus(r["sim_gmv"], r["sim_gmv_ci"])]
            )
    lines.append(markdown_table(["algorithm", "γ", "GMV on the model", "simulator: exact", "simulator: MC"], rows))
    lines.append("")
    return lines


def _coincide_section(results: dict[str, Any]) -> list[str]:
    if not results.get("coincide"):
        return []
    lines: list[str] = []
    lines.append("### γ=0.9 vs γ=1\n")
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
    lines.append("### DP paths (action per page, first 12 pages, per segment)\n")
    names = ("ltr", "premium", "popular", "quality", "bargain")
    for g in gammas:
        p = results["dp"][gamma_key(g)]["paths"]
        lines.append(f"- γ={g:g}: " + "; ".join(f"seg {i}: " + " ".join(str(a) for a in row[:12])
                                               for i, row in enumerate(p)))
    if len(results["settings"]["actions"]) == 5:
        lines.append(f"\n(actions 0-4: {', '.join(names)})")
    lines.append("")
    return lines


def detail_sections(view: dict[str, Any]) -> list[str]:
    """All per-replicate sections of one state's view, in report order."""
    lines: list[str] = []
    for section in (_checks_section, _policies_section, _gaps_section, _tree_section, _transfer_section,
                    _coincide_section, _paths_section):
        lines += section(view)
    return lines
