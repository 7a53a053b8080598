"""The claims table of the discount study: what the source article claims (the
"强化学习为何有用" article, ../shared/seeds/003_*.txt, §5.2 折扣率 and §六 实验分析),
our measurement with its between-seed 95 % CI, the verdict and the conditions.

The verdicts are read off the between-seed summary
(:mod:`~simcore.experiments.discount.summary`); nothing is recomputed here.
"""

from __future__ import annotations

from typing import Any

from simcore.experiments.discount.config import LABELS, LEARNERS, STATE_LABELS
from simcore.experiments.discount.summary import ARTICLE_GAP_PCT, excludes_zero, learner_verdict
from simcore.report import Claim, plus_minus
from simcore.report.claims import verdict_from_ci

SOURCE = "seeds/003, 强化学习为何有用"


def _ci(s: dict[str, Any], key: str, digits: int = 2, suffix: str = "") -> str:
    return plus_minus(s[key]["mean"], s[key]["half"], digits, suffix=suffix)


def _n(results: dict[str, Any]) -> int:
    return int(results["settings"]["n_seeds"])


def _gap_claim(results: dict[str, Any], state: str, cond: str) -> Claim:
    s = results["summary"][state]
    m, h = s["dp_sim_gap_pct"]["mean"], s["dp_sim_gap_pct"]["half"]
    parts = [f"model {_ci(s, 'dp_model_gap_pct', 1, ' %')}", f"simulator (holdout) {_ci(s, 'dp_sim_gap_pct', 1, ' %')}"]
    if "tree_holdout_gap_pct" in s:
        parts.append(f"tree DP T={results['settings']['tree_horizon']} (holdout) {_ci(s, 'tree_holdout_gap_pct', 1, ' %')}")
    inside = excludes_zero(m, h) and abs(m - ARTICLE_GAP_PCT) <= h
    verdict = verdict_from_ci(m - h, m + h)
    if verdict == "reproduced" and not inside:  # the sign holds, the size does not
        verdict = "partly reproduced"
    size = ("the article's 6 % lies inside the simulator CI" if inside
            else "the article's 6 % lies outside the simulator CI (the sign alone is reproduced when the CI excludes 0)")
    return Claim(
        claim=f"DP, state {STATE_LABELS[state]}: the γ=1 policy earns more GMV than the γ=0 one, by about 6 %",
        source=f"{SOURCE}, §六 实验分析, fig. 10",
        result="; ".join(parts) + f" ({_n(results)} seeds)",
        verdict=verdict,
        conditions=f"{cond}; judged on the real simulator (exact, holdout users); {size}",
    )


def _learner_claim(results: dict[str, Any], state: str, alg: str, cond: str) -> Claim:
    s = results["summary"][state]
    dp = (s["dp_model_gap"]["mean"], s["dp_model_gap"]["half"])
    ln = (s[f"{alg}_model_gap"]["mean"], s[f"{alg}_model_gap"]["half"])
    rule = learner_verdict(dp, ln)
    verdict = {"confirms": "reproduced", "contradicts": "not reproduced"}.get(rule, "partly reproduced")
    return Claim(
        claim=f"{LABELS[alg]}, state {STATE_LABELS[state]}: learning with γ=1 earns more GMV than with γ=0",
        source=f"{SOURCE}, §六 实验分析, fig. 10",
        result=(f"model {_ci(s, f'{alg}_model_gap', 3)} GMV ({_ci(s, f'{alg}_model_gap_pct', 1, ' %')}); "
                f"simulator {_ci(s, f'{alg}_sim_gap_pct', 1, ' %')}; regret to DP at γ=1 "
                f"{_ci(s, f'{alg}_regret/1.0', 3)} GMV; confirm rule: {rule}"),
        verdict=verdict,
        conditions=f"{cond}; a learner's gap counts only where DP's model gap CI excludes 0 "
                   f"(DP: {plus_minus(*dp, 3)})",
    )


def _check_claim(results: dict[str, Any], prefix: str, claim: str, where: str, cond: str) -> Claim | None:
    rows = [(st, c) for st, cs in results["checks"].items() for c in cs if c["name"].startswith(prefix)]
    if not rows:
        return None
    held = sum(c["held"] for _, c in rows)
    total = sum(c["seeds"] for _, c in rows)
    detail = "; ".join(f"{st}: held in {c['held']}/{c['seeds']} seeds (seed 0: {c['detail']})" for st, c in rows)
    return Claim(claim=claim, source=f"{SOURCE}, {where}", result=detail.replace("|", "\\|"),
                 verdict="reproduced" if held == total else ("partly reproduced" if held else "not reproduced"),
                 conditions=cond)


def _coincide_claim(results: dict[str, Any], state: str) -> Claim | None:
    s = results["summary"][state]
    if "actor_critic_g09_vs_1" not in s:
        return None
    m, h = s["actor_critic_g09_vs_1"]["mean"], s["actor_critic_g09_vs_1"]["half"]
    return Claim(
        claim=f"Actor-critic, state {STATE_LABELS[state]}: the GMV of γ = 0.9 and γ = 1.0 (almost) coincide",
        source=f"{SOURCE}, §六 实验分析, fig. 11",
        result=f"GMV(1) − GMV(0.9) = {plus_minus(m, h, 3)}; DP: {_ci(s, 'dp_g09_vs_1', 4)} ({_n(results)} seeds)",
        verdict="reproduced" if not excludes_zero(m, h) else "not reproduced",
        conditions="exact GMV on the model; 'coincide' = the between-seed CI of the difference includes 0",
    )


def claims(results: dict[str, Any]) -> list[Claim]:
    """The claims table rows, in the order of the source."""
    st = results["settings"]
    user = st["session"]["user"]
    cond = (f"tabular model (L={st['memory']}) of the package-default (fig. 3-calibrated) simulator, "
            f"price_aversion {user['price_aversion']:g}, leave_frustration {user['leave_frustration']:g}; "
            f"T={st['session']['horizon']} pages, {len(st['actions'])} actions; {st['runs']} runs × "
            f"{st['sessions']:,} sessions per learner, γ and seed")
    rows: list[Claim | None] = [_check_claim(
        results, "Proposition 2 (exact)", "for every deterministic policy V_γ(C(h0)) ≤ E[GMV], equality only at γ = 1",
        "§5.2 折扣率, 命题2", "exact (backward vs forward evaluation) for every final policy of every algorithm and γ")]
    for state in st["states"]:
        rows.append(_gap_claim(results, state, cond))
    for state in st["states"]:
        rows += [_learner_claim(results, state, alg, cond) for alg in LEARNERS]
    rows.append(_check_claim(
        results, "Actor-critic: learned V_1(h0)", "Actor-critic: only at γ = 1 is the learned V_γ(h0) (almost) equal "
        "to the GMV", "§六 实验分析, fig. 11", "the critic's own estimate after S sessions per run, CI over runs"))
    rows += [_coincide_claim(results, state) for state in st["states"]]
    return [r for r in rows if r is not None]
