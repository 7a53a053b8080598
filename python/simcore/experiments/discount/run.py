"""The discount study's computation: ``run(config, progress) -> results`` (writes nothing).

Reproduces the "强化学习为何有用" article (sections 5.2 and 6): the search session MDP
is finite-horizon and undiscounted; with gamma = 1 the value of the initial state
equals the expected GMV per session (Proposition 2), and a policy optimised with
gamma = 1 should earn more GMV than one optimised with gamma = 0.

A run is ``n_seeds`` independent replicates
(:func:`~simcore.experiments.discount.replicates.replicate_job`, the runner's
parallel jobs), each doing the stages of :mod:`~simcore.experiments.discount.stages`
for every tabular state; :mod:`~simcore.experiments.discount.summary` turns the
per-seed results into between-seed 95 % CIs (Student-t), and
:mod:`~simcore.experiments.discount.sensitivity` repeats it over user-model
parameters when ``config.sensitivity`` has points.

Randomness: one ``SeedTree(config.seed)`` per run; replicate k draws from the subtree
``seed/<k>`` (:mod:`~simcore.experiments.discount.seeds`), all recorded in
``results["seeds"]``.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from typing import Any

import numpy as np

from simcore.experiments.discount import seeds as paths
from simcore.experiments.discount import summary
from simcore.experiments.discount.config import DiscountConfig
from simcore.experiments.discount.replicates import run_replicates
from simcore.experiments.discount.sensitivity import fig3_fit, run_sensitivity
from simcore.runner import SeedTree


def run(config: DiscountConfig | None = None, progress: bool = True) -> dict[str, Any]:
    """Runs the study (default: ``DiscountConfig()``); returns the results dict (the
    content of results.json)."""
    cfg = DiscountConfig() if config is None else config
    t_start = time.perf_counter()
    reps = run_replicates([cfg], progress)[0]
    t_main = time.perf_counter() - t_start
    out: dict[str, Any] = {
        "summary": summary.summarise(cfg, reps),
        "curves": summary.curves(cfg, reps),
        "checks": summary.check_counts(cfg, reps),
        "replicates": reps,
        "settings": settings(cfg),
        "seed": cfg.seed,
        "seeds": paths.record(cfg, SeedTree(cfg.seed)),
        "machine": machine(),
        "fig3": fig3_fit(cfg.session, cfg),
    }
    if cfg.sensitivity.points():
        out["sensitivity"] = run_sensitivity(cfg, progress, reps)
    out["stage_seconds"] = {"main": round(t_main, 2), "sensitivity": round(time.perf_counter() - t_start - t_main, 2)}
    out["runtime_s"] = round(time.perf_counter() - t_start, 2)
    return out


def machine() -> dict[str, Any]:
    """CPU count, platform, Python and NumPy versions (results.json)."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor(),
            "python": platform.python_version(), "numpy": np.__version__}


def settings(cfg: DiscountConfig) -> dict[str, Any]:
    """The config as results.json records it (with the horizon, the action array and
    the learner's sessions as run, i.e. ``sessions``)."""
    d = dataclasses.asdict(cfg)
    d["session"]["horizon"] = cfg.session.horizon
    d["actions"] = cfg.action_array().tolist()
    d["learner"] = dataclasses.asdict(cfg.learner_config())
    return d
