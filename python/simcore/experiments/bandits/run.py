"""``run(config, progress) -> results`` of ``simcore reproduce bandits``."""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from simcore.domains.bandits.obd import OBDFormatError, find_wheel
from simcore.domains.bandits.protocol import benchmark
from simcore.experiments.bandits.config import BanditsConfig
from simcore.util.seeds import SeedTree


def resolve(cfg: BanditsConfig) -> tuple[Path, Path]:
    """(dataset source, wheel with the prior) as the config names them."""
    cache = Path(cfg.cache_dir).expanduser()
    source = Path(cfg.source).expanduser() if cfg.source else find_wheel(cache)
    if cfg.wheel:
        wheel = Path(cfg.wheel).expanduser()
    elif source.is_file() and zipfile.is_zipfile(source):
        wheel = source
    else:
        wheel = find_wheel(cache)
    return source, wheel


def simulate(cfg: BanditsConfig, progress: bool, timings: dict[str, float]) -> dict[str, Any]:
    """The simulator studies named in ``cfg.parts`` (streams ``sim/<part>/...``)."""
    from simcore.experiments.bandits import sim_learn, sim_lifecycle, sim_ope

    tree = SeedTree(cfg.seed).child("sim")
    jobs = {
        "ope": lambda: sim_ope.estimator_study(tree.child("ope"), cfg.shift_list(), cfg.ope_reps, cfg.ope_rounds),
        "ope_seq": lambda: sim_ope.sequential_study(tree.child("ope_seq"), cfg.shift_list(), cfg.ope_reps,
                                                    cfg.seq_episodes),
        "hcope": lambda: sim_ope.hcope_study(tree.child("hcope"), cfg.shift_list(), cfg.hcope_reps,
                                             cfg.hcope_rounds, delta=cfg.hcope_delta),
        "regret": lambda: sim_learn.regret_study(tree.child("regret"), cfg.regret_seeds, cfg.regret_steps,
                                                 cfg.regret_batch, neural=cfg.neural,
                                                 neural_sensitivity=cfg.neural_sensitivity),
        "allocation": lambda: sim_learn.allocation_study(tree.child("allocation"), cfg.alloc_seeds,
                                                         cfg.alloc_users, cfg.budget_list()),
        "uplift": lambda: sim_learn.uplift_study(tree.child("uplift"), cfg.uplift_seeds, cfg.uplift_users),
        "lifecycle": lambda: sim_lifecycle.lifecycle_study(tree.child("lifecycle"), cfg.lifecycle_seeds,
                                                           cfg.lifecycle_users, cfg.lifecycle_uplift_users,
                                                           cfg.budget_list()),
    }
    out: dict[str, Any] = {}
    for part, job in jobs.items():
        if part in cfg.part_list():
            if progress:
                print(f"bandits: simulator study {part} ...", flush=True)
            t = time.perf_counter()
            out[part] = job()
            timings[part] = round(time.perf_counter() - t, 2)
    return out


def run(cfg: BanditsConfig, progress: bool = True) -> dict[str, Any]:
    """The benchmark (:func:`simcore.domains.bandits.protocol.benchmark`) per campaign.
    A missing or malformed dataset (no wheel and no download, a file not found, a schema
    error) ends the command with one line on stderr and exit code 2."""
    try:
        return _run(cfg, progress)
    except (RuntimeError, FileNotFoundError, OBDFormatError) as e:
        print(f"simcore reproduce bandits: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def _run(cfg: BanditsConfig, progress: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    out: dict[str, Any] = {"settings": dataclasses.asdict(cfg), "campaigns": {}, "timings_s": {}}
    if "obd" in cfg.part_list():
        source, wheel = resolve(cfg)
        out.update(source=str(source), wheel=str(wheel))
        tree = SeedTree(cfg.seed).child("obd-benchmark")
        for camp in cfg.campaign_list():
            if progress:
                print(f"bandits: campaign {camp} ...", flush=True)
            out["campaigns"][camp] = benchmark(source, wheel, camp, tree.child(camp), n_sim=cfg.n_sim,
                                               n_boot=cfg.n_boot, tau=cfg.tau)
        out["timings_s"]["obd"] = round(time.perf_counter() - t0, 2)
    out["sim"] = simulate(cfg, progress, out["timings_s"])
    out["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                      "numpy": np.__version__}
    out["runtime_s"] = round(time.perf_counter() - t0, 2)
    return out
