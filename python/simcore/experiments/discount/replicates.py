"""The seed replicates of the discount study: :func:`replicate_job` (one replicate, a
pure function of (config, k)) and :func:`run_replicates` (all replicates of one or
more configs as one pool of runner jobs).  Replicate k draws from the subtree
``seed/<k>`` of ``SeedTree(config.seed)`` (:mod:`~simcore.experiments.discount.seeds`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from simcore.domains.search.tabular import dp as tdp
from simcore.domains.search.tabular.model import TabularSSMDP
from simcore.domains.search.tabular.simeval import draw_users
from simcore.experiments.discount import analysis
from simcore.experiments.discount import seeds as paths
from simcore.experiments.discount.config import DiscountConfig
from simcore.experiments.discount.stages import (
    estimate_models,
    evaluate_on_model,
    run_learners,
    transfer,
    tree_stage,
)
from simcore.runner import Job, SeedTree, run_jobs


def _ends(cfg: DiscountConfig) -> tuple[list[float], float, float]:
    gammas = [float(g) for g in cfg.gammas]
    g0 = 0.0 if 0.0 in gammas else min(gammas)
    g1 = 1.0 if 1.0 in gammas else max(gammas)
    return gammas, g0, g1


def run_state(cfg: DiscountConfig, seeds: SeedTree, state: str, model: TabularSSMDP,
              tree: tuple[dict[str, Any], dict] | None, hold: Mapping[str, np.ndarray],
              detail: bool) -> dict[str, Any]:
    """Stages 2 and 4-6 and the analysis of one state in one replicate (the content
    docs/discount.md lists per state); ``detail=False`` drops curves and paths."""
    gammas, g0, g1 = _ends(cfg)
    t0 = time.perf_counter()
    dp_sol = {g: tdp.solve(model, g) for g in gammas}
    learned = run_learners(model, cfg, seeds, state)
    t1 = time.perf_counter()
    dp_best = dp_sol[g1].gmv if 1.0 in gammas else max(s.gmv for s in dp_sol.values())
    res, per_run, dp_pair = evaluate_on_model(model, cfg, seeds, state, dp_sol, learned, dp_best, g0, g1)
    transfer(model, cfg, seeds, state, hold, dp_sol, learned, res, per_run)
    tree_res, tree_sols = tree if tree is not None else (None, {})
    findings = analysis.analyse(cfg, model, dp_sol, per_run, res, dp_pair, tree_res, tree_sols, dp_best, g0, g1)
    out: dict[str, Any] = {**res, **findings, "tree": tree_res, "model": model.info,
                           "seconds": {"learn": round(t1 - t0, 2), "evaluate": round(time.perf_counter() - t1, 2)}}
    if detail:
        out["curves"] = analysis.curves(learned, gammas)
    else:
        for alg in res:
            for entry in res[alg].values():
                entry.pop("paths", None)
    return out


def replicate_job(cfg: DiscountConfig, k: int, detail: bool = True) -> dict[str, Any]:
    """Seed replicate k (a runner job): the models of every state from one estimate,
    the tree DP, then :func:`run_state` per state.  A pure function of (cfg, k)."""
    seeds = paths.replicate(SeedTree(cfg.seed), k)
    _, g0, g1 = _ends(cfg)
    t0 = time.perf_counter()
    models = estimate_models(cfg, seeds)
    t1 = time.perf_counter()
    trees = tree_stage(cfg, seeds, g0, g1)
    t2 = time.perf_counter()
    hold = draw_users(cfg.session, cfg.holdout_users, seed=seeds.seed(*paths.TRANSFER_HOLDOUT))
    states = {x: run_state(cfg, seeds, x, models[x], trees.get(x), hold, detail) for x in cfg.states}
    return {"seed": k, "states": states,
            "seconds": {"model": round(t1 - t0, 2), "tree": round(t2 - t1, 2),
                        "states": round(time.perf_counter() - t2, 2)}}


def run_replicates(cfgs: list[DiscountConfig], progress: bool, detail: bool = True,
                   desc: str = "discount: seeds") -> list[list[dict[str, Any]]]:
    """Every seed replicate of every config, as one pool of runner jobs (process
    backend when ``workers`` > 1); returns per config the replicates in seed order."""
    jobs = [Job(key=f"config/{i}/seed/{k}", fn=replicate_job, kwargs=dict(cfg=c, k=k, detail=detail),
                seed_path=("seed", k), work=1.0)
            for i, c in enumerate(cfgs) for k in range(c.n_seeds)]
    workers = max(1, min(cfgs[0].workers or os.cpu_count() or 1, len(jobs)))
    out = run_jobs(jobs, backend="process" if workers > 1 else "inline", workers=workers,
                   progress=progress, desc=desc, unit="replicates")
    it = iter(out)
    return [[next(it) for _ in range(c.n_seeds)] for c in cfgs]
