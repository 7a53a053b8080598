"""Engine cost: learn which ranking features to compute for each request (引擎性能优化).

Protocol (docs/engine_cost.md):

1. Generate training and held-out requests (:mod:`simcore.domains.feature_cost.data`): 12
   ranking features with per-item costs; which expensive features matter depends on
   the user and the query by design.
2. For every loss definition t (all pairs, top-k pairs, the KL of eq. 2;
   :mod:`.losses`) and every threshold C of its grid, train the article's
   actor-critic (and REINFORCE with a baseline, for the headline loss) on
   ``simcore/FeatureSelection-v0`` (reward: -cost fraction, -penalty when t exceeds
   C), each with S training seeds; optionally the actor-critic on the relaxed reward
   -cost - t / lambda.  Every (learner, seed) is an independent job of the shared
   runner (:mod:`simcore.runner`).
3. Baselines on the held-out requests, per loss definition: all features; static
   subsets (greedy under a cost budget, fitted on the training requests, and the best
   static subset in hindsight); the exhaustive per-request optimum over all 2**12
   subsets.
4. Measure on the held-out requests: cost saved, loss, threshold violations, and the
   exact expected GMV of sessions ranked with each policy's subsets in the SSMDP
   simulator (a panel of simulated users per request, common to all policies;
   ranking with a subset = ranking with weights w * mask, see the docs).

:func:`run` returns the results dict and writes nothing; the report
(:mod:`~simcore.experiments.engine_cost.report`) writes results.json, report.md and
the plots from it.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from simcore.domains.feature_cost import baselines as B
from simcore.domains.feature_cost.data import FEATURE_NAMES, FeatureCostData, FeatureCostDataConfig, generate
from simcore.domains.feature_cost.kernels import feature_mean, subset_eval
from simcore.experiments.engine_cost import analysis as An
from simcore.experiments.engine_cost import losses as L
from simcore.experiments.engine_cost.config import EngineCostConfig
from simcore.experiments.engine_cost.evaluation import Evaluator, PolicyEval
from simcore.experiments.engine_cost.learners import LearnerSpec, job_key, learner_jobs
from simcore.report.machine import cpu_model
from simcore.runner import SeedTree, run_jobs
from simcore.util.config import to_dict
from simcore.util.progress import Progress

__all__ = ["run", "learner_specs", "context_keys"]

Add = Callable[..., None]


def _data(cfg: EngineCostConfig, seeds: SeedTree) -> tuple[FeatureCostData, FeatureCostData, np.ndarray]:
    """Training and held-out requests (named seeds ``("data", "train")`` and
    ``("data", "test")``) and the fill values: the training population's feature means."""
    dcfg: dict[str, Any] = dict(n_items=cfg.n_items, context_strength=cfg.context_strength)
    train_data = generate(FeatureCostDataConfig(n_contexts=cfg.n_train, seed=seeds.seed("data", "train"), **dcfg))
    test = generate(FeatureCostDataConfig(n_contexts=cfg.n_test, seed=seeds.seed("data", "test"), **dcfg))
    return train_data, test, feature_mean(train_data.X, threads=cfg.threads)


def _oracle_baselines(cfg: EngineCostConfig, loss: str, table: B.ExhaustiveTable, add: Add) -> None:
    """The exhaustive per-request optimum and the best static subset in hindsight at
    every threshold C of ``loss`` (and every lambda, for the headline loss)."""
    Q = cfg.n_test
    for C in cfg.thresholds_of(loss):
        m, _, _ = table.pick(table.best_threshold(C, cfg.penalty))
        add(f"exhaustive {loss} C={C:g}", "exhaustive", loss, m, C=C)
        s = table.best_static_threshold(C, cfg.penalty)
        add(f"static (hindsight) {loss} C={C:g}", "static-hindsight", loss, np.tile(table.masks[s], (Q, 1)), C=C)
    if loss != cfg.headline:
        return
    for lam in cfg.lambdas:
        m, _, _ = table.pick(table.best_lambda(lam))
        add(f"exhaustive lambda={lam:g}", "exhaustive", loss, m, lam=lam)
        s = table.best_static_lambda(lam)
        add(f"static (hindsight) lambda={lam:g}", "static-hindsight", loss, np.tile(table.masks[s], (Q, 1)), lam=lam)


def _greedy_baselines(cfg: EngineCostConfig, loss: str, train_data: FeatureCostData, fill: np.ndarray,
                      add: Add) -> None:
    """Greedy static subsets under every cost budget, fitted with ``loss`` on (up to
    512 of) the training requests (reported for the headline loss); and for each C the
    greedy subset (or all features) with the best mean env return on those requests."""
    Q, n = cfg.n_test, train_data.n_features
    fit = np.ascontiguousarray(train_data.X[: min(512, cfg.n_train)])
    kw = L.kernel_kwargs(cfg, loss)
    greedy = []
    for b in cfg.budgets:
        m = B.greedy_static_budget(fit, train_data.weights, train_data.cost, fill, b, threads=cfg.threads, **kw)
        greedy.append(m)
        if loss == cfg.headline:
            add(f"static greedy budget={b:g}", "static-greedy", loss, np.tile(m, (Q, 1)), budget=b)
    fit_q = fit.shape[0]
    full = float(train_data.cost.sum() * cfg.n_items)
    candidates = [np.ones(n, bool), *greedy]
    stats = []
    for m in candidates:
        r = subset_eval(fit, np.tile(m, (fit_q, 1)), train_data.cost, train_data.weights, fill=fill,
                        threads=cfg.threads, **kw)
        stats.append((L.from_result(r, loss), r.cost / full))
    for C in cfg.thresholds_of(loss):
        rew = [float(B.env_reward(t, cf, C, cfg.penalty).mean()) for t, cf in stats]
        best = candidates[int(np.argmax(rew))]
        add(f"static greedy {loss} C={C:g}", "static-greedy", loss, np.tile(best, (Q, 1)), C=C)


def learner_specs(cfg: EngineCostConfig, seeds: SeedTree) -> list[LearnerSpec]:
    """Every learned policy: each agent of each loss definition at each of its
    thresholds, then the actor-critic at each learned lambda (headline loss).  Training
    seed i of a learner is the named path ``("learner", key, i)``."""
    specs: list[LearnerSpec] = []
    for loss in cfg.losses:
        for C in cfg.thresholds_of(loss):
            env_cfg = L.env_config(cfg, loss, loss_threshold=C, penalty=cfg.penalty)
            for name in cfg.agents_of(loss):
                specs.append(LearnerSpec(f"{name} {loss} C={C:g}", name, env_cfg, loss=loss, C=C))
    for lam in cfg.learned_lambdas:
        env_cfg = L.env_config(cfg, cfg.headline, loss_threshold=1.0 if cfg.headline != "kl" else 100.0,
                               penalty=0.0, loss_weight=1.0 / lam)
        specs.append(LearnerSpec(f"actor-critic lambda={lam:g}", "actor-critic", env_cfg, loss=cfg.headline, lam=lam))
    return [LearnerSpec(s.key, s.agent, s.env, s.loss, s.C, s.lam,
                        tuple(seeds.seed("learner", s.key, i) for i in range(cfg.seeds))) for s in specs]


def context_keys(cfg: EngineCostConfig | dict[str, Any]) -> list[str]:
    """The policies whose cost saved is split by request context: those at the middle
    threshold of the headline loss."""
    get: Callable[[str], Any] = cfg.get if isinstance(cfg, dict) else (lambda k: getattr(cfg, k))
    loss = get("losses")[0]
    grid = {"pairs": get("thresholds"), "top-k": get("topk_thresholds"), "kl": get("kl_thresholds")}[loss]
    C = grid[len(grid) // 2]
    names = ["exhaustive", *get("agents"), "static greedy"]
    return ["all features", *[f"{nm} {loss} C={C:g}" for nm in names]]


def _seed_paths(seeds: SeedTree, specs: list[LearnerSpec]) -> dict[str, Any]:
    """Every named stream of the run (root, path, derived seed), for results.json."""
    out = {f"data/{k}": seeds.describe("data", k) for k in ("train", "test")}
    out.update({f"eval/{k}": seeds.describe("eval", k) for k in ("panel", "simulator")})
    for s in specs:
        for i, seed in enumerate(s.seeds):
            out[f"learner/{s.key}/{i}"] = seeds.describe("learner", s.key, i)
            out[f"learner/{s.key}/{i}/greedy"] = SeedTree(seed).describe("greedy")
    return out


def _meta(t0: float, load0: float, full: PolicyEval, test: FeatureCostData) -> dict[str, Any]:
    import torch

    return {
        "wall_seconds": time.perf_counter() - t0,
        "load_average_start": load0,
        "load_average_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
        "cpu_count": os.cpu_count(),
        "cpu": cpu_model(),
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__},
        "torch_threads_per_job": 1,
        "torch_deterministic": True,
        "full_gmv": float(full.gmv.mean()) if full.gmv is not None else float("nan"),
        "feature_names": list(FEATURE_NAMES),
        "feature_costs": test.cost.tolist(),
    }


def _train(cfg: EngineCostConfig, specs: list[LearnerSpec], train_data: FeatureCostData, test: FeatureCostData,
           fill: np.ndarray, progress: bool) -> dict[str, list[tuple[np.ndarray, dict[str, list[float]]]]]:
    """spec key -> [(masks, history) per training seed]."""
    jobs = learner_jobs(cfg, specs, train_data, test, fill)
    outs = run_jobs(jobs, backend="inline" if cfg.workers == 1 else "process", workers=cfg.workers,
                    progress=progress, desc="engine-cost learners", unit="iteration")
    by_key = dict(zip([j.key for j in jobs], outs))
    return {s.key: [by_key[job_key(s, i)] for i in range(len(s.seeds))] for s in specs}


def run(config: EngineCostConfig, progress: bool = True) -> dict[str, Any]:
    """Runs the reproduction and returns the results dict (writes nothing).

    Returns:
        ``config`` (plain dict), ``meta`` (timing, machine, versions, all-features
        GMV, feature names and costs), ``policies`` (key -> family, loss_def, threshold,
        lambda and the :mod:`.analysis` summary), ``histories`` (learner key -> one
        thinned training curve per seed), ``context`` (cost saved by request group),
        ``comparisons`` (learned minus baselines, between seeds), ``per_request``
        (context score and per-request costs for the context plot), ``seeds``.
    """
    cfg = config
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    seeds = SeedTree(cfg.seed)
    train_data, test, fill = _data(cfg, seeds)
    n = test.n_features
    ev = Evaluator(test, fill, cfg.users_per_request, seeds.child("eval"), threads=cfg.threads)
    full = ev.evaluate(np.ones((cfg.n_test, n), bool))
    policies: dict[str, dict[str, Any]] = {}
    base: dict[str, PolicyEval] = {}

    def add(key: str, family: str, loss: str, masks: np.ndarray, C: float | None = None, lam: float | None = None,
            **extra: Any) -> None:
        kw = L.kernel_kwargs(cfg, loss)
        e = base[key] = ev.evaluate(masks, **kw)
        policies[key] = {"family": family, "loss_def": loss, "threshold": C, "lambda": lam,
                         **An.baseline_summary(e, full, C, cfg.penalty, lam), **extra}

    add("all features", "all", cfg.headline, np.ones((cfg.n_test, n), bool))
    for loss in cfg.losses:
        bar = Progress(cfg.n_test, desc=f"engine-cost exhaustive ({loss})", unit="request",
                       enabled=None if progress else False)
        table = B.exhaustive_table(test.X, test.weights, test.cost, fill, threads=cfg.threads,
                                   progress=lambda k: bar.update(k), **L.kernel_kwargs(cfg, loss))
        bar.close()
        _oracle_baselines(cfg, loss, table, add)
        _greedy_baselines(cfg, loss, train_data, fill, add)
        del table

    specs = learner_specs(cfg, seeds)
    trained = _train(cfg, specs, train_data, test, fill, progress)
    learned: dict[str, list[PolicyEval]] = {}
    for s in specs:
        kw = L.kernel_kwargs(cfg, s.loss)
        learned[s.key] = [ev.evaluate(m, **kw) for m, _ in trained[s.key]]
        policies[s.key] = {"family": s.agent, "loss_def": s.loss, "threshold": s.C, "lambda": s.lam,
                           **An.learned_summary(learned[s.key], full, s.C, cfg.penalty, s.lam)}
    pairs = [(s.key, f"{b} {s.loss} C={s.C:g}", s.C) for s in specs if s.C is not None
             for b in ("static greedy", "static (hindsight)", "exhaustive")]
    ctx = {k: learned.get(k) or [base[k]] for k in context_keys(cfg) if k in learned or k in base}
    return {
        "config": to_dict(cfg),
        "meta": _meta(t0, load0, full, test),
        "policies": policies,
        "histories": {k: [h for _, h in v] for k, v in trained.items()},
        "context": An.context_summary(test, ctx),
        "comparisons": An.comparisons(learned, base, pairs, cfg.penalty),
        "per_request": An.per_request(test, ctx),
        "seeds": _seed_paths(seeds, specs),
    }
