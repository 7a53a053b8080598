"""The meta-RL autoscaler's sensitivity inside one seed of the experiment (docs/autoscaling.md,
"Sensitivity"): the model-quality filter's threshold, and the provisioning delay.

* threshold curve: the seed's trained policy (the largest app count's, fed the experiment's
  forecast) on every zone, with the filter at each of ``meta.threshold_curve`` (1.0 = no
  zone filtered); nothing is retrained, so the curve shows what the threshold alone moves;
* delay: ``DELAY_METHODS`` re-run on the same zones and traffic with the provisioning delay
  set to each of ``delays`` (the policy and its ANP as trained at ``sim.delay``; they do
  not model pending VMs beyond reading the provisioned count).

Metrics per run: :func:`zone_metrics` over every zone and over the held-out apps' zones.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from simcore.domains.autoscaling import baselines as bl
from simcore.domains.autoscaling.evaluate import Policy, run_episode
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.workload import ZoneParams

if TYPE_CHECKING:
    from simcore.experiments.autoscaling.meta import Trained

__all__ = ["zone_metrics", "threshold_curve", "delay_sweep"]


def zone_metrics(m: dict[str, np.ndarray], mask: np.ndarray, steps: int) -> dict[str, float]:
    """The per-seed metrics of the zones in ``mask`` (bool (B,)) of run_episode's result ``m``
    (NaN for every metric when the mask is empty, e.g. no zone of a held-out app)."""
    n = int(mask.sum())
    if n == 0:
        return dict.fromkeys(("stability", "vm_hours", "slo_rate", "ops_per_zone_day", "reward", "cpu"), float("nan"))
    return {"stability": float(m["stability"][mask].mean()), "vm_hours": float(m["vm_hours"][mask].sum()),
            "slo_rate": float(m["slo_violations"][mask].sum() / (steps * n)),
            "ops_per_zone_day": float(m["scaling_ops"][mask].mean() * 144 / steps),
            "reward": float(m["reward"][mask].mean()), "cpu": float(m["cpu"][mask].mean())}


def _run(cfg: Any, zones: ZoneParams, seed: int, policy: Policy, held: np.ndarray) -> dict[str, Any]:
    m = run_episode(AutoscalingSimulator(cfg, zones=zones, seed=seed), policy)
    every = np.ones(zones.num_zones, dtype=bool)
    return {**zone_metrics(m, every, cfg.horizon), "heldout": zone_metrics(m, held, cfg.horizon)}


def threshold_curve(cfg: Any, zones: ZoneParams, sim_seed: int, trained: Trained, held: np.ndarray
                    ) -> dict[str, dict[str, Any]]:
    """{str(threshold): metrics + "fallback" (zones on target tracking)} for each threshold."""
    out: dict[str, dict[str, Any]] = {}
    for thr in cfg.meta.threshold_curve:
        r = _run(cfg.sim, zones, sim_seed, trained.policy(cfg.sim, threshold=thr), held)
        out[str(float(thr))] = {**r, "fallback": int((trained.err > thr).sum())}
    return out


def delay_sweep(cfg: Any, zones: ZoneParams, sim_seed: int, trained: Trained | None, held: np.ndarray
                ) -> dict[str, dict[str, Any]]:
    """{str(delay): {method: metrics}} for each of ``cfg.delays`` and the DELAY_METHODS among
    the methods ("meta-rl" only when ``trained``)."""
    from simcore.experiments.autoscaling.config import DELAY_METHODS

    out: dict[str, dict[str, Any]] = {}
    for d in cfg.delays:
        c = dataclasses.replace(cfg.sim, delay=d)
        pols: dict[str, Policy] = {}
        if "target-tracking" in cfg.methods:
            pols["target-tracking"] = bl.TargetTracking(c)
        if "autopilot" in cfg.methods:
            pols["autopilot"] = bl.AutopilotRecommender(c)
        if trained is not None and "meta-rl" in cfg.methods:
            pols["meta-rl"] = trained.policy(c)
        out[str(d)] = {k: _run(c, zones, sim_seed, p, held) for k, p in pols.items() if k in DELAY_METHODS}
    return out


#: the quantities the sensitivity summary carries (means over zones per seed)
QUANTITIES = ("stability", "vm_hours", "reward", "slo_rate")


def _ci(v: list[float]) -> dict[str, float]:
    from simcore.report.stats import t_ci

    return dict(zip(("mean", "half"), t_ci(v)))


def _paired(a: list[float], b: list[float]) -> dict[str, float]:
    from simcore.report.stats import paired

    d = paired(a, b)
    return {"mean": d["mean"], "half": d["half"]}


def _block(rows: list[dict[str, Any]], ref: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """CIs over seeds of ``rows`` (one metrics dict per seed) and paired differences
    rows minus each reference's rows."""
    e: dict[str, Any] = {q: _ci([r[q] for r in rows]) for q in QUANTITIES}
    e["heldout_reward"] = _ci([r["heldout"]["reward"] for r in rows])
    e["heldout_stability"] = _ci([r["heldout"]["stability"] for r in rows])
    if "fallback" in rows[0]:
        e["fallback"] = _ci([float(r["fallback"]) for r in rows])
    e["minus"] = {name: {q: _paired([r[q] for r in rows], [x[q] for x in other]) for q in QUANTITIES}
                  for name, other in ref.items()}
    e["per_seed"] = {q: [r[q] for r in rows] for q in QUANTITIES}
    return e


def sensitivity_summary(base_delay: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """CIs over seeds of the threshold curve (paired minus target tracking and minus the
    configured meta-RL) and of the delay sweep (the base delay's rows from the main runs;
    paired meta-RL minus the other methods at each delay)."""
    out: dict[str, Any] = {}
    meth = runs[0]["methods"]
    if "threshold" in runs[0]["sensitivity"]:
        ref = {k: [r["methods"][k] for r in runs] for k in ("target-tracking", "meta-rl") if k in meth}
        out["threshold"] = {t: _block([r["sensitivity"]["threshold"][t] for r in runs], ref)
                            for t in runs[0]["sensitivity"]["threshold"]}
    if "delay" in runs[0]["sensitivity"]:
        from simcore.experiments.autoscaling.config import DELAY_METHODS

        per: dict[str, dict[str, list[dict[str, Any]]]] = {
            str(base_delay): {k: [r["methods"][k] | {"heldout": r["methods"][k].get("heldout", r["methods"][k])}
                                  for r in runs] for k in DELAY_METHODS if k in meth}}
        for d in runs[0]["sensitivity"]["delay"]:
            per[d] = {k: [r["sensitivity"]["delay"][d][k] for r in runs] for k in runs[0]["sensitivity"]["delay"][d]}
        out["delay"] = {}
        for d in sorted(per, key=int):
            others = {k: v for k, v in per[d].items() if k != "meta-rl"}
            out["delay"][d] = {k: _block(v, others if k == "meta-rl" else {}) for k, v in per[d].items()}
    return out
