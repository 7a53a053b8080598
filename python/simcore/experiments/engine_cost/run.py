"""Engine cost: learn which ranking features to compute for each request (引擎性能优化).

Protocol (docs/engine_cost.md):

1. Generate training and held-out requests (:mod:`simcore.domains.feature_cost.data`): 12
   ranking features with per-item costs; which expensive features matter depends on
   the user and the query by design.
2. Train the article's actor-critic and REINFORCE with a baseline on
   ``simcore/FeatureSelection-v0`` for every loss threshold C (reward: -cost fraction,
   -penalty when the pairwise loss exceeds C), and the actor-critic on the relaxed
   reward (-cost fraction - loss / lambda) for a few lambda.  Each learner is an
   independent job of the shared runner (:mod:`simcore.runner`).
3. Baselines on the held-out requests: all features; static subsets (greedy under a
   cost budget, fitted on the training requests, and the best static subset in
   hindsight); the exhaustive per-request optimum over all 2**12 subsets.
4. Measure on the held-out requests: cost saved, pairwise loss, threshold violations,
   and the exact expected GMV of sessions ranked with each policy's subsets in the
   SSMDP simulator (a panel of simulated users per request, common to all policies;
   ranking with a subset = ranking with weights w * mask, see the docs).

:func:`run` returns the results dict and writes nothing; the report
(:mod:`~simcore.experiments.engine_cost.report`) writes results.json, report.md and
the plots from it.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from simcore.domains.feature_cost import baselines as B
from simcore.domains.feature_cost.data import FEATURE_NAMES, FeatureCostData, FeatureCostDataConfig, generate
from simcore.domains.feature_cost.env import FeatureSelectionConfig
from simcore.domains.feature_cost.kernels import feature_mean, subset_eval
from simcore.experiments.engine_cost import analysis as An
from simcore.experiments.engine_cost.config import EngineCostConfig
from simcore.experiments.engine_cost.evaluation import Evaluator, PolicyEval
from simcore.experiments.engine_cost.learners import LearnerSpec, learner_jobs
from simcore.runner import SeedTree, run_jobs
from simcore.util.config import to_dict
from simcore.util.progress import Progress

__all__ = ["run"]

Add = Callable[..., None]


def _data(cfg: EngineCostConfig, seeds: SeedTree) -> tuple[FeatureCostData, FeatureCostData, np.ndarray]:
    """Training and held-out requests (named seeds ``("data", "train")`` and
    ``("data", "test")``) and the fill values: the training population's feature means."""
    dcfg = dict(n_items=cfg.n_items, context_strength=cfg.context_strength)
    train_data = generate(FeatureCostDataConfig(n_contexts=cfg.n_train, seed=seeds.seed("data", "train"), **dcfg))
    test = generate(FeatureCostDataConfig(n_contexts=cfg.n_test, seed=seeds.seed("data", "test"), **dcfg))
    return train_data, test, feature_mean(train_data.X, threads=cfg.threads)


def _oracle_baselines(cfg: EngineCostConfig, table: B.ExhaustiveTable, add: Add) -> None:
    """The exhaustive per-request optimum and the best static subset in hindsight, at
    every threshold C and every lambda."""
    Q = cfg.n_test
    for C in cfg.thresholds:
        m, _, _ = table.pick(table.best_threshold(C, cfg.penalty))
        add(f"exhaustive C={C:g}", "exhaustive", m, C=C)
        s = table.best_static_threshold(C, cfg.penalty)
        add(f"static (hindsight) C={C:g}", "static-hindsight", np.tile(table.masks[s], (Q, 1)), C=C)
    for lam in cfg.lambdas:
        m, _, _ = table.pick(table.best_lambda(lam))
        add(f"exhaustive lambda={lam:g}", "exhaustive", m, lam=lam)
        s = table.best_static_lambda(lam)
        add(f"static (hindsight) lambda={lam:g}", "static-hindsight", np.tile(table.masks[s], (Q, 1)), lam=lam)


def _greedy_baselines(cfg: EngineCostConfig, train_data: FeatureCostData, fill: np.ndarray, add: Add) -> None:
    """Greedy static subsets under every cost budget, fitted on (up to 512 of) the
    training requests; and for each C the greedy subset (or all features) with the
    best mean env reward on those requests."""
    Q, n = cfg.n_test, train_data.n_features
    fit = np.ascontiguousarray(train_data.X[: min(512, cfg.n_train)])
    greedy = []
    for b in cfg.budgets:
        m = B.greedy_static_budget(fit, train_data.weights, train_data.cost, fill, b, top_k=cfg.top_k,
                                   threads=cfg.threads)
        greedy.append(m)
        add(f"static greedy budget={b:g}", "static-greedy", np.tile(m, (Q, 1)), budget=b)
    fit_q = fit.shape[0]
    for C in cfg.thresholds:
        best, best_r = None, -np.inf
        for m in [np.ones(n, bool), *greedy]:
            r = subset_eval(fit, np.tile(m, (fit_q, 1)), train_data.cost, train_data.weights, fill=fill,
                            top_k=cfg.top_k, threads=cfg.threads)
            cf = r.cost / float(train_data.cost.sum() * cfg.n_items)
            rew = float(B.env_reward(r.loss_fraction, cf, C, cfg.penalty).mean())
            if rew > best_r:
                best, best_r = m, rew
        add(f"static greedy C={C:g}", "static-greedy", np.tile(best, (Q, 1)), C=C)


def _learner_specs(cfg: EngineCostConfig, seeds: SeedTree) -> list[LearnerSpec]:
    """Every learned policy: each agent at each threshold, then the actor-critic at
    each learned lambda.  Each learner's seed is the named path ``("learner", key)``."""
    specs: list[LearnerSpec] = []
    for C in cfg.thresholds:
        env_cfg = FeatureSelectionConfig(loss_threshold=C, penalty=cfg.penalty, top_k=cfg.top_k,
                                         num_threads=cfg.threads)
        for name in cfg.agents:
            specs.append(LearnerSpec(f"{name} C={C:g}", name, env_cfg, C=C))
    for lam in cfg.learned_lambdas:
        env_cfg = FeatureSelectionConfig(loss_threshold=1.0, penalty=0.0, loss_weight=1.0 / lam,
                                         top_k=cfg.top_k, num_threads=cfg.threads)
        specs.append(LearnerSpec(f"actor-critic lambda={lam:g}", "actor-critic", env_cfg, lam=lam))
    return [dataclasses.replace(s, seed=seeds.seed("learner", s.key)) for s in specs]


def _seed_paths(seeds: SeedTree, specs: list[LearnerSpec]) -> dict[str, Any]:
    """Every named stream of the run (root, path, derived seed), for results.json."""
    out = {f"data/{k}": seeds.describe("data", k) for k in ("train", "test")}
    out.update({f"eval/{k}": seeds.describe("eval", k) for k in ("panel", "simulator")})
    out.update({f"learner/{s.key}": seeds.describe("learner", s.key) for s in specs})
    out.update({f"learner/{s.key}/greedy": SeedTree(s.seed).describe("greedy") for s in specs})
    return out


def _meta(t0: float, load0: float, full: PolicyEval, test: FeatureCostData) -> dict[str, Any]:
    return {
        "wall_seconds": time.perf_counter() - t0,
        "load_average_start": load0,
        "load_average_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
        "cpu_count": os.cpu_count(),
        "full_gmv": float(full.gmv.mean()),
        "feature_names": list(FEATURE_NAMES),
        "feature_costs": test.cost.tolist(),
    }


def run(config: EngineCostConfig, progress: bool = True) -> dict[str, Any]:
    """Runs the reproduction and returns the results dict (writes nothing).

    Returns:
        ``config`` (plain dict), ``meta`` (timing, machine, all-features GMV, feature
        names and costs), ``policies`` (key -> family, threshold, lambda and the
        :func:`~simcore.experiments.engine_cost.analysis.policy_summary` metrics),
        ``histories`` (learner key -> thinned training curves), ``context`` (cost
        saved by request group), ``comparisons`` (paired / Welch tests) and
        ``per_request`` (context score and per-request costs for the context plot).
    """
    import torch

    cfg = config
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    threads_before = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks: one thread is fastest and deterministic
    try:
        seeds = SeedTree(cfg.seed)
        train_data, test, fill = _data(cfg, seeds)
        n = test.n_features
        ev = Evaluator(test, fill, cfg.users_per_request, seeds.child("eval"), top_k=cfg.top_k, threads=cfg.threads)
        bar = Progress(cfg.n_test, desc="engine-cost baselines", unit="request", enabled=None if progress else False)
        table = B.exhaustive_table(test.X, test.weights, test.cost, fill, top_k=cfg.top_k,
                                   threads=cfg.threads, progress=lambda k: bar.update(k, postfix="exhaustive"))
        bar.close()
        full = ev.evaluate(np.ones((cfg.n_test, n), bool))
        policies: dict[str, dict[str, Any]] = {}
        evals: dict[str, PolicyEval] = {}

        def add(key: str, family: str, masks: np.ndarray, C: float | None = None, lam: float | None = None,
                **extra: Any) -> None:
            e = evals[key] = ev.evaluate(masks)
            s = An.policy_summary(e, full, C, cfg.penalty, lam)
            policies[key] = {"family": family, "threshold": C, "lambda": lam, **s, **extra}

        add("all features", "all", np.ones((cfg.n_test, n), bool))
        _oracle_baselines(cfg, table, add)
        _greedy_baselines(cfg, train_data, fill, add)

        specs = _learner_specs(cfg, seeds)
        jobs = learner_jobs(cfg, specs, train_data, test, fill)
        outs = run_jobs(jobs, backend="inline" if cfg.workers == 1 else "process", workers=cfg.workers,
                        progress=progress, desc="engine-cost learners", unit="iteration")
        histories: dict[str, Any] = {}
        for spec, (masks, hist) in zip(specs, outs):
            add(spec.key, spec.agent, masks, C=spec.C, lam=spec.lam)
            histories[spec.key] = hist
        return {
            "config": to_dict(cfg),
            "meta": _meta(t0, load0, full, test),
            "policies": policies,
            "histories": histories,
            "context": An.context_summary(test, evals),
            "comparisons": An.comparisons(test, evals, cfg.thresholds, cfg.agents, cfg.penalty),
            "per_request": An.per_request(test, evals),
            "seeds": _seed_paths(seeds, specs),
        }
    finally:
        torch.set_num_threads(threads_before)
