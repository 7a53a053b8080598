"""The discount study's computation: ``run(config, progress) -> results`` (writes nothing).

Reproduces the "强化学习为何有用" article (sections 5.2 and 6): the search session MDP
is finite-horizon and undiscounted; with gamma = 1 the value of the initial state
equals the expected GMV per session (Proposition 2), and a policy optimised with
gamma = 1 should earn more GMV than one optimised with gamma = 0.

Stages (docs/discount.md), one function each:

1. :func:`estimate_model` - a tabular SSMDP (state = page, last L actions, segment)
   from the C++ simulator's exact b, l, c, m;
2. DP solves it exactly for each gamma;
3. :func:`tree_study` - an exact DP over the full page-history tree of the real
   simulator for a short horizon (and the contrast user model);
4. :func:`run_learners` - tabular Q-learning and actor-critic on sessions sampled
   from the model (R runs x S sessions per (learner, gamma)), as runner jobs;
5. :func:`evaluate_on_model` - every final policy exactly and by Monte Carlo;
6. :func:`transfer` - every final policy on the real simulator (exact on a holdout
   panel, and Monte Carlo with sampled outcomes);
7. :mod:`~simcore.experiments.discount.analysis` - gaps, checks and curves.

Randomness: one ``SeedTree(config.seed)`` per run; every stage draws from named paths
of it (:mod:`~simcore.experiments.discount.seeds`), all recorded in ``results["seeds"]``.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.tabular import dp as tdp
from simcore.domains.search.tabular.estimate import extract_model
from simcore.domains.search.tabular.learners import LearnerConfig, LearnResult, learn
from simcore.domains.search.tabular.model import TabularSSMDP
from simcore.domains.search.tabular.montecarlo import simulate_model
from simcore.domains.search.tabular.simeval import draw_users, evaluate_paths, simulate_policies
from simcore.domains.search.tabular.tree import build_tree, solve_tree
from simcore.experiments.discount import analysis
from simcore.experiments.discount import seeds as paths
from simcore.experiments.discount.config import ALGORITHMS, LEARNERS, DiscountConfig, gamma_key
from simcore.experiments.discount.work import Work, work_plan
from simcore.report import mean_ci
from simcore.runner import Job, SeedTree, run_jobs

#: per (algorithm, gamma): name -> per-run or per-user float64 arrays
PerRun = dict[tuple[str, float], dict[str, np.ndarray]]


# ----------------------------------------------------------------------------- stages


def estimate_model(cfg: DiscountConfig, seeds: SeedTree, work: Callable[[float], None]) -> TabularSSMDP:
    """Stage 1: the tabular SSMDP of ``cfg.session`` (uniform round + refinement;
    streams ``model/round/<k>/...``)."""
    return extract_model(
        cfg.session,
        cfg.action_array(),
        cfg.memory,
        cfg.model_sessions,
        seed=seeds.child(*paths.MODEL),
        refine_rounds=cfg.refine_rounds,
        refine_sessions=cfg.refine_sessions,
        refine_gammas=tuple(float(g) for g in cfg.gammas),
        refine_epsilon=cfg.refine_epsilon,
        min_ess=cfg.min_ess,
        progress=work,
    )


def tree_study(
    sess: SessionConfig, cfg: DiscountConfig, seeds: SeedTree, g0: float, g1: float, work: Callable[[float], None]
) -> tuple[dict[str, Any], dict[float, Any]]:
    """Stage 3: exact tree DP on the real simulator ``sess`` for each gamma (horizon
    ``cfg.tree_horizon``), with an exact holdout evaluation of the optimal sequences.

    Returns:
        (results.json entry, gamma -> TreeSolution).
    """
    gammas = [float(g) for g in cfg.gammas]
    acts = cfg.action_array()
    short = dataclasses.replace(sess, max_steps=cfg.tree_horizon)
    panel = draw_users(short, cfg.tree_users, seed=seeds.seed(*paths.TREE_PANEL))
    tree = build_tree(short, acts, panel, progress=work)
    hold = draw_users(short, cfg.holdout_users, seed=seeds.seed(*paths.TREE_HOLDOUT))
    sols = {g: solve_tree(tree, g) for g in gammas}
    hv = evaluate_paths(short, acts, hold, [sols[g].sequences for g in gammas], (1.0,))[:, 0]  # (n_g, U)
    out: dict[str, Any] = {
        "horizon": int(short.horizon),
        "users": int(cfg.tree_users),
        "holdout_users": int(cfg.holdout_users),
        "gammas": {},
    }
    for i, g in enumerate(gammas):
        s = sols[g]
        hm, hc = mean_ci(hv[i])
        out["gammas"][gamma_key(g)] = {
            "gmv": s.gmv,
            "v_h0": s.v_h0,
            "sequences": s.sequences.tolist(),
            "holdout_gmv": hm,
            "holdout_gmv_ci": hc,
        }
    out.update(analysis.tree_gaps(sols[g0], sols[g1], hv[gammas.index(g0)], hv[gammas.index(g1)]))
    return out, sols


def _tree_stage(cfg: DiscountConfig, seeds: SeedTree, g0: float, g1: float,
                work: Work) -> tuple[dict[str, Any] | None, dict]:
    if not cfg.tree_horizon:
        return None, {}
    work.begin(f"tree: {cfg.n_actions}^{cfg.tree_horizon} sequences x {cfg.tree_users} users")
    res, sols = tree_study(cfg.session, cfg, seeds, g0, g1, work)
    if cfg.contrast_session is not None:
        work.begin("tree: contrast user model")
        res["contrast"], _ = tree_study(cfg.contrast_session, cfg, seeds, g0, g1, work)  # same users' streams
        res["contrast"]["user"] = dataclasses.asdict(cfg.contrast_session.user)
    return res, sols


def learner_job(
    model: TabularSSMDP,
    algorithm: str,
    gamma: float,
    keys: np.ndarray,
    config: LearnerConfig,
    progress: Callable[[float], None],
) -> LearnResult:
    """One runner job: R = len(keys) runs of ``algorithm`` at ``gamma`` on the shared
    ``model`` (uint64 (R,) run keys); ``progress`` gets completed sessions."""
    return learn(algorithm, model, gamma, keys, config, progress=progress)


def learner_jobs(cfg: DiscountConfig, seeds: SeedTree) -> list[Job]:
    """The (learner, gamma) jobs of stage 4; actor-critic (the slower) weighs more.
    Run keys: ``learn/<algorithm>/<g>/run/<r>`` (own runs per gamma, see seeds.py)."""
    lcfg = cfg.learner_config()
    jobs = []
    for alg in LEARNERS:
        for g in cfg.gammas:
            keys = paths.run_keys(seeds, alg, float(g), cfg.runs)
            jobs.append(
                Job(
                    key=f"{alg}/{gamma_key(g)}",
                    fn=learner_job,
                    kwargs=dict(algorithm=alg, gamma=float(g), keys=keys, config=lcfg),
                    seed_path=paths.learn_path(alg, float(g)),
                    work=cfg.runs * cfg.sessions * (2.0 if alg == "actor_critic" else 1.0),
                    ticks=True,
                )
            )
    return jobs


def run_learners(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree,
                 progress: bool) -> dict[tuple[str, float], LearnResult]:
    """Stage 4: every (learner, gamma) job, on a process pool when workers > 1."""
    jobs = learner_jobs(cfg, seeds)
    workers = max(1, min(cfg.workers or os.cpu_count() or 1, len(jobs)))
    out = run_jobs(
        jobs,
        backend="process" if workers > 1 else "inline",
        workers=workers,
        shared=model,
        progress=progress,
        desc="discount: learn",
        unit="sessions",
        total=float(len(jobs) * cfg.runs * cfg.sessions),
    )
    return {(j.kwargs["algorithm"], j.kwargs["gamma"]): r for j, r in zip(jobs, out)}


def _evaluate_dp(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree, dp_sol: dict, dp_best: float,
                 res: dict[str, Any], per_run: PerRun) -> None:
    for g in (float(x) for x in cfg.gammas):
        sol = dp_sol[g]
        mc = simulate_model(model, [sol.policy], cfg.eval_sessions, seed=seeds.child(*paths.evaluate_path("dp", g)))
        m_, c_ = mean_ci(mc.gmv[0])
        vm, vc = mean_ci(mc.returns(g)[0])
        res["dp"][gamma_key(g)] = {
            "gmv": m_,
            "gmv_ci": c_,
            "v_h0": sol.v_h0,
            "gmv_exact": sol.gmv,
            "v_h0_exact": sol.v_h0,
            "v_h0_mc": vm,
            "v_h0_mc_ci": vc,
            "regret": dp_best - sol.gmv,
            "regret_ci": 0.0,
            "paths": tdp.paths(model, sol.policy).tolist(),
        }
        per_run[("dp", g)] = {
            "gmv_exact": np.array([sol.gmv]),
            "v_exact": np.array([sol.v_h0]),
            "gmv_fwd": np.atleast_1d(tdp.expected_gmv_forward(model, sol.policy)),
        }


def _evaluate_learner(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree, alg: str, g: float,
                      lr: LearnResult, dp_best: float) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    pol = lr.final_policy
    v_ex = tdp.evaluate(model, pol, g)
    gmv_ex = v_ex if g == 1.0 else tdp.evaluate(model, pol, 1.0)
    v_ex, gmv_ex = np.atleast_1d(v_ex), np.atleast_1d(gmv_ex)
    per_eval = -(-cfg.eval_sessions // cfg.runs)
    pols = [pol[r] for r in range(cfg.runs)]
    mc = simulate_model(model, pols, per_eval, seed=seeds.child(*paths.evaluate_path(alg, g)))
    m_, c_ = mean_ci(mc.gmv.ravel())
    gm, gc = mean_ci(gmv_ex)
    vm_, vc_ = mean_ci(lr.v_h0)
    vxm, vxc = mean_ci(v_ex)
    rg, rc = mean_ci(dp_best - gmv_ex)
    paths_runs = np.stack([tdp.paths(model, lr.greedy[r].astype(np.int64)) for r in range(cfg.runs)])
    entry = {
        "gmv": m_, "gmv_ci": c_, "v_h0": vm_, "v_h0_ci": vc_,
        "gmv_exact": gm, "gmv_exact_ci": gc, "v_h0_exact": vxm, "v_h0_exact_ci": vxc,
        "regret": rg, "regret_ci": rc, "lane_steps": lr.lane_steps, "seconds": round(lr.seconds, 2),
    }
    runs = {
        "gmv_exact": gmv_ex,
        "v_exact": v_ex,
        "v_learned": lr.v_h0,
        "mc": mc.gmv.ravel(),
        "paths": paths_runs,
        "gmv_fwd": np.atleast_1d(tdp.expected_gmv_forward(model, pol)),
    }
    return entry, runs


def evaluate_on_model(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree, dp_sol: dict, learned: dict,
                      dp_best: float, g0: float, g1: float) -> tuple[dict[str, Any], PerRun, np.ndarray]:
    """Stage 5: every final policy exactly (backward and forward) and by Monte Carlo on
    the model.  Returns (results per algorithm and gamma, per-run arrays, float64 (2, N)
    Monte Carlo GMV of the DP policies at g0 and g1 on common settings)."""
    res: dict[str, Any] = {alg: {} for alg in ALGORITHMS}
    per_run: PerRun = {}
    _evaluate_dp(model, cfg, seeds, dp_sol, dp_best, res, per_run)
    for alg in LEARNERS:
        for g in (float(x) for x in cfg.gammas):
            res[alg][gamma_key(g)], per_run[(alg, g)] = _evaluate_learner(
                model, cfg, seeds, alg, g, learned[(alg, g)], dp_best
            )
    pair = [dp_sol[g0].policy, dp_sol[g1].policy]
    dp_pair = simulate_model(model, pair, cfg.eval_sessions, seed=seeds.child(*paths.DP_PAIR))
    return res, per_run, dp_pair.gmv


def _transfer_exact(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree, dp_sol: dict, per_run: PerRun) -> dict:
    """(algorithm, gamma) -> float64 (U,) exact GMV per holdout user, averaged over runs."""
    gammas = [float(g) for g in cfg.gammas]
    hold = draw_users(cfg.session, cfg.holdout_users, seed=seeds.seed(*paths.TRANSFER_HOLDOUT))
    det_paths: list[np.ndarray] = []
    det_index: dict[tuple[str, float], list[int]] = {}
    for g in gammas:
        det_index[("dp", g)] = [len(det_paths)]
        det_paths.append(tdp.paths(model, dp_sol[g].policy))
        for alg in LEARNERS:
            det_index[(alg, g)] = list(range(len(det_paths), len(det_paths) + cfg.runs))
            det_paths.extend(per_run[(alg, g)]["paths"][r] for r in range(cfg.runs))
    exact_vals = evaluate_paths(cfg.session, cfg.action_array(), hold, det_paths, (1.0,))[:, 0]  # (n_paths, U)
    return {k: exact_vals[idx].mean(axis=0) for k, idx in det_index.items()}


def _transfer_mc(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree, dp_sol: dict, learned: dict,
                 work: Work) -> dict:
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
                                seed=seeds.child(*paths.transfer_mc_path(n_s)), lanes=min(n_s, max(64, n_s // 32)),
                                progress=work)
        sim_gmv.update({i: out[j] for j, i in enumerate(ids)})
    return {k: np.concatenate([sim_gmv[i] for i in idx]) for k, idx in sim_index.items()}


def transfer(model: TabularSSMDP, cfg: DiscountConfig, seeds: SeedTree, dp_sol: dict, learned: dict,
             res: dict[str, Any], per_run: PerRun, work: Work) -> None:
    """Stage 6: the tabular policies on the real simulator; adds ``sim_gmv[_ci]``,
    ``sim_gmv_exact[_ci]`` to ``res`` and ``sim_user``/``sim_mc`` to ``per_run``."""
    work.begin("exact: transfer to a holdout panel")
    exact = _transfer_exact(model, cfg, seeds, dp_sol, per_run)
    work(1)
    work.begin("transfer: Monte Carlo (sampled outcomes)")
    mc = _transfer_mc(model, cfg, seeds, dp_sol, learned, work)
    for alg in ALGORITHMS:
        for g in (float(x) for x in cfg.gammas):
            em, ec = mean_ci(exact[(alg, g)])
            mm, mcc = mean_ci(mc[(alg, g)])
            res[alg][gamma_key(g)].update(
                {"sim_gmv": mm, "sim_gmv_ci": mcc, "sim_gmv_exact": em, "sim_gmv_exact_ci": ec}
            )
            per_run[(alg, g)]["sim_user"] = exact[(alg, g)]
            per_run[(alg, g)]["sim_mc"] = mc[(alg, g)]


# ----------------------------------------------------------------------------- run


def run(config: DiscountConfig | None = None, progress: bool = True) -> dict[str, Any]:
    """Runs the study (default: ``DiscountConfig()``); returns the results dict (the
    content of results.json)."""
    config = DiscountConfig() if config is None else config
    t_start = time.perf_counter()
    cfg = config
    seeds = SeedTree(cfg.seed)  # the run's one tree: every stream is a named path of it
    gammas = [float(g) for g in cfg.gammas]
    g0 = 0.0 if 0.0 in gammas else min(gammas)
    g1 = 1.0 if 1.0 in gammas else max(gammas)
    stage_s: dict[str, float] = {}
    work = work_plan(cfg, progress)

    def stamp(name: str, t0: float) -> float:
        now = time.perf_counter()
        stage_s[name] = round(now - t0, 2)
        return now

    t0 = time.perf_counter()
    work.begin("model: estimating b, l, c, m")
    model = estimate_model(cfg, seeds, work)
    t0 = stamp("model", t0)
    dp_sol = {g: tdp.solve(model, g) for g in gammas}
    t0 = stamp("dp", t0)
    tree_res, tree_sols = _tree_stage(cfg, seeds, g0, g1, work)
    t0 = stamp("tree", t0) if cfg.tree_horizon else t0
    work.begin("learn")
    learned = run_learners(model, cfg, seeds, progress)
    work.bar.update(work.share["learn"])
    t0 = stamp("learn", t0)
    work.begin("evaluate: on the model")
    dp_best = dp_sol[g1].gmv if 1.0 in gammas else max(s.gmv for s in dp_sol.values())
    res, per_run, dp_pair = evaluate_on_model(model, cfg, seeds, dp_sol, learned, dp_best, g0, g1)
    work(1)
    t0 = stamp("evaluate_model", t0)
    transfer(model, cfg, seeds, dp_sol, learned, res, per_run, work)
    stamp("transfer", t0)
    work.close()
    findings = analysis.analyse(cfg, model, dp_sol, per_run, res, dp_pair, tree_res, tree_sols, dp_best, g0, g1)
    out: dict[str, Any] = {
        **res,
        **findings,
        "tree": tree_res,
        "curves": analysis.curves(learned, gammas),
        "model": model.info,
        "settings": settings(cfg),
        "seed": cfg.seed,
        "seeds": paths.record(cfg, seeds),
        "stage_seconds": stage_s,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    out["runtime_s"] = round(time.perf_counter() - t_start, 2)
    return out


def settings(cfg: DiscountConfig) -> dict[str, Any]:
    """The config as results.json records it (with the horizon and the action array)."""
    d = dataclasses.asdict(cfg)
    d["session"]["horizon"] = cfg.session.horizon
    d["actions"] = cfg.action_array().tolist()
    return d
