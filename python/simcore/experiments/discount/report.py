"""Report of the discount study: report.md (opening with the claims table), results.json
and the PNG figures.

``write_report(results, out_dir, command)`` takes what
:func:`simcore.experiments.discount.run.run` returns; it computes nothing new.  The
summary tables give between-seed 95 % CIs (Student-t over the seed replicates); the
per-replicate detail (:mod:`~simcore.experiments.discount.report_detail`) is seed 0's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from simcore.experiments.discount.claims import claims
from simcore.experiments.discount.config import LABELS, LEARNERS, STATE_LABELS, gamma_key
from simcore.experiments.discount.plots import plot_all
from simcore.experiments.discount.report_detail import detail_sections
from simcore.experiments.discount.summary import ARTICLE_GAP_PCT, learner_verdict
from simcore.report import claims_table, markdown_table, plus_minus, write_json
from simcore.report.claims import claims_json


def state_view(results: dict[str, Any], state: str, k: int = 0) -> dict[str, Any]:
    """Replicate k's results of one state, shaped like a single-seed run (with the
    run's settings) for the per-replicate sections."""
    return {**results["replicates"][k]["states"][state], "settings": results["settings"]}


def write_report(results: dict[str, Any], out_dir: str | os.PathLike[str], command: str = "") -> list[str]:
    """Writes report.md (opening with the claims table), results.json and the PNG
    plots into out_dir; returns the file names (report.md first)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cl = claims(results)
    write_json(out / "results.json", {**results, "claims": claims_json(cl)})
    files = ["results.json"] + plot_all(results, out)
    lines = _header(results, cl, command)
    lines += _summary_section(results) + _regret_section(results) + _sensitivity_section(results)
    lines.append("## Plots\n")
    lines += [f"![{f}]({f})\n" for f in files if f.endswith(".png")]
    for state in results["settings"]["states"]:
        lines.append(f"## Seed 0 in detail, state {STATE_LABELS[state]}\n")
        lines += detail_sections(state_view(results, state))
    lines += _settings_section(results)
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return ["report.md"] + files


def _header(results: dict[str, Any], cl: list, command: str) -> list[str]:
    st, mc = results["settings"], results["machine"]
    lines = ["# Discount study: DP, Q-learning and actor-critic on the SSMDP\n", "## Claims\n", claims_table(cl), ""]
    lines.append(
        "Reproduction of the article's sections 5.2 and 6 (强化学习为何有用): optimising the "
        "undiscounted return (γ=1) maximises the expected GMV per session (Proposition 2), "
        f"so a γ=1 policy should earn more than a γ=0 one (the article's DP: +{ARTICLE_GAP_PCT:g} %).  "
        f"Every CI is a between-seed 95 % Student-t interval over {st['n_seeds']} seed replicates "
        "(each: its own model estimate, tree panel, holdout users and learner runs), unless a "
        "section says otherwise.  Protocol: docs/discount.md.\n"
    )
    if command:
        lines.append(f"Command: `{command}`  \n")
    lines.append(
        f"Runtime: {results['runtime_s']:.1f} s on {mc['cpus']} CPUs ({mc['platform']}, Python {mc['python']}, "
        f"NumPy {mc['numpy']}; stages: {', '.join(f'{k} {v:.1f}s' for k, v in results['stage_seconds'].items())}).  "
        f"Seed: {results['seed']}.\n"
    )
    return lines


def _row(s: dict[str, Any], label: str, key: str, digits: int = 3) -> list[str]:
    return [label, plus_minus(s[key]["mean"], s[key]["half"], digits),
            plus_minus(s[key + "_pct"]["mean"], s[key + "_pct"]["half"], 1, suffix=" %")]


def _summary_section(results: dict[str, Any]) -> list[str]:
    st = results["settings"]
    lines = [f"## GMV(γ=1) − GMV(γ=0) per state ({st['n_seeds']} seeds, between-seed 95 % CIs)\n"]
    lines.append(
        "`model`: exact E[GMV] on the seed's tabular model (learners: mean over the seed's runs); "
        "`simulator`: exact on the seed's holdout users (deterministic policies; learners' greedy "
        f"policies); `tree DP`: exact DP over all {len(st['actions'])}^{st['tree_horizon']} page "
        f"histories of the real simulator (T={st['tree_horizon']}), in sample and on fresh users.  "
        f"The article's DP gap: +{ARTICLE_GAP_PCT:g} %.  A learner's gap confirms the effect only where "
        "the DP gap on the model is distinguishable from 0 (confirm rule).\n"
    )
    rows = []
    for state in st["states"]:
        s = results["summary"][state]
        lab = STATE_LABELS[state]
        rows.append(_row(s, f"{lab}: DP, model", "dp_model_gap"))
        rows.append(_row(s, f"{lab}: DP, simulator (holdout)", "dp_sim_gap"))
        if "tree_gap" in s:
            rows.append(_row(s, f"{lab}: tree DP, in sample", "tree_gap"))
            rows.append(_row(s, f"{lab}: tree DP, holdout", "tree_holdout_gap"))
        dp = (s["dp_model_gap"]["mean"], s["dp_model_gap"]["half"])
        for alg in LEARNERS:
            v = learner_verdict(dp, (s[f"{alg}_model_gap"]["mean"], s[f"{alg}_model_gap"]["half"]))
            rows.append(_row(s, f"{lab}: {LABELS[alg]}, model ({v})", f"{alg}_model_gap"))
            rows.append(_row(s, f"{lab}: {LABELS[alg]}, simulator (holdout)", f"{alg}_sim_gap"))
    lines.append(markdown_table(["state: algorithm, evaluation", "gap (GMV per session)", "gap (%)"], rows))
    lines.append("")
    return lines


def _regret_section(results: dict[str, Any]) -> list[str]:
    st = results["settings"]
    gammas = [float(g) for g in st["gammas"]]
    lines = [f"## Learners against DP ({st['n_seeds']} seeds, between-seed 95 % CIs)\n"]
    lines.append(
        "`regret`: the DP optimum's E[GMV] (DP at γ=1) minus the learned policy's exact E[GMV] on the "
        "model; `V-regret`: DP's V_γ(h0) minus the learned policy's V_γ(h0) at the same γ (how far the "
        "learner is from converging on its own objective).  `DP GMV`: the exact E[GMV] of DP's "
        "γ-optimal policy.\n"
    )
    rows = []
    for state in st["states"]:
        s = results["summary"][state]
        for g in gammas:
            k = gamma_key(g)
            row = [STATE_LABELS[state], f"{g:g}", plus_minus(s[f"dp_gmv/{k}"]["mean"], s[f"dp_gmv/{k}"]["half"], 3)]
            for alg in LEARNERS:
                row.append(plus_minus(s[f"{alg}_regret/{k}"]["mean"], s[f"{alg}_regret/{k}"]["half"], 3))
                row.append(plus_minus(s[f"{alg}_v_regret/{k}"]["mean"], s[f"{alg}_v_regret/{k}"]["half"], 3))
            rows.append(row)
    head = ["state", "γ", "DP GMV"] + [f"{LABELS[a]} {w}" for a in LEARNERS for w in ("regret", "V-regret")]
    lines.append(markdown_table(head, rows))
    lines.append("")
    return lines


def _sensitivity_section(results: dict[str, Any]) -> list[str]:
    st, user = results["settings"], results["settings"]["session"]["user"]
    fit = results.get("fig3", {})
    lines = ["## Sensitivity: where the calibrated default sits\n"]
    lines.append(
        f"This run's user model: price_aversion {user['price_aversion']:g}, leave_frustration "
        f"{user['leave_frustration']:g}, click_intent {user['click_intent']:g}"
        + ("; its fig. 3 statistics under the ltr ranking: "
           + ", ".join(f"{k} {v:.3f}" for k, v in fit["achieved"].items()) + f", purchase rate {fit['purchase_rate']:.3f}"
           if fit else "") + ".\n"
    )
    sens = results.get("sensitivity")
    if not sens:
        lines.append("The gap as curves over price_aversion and leave_frustration (each point re-fitted to fig. 3, "
                     "5 seeds per point): `simcore reproduce discount --preset sensitivity`; recorded values in "
                     "docs/discount.md.\n")
        return lines
    lines.append(f"One parameter changed at a time, the calibrated fields re-fitted to fig. 3 on "
                 f"{sens['calibration_users']} users at every point; {st['n_seeds']} seeds per point; gaps in %, "
                 "between-seed 95 % CIs (figure `sensitivity.png`).\n")
    rows = []
    for p in sens["points"]:
        for state in st["states"]:
            s = p["summary"][state]
            cell = [f"{p['param']} = {p['value']:g}", STATE_LABELS[state]]
            for key in ("dp_model_gap_pct", "dp_sim_gap_pct", "tree_holdout_gap_pct",
                        "q_learning_model_gap_pct", "actor_critic_model_gap_pct"):
                cell.append(plus_minus(s[key]["mean"], s[key]["half"], 1) if key in s else "–")
            a = p["fit"]["achieved"]
            cell.append(f"{a['share_1']:.2f}/{a['share_2']:.2f}/{a['share_3']:.2f}/{a['within_6']:.2f}/"
                        f"{a['share_30']:.3f}; rate {p['fit']['purchase_rate']:.3f}")
            rows.append(cell)
    lines.append(markdown_table(["point", "state", "DP model", "DP simulator", "tree DP holdout", "Q-learning model",
                                 "actor-critic model", "fig. 3 fit (n=1/2/3/≤6/30; purchases per session)"], rows))
    lines.append("")
    return lines


def _settings_section(results: dict[str, Any]) -> list[str]:
    st = results["settings"]
    mi = results["replicates"][0]["states"][st["states"][-1]]["model"]
    lines = ["## Settings\n"]
    lines.append(
        f"- Simulator: the package default (fig. 3-calibrated user model); T={st['session']['horizon']} pages, "
        f"K={st['session']['page_size']}.\n"
        f"- States: {', '.join(STATE_LABELS[s] for s in st['states'])}, L={st['memory']}; model per seed: "
        f"{mi['sessions']:,} users in {len(mi['rounds'])} rounds "
        f"({'; '.join(r['behaviour'] + ' × ' + format(r['sessions'], ',') for r in mi['rounds'])}), back-off "
        f"below ESS {mi['min_ess']:g}.\n"
        f"- Seeds: {st['n_seeds']} replicates.  Learners: R={st['runs']} runs × S={st['sessions']:,} sessions per "
        f"(state, algorithm, γ, seed), {st['learner']['lanes']} concurrent sessions per run, step size "
        f"(n+1)^-{st['learner']['step_exponent']}, ε {st['learner']['epsilon_start']}→{st['learner']['epsilon_end']} "
        f"over {st['learner']['epsilon_decay']:.0%} of the sessions, actor step {st['learner']['actor_lr']}.\n"
        f"- Evaluation: {st['eval_sessions']:,} Monte Carlo sessions on the model and {st['sim_sessions']:,} on the "
        f"real simulator per (algorithm, γ); {st['holdout_users']:,} holdout users; tree panel {st['tree_users']} "
        "users.\n"
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
