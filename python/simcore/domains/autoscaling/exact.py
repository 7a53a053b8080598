"""Exact quantities of the autoscaling model (docs/autoscaling_model.md, "Exact values").

CPU given traffic x (B, 2) and VMs l (B,): u = (w . x) / l, the noise-free curve
g(u) = idle + (1 - idle)(1 - exp(-(u / scale)^shape)), and the observed c =
clip(g(u) + sd eps, 0, 1), eps ~ N(0, 1).  With Y ~ N(mu, sd^2), clipping at 0 and 1:

    E[clip(Y, 0, 1)] = E[max(Y, 0)] - E[max(Y - 1, 0)],
    E[max(Y - a, 0)] = (mu - a) Phi((mu - a) / sd) + sd phi((mu - a) / sd),

so E[c | x, l] is exact (sd = 0: clip(mu, 0, 1)); without the clip E[c] = g(u).
:func:`vms_for_target` inverts g: the fewest integer VMs whose noise-free CPU is at or
below a target.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from simcore.domains.autoscaling.workload import ZoneParams, col

__all__ = ["cpu_curve", "expected_clipped_normal", "expected_cpu", "vms_for_target", "check_traffic_vms"]


def check_traffic_vms(traffic: np.ndarray, vms: np.ndarray, B: int) -> tuple[np.ndarray, np.ndarray]:
    """traffic float (B, 2) finite and >= 0, vms (B,) >= 1 (ValueError naming the argument)."""
    x = np.asarray(traffic, dtype=np.float64)
    if x.shape != (B, 2):
        raise ValueError(f"traffic: expected shape ({B}, 2), got {x.shape}")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError("traffic: must be finite and >= 0 (negative or NaN traffic)")
    v = np.asarray(vms, dtype=np.float64)
    if v.shape != (B,):
        raise ValueError(f"vms: expected shape ({B},), got {v.shape}")
    if not np.all(np.isfinite(v)) or np.any(v < 1):
        raise ValueError("vms: must be finite and >= 1 (zero VMs cannot serve)")
    return x, v


def cpu_curve(zones: ZoneParams, traffic: np.ndarray, vms: np.ndarray) -> np.ndarray:
    """g(u) (B,) for traffic (B, 2) and VMs (B,): the noise-free CPU, E[c] before clipping."""
    p = zones.params
    x, v = check_traffic_vms(traffic, vms, zones.num_zones)
    u = (p[:, col("w_rpc")] * x[:, 0] + p[:, col("w_mq")] * x[:, 1]) / v
    idle = p[:, col("idle")]
    return idle + (1.0 - idle) * (1.0 - np.exp(-np.power(u / p[:, col("scale")], p[:, col("shape")])))


def _relu_mean(mu: np.ndarray, sd: np.ndarray, a: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (mu - a) / sd
        pdf = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
        val = (mu - a) * ndtr(z) + sd * pdf
    return np.where(sd > 0, val, np.maximum(mu - a, 0.0))


def expected_clipped_normal(mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """E[clip(Y, 0, 1)] for Y ~ N(mu, sd^2), elementwise (sd >= 0)."""
    mu, sd = np.asarray(mu, dtype=np.float64), np.asarray(sd, dtype=np.float64)
    if np.any(sd < 0) or not np.all(np.isfinite(mu)):
        raise ValueError("mu, sd: need finite mu and sd >= 0")
    return _relu_mean(mu, sd, 0.0) - _relu_mean(mu, sd, 1.0)


def expected_cpu(zones: ZoneParams, traffic: np.ndarray, vms: np.ndarray) -> np.ndarray:
    """E[c | x, l] (B,), exact under the clipped Gaussian noise."""
    return expected_clipped_normal(cpu_curve(zones, traffic, vms), zones.params[:, col("cpu_sd")])


def vms_for_target(zones: ZoneParams, traffic: np.ndarray, target: float | np.ndarray) -> np.ndarray:
    """The fewest VMs (int64 (B,), within [min_vms, max_vms]) with g(u) <= target:
    l = ceil(load / (scale * (-log(1 - (target - idle) / (1 - idle)))^(1 / shape)));
    a target at or below idle gives max_vms."""
    p = zones.params
    x, _ = check_traffic_vms(traffic, np.ones(zones.num_zones), zones.num_zones)
    idle = p[:, col("idle")]
    frac = (np.asarray(target, dtype=np.float64) - idle) / (1.0 - idle)
    load = p[:, col("w_rpc")] * x[:, 0] + p[:, col("w_mq")] * x[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        u_star = p[:, col("scale")] * np.power(-np.log1p(-np.clip(frac, 1e-12, 1 - 1e-12)), 1.0 / p[:, col("shape")])
        need = np.where(frac > 0, np.ceil(load / u_star - 1e-9), np.inf)
    need = np.minimum(need, zones.max_vms.astype(np.float64))
    return np.maximum(zones.min_vms, need.astype(np.int64))
