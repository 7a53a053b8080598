"""Tiered traffic control (seed article, 分层流量调控): DDPG with CEM-moved action bounds
steering the share of a target item tier at a bounded GMV cost.

Protocol (docs/tiered_traffic.md):

1. Per seed index s: an exact panel of users (its own stream), and the exact static
   baselines on it (:mod:`.optimum`): the classic fixed up-weighting of the target
   tier by each amount of ``uplifts``, the best static tier weights for everyone and
   per user segment at every lambda of ``optimum_lambdas``.
2. Per seed index s, lambda and learner (:mod:`.learners`): train on the tiered-traffic
   vector env with reward r = GMV(n_click, n_cart, n_buy) + lambda (p_i - p_i^basic)
   on the target tier i; the CEM methods move their bounds once per iteration on
   their own sessions.  The control bucket ("basic") is served through the same
   iterations (common random numbers: the online transient's reference).
3. Measure every greedy policy exactly on the panel against the control bucket:
   target-tier share lift (%), GMV change (%), expected reward, per segment.

Every job is independent (:mod:`simcore.runner`); :func:`run` returns the results
(writes nothing); :mod:`.report` writes report.md, results.json and the PNGs.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from simcore.experiments.tiered_traffic.analysis import analyse
from simcore.experiments.tiered_traffic.config import TieredTrafficConfig, learner_runs
from simcore.experiments.tiered_traffic.learners import run_exact, run_learner
from simcore.report.machine import machine_info
from simcore.runner import Job, SeedTree, run_jobs
from simcore.util.config import to_dict

__all__ = ["run", "jobs"]


def jobs(cfg: TieredTrafficConfig) -> list[Job]:
    """The exact-baseline job of every seed index, then every learner job."""
    out = [Job(key=f"exact/{s}", fn=run_exact, kwargs=dict(cfg=cfg, seed=s), seed_path=("seed", s, "panel"),
               work=1.0) for s in range(cfg.seeds)]
    for key, lam in learner_runs(cfg):
        for s in range(cfg.seeds):
            out.append(Job(key=f"learner/{key}/{lam:g}/{s}", fn=run_learner,
                           kwargs=dict(cfg=cfg, key=key, lam=lam, seed=s),
                           seed_path=("seed", s, "agent", key, f"{lam:g}"), work=float(cfg.iterations)))
    return out


def _machine() -> dict[str, Any]:
    """machine_info with torch, plus the torch threads each job uses."""
    return {**machine_info(torch=True), "torch_threads_per_job": 1}


def seed_paths(cfg: TieredTrafficConfig) -> dict[str, Any]:
    """Every named stream of the run (root, path, derived seed), for results.json."""
    out: dict[str, Any] = {}
    for s in range(cfg.seeds):
        tree = SeedTree(cfg.seed).child("seed", s)
        out[f"seed/{s}/panel"] = tree.describe("panel")
        out[f"seed/{s}/train"] = tree.describe("train")
        for key, lam in learner_runs(cfg):
            out[f"seed/{s}/agent/{key}/{lam:g}"] = tree.describe("agent", key, f"{lam:g}")
            out[f"seed/{s}/cem-eval/{key}/{lam:g}"] = tree.describe("cem-eval", key, f"{lam:g}")
    return out


def with_control(cfg: TieredTrafficConfig) -> tuple[TieredTrafficConfig, dict[str, Any]]:
    """``cfg`` with its control bucket fixed (``cfg.control``): for "gmv-opt" the
    simulator's basic_weights become the GMV-optimal base weights
    (:func:`.optimum.gmv_optimal_control`, panel stream ``("control", "panel")``, CEM
    stream ``("control", "cem")``) and 0 on every tier.  Returns (config, record)."""
    import dataclasses

    from simcore.domains.traffic.exact import panel
    from simcore.domains.traffic.simulator import TrafficSimulator
    from simcore.experiments.tiered_traffic.optimum import gmv_optimal_control

    tc = cfg.traffic
    start = list(tc.basic_vector())
    m, m_t = tc.n_base, tc.n_tiers
    if cfg.control == "ltr":
        return cfg, {"control": "ltr", "weights": start}
    seeds = SeedTree(cfg.seed).child("control")
    world = TrafficSimulator(tc, num_sessions=1).world
    users = panel(tc, cfg.control_panel, seeds.seed("panel"))
    res = gmv_optimal_control(lambda n: TrafficSimulator(tc, num_sessions=int(n), world=world), users,
                              np.asarray(start[:m]), m_t, cfg.control_iterations, seeds.seed("cem") % 2**31)
    basic = tuple(float(w) for w in res["weights"]) + (0.0,) * m_t
    out = dataclasses.replace(cfg, traffic=dataclasses.replace(tc, basic_weights=basic))
    return out, {"control": "gmv-opt", "start": start, **res, "weights": list(basic)}


def run(config: TieredTrafficConfig, progress: bool = True) -> dict[str, Any]:
    """Fixes the control bucket (:func:`with_control`), runs every job (inline for
    ``workers=1``, else a process pool: same results) and returns config, meta, the
    control, the analysis (:mod:`.analysis`), the raw runs and the seeds."""
    t0 = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    machine = _machine()  # the commit the run starts from
    config, control = with_control(config)
    js = jobs(config)
    outs = run_jobs(js, backend="inline" if config.workers == 1 else "process", workers=config.workers,
                    progress=progress, desc="tiered-traffic", unit="iteration")
    runs = dict(zip([j.key for j in js], outs))
    meta = {"wall_seconds": time.perf_counter() - t0, "load_average_start": load,
            "load_average_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
            "workers": config.workers, **machine}
    return {"config": to_dict(config), "meta": meta, "control": control, **analyse(config, runs), "runs": runs,
            "seeds": seed_paths(config)}
