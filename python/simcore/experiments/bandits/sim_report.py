"""Claims, tables and plots of the simulator studies of ``simcore reproduce bandits``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from simcore.experiments.bandits.verdicts import OUTCOMES, aggregate, bias_outcome, coverage_outcome, tally
from simcore.report import Claim
from simcore.report.claims import verdict_from_ci
from simcore.report.stats import paired, t_ci

ESTIMATORS = ("ips", "snips", "dm", "dr", "switch-dr")
SRC_OPE = "docs/ope.md estimator table (Dudik et al. 2011; Wang et al. 2017); issue 14"
SRC_HC = "Thomas, Theocharous & Ghavamzadeh, AAAI 2015, Theorem 1; issue 14"
SRC_BANDIT = "Li et al. 2010 (LinUCB); Agrawal & Goyal 2013; Riquelme et al. 2018; issue 14"
SRC_ALLOC = "issue 14: Lagrangian/dual allocation vs the exact ILP/LP (multiple-choice knapsack)"
#: defaults of BanditsConfig.equiv_rel and .coverage_tol (docs there)
EQUIV_REL = 0.02
COVERAGE_TOL = 0.02
SRC_UPLIFT = "issue 14: T-/X-/DR-learners (Kunzel et al. 2019; Kennedy 2020), Qini"


def _pct(lo: float, hi: float) -> str:
    return f"[{100 * lo:.1f}, {100 * hi:.1f}] %"


def _bias_claim(rows: list[dict[str, Any]], e: str, rel: float, digits: int) -> tuple[list[str], str]:
    """(per-shift bias outcomes, result text) of estimator ``e``."""
    outs = [bias_outcome(r[e]["bias_ci"][0], r[e]["bias_ci"][1], r["value"], rel) for r in rows]
    far = rows[-1]
    b, (lo, hi) = far[e]["bias"], far[e]["bias_ci"]
    f = f"+.{digits}f"
    text = (f"bias at t = {far['t']:g}: {b:{f}} [{lo:{f}}, {hi:{f}}] (V = {far['value']:.{digits}f}, "
            f"margin +-{rel * abs(far['value']):.{digits}f}); per shift: "
            f"{tally(outs, ('unbiased', 'biased', 'inconclusive'))}")
    return outs, text


def _cov_claim(rows: list[dict[str, Any]], e: str, level: float, tol: float) -> tuple[list[str], str]:
    """(per-shift coverage outcomes, result text) of estimator or bound ``e``."""
    outs = [coverage_outcome(r[e]["coverage_ci"][0], r[e]["coverage_ci"][1], level, tol) for r in rows]
    worst = min(rows, key=lambda r: r[e]["coverage"])
    text = (f"coverage {100 * worst[e]['coverage']:.1f} % {_pct(*worst[e]['coverage_ci'])} at t = {worst['t']:g} "
            f"(lowest); per shift: {tally(outs, OUTCOMES)}")
    return outs, text


def _rules(rel: float, tol: float, level: float = 0.95) -> str:
    return (f"unbiased = bias CI inside +-{100 * rel:g} % of V, biased = wholly outside; coverage holds = Wilson "
            f"CI's lower end >= {100 * (level - tol):g} %, fails = upper end < {100 * level:g} %")


def ope_claims(res: dict[str, Any], rel: float = EQUIV_REL, tol: float = COVERAGE_TOL) -> list[Claim]:
    """(a): per estimator, bias (equivalence within +-rel V at every shift) and the normal
    95 % CI's coverage (lower Wilson end >= 95 % - tol at every shift)."""
    out = []
    rows = list(res["shifts"].values())
    far = rows[-1]
    cond = (f"{res['reps']} repetitions x {res['n_rounds']} rounds; shifts t = {[r['t'] for r in rows]}; "
            f"largest weight at t = {far['t']:g}: {far['max_weight']:.1f}; {_rules(rel, tol)}")
    for e in ESTIMATORS:
        outs, text = _bias_claim(rows, e, rel, 4)
        if e == "dm":
            claim = "DM is biased when its reward model is misspecified (linear model, logistic truth)"
            verdict = aggregate(outs, "biased", "unbiased")
        else:
            claim = f"{e.upper()} is unbiased (consistent for SNIPS) as the target moves away from the logging policy"
            verdict = aggregate(outs, "unbiased", "biased")
        out.append(Claim(claim, SRC_OPE, text, verdict, cond))
        outs, text = _cov_claim(rows, e, 0.95, tol)
        out.append(Claim(f"{e.upper()}'s normal 95 % CI (value +- 1.96 stderr) covers V at its level", SRC_OPE,
                         text, aggregate(outs, "holds", "fails"), cond))
    return out


def seq_claims(res: dict[str, Any], rel: float = EQUIV_REL, tol: float = COVERAGE_TOL) -> list[Claim]:
    """(a, sequential): IS, PDIS, DR unbiased within +-rel V and covered; WPDIS biased at
    finite n ("reproduced" when biased at some shift; a bias too small to resolve is not a
    refutation, so otherwise "inconclusive")."""
    out = []
    rows = list(res["shifts"].values())
    far = rows[-1]
    cond = (f"EpisodicMDP 5 states x 3 actions, H = 5; {res['reps']} repetitions x {res['n_episodes']} episodes; "
            f"shifts t = {[r['t'] for r in rows]}; largest trajectory weight at t = {far['t']:g}: "
            f"{far['max_weight']:.0f}; {_rules(rel, tol)}")
    src = "Precup et al. 2000; Jiang & Li 2016 (docs/bandits.md); issue 14"
    for e in ("is", "pdis", "wpdis", "dr"):
        outs, text = _bias_claim(rows, e, rel, 3)
        if e == "wpdis":
            out.append(Claim("Sequential WPDIS is biased at finite n (consistent as n grows)", src, text,
                             "reproduced" if "biased" in outs else "inconclusive", cond))
            continue
        out.append(Claim(f"Sequential {e.upper()} is unbiased as the target moves away from the logging policy",
                         src, text, aggregate(outs, "unbiased", "biased"), cond))
        outs, text = _cov_claim(rows, e, 0.95, tol)
        out.append(Claim(f"Sequential {e.upper()}'s normal 95 % CI covers V at its level", "docs/bandits.md; issue 14",
                         text, aggregate(outs, "holds", "fails"), cond))
    return out


def hcope_claims(res: dict[str, Any], tol: float = COVERAGE_TOL) -> list[Claim]:
    """(b): per bound, coverage >= 1 - delta at every shift: holds when the Wilson CI's
    lower end is >= 1 - delta - tol, fails when its upper end is < 1 - delta."""
    out = []
    rows = list(res["shifts"].values())
    level = 1 - res["delta"]
    names = {"thomas": "Thomas et al.'s concentration bound (c on a 5 % split)",
             "thomas-20%": "Thomas et al.'s concentration bound (c on a 20 % split)",
             "bootstrap": "The percentile-bootstrap lower bound", "t-test": "The Student-t lower bound"}
    for key, label in names.items():
        outs, text = _cov_claim(rows, key, level, tol)
        worst = min(rows, key=lambda r: r[key]["coverage"])
        exact = key.startswith("thomas")
        out.append(Claim(f"{label} holds with probability >= {100 * level:.0f} %" +
                         ("" if exact else " (approximate: no guarantee)"), SRC_HC,
                         f"{text}; mean V - bound there {worst[key]['looseness']:.4f}",
                         aggregate(outs, "holds", "fails"),
                         f"{res['reps']} repetitions x {res['n_rounds']} rounds per shift t = "
                         f"{[r['t'] for r in rows]}; delta = {res['delta']}; holds = Wilson CI's lower end >= "
                         f"{100 * (level - tol):g} %, fails = upper end < {100 * level:g} %"))
    return out


def regret_claims(res: dict[str, Any]) -> list[Claim]:
    """(c): paired (over seeds) differences of final cumulative regret."""
    out = []
    pairs = [("linucb", "ucb1"), ("linear-ts", "thompson"), ("thompson", "uniform"), ("neural-linear-ts", "linear-ts")]
    for world, curves in res["worlds"].items():
        final = {k: np.array([c[-1] for c in v]) for k, v in curves.items()}
        for a, b in pairs:
            if a not in final or b not in final:
                continue
            d = paired(final[b], final[a])
            out.append(Claim(f"{a} has lower regret than {b} on a contextual bandit", SRC_BANDIT,
                             f"regret {b} - {a} = {d['mean']:+.1f} +- {d['half']:.1f} "
                             f"({final[a].mean():.1f} vs {final[b].mean():.1f})",
                             verdict_from_ci(d["mean"] - d["half"], d["mean"] + d["half"]),
                             f"{world} world, K = 5, d = 5, {res['steps']} batches x {res['batch']} rows, "
                             f"{res['n_seeds']} seeds (paired t)"))
    return out


def allocation_claims(res: dict[str, Any]) -> list[Claim]:
    """(d): the dual's relative gap to the ILP under 1 %; pacing (price0 = 1x, eta 0.2)
    within 5 % of the hindsight dual."""
    out = []
    for b, rows in res["budgets"].items():
        gap = [(r["ilp"] - r["dual"]) / r["ilp"] for r in rows]
        m, h = t_ci(gap)
        out.append(Claim("The Lagrangian (dual) allocation is within 1 % of the ILP optimum", SRC_ALLOC,
                         f"gap {100 * m:.3f} +- {100 * h:.3f} %", verdict_from_ci(0.01 - (m + h), 0.01 - (m - h)),
                         f"budget {b} of the cheapest incentive's total spend, {res['n_users']} users x 3 "
                         f"incentives, {len(rows)} populations"))
        pace = [r["pacing"]["1x/0.2"] / r["dual"] for r in rows]
        m, h = t_ci(pace)
        out.append(Claim("Online pacing (a dual price per period) reaches >= 95 % of the hindsight dual value",
                         SRC_ALLOC, f"{100 * m:.1f} +- {100 * h:.1f} %",
                         verdict_from_ci((m - h) - 0.95, (m + h) - 0.95),
                         f"budget {b}; {res['periods']} periods; price0 = the hindsight price, eta = 0.2 "
                         f"(sensitivity in the table)"))
    return out


def uplift_claims(res: dict[str, Any]) -> list[Claim]:
    """(e): the true-gain Qini share > 0, and the budgeted policy beats random targeting."""
    out = []
    rows = res["seeds"]
    for name in ("t-learner", "x-learner", "dr-learner"):
        m, h = t_ci([r[name]["true_qini_share"] for r in rows])
        out.append(Claim(f"The {name} ranks users by uplift better than random (true-gain Qini > 0)", SRC_UPLIFT,
                         f"Qini share of the oracle's {m:.2f} +- {h:.2f}", verdict_from_ci(m - h, m + h),
                         f"{res['n_users']} users, 50/50 experiment, half fitted / half scored, {len(rows)} seeds"))
        d = paired([r[name]["policy_gain"] for r in rows], [r["random_policy"] for r in rows])
        out.append(Claim(f"Treating by the {name}'s uplift per cost under a budget beats random targeting",
                         SRC_UPLIFT, f"true incremental conversions +{d['mean']:.1f} +- {d['half']:.1f} "
                         f"(oracle {np.mean([r['oracle_policy'] for r in rows]):.1f})",
                         verdict_from_ci(d["mean"] - d["half"], d["mean"] + d["half"]),
                         f"budget {res['budget_share']} of treating everyone; paired over {len(rows)} seeds"))
    return out


SRC_LC = "issue 14: the lifecycle simulator as the allocation/uplift testbed (exact one-day expectations)"


def lifecycle_claims(res: dict[str, Any]) -> list[Claim]:
    """(f): the dual within 1 % of the ILP per budget; each learner's true-gain Qini > 0."""
    out = []
    n_seeds = len(res["uplift"])
    for b, rows in res["alloc"].items():
        m, h = t_ci([(r["ilp"] - r["dual"]) / r["ilp"] for r in rows])
        out.append(Claim("On the lifecycle population the dual allocation is within 1 % of the ILP optimum", SRC_LC,
                         f"gap {100 * m:.3f} +- {100 * h:.3f} %", verdict_from_ci(0.01 - (m + h), 0.01 - (m - h)),
                         f"budget {b} of the unconstrained best choice's spend; {res['n_alloc']} customers x "
                         f"{len(res['actions']) - 1} actions, day 0 (myopic); {len(rows)} seeds"))
    for name in ("t-learner", "x-learner", "dr-learner"):
        m, h = t_ci([r[name]["true_qini_share"] for r in res["uplift"]])
        out.append(Claim(f"On the lifecycle population the {name} ranks customers by uplift better than random",
                         SRC_LC, f"true-gain Qini share of the oracle's {m:.2f} +- {h:.2f}",
                         verdict_from_ci(m - h, m + h),
                         f"treatment {res['actions'][res['treatment']]} vs nothing, 50/50, {res['n_uplift']} "
                         f"customers (half fitted), outcome = the day's reward; {n_seeds} seeds"))
    return out


CLAIMS: dict[str, Callable[..., list[Claim]]] = {
    "ope": ope_claims, "ope_seq": seq_claims, "hcope": hcope_claims, "regret": regret_claims,
    "allocation": allocation_claims, "uplift": uplift_claims, "lifecycle": lifecycle_claims}


def claims(sim: dict[str, Any], rel: float = EQUIV_REL, tol: float = COVERAGE_TOL) -> list[Claim]:
    """All simulator claims, in part order; ``rel`` the bias equivalence margin (share of
    V), ``tol`` the coverage tolerance (:mod:`~simcore.experiments.bandits.verdicts`)."""
    kw: dict[str, dict[str, float]] = {"ope": {"rel": rel, "tol": tol}, "ope_seq": {"rel": rel, "tol": tol},
                                       "hcope": {"tol": tol}}
    return [c for part, fn in CLAIMS.items() if part in sim for c in fn(sim[part], **kw.get(part, {}))]
