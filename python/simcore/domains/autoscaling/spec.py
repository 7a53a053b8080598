"""The autoscaling simulator's step spec (:data:`AUTOSCALING_STEP_SPEC`), declared once.

One row per zone and 10-minute step.  The observation (float32, D = 9) is what an
autoscaler sees after the step: log traffic per dimension, CPU, log VMs, VMs still
being provisioned, and the time of day and week.  The noise-free CPU ``cpu_mean``
= g(u) is LATENT (info only, for analysis and the exact expectations).
"""

from __future__ import annotations

from simcore.envs.spec import Field, ObsSlice, StepSpec

__all__ = ["AUTOSCALING_STEP_SPEC", "AUTOSCALING_DIMS", "OBS_DIM", "K"]

#: Traffic dimensions (RPC calls, message subscriptions).
K = 2

AUTOSCALING_STEP_SPEC = StepSpec(
    name="autoscaling",
    fields=(
        Field("obs", "float32", ("D",), "the observation after the step (layout below)"),
        Field("reward", "float64", (), "-(cpu_target - c)^2 - eta |delta| / l - slo_penalty [violation]"),
        Field("terminated", "bool", (), "always False (zones run until the horizon)"),
        Field("truncated", "bool", (), "True on the episode's last step (every zone at once)"),
        Field("action", "float64", (), "the scaling ratio applied (0 on an autoreset row)"),
        Field("vms", "int64", (), "VMs serving during the step"),
        Field("provisioned", "int64", (), "VMs requested after the action (serving + pending)"),
        Field("delta", "int64", (), "provisioned - the previous provisioned count"),
        Field("traffic", "float64", ("K",), "the step's traffic (RPC calls, messages per 10 minutes)"),
        Field("cpu", "float64", (), "the step's CPU utilisation in [0, 1]"),
        Field("cpu_mean", "float64", (), "LATENT: g(u), the noise-free CPU (0 on an autoreset row)"),
        Field("latency", "float64", (), "the step's latency in ms (0 on an autoreset row)"),
        Field("scaling_cost", "float64", (), "|delta| / previous provisioned count"),
        Field("slo_violation", "bool", (), "latency > the zone's SLO"),
        Field("in_band", "bool", (), "|c - cpu_target| <= band"),
        Field("scaled", "bool", (), "a scaling operation (delta != 0)"),
        Field("reset_row", "bool", (), "NEXT_STEP autoreset row (the step began a new episode)"),
    ),
    obs_layout=(
        ObsSlice("log_traffic", "K", "log1p(traffic) per dimension"),
        ObsSlice("cpu", 1, "CPU utilisation"),
        ObsSlice("log_vms", 1, "log(serving VMs)"),
        ObsSlice("pending", 1, "VMs still being provisioned / serving VMs"),
        ObsSlice("day", 2, "sin, cos of 2 pi (step mod 144) / 144"),
        ObsSlice("week", 2, "sin, cos of 2 pi (step mod 1008) / 1008"),
    ),
    obs_low=-1.0,   # sin/cos; every other entry is >= 0 (log VMs >= 0 as VMs >= 1)
    obs_high=1e9,   # pending / VMs <= max_vms <= 1e8; log1p traffic < 100 within the parameter ranges
)

AUTOSCALING_DIMS = {"D": 9, "K": K}
OBS_DIM = AUTOSCALING_STEP_SPEC.obs_dim(AUTOSCALING_DIMS)
assert OBS_DIM == 9
