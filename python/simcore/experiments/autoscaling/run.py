"""The autoscaling baselines' comparison (issue 15, seed section 3).

Protocol (docs/autoscaling_model.md): per seed index s, a population of ``zones``
zones (stream "zones") and one week of traffic (stream "sim").  Traffic draws do not
depend on the actions, so every method of s sees the same traffic (common random
numbers).  The hindsight peak-static allocation puts the noise-free CPU at the target
under each zone's peak load of that week.  Per method: stability, VM-hours (and the
share saved against peak static), SLO violations and scaling operations.
"""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

import numpy as np

from simcore.domains.autoscaling import baselines as bl
from simcore.domains.autoscaling.evaluate import Policy, run_episode
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.workload import draw_zones
from simcore.experiments.autoscaling.clock import PhaseClock, add_phases
from simcore.experiments.autoscaling.config import META_METHODS, AutoscalingExperimentConfig
from simcore.experiments.autoscaling.sensitivity import delay_sweep, sensitivity_summary, threshold_curve, zone_metrics
from simcore.report.stats import t_ci
from simcore.runner import Job, SeedTree, run_jobs
from simcore.util.config import to_dict

__all__ = ["run", "run_seed"]


def _policy(key: str, cfg: AutoscalingExperimentConfig, peak: np.ndarray, learned: dict[str, Policy],
            forecaster: Any) -> Policy:
    c = cfg.sim
    if key in learned:
        return learned[key]
    if key == "threshold":
        return bl.ThresholdScaling(c)
    if key == "target-tracking":
        return bl.TargetTracking(c)
    if key == "autopilot":
        return bl.AutopilotRecommender(c)
    if key == "autopilot-limit":
        return bl.AutopilotRecommender(c, aim=1.0)
    if key == "predictive" and forecaster is not None:
        return bl.Predictive(c, forecaster=forecaster, every=cfg.forecast.every)
    if key in ("predictive", "predictive-naive"):
        return bl.Predictive(c)
    return bl.PeakStatic(c, peak)


def run_seed(cfg: AutoscalingExperimentConfig, seed: int) -> dict[str, Any]:
    """Every method on seed index ``seed``: per-method metrics (means over zones), the
    sensitivity runs (filter threshold, provisioning delay), the phases' wall and CPU
    seconds, and seed 0's trajectories of the plotted zones."""
    tree = SeedTree(cfg.seed).child("seed", seed)
    ck = PhaseClock()
    zones = draw_zones(cfg.sim.workload, cfg.zones, tree.seed("zones"))
    sim_seed = tree.seed("sim")
    with ck.phase("probe"):
        probe = run_episode(AutoscalingSimulator(cfg.sim, zones=zones, seed=sim_seed), bl.TargetTracking(cfg.sim),
                            record=True)
    peak = bl.peak_static_vms(zones, probe["traffic_t"], cfg.sim.cpu_target)
    out: dict[str, Any] = {"methods": {}, "traces": {}}
    forecaster = None
    if cfg.needs_forecaster:
        from simcore.experiments.autoscaling.meta import fit_forecaster  # torch only when a forecaster is fitted

        with ck.phase("forecaster-fit"):
            forecaster = fit_forecaster(cfg, zones, tree)
    learned: dict[str, Policy] = {}
    trained = None
    if any(k in cfg.methods for k in META_METHODS):
        from simcore.experiments.autoscaling.meta import prepare  # torch only when the learners run

        learned, out["meta"], trained = prepare(cfg, zones, tree, sim_seed, probe, ck, forecaster)
    held = zones.app >= max(cfg.meta.app_counts)
    P = cfg.plot_zones
    for key in cfg.methods:
        with ck.phase(f"eval/{key}"):
            m = run_episode(AutoscalingSimulator(cfg.sim, zones=zones, seed=sim_seed),
                            _policy(key, cfg, peak, learned, forecaster), record=seed == 0)
        out["methods"][key] = {**zone_metrics(m, np.ones(cfg.zones, dtype=bool), cfg.sim.horizon),
                               "seconds": ck.wall[f"eval/{key}"], "zone_stability": m["stability"].tolist()}
        if learned:
            out["methods"][key]["heldout"] = zone_metrics(m, held, cfg.sim.horizon)
        if seed == 0:
            out["traces"][key] = {"vms": m["vms_t"][:, :P].T.tolist(), "cpu": m["cpu_t"][:, :P].T.tolist()}
    out["sensitivity"] = {}
    if trained is not None and cfg.meta.threshold_curve:
        with ck.phase("sensitivity/threshold"):
            out["sensitivity"]["threshold"] = threshold_curve(cfg, zones, sim_seed, trained, held)
    if cfg.delays:
        with ck.phase("sensitivity/delay"):
            out["sensitivity"]["delay"] = delay_sweep(cfg, zones, sim_seed, trained, held)
    out["phases"] = ck.as_dict()
    if seed == 0:
        out["traces"]["traffic"] = probe["traffic_t"][:, :P, 0].T.tolist()
    return out


def _per_seed(cfg: AutoscalingExperimentConfig, rows: list[dict[str, Any]], peak: list[dict[str, Any]] | None
              ) -> dict[str, Any]:
    """CIs over seeds of one method's per-seed metrics (rows), VM-hours saved vs peak static."""
    per = {k: [r[k] for r in rows] for k in ("stability", "vm_hours", "slo_rate", "ops_per_zone_day", "reward",
                                             "cpu")}
    if peak is not None:
        per["vm_saved"] = [1 - r["vm_hours"] / p["vm_hours"] for r, p in zip(rows, peak)]
    out: dict[str, Any] = {k: dict(zip(("mean", "half"), t_ci(v))) for k, v in per.items()}
    out["per_seed"] = per
    return out


def _summaries(cfg: AutoscalingExperimentConfig, runs: list[dict[str, Any]]) -> dict[str, Any]:
    summ: dict[str, Any] = {}
    has_peak = "peak-static" in cfg.methods
    for key in cfg.methods:
        rows = [r["methods"][key] for r in runs]
        summ[key] = _per_seed(cfg, rows, [r["methods"]["peak-static"] for r in runs] if has_peak else None)
        if "heldout" in rows[0]:
            summ[key]["heldout"] = _per_seed(cfg, [r["heldout"] for r in rows], [r["methods"]["peak-static"]["heldout"]
                                                                                 for r in runs] if has_peak else None)
        zs = np.concatenate([r["methods"][key]["zone_stability"] for r in runs])
        half = float(1.96 * zs.std(ddof=1) / np.sqrt(zs.size))
        summ[key]["zone_stability_ci"] = {"mean": float(zs.mean()), "half": half}
    return summ


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def run(config: AutoscalingExperimentConfig, progress: bool = True) -> dict[str, Any]:
    """Runs every seed (one job each) and returns config, meta, summaries and raw runs."""
    t0 = time.perf_counter()
    load = os.getloadavg()[0]
    jobs = [Job(key=f"seed/{s}", fn=run_seed, kwargs=dict(cfg=config, seed=s), seed_path=("seed", s))
            for s in range(config.seeds)]
    runs = run_jobs(jobs, backend="inline" if config.workers == 1 else "process", workers=config.workers,
                    progress=progress, desc="autoscaling", unit="seed")
    meta = {"wall_seconds": time.perf_counter() - t0, "load_average_start": load,
            "load_average_end": os.getloadavg()[0], "git_commit": _commit(),
            "phases": add_phases([r["phases"] for r in runs])}
    seeds = {f"seed/{s}/{n}": SeedTree(config.seed).child("seed", s).describe(n)
             for s in range(config.seeds)
             for n in ("zones", "sim", "context_log", "ppo", "forecast_traffic", "forecaster")}
    traces = runs[0].pop("traces")
    out = {"config": to_dict(config), "meta": meta, "summary": _summaries(config, runs), "traces": traces,
           "runs": runs, "seeds": seeds, "versions": _versions()}
    out["sensitivity"] = sensitivity_summary(config.sim.delay, runs)
    if "meta" in runs[0]:
        from simcore.experiments.autoscaling.meta import meta_summary

        out["meta_rl"] = meta_summary([r["meta"] for r in runs])
    return out


def _cpu_model() -> str:
    """The CPU's model name and whether it has AVX-512 (torch's float results, hence the
    learned models, differ between instruction sets)."""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return "unknown"
    name = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), "unknown")
    return f"{name}, avx512f {'yes' if ' avx512f' in info else 'no'}"


def _versions() -> dict[str, str]:
    import platform

    v = {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
         "cpus": str(os.cpu_count()), "cpu_model": _cpu_model()}
    try:
        import torch

        v["torch"] = torch.__version__
    except ImportError:
        pass
    from simcore.domains.autoscaling.ppo import sb3_version

    v["stable_baselines3"] = sb3_version()
    return v
