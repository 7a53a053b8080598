"""Runs a policy over one episode of every zone and returns per-zone metrics
(docs/autoscaling_model.md, "Metrics").

Metrics per zone (float64 (B,)): ``stability`` share of steps with |c - cpu_target|
<= band (the paper's stability measure), ``vm_hours`` serving VM-hours (a step is
1/6 hour), ``slo_violations`` steps over the SLO, ``scaling_ops`` steps with a
scaling operation, ``reward`` the mean reward, ``cpu`` the mean CPU.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from simcore.domains.autoscaling.baselines import Observed, observe
from simcore.domains.autoscaling.simulator import AutoscalingSimulator

__all__ = ["Policy", "run_episode", "METRICS"]

METRICS = ("stability", "vm_hours", "slo_violations", "scaling_ops", "reward", "cpu")


class Policy(Protocol):
    def act(self, o: Observed) -> np.ndarray: ...


def run_episode(sim: AutoscalingSimulator, policy: Policy, record: bool = False) -> dict[str, np.ndarray]:
    """Resets ``sim`` and runs ``policy`` for the horizon.  With ``record``, the result
    also holds the trajectories ``traffic_t`` (T, B, 2), ``vms_t`` (T, B), ``cpu_t`` (T, B)."""
    sim.reset()
    o = observe(sim)
    T, B = sim.config.horizon, sim.num_zones
    acc = {k: np.zeros(B) for k in METRICS}
    rec: dict[str, list[np.ndarray]] = {"traffic_t": [], "vms_t": [], "cpu_t": []}
    for _ in range(T):
        r = sim.step(policy.act(o))
        acc["stability"] += r.in_band
        acc["vm_hours"] += r.vms / 6.0
        acc["slo_violations"] += r.slo_violation
        acc["scaling_ops"] += r.scaled
        acc["reward"] += r.reward
        acc["cpu"] += r.cpu
        if record:
            rec["traffic_t"].append(r.traffic.copy())
            rec["vms_t"].append(r.vms.copy())
            rec["cpu_t"].append(r.cpu.copy())
        o = Observed(r.cpu.copy(), sim.state()["vms"], r.provisioned.copy(), r.traffic.copy(), sim.t)
    for k in ("stability", "reward", "cpu"):
        acc[k] /= T
    out = dict(acc)
    if record:
        out.update({k: np.stack(v) for k, v in rec.items()})
    return out
