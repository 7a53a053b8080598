"""Gaps, confidence intervals and checks of the discount study (pure functions of the
stage outputs of :mod:`~simcore.experiments.discount.run`; no simulation here).

Intervals (all 95%, from :mod:`simcore.report.stats`):

* over runs or sessions of one policy: ``mean_ci`` (normal approximation);
* gamma = g1 minus gamma = g0 on independent samples (runs, Monte Carlo sessions):
  ``welch``, mean(a) - mean(b) with the Welch-Satterthwaite t interval;
* differences on the same users (holdout panels): ``paired``, the Student-t interval
  of the mean per-user difference.

A check is ``{"name", "held", "detail"}``: the claim tested, whether it held, and the
numbers it was judged by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simcore.domains.search.tabular import dp as tdp
from simcore.domains.search.tabular.learners import LearnResult
from simcore.domains.search.tabular.model import TabularSSMDP
from simcore.experiments.discount.config import ALGORITHMS, LABELS, LEARNERS, DiscountConfig, gamma_key
from simcore.report import mean_ci, paired, welch

PerRun = Mapping[tuple[str, float], Mapping[str, np.ndarray]]


def diff_ci(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """mean(a) - mean(b) of independent samples and its 95% Welch half-width."""
    w = welch(np.asarray(a, float).ravel(), np.asarray(b, float).ravel())
    return float(w["mean"]), float(w["half"])


def paired_ci(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """mean(a - b) over matched units (users) and its 95% paired-t half-width."""
    p = paired(np.asarray(a, float).ravel(), np.asarray(b, float).ravel())
    return float(p["mean"]), float(p["half"])


def _check(checks: list[dict], name: str, held: bool, detail: str) -> None:
    checks.append({"name": name, "held": bool(held), "detail": detail})


def tree_gaps(sol0: Any, sol1: Any, hold0: np.ndarray, hold1: np.ndarray) -> dict[str, float]:
    """The tree DP's gamma = g1 minus g0 gap: in sample (``TreeSolution.user_gmv``,
    float64 (U,), mean_ci over panel users) and on the holdout panel (float64 (U',)
    exact GMV per user of each gamma's sequences; paired over users)."""
    d_in = sol1.user_gmv - sol0.user_gmv
    out = {
        "gap": float(d_in.mean()),
        "gap_ci": mean_ci(d_in)[1],
        "gap_pct": 100.0 * float(d_in.mean()) / sol0.gmv if sol0.gmv else float("nan"),
    }
    out["holdout_gap"], out["holdout_gap_ci"] = paired_ci(hold1, hold0)
    base = float(hold0.mean())
    out["holdout_gap_pct"] = 100.0 * out["holdout_gap"] / base if base else float("nan")
    return out


def gaps_and_checks(cfg: DiscountConfig, per_run: PerRun, dp_pair: np.ndarray, g0: float, g1: float,
                    checks: list[dict]) -> dict[str, Any]:
    """GMV(g1) - GMV(g0) per algorithm on the model (exact, Monte Carlo) and on the real
    simulator (exact on holdout users, Monte Carlo), with their checks.

    ``dp_pair``: float64 (2, N) Monte Carlo GMV per session of DP's g0 and g1 policies."""
    gaps: dict[str, Any] = {}
    for alg in ALGORITHMS:
        a0, a1 = per_run[(alg, g0)], per_run[(alg, g1)]
        e0 = float(np.mean(a0["gmv_exact"]))
        if alg == "dp":
            gx, gxc = float(a1["gmv_exact"][0] - a0["gmv_exact"][0]), 0.0
            gm, gmc = diff_ci(dp_pair[1], dp_pair[0])
        else:
            gx, gxc = diff_ci(a1["gmv_exact"], a0["gmv_exact"])
            gm, gmc = diff_ci(a1["mc"], a0["mc"])
        sx, sxc = paired_ci(a1["sim_user"], a0["sim_user"])
        sm, smc = diff_ci(a1["sim_mc"], a0["sim_mc"])
        gaps[alg] = {
            "model_exact": gx,
            "model_exact_ci": gxc,
            "model_exact_pct": 100.0 * gx / e0 if e0 else float("nan"),
            "model_mc": gm,
            "model_mc_ci": gmc,
            "sim_exact": sx,
            "sim_exact_ci": sxc,
            "sim_exact_pct": 100.0 * sx / float(np.mean(a0["sim_user"])),
            "sim_mc": sm,
            "sim_mc_ci": smc,
        }
        sig = "exact" if alg == "dp" else "CI"
        held = gx > 0 if alg == "dp" else gx - gxc > 0
        _check(
            checks,
            f"{LABELS[alg]}: GMV(gamma={g1}) > GMV(gamma={g0}) on the model",
            held,
            f"gap {gx:+.3f} ({gaps[alg]['model_exact_pct']:+.2f}%)"
            + ("" if alg == "dp" else f" +/- {gxc:.3f} (95% CI over runs)")
            + f"; Monte Carlo gap {gm:+.3f} +/- {gmc:.3f}; judged by the {sig}",
        )
        _check(
            checks,
            f"{LABELS[alg]}: GMV(gamma={g1}) > GMV(gamma={g0}) on the real simulator",
            sx - sxc > 0,
            f"exact on {cfg.holdout_users} holdout users (greedy policies): {sx:+.3f} +/- {sxc:.3f} "
            f"({gaps[alg]['sim_exact_pct']:+.2f}%); Monte Carlo with sampled outcomes: {sm:+.3f} +/- {smc:.3f}",
        )
    return gaps


def proposition2_checks(cfg: DiscountConfig, per_run: PerRun, res: Mapping[str, Any], dp_best: float,
                        checks: list[dict]) -> None:
    """Proposition 2: V_gamma(h0) < E[GMV] for gamma < 1 and = at gamma = 1, exactly for
    every final policy, by Monte Carlo for DP, and for the learners' own estimates."""
    worst_eq, worst_lt, n_pol, n_lt_fail = 0.0, float("inf"), 0, 0
    for (_alg, g), pr in per_run.items():
        # E[GMV] by forward propagation minus V_gamma(h0) by backward evaluation
        diff = np.asarray(pr["gmv_fwd"]) - np.asarray(pr["v_exact"])
        n_pol += diff.size
        if g == 1.0:
            worst_eq = max(worst_eq, float(np.max(np.abs(diff))))
        else:
            worst_lt = min(worst_lt, float(np.min(diff)))
            n_lt_fail += int(np.sum(diff <= 0))
    tol = 1e-9 * max(1.0, dp_best)
    _check(
        checks,
        "Proposition 2 (exact): V_gamma(h0) < E[GMV] for gamma < 1 and = at gamma = 1, every final policy",
        worst_eq <= tol and n_lt_fail == 0,
        f"{n_pol} policies, E[GMV] by forward propagation, V_gamma(h0) by backward evaluation; "
        f"max |E[GMV] - V_1(h0)| = {worst_eq:.2e}; "
        f"min E[GMV] - V_gamma(h0) over gamma < 1 = {worst_lt if worst_lt < float('inf') else float('nan'):.4f} "
        f"({n_lt_fail} violations)",
    )
    gammas = [float(g) for g in cfg.gammas]
    if 1.0 not in gammas:
        return
    d = res["dp"][gamma_key(1.0)]
    _check(
        checks,
        "Proposition 2 (simulated): DP gamma=1 Monte Carlo GMV matches V_1(h0) within its 95% CI",
        abs(d["gmv"] - d["v_h0"]) <= d["gmv_ci"],
        f"MC {d['gmv']:.3f} +/- {d['gmv_ci']:.3f} ({cfg.eval_sessions} sessions) vs V_1(h0) {d['v_h0']:.3f}",
    )
    for alg in LEARNERS:
        pr = per_run[(alg, 1.0)]
        m_, c_ = mean_ci(pr["v_learned"] - pr["gmv_exact"])
        _check(
            checks,
            f"{LABELS[alg]}: learned V_1(h0) equals the policy's GMV within the CI",
            abs(m_) <= (c_ if c_ == c_ else 0.0),
            f"learned minus exact GMV {m_:+.3f} +/- {c_:.3f} over {cfg.runs} runs",
        )
    for alg in LEARNERS:
        mean = {g: (np.mean(per_run[(alg, g)]["v_learned"]), np.mean(per_run[(alg, g)]["gmv_exact"]))
                for g in gammas if g < 1.0}
        _check(
            checks,
            f"{LABELS[alg]}: learned V_gamma(h0) below the GMV for every gamma < 1",
            all(v < e for v, e in mean.values()),
            ", ".join(f"gamma={g}: {v:.2f} vs {e:.2f}" for g, (v, e) in mean.items()),
        )


def optimality_checks(cfg: DiscountConfig, per_run: PerRun, res: Mapping[str, Any], dp_sol: Mapping[float, Any],
                      dp_best: float, g1: float, checks: list[dict]) -> None:
    """No learned policy beats DP on its own objective; regrets to the DP optimum >= 0."""
    gammas = [float(g) for g in cfg.gammas]
    worst = 0.0
    for alg in LEARNERS:
        for g in gammas:
            worst = max(worst, float(np.max(per_run[(alg, g)]["v_exact"])) - dp_sol[g].v_h0)
    _check(
        checks,
        "DP is optimal: no learned policy has a higher exact V_gamma(h0) than DP at its gamma",
        worst <= 1e-9 * max(1.0, dp_best),
        f"largest excess {worst:.2e}",
    )
    for alg in LEARNERS:
        rg = [res[alg][gamma_key(g)]["regret"] for g in gammas]
        _check(
            checks,
            f"{LABELS[alg]}: regret to the DP optimum (E[GMV] of DP at gamma={g1}) is >= 0",
            min(rg) >= -1e-9,
            ", ".join(f"gamma={g}: {r:.3f}" for g, r in zip(gammas, rg)),
        )


def coincide_checks(model: TabularSSMDP, per_run: PerRun, dp_sol: Mapping[float, Any],
                    checks: list[dict]) -> dict[str, Any]:
    """Where gamma = 0.9 and gamma = 1 coincide: DP paths per segment, learners' GMV."""
    coincide: dict[str, Any] = {}
    if 0.9 not in dp_sol or 1.0 not in dp_sol:
        return coincide
    G = model.space.n_segments
    p9, p1 = tdp.paths(model, dp_sol[0.9].policy), tdp.paths(model, dp_sol[1.0].policy)
    same_seg = [bool(np.array_equal(p9[g], p1[g])) for g in range(G)]
    first_diff = [int(np.argmax(p9[g] != p1[g])) if not same_seg[g] else None for g in range(G)]
    states_eq = float(np.mean(dp_sol[0.9].policy == dp_sol[1.0].policy))
    gmv_diff = dp_sol[1.0].gmv - dp_sol[0.9].gmv
    coincide["dp"] = {"segments_identical": same_seg, "first_different_page": first_diff,
                      "states_equal_share": states_eq, "gmv_diff": gmv_diff}
    _check(
        checks,
        "DP: the gamma=0.9 and gamma=1 policies coincide on every segment's path",
        all(same_seg),
        f"identical paths per segment: {same_seg}; first differing page: {first_diff}; "
        f"same action in {100 * states_eq:.1f}% of all states; GMV difference {gmv_diff:+.4f}",
    )
    for alg in LEARNERS:
        a9, a1 = per_run[(alg, 0.9)]["paths"], per_run[(alg, 1.0)]["paths"]
        same = float(np.mean(np.all(a9 == a1, axis=2)))
        dd, dc = diff_ci(per_run[(alg, 1.0)]["gmv_exact"], per_run[(alg, 0.9)]["gmv_exact"])
        coincide[alg] = {"paths_identical_share": same, "gmv_diff": dd, "gmv_diff_ci": dc}
        _check(
            checks,
            f"{LABELS[alg]}: GMV of gamma=0.9 and gamma=1 policies equal within the CI",
            abs(dd) <= dc,
            f"GMV(1) - GMV(0.9) = {dd:+.3f} +/- {dc:.3f}; run-paired greedy paths identical for "
            f"{100 * same:.0f}% of (run, segment) pairs",
        )
    return coincide


def tree_checks(cfg: DiscountConfig, tree_res: Mapping[str, Any], tree_sols: Mapping[float, Any],
                dp_best: float, g0: float, g1: float, checks: list[dict]) -> None:
    """The tree DP's gain in sample and on fresh users; its exact gamma = 1 identity."""
    _check(
        checks,
        f"Tree DP (real simulator, T={tree_res['horizon']}): GMV(gamma={g1}) > GMV(gamma={g0}) in sample",
        tree_res["gap"] > 0,
        f"gap {tree_res['gap']:+.3f} ({tree_res['gap_pct']:+.2f}%) on the {cfg.tree_users}-user panel",
    )
    _check(
        checks,
        f"Tree DP (real simulator, T={tree_res['horizon']}): the gain holds on fresh users",
        tree_res["holdout_gap"] - tree_res["holdout_gap_ci"] > 0,
        f"holdout gap {tree_res['holdout_gap']:+.3f} +/- {tree_res['holdout_gap_ci']:.3f} "
        f"({tree_res['holdout_gap_pct']:+.2f}%) on {cfg.holdout_users} users",
    )
    ident = max(abs(s.v_h0 - s.gmv) for g, s in tree_sols.items() if g == 1.0) if 1.0 in tree_sols else 0.0
    _check(
        checks,
        "Tree DP: V_1(h0) = E[GMV] exactly (Proposition 2 on the real simulator)",
        ident <= 1e-9 * max(1.0, dp_best),
        f"max |V_1(h0) - E[GMV]| = {ident:.2e}",
    )


def analyse(cfg: DiscountConfig, model: TabularSSMDP, dp_sol: Mapping[float, Any], per_run: PerRun,
            res: Mapping[str, Any], dp_pair: np.ndarray, tree_res: Mapping[str, Any] | None,
            tree_sols: Mapping[float, Any], dp_best: float, g0: float, g1: float) -> dict[str, Any]:
    """All gaps and checks: ``{"gaps", "coincide", "checks"}`` for results.json."""
    checks: list[dict] = []
    gaps = gaps_and_checks(cfg, per_run, dp_pair, g0, g1, checks)
    proposition2_checks(cfg, per_run, res, dp_best, checks)
    optimality_checks(cfg, per_run, res, dp_sol, dp_best, g1, checks)
    coincide = coincide_checks(model, per_run, dp_sol, checks)
    if tree_res is not None:
        tree_checks(cfg, tree_res, tree_sols, dp_best, g0, g1, checks)
    return {"gaps": gaps, "coincide": coincide, "checks": checks}


def curves(learned: Mapping[tuple[str, float], LearnResult], gammas: list[float]) -> dict[str, Any]:
    """Learning curves per learner and gamma, averaged over runs (results.json)."""
    out: dict[str, Any] = {}
    for alg in LEARNERS:
        out[alg] = {}
        for g in gammas:
            lr = learned[(alg, g)]
            out[alg][gamma_key(g)] = {
                "sessions": lr.curve_sessions.tolist(),
                "gmv_mean": lr.curve_gmv.mean(axis=0).tolist(),
                "gmv_ci": [mean_ci(lr.curve_gmv[:, i])[1] for i in range(lr.curve_gmv.shape[1])],
                "checkpoint_sessions": lr.ckpt_sessions.tolist(),
                "checkpoint_v_h0": lr.ckpt_v_h0.mean(axis=0).tolist(),
                "checkpoint_gmv_exact": lr.ckpt_gmv.mean(axis=0).tolist(),
                "checkpoint_v_exact": lr.ckpt_v_exact.mean(axis=0).tolist(),
            }
    return out
