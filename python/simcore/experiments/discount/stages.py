"""The stages of one seed replicate of the discount study, per tabular state.

1. :func:`estimate_models` - the tabular SSMDPs (state (t, last L actions) and
   (t, last L actions, segment)) from the C++ simulator's exact b, l, c, m, one
   estimate for both (the segment-free model pools the segments);
2. DP solves each exactly for each gamma (in :mod:`~simcore.experiments.discount.run`);
3. :func:`tree_stage` - an exact DP over the full page-history tree of the real
   simulator for a short horizon, with and without the segment;
4. :func:`run_learners` - tabular Q-learning and actor-critic on sessions sampled
   from a model (R runs x S sessions per (learner, gamma));
5. :func:`evaluate_on_model` - every final policy exactly and by Monte Carlo;
6. :func:`transfer` - every final policy on the real simulator (exact on a holdout
   panel, and Monte Carlo with sampled outcomes).

Every stage draws from named paths of the replicate's SeedTree
(:mod:`~simcore.experiments.discount.seeds`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from simcore.domains.search.tabular import dp as tdp
from simcore.domains.search.tabular.estimate import extract_models
from simcore.domains.search.tabular.learners import LearnResult, learn
from simcore.domains.search.tabular.model import TabularSSMDP
from simcore.domains.search.tabular.montecarlo import simulate_model
from simcore.domains.search.tabular.simeval import draw_users, evaluate_paths, simulate_policies
from simcore.domains.search.tabular.tree import build_tree, segment_free, solve_tree
from simcore.experiments.discount import analysis
from simcore.experiments.discount import seeds as paths
from simcore.experiments.discount.config import ALGORITHMS, LEARNERS, DiscountConfig, gamma_key
from simcore.report import mean_ci
from simcore.util.seeds import SeedTree

#: per (algorithm, gamma): name -> per-run or per-user float64 arrays
PerRun = dict[tuple[str, float], dict[str, np.ndarray]]


def estimate_models(cfg: DiscountConfig, seeds: SeedTree) -> dict[str, TabularSSMDP]:
    """Stage 1: the tabular SSMDP of ``cfg.session`` for every state of ``cfg.states``
    (uniform round + refinement along every state's DP policies; streams
    ``model/round/<k>/...``)."""
    return extract_models(
        cfg.session, cfg.action_array(), cfg.memory, cfg.model_sessions, seed=seeds.child(*paths.MODEL),
        refine_rounds=cfg.refine_rounds, refine_sessions=cfg.refine_sessions,
        refine_gammas=tuple(float(g) for g in cfg.gammas), refine_epsilon=cfg.refine_epsilon,
        min_ess=cfg.min_ess, states=cfg.states,
    )


def tree_stage(cfg: DiscountConfig, seeds: SeedTree, g0: float, g1: float) -> dict[str, tuple[dict[str, Any], dict]]:
    """Stage 3: exact tree DP on the real simulator for each gamma (horizon
    ``cfg.tree_horizon``) and each state (segment-free: one sequence for all users),
    with an exact holdout evaluation of the optimal sequences.

    Returns:
        state -> (results.json entry, gamma -> TreeSolution); {} when skipped.
    """
    if not cfg.tree_horizon:
        return {}
    gammas = [float(g) for g in cfg.gammas]
    acts = cfg.action_array()
    short = dataclasses.replace(cfg.session, max_steps=cfg.tree_horizon)
    panel = draw_users(short, cfg.tree_users, seed=seeds.seed(*paths.TREE_PANEL))
    full = build_tree(short, acts, panel)
    hold = draw_users(short, cfg.holdout_users, seed=seeds.seed(*paths.TREE_HOLDOUT))
    out = {}
    for state in cfg.states:
        tree = full if state == "segment" else segment_free(full)
        sols = {g: solve_tree(tree, g) for g in gammas}
        hv = evaluate_paths(short, acts, hold, [sols[g].sequences for g in gammas], (1.0,))[:, 0]  # (n_g, U)
        res: dict[str, Any] = {"horizon": int(short.horizon), "users": int(cfg.tree_users),
                               "holdout_users": int(cfg.holdout_users), "gammas": {}}
        for i, g in enumerate(gammas):
            hm, hc = mean_ci(hv[i])
            res["gammas"][gamma_key(g)] = {"gmv": sols[g].gmv, "v_h0": sols[g].v_h0,
                                           "sequences": sols[g].sequences.tolist(),
                                           "holdout_gmv": hm, "holdout_gmv_ci": hc}
        res.update(analysis.tree_gaps(sols[g0], sols[g1], hv[gammas.index(g0)], hv[gammas.index(g1)]))
        out[state] = (res, sols)
    return out


def run_learners(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree,
                 state: str) -> dict[tuple[str, float], LearnResult]:
    """Stage 4: every (learner, gamma) of ``state``, in this process (the replicates
    are the parallel jobs).  Run keys: ``learn/<state>/<algorithm>/<g>/run/<r>``."""
    lcfg = cfg.learner_config()
    out = {}
    for alg in LEARNERS:
        for g in (float(x) for x in cfg.gammas):
            keys = paths.run_keys(seeds, state, alg, g, cfg.runs)
            out[(alg, g)] = learn(alg, model, g, keys, lcfg)
    return out


def _evaluate_dp(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree, state: str, dp_sol: dict,
                 dp_best: float, res: dict[str, Any], per_run: PerRun) -> None:
    for g in (float(x) for x in cfg.gammas):
        sol = dp_sol[g]
        mc = simulate_model(model, [sol.policy], cfg.eval_sessions,
                            seed=seeds.child(*paths.evaluate_path(state, "dp", g)))
        m_, c_ = mean_ci(mc.gmv[0])
        vm, vc = mean_ci(mc.returns(g)[0])
        res["dp"][gamma_key(g)] = {
            "gmv": m_, "gmv_ci": c_, "v_h0": sol.v_h0, "gmv_exact": sol.gmv, "v_h0_exact": sol.v_h0,
            "v_h0_mc": vm, "v_h0_mc_ci": vc, "regret": dp_best - sol.gmv, "regret_ci": 0.0,
            "v_regret": 0.0, "paths": tdp.paths(model, sol.policy).tolist(),
        }
        per_run[("dp", g)] = {
            "gmv_exact": np.array([sol.gmv]),
            "v_exact": np.array([sol.v_h0]),
            "gmv_fwd": np.atleast_1d(tdp.expected_gmv_forward(model, sol.policy)),
        }


def _evaluate_learner(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree, state: str, alg: str, g: float,
                      lr: LearnResult, dp_best: float, dp_v: float) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    pol = lr.final_policy
    v_ex = tdp.evaluate(model, pol, g)
    gmv_ex = v_ex if g == 1.0 else tdp.evaluate(model, pol, 1.0)
    v_ex, gmv_ex = np.atleast_1d(v_ex), np.atleast_1d(gmv_ex)
    per_eval = -(-cfg.eval_sessions // cfg.runs)
    mc = simulate_model(model, [pol[r] for r in range(cfg.runs)], per_eval,
                        seed=seeds.child(*paths.evaluate_path(state, alg, g)))
    m_, c_ = mean_ci(mc.gmv.ravel())
    gm, gc = mean_ci(gmv_ex)
    vm_, vc_ = mean_ci(lr.v_h0)
    vxm, vxc = mean_ci(v_ex)
    rg, rc = mean_ci(dp_best - gmv_ex)
    paths_runs = np.stack([tdp.paths(model, lr.greedy[r].astype(np.int64)) for r in range(cfg.runs)])
    entry = {
        "gmv": m_, "gmv_ci": c_, "v_h0": vm_, "v_h0_ci": vc_,
        "gmv_exact": gm, "gmv_exact_ci": gc, "v_h0_exact": vxm, "v_h0_exact_ci": vxc,
        "regret": rg, "regret_ci": rc, "v_regret": dp_v - vxm,
        "lane_steps": lr.lane_steps, "seconds": round(lr.seconds, 2),
    }
    runs = {"gmv_exact": gmv_ex, "v_exact": v_ex, "v_learned": lr.v_h0, "mc": mc.gmv.ravel(), "paths": paths_runs,
            "gmv_fwd": np.atleast_1d(tdp.expected_gmv_forward(model, pol))}
    return entry, runs


def evaluate_on_model(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree, state: str, dp_sol: dict,
                      learned: dict, dp_best: float, g0: float,
                      g1: float) -> tuple[dict[str, Any], PerRun, np.ndarray]:
    """Stage 5: every final policy exactly (backward and forward) and by Monte Carlo on
    the model.  ``regret``: dp_best (the DP optimum's E[GMV]) minus the policy's exact
    E[GMV]; ``v_regret``: DP's V_gamma(h0) minus the policy's at the same gamma.
    Returns (results per algorithm and gamma, per-run arrays, float64 (2, N) Monte
    Carlo GMV of the DP policies at g0 and g1 on common settings)."""
    res: dict[str, Any] = {alg: {} for alg in ALGORITHMS}
    per_run: PerRun = {}
    _evaluate_dp(model, cfg, seeds, state, dp_sol, dp_best, res, per_run)
    for alg in LEARNERS:
        for g in (float(x) for x in cfg.gammas):
            res[alg][gamma_key(g)], per_run[(alg, g)] = _evaluate_learner(
                model, cfg, seeds, state, alg, g, learned[(alg, g)], dp_best, dp_sol[g].v_h0)
    pair = simulate_model(model, [dp_sol[g0].policy, dp_sol[g1].policy], cfg.eval_sessions,
                          seed=seeds.child(*paths.dp_pair(state)))
    return res, per_run, pair.gmv


def _transfer_exact(model: TabularSSMDP, cfg: DiscountConfig, hold: Mapping[str, np.ndarray], dp_sol: dict,
                    per_run: PerRun) -> dict:
    """(algorithm, gamma) -> float64 (U,) exact GMV per holdout user, averaged over runs."""
    det_paths: list[np.ndarray] = []
    det_index: dict[tuple[str, float], list[int]] = {}
    for g in (float(x) for x in cfg.gammas):
        det_index[("dp", g)] = [len(det_paths)]
        det_paths.append(tdp.paths(model, dp_sol[g].policy))
        for alg in LEARNERS:
            det_index[(alg, g)] = list(range(len(det_paths), len(det_paths) + cfg.runs))
            det_paths.extend(per_run[(alg, g)]["paths"][r] for r in range(cfg.runs))
    exact_vals = evaluate_paths(cfg.session, cfg.action_array(), hold, det_paths, (1.0,))[:, 0]  # (n_paths, U)
    return {k: exact_vals[idx].mean(axis=0) for k, idx in det_index.items()}


def _transfer_mc(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree, state: str, dp_sol: dict,
                 learned: dict) -> dict:
    """(algorithm, gamma) -> float64 Monte Carlo GMV per session on the real simulator
    (sampled outcomes; runs' sessions concatenated)."""
    sim_pols: list[np.ndarray] = []
    sim_index: dict[tuple[str, float], list[int]] = {}
    for g in (float(x) for x in cfg.gammas):
        sim_index[("dp", g)] = [len(sim_pols)]
        sim_pols.append(dp_sol[g].policy)
        for alg in LEARNERS:
            lr = learned[(alg, g)]
            sim_index[(alg, g)] = list(range(len(sim_pols), len(sim_pols) + cfg.runs))
            sim_pols.extend(lr.greedy[r].astype(np.int64) if lr.probs is None else lr.probs[r] for r in range(cfg.runs))
    per_pol = {i: -(-cfg.sim_sessions // len(idx)) for idx in sim_index.values() for i in idx}
    sim_gmv: dict[int, np.ndarray] = {}
    for n_s in sorted(set(per_pol.values())):  # policies with the same session count together
        ids = [i for i, n in per_pol.items() if n == n_s]
        out = simulate_policies(cfg.session, cfg.action_array(), model.space, [sim_pols[i] for i in ids], n_s,
                                seed=seeds.child(*paths.transfer_mc_path(state, n_s)),
                                lanes=min(n_s, max(64, n_s // 32)))
        sim_gmv.update({i: out[j] for j, i in enumerate(ids)})
    return {k: np.concatenate([sim_gmv[i] for i in idx]) for k, idx in sim_index.items()}


def transfer(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree, state: str, hold: Mapping[str, np.ndarray],
             dp_sol: dict, learned: dict, res: dict[str, Any], per_run: PerRun) -> None:
    """Stage 6: the tabular policies on the real simulator; adds ``sim_gmv[_ci]``,
    ``sim_gmv_exact[_ci]`` to ``res`` and ``sim_user``/``sim_mc`` to ``per_run``."""
    exact = _transfer_exact(model, cfg, hold, dp_sol, per_run)
    mc = _transfer_mc(model, cfg, seeds, state, dp_sol, learned)
    for alg in ALGORITHMS:
        for g in (float(x) for x in cfg.gammas):
            em, ec = mean_ci(exact[(alg, g)])
            mm, mcc = mean_ci(mc[(alg, g)])
            res[alg][gamma_key(g)].update({"sim_gmv": mm, "sim_gmv_ci": mcc,
                                           "sim_gmv_exact": em, "sim_gmv_exact_ci": ec})
            per_run[(alg, g)]["sim_user"] = exact[(alg, g)]
            per_run[(alg, g)]["sim_mc"] = mc[(alg, g)]
