"""Sensitivity of the meta model-based RL autoscaler to settings the default run fixes
(docs/autoscaling.md, "Sensitivity"): the model-quality filter's threshold and the
rollout's traffic source, on the default experiment's zones of a few seed indices.

Per seed index s (the same zones, logs and streams as ``simcore reproduce autoscaling``
at seed s): the ANP and the policy of the largest app count are trained as in the
default run; the policy is evaluated on every zone with error thresholds
``--thresholds`` (1.0 = no filter) and, retrained with ``rollout_traffic="forecast"``,
at the default threshold.  Target tracking is evaluated on the same traffic.  Prints a
JSON line per seed and writes them all to ``--out``.

Usage: PYTHONPATH=python python scripts/autoscaling_meta_sensitivity.py --seeds 2 --out /tmp/sens.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import torch

from simcore.domains.autoscaling.anp import ANP
from simcore.domains.autoscaling.baselines import TargetTracking
from simcore.domains.autoscaling.config import STEPS_PER_DAY
from simcore.domains.autoscaling.evaluate import run_episode
from simcore.domains.autoscaling.mbrl import MBRLConfig, MetaScalingPolicy, model_error, static_log, train_policy
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.workload import draw_zones
from simcore.experiments.autoscaling.config import AutoscalingExperimentConfig
from simcore.experiments.autoscaling.meta import _anp_config, train_zone_index
from simcore.runner import SeedTree


def _metrics(cfg, zones, seed, policy, held):
    m = run_episode(AutoscalingSimulator(cfg, zones=zones, seed=seed), policy)
    return {"stability": float(m["stability"].mean()), "vm_hours": float(m["vm_hours"].sum()),
            "reward": float(m["reward"].mean()), "slo": float(m["slo_violations"].sum()),
            "heldout_reward": float(m["reward"][held].mean())}


def one_seed(cfg: AutoscalingExperimentConfig, s: int, thresholds: list[float]) -> dict:
    torch.set_num_threads(1)
    tree = SeedTree(cfg.seed).child("seed", s)
    zones = draw_zones(cfg.sim.workload, cfg.zones, tree.seed("zones"))
    sim_seed, M, c = tree.seed("sim"), cfg.meta, cfg.sim
    K = max(M.app_counts)
    held = zones.app >= K
    idx = train_zone_index(zones, K, M.zones_per_app)
    log = static_log(c, zones.subset(idx), M.log_days * STEPS_PER_DAY, tree.seed("train_log", K))
    anp = ANP(_anp_config(M, tree.seed("anp", K)))
    anp.fit(log.features(), log.cpu)
    ctx = static_log(c, zones, STEPS_PER_DAY, tree.seed("context_log"))
    err = model_error(anp, ctx)
    out: dict = {"seed": s, "target-tracking": _metrics(c, zones, sim_seed, TargetTracking(c), held)}
    base = MBRLConfig(steps=M.policy_steps, batch=M.policy_batch, rollout=M.rollout,
                      error_threshold=M.error_threshold, seed=tree.seed("mbrl", K) % 2**31)
    net, _ = train_policy(anp, log, zones.subset(idx), c, base)
    for thr in thresholds:
        pol = MetaScalingPolicy(net, anp, ctx, c, err > thr)
        out[f"threshold={thr}"] = {**_metrics(c, zones, sim_seed, pol, held), "fallback": int((err > thr).sum())}
    net_f, _ = train_policy(anp, log, zones.subset(idx), c, dataclasses.replace(base, rollout_traffic="forecast"))
    pol = MetaScalingPolicy(net_f, anp, ctx, c, err > M.error_threshold)
    out["rollout_traffic=forecast"] = _metrics(c, zones, sim_seed, pol, held)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.04, 0.06, 0.1, 1.0])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cfg = AutoscalingExperimentConfig()
    rows, t0 = [], time.perf_counter()
    for s in range(a.seeds):
        rows.append(one_seed(cfg, s, a.thresholds))
        print(json.dumps(rows[-1]), flush=True)
    with open(a.out, "w") as f:
        json.dump({"rows": rows, "wall_seconds": time.perf_counter() - t0, "torch": torch.__version__,
                   "numpy": np.__version__}, f, indent=1)


if __name__ == "__main__":
    main()
