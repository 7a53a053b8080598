"""Customer lifecycle marketing (seed section 2, "CLTV RL"): A2C/A3C against the slides'
classification baselines (single DNN, cross-stitch and tensor-trace-norm MTL), simple
rules and the exact myopic optimum, under an episode budget.

Protocol (docs/lifecycle.md):

1. Per seed index s: a population of CDNOW-calibrated customers (its own stream).
2. Learners (:func:`.learners.run_learner`): A2C and A3C trained for ``iterations``
   30-day activities of ``train_users`` customers (reward value - cost, the budget as a
   Lagrangian price on spend), A2C-conv (reward: a conversion) when listed.
3. Classifiers (:func:`.learners.run_mtl`): fit on a uniformly random log (sign =
   conversion, click) and played as argmax P(sign | x, a) (the click tower: max CTR).
4. Rules and the oracle (:func:`.learners.run_rules`).
5. Every method of s is measured on the same activity of ``eval_users`` customers
   (online: LTV, spend, conversions, CTR) and, when it acts on observations alone, by
   replay on the same held-out random log (the slides' BPI).

Every job is independent (:mod:`simcore.runner`): identical inline and on a pool.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from typing import Any

from simcore.experiments.lifecycle.analysis import analyse
from simcore.experiments.lifecycle.config import LifecycleExperimentConfig
from simcore.experiments.lifecycle.learners import mtl_configs, run_learner, run_mtl, run_rules
from simcore.runner import Job, SeedTree, run_jobs
from simcore.util.config import to_dict

__all__ = ["run", "jobs"]


def jobs(cfg: LifecycleExperimentConfig) -> list[Job]:
    """Per seed index: the rules job, one job per classifier and per learner."""
    out: list[Job] = []
    for s in range(cfg.seeds):
        out.append(Job(key=f"rules/{s}", fn=run_rules, kwargs=dict(cfg=cfg, seed=s), seed_path=("seed", s),
                       work=2.0))
        for label in mtl_configs(cfg):
            out.append(Job(key=f"mtl/{label}/{s}", fn=run_mtl, kwargs=dict(cfg=cfg, label=label, seed=s),
                           seed_path=("seed", s, "mtl", label), work=2.0))
        for key in cfg.learners:
            out.append(Job(key=f"learner/{key}/{s}", fn=run_learner, kwargs=dict(cfg=cfg, key=key, seed=s),
                           seed_path=("seed", s, "agent", key), work=float(cfg.iterations)))
    return out


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _machine() -> dict[str, Any]:
    import numpy
    import torch

    return {"python": platform.python_version(), "numpy": str(numpy.__version__), "torch": str(torch.__version__),
            "cpus": os.cpu_count(), "torch_threads_per_job": 1, "git_commit": _commit()}


def seed_paths(cfg: LifecycleExperimentConfig) -> dict[str, Any]:
    """The named streams of the run (root, path, derived seed), for results.json."""
    out: dict[str, Any] = {}
    for s in range(cfg.seeds):
        tree = SeedTree(cfg.seed).child("seed", s)
        for name in ("population", "eval", "replay", "log", "calibrate", "curve"):
            out[f"seed/{s}/{name}"] = tree.describe(name)
        for key in cfg.learners:
            out[f"seed/{s}/agent/{key}"] = tree.describe("agent", key)
            out[f"seed/{s}/train/{key}"] = tree.describe("train", key)
        for label in mtl_configs(cfg):
            out[f"seed/{s}/mtl/{label}"] = tree.describe("mtl", label)
    return out


def run(config: LifecycleExperimentConfig, progress: bool = True) -> dict[str, Any]:
    """Runs every job (inline for ``workers=1``, else a process pool: same results) and
    returns config, meta, the analysis (:mod:`.analysis`), the raw runs and the seeds."""
    t0 = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    machine = _machine()
    js = jobs(config)
    outs = run_jobs(js, backend="inline" if config.workers == 1 else "process", workers=config.workers,
                    progress=progress, desc="lifecycle", unit="unit")
    runs = dict(zip([j.key for j in js], outs))
    meta = {"wall_seconds": time.perf_counter() - t0, "load_average_start": load,
            "load_average_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
            "workers": config.workers, **machine}
    return {"config": to_dict(config), "meta": meta, **analyse(config, runs), "runs": runs,
            "seeds": seed_paths(config)}
