"""The zone population: per-app parameters drawn from a population, per-zone ones
around them (docs/autoscaling_model.md, "Workload").

Generator (all draws from ``SeedTree(seed)`` streams "apps" and "zones"):

* app a: level L_a = rpc_median exp(app_log_sd N), and uniform draws from the
  WorkloadConfig ranges of mq_ratio, both daily amplitudes, the daily phase (in
  [0, 2 pi)), weekend_dip, trend, noise_sd, burst_prob/size/decay, holiday_mult,
  capacity, mq_cost, idle, shape, cpu_sd, knee, lat0, lat_gain, slo_factor.
* zone i (app a = i % n_apps): base RPC L_a exp(zone_log_sd N), base MQ = base RPC
  mq_ratio_a; the phase jittered by N(0, 0.2) rad; everything else the app's.
  The CPU weight of an RPC call is w_rpc = 1 / capacity_a, of a message
  w_mq = mq_cost_a / capacity_a, and scale = 1 (u = (w . x) / l is load per VM in
  capacity units).  init_vms = ceil(mean load / init_util) clipped to
  [min_vms, max_vms], max_vms = max(min_vms, ceil(init_vms max_factor)).

The zones' parameters are arrays (B, N_PARAMS) in the column order of
:data:`PARAM_NAMES` (the C++ ``Param`` enum), handed to the batched simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.domains.autoscaling.config import WorkloadConfig
from simcore.util.seeds import SeedTree

__all__ = ["PARAM_NAMES", "PARAM_RANGES", "N_PARAMS", "ZoneParams", "draw_zones", "col", "check_params"]

#: Columns of the per-zone parameter matrix (same order as cpp/simcore/autoscaling Param).
PARAM_NAMES = (
    "base_rpc", "base_mq", "daily_amp_rpc", "daily_amp_mq", "cos_phase", "sin_phase", "weekend_dip", "trend",
    "noise_sd", "burst_prob", "burst_size", "burst_decay", "holiday_mult", "w_rpc", "w_mq", "idle", "scale",
    "shape", "cpu_sd", "lat0", "knee", "lat_gain", "slo_ms",
)
N_PARAMS = len(PARAM_NAMES)
_COL = {n: i for i, n in enumerate(PARAM_NAMES)}
#: Allowed range of each column (low, high, low excluded?), as bindings/register_autoscaling.cpp checks them.
PARAM_RANGES: dict[str, tuple[float, float, bool]] = {
    "base_rpc": (0, 1e12, False), "base_mq": (0, 1e12, False), "daily_amp_rpc": (0, 0.99, False),
    "daily_amp_mq": (0, 0.99, False), "cos_phase": (-1, 1, False), "sin_phase": (-1, 1, False),
    "weekend_dip": (0, 0.99, False), "trend": (-0.5, 10, False), "noise_sd": (0, 2, False),
    "burst_prob": (0, 1, False), "burst_size": (0, 100, False), "burst_decay": (0, 0.999, False),
    "holiday_mult": (0.01, 100, False), "w_rpc": (0, 1e6, False), "w_mq": (0, 1e6, False), "idle": (0, 0.99, False),
    "scale": (0, 1e12, True), "shape": (0.2, 5, False), "cpu_sd": (0, 1, False), "lat0": (0, 1e6, True),
    "knee": (0, 1, False), "lat_gain": (0, 1e6, False), "slo_ms": (0, 1e9, True),
}


def check_params(params: np.ndarray) -> None:
    """ValueError naming the first column (and zone) outside :data:`PARAM_RANGES` or not finite."""
    p = np.asarray(params)
    if p.ndim != 2 or p.shape[1] != N_PARAMS or p.shape[0] < 1:
        raise ValueError(f"params: expected shape (B, {N_PARAMS}) with B >= 1, got {p.shape}")
    for j, name in enumerate(PARAM_NAMES):
        lo, hi, open_lo = PARAM_RANGES[name]
        v = p[:, j]
        ok = np.isfinite(v) & (v <= hi) & ((v > lo) if open_lo else (v >= lo))
        if not ok.all():
            i = int(np.argmin(ok))
            raise ValueError(f"params: {name} must be finite and lie in {'(' if open_lo else '['}{lo}, {hi}], "
                             f"got {v[i]} at zone {i}" + (" (negative traffic)" if name.startswith("base") else ""))


def col(name: str) -> int:
    """The column index of parameter ``name`` (KeyError for an unknown one)."""
    return _COL[name]


@dataclass(frozen=True)
class ZoneParams:
    """Per-zone parameters of B zones.

    Attributes:
        params: float64 (B, N_PARAMS), columns :data:`PARAM_NAMES`.
        min_vms, max_vms, init_vms: int64 (B,), 1 <= min <= init <= max.
        app: int64 (B,), the zone's application.
        holiday: bool (n_days,), the episode days that are holidays.
    """

    params: np.ndarray
    min_vms: np.ndarray
    max_vms: np.ndarray
    init_vms: np.ndarray
    app: np.ndarray
    holiday: np.ndarray

    @property
    def num_zones(self) -> int:
        return int(self.params.shape[0])

    def subset(self, idx: np.ndarray) -> ZoneParams:
        """The zones ``idx`` (an index array), e.g. held-out apps."""
        return ZoneParams(self.params[idx].copy(), self.min_vms[idx].copy(), self.max_vms[idx].copy(),
                          self.init_vms[idx].copy(), self.app[idx].copy(), self.holiday.copy())


def _u(rng: np.random.Generator, pair: tuple[float, float], n: int) -> np.ndarray:
    return rng.uniform(pair[0], pair[1], n)


def draw_zones(config: WorkloadConfig, num_zones: int, seed: int = 0) -> ZoneParams:
    """Draws ``num_zones`` zones (zone i of app i % n_apps) as the module docstring says."""
    if not isinstance(num_zones, int) or isinstance(num_zones, bool) or not 1 <= num_zones <= 10**7:
        raise ValueError(f"num_zones: must be an integer in [1, 1e7], got {num_zones!r}")
    tree = SeedTree(seed)
    ra, rz = tree.generator("apps"), tree.generator("zones")
    A, c = config.n_apps, config
    level = c.rpc_median * np.exp(c.app_log_sd * ra.standard_normal(A))
    app_draw = {name: _u(ra, getattr(c, name), A) for name in (
        "mq_ratio", "weekend_dip", "trend", "noise_sd", "burst_prob", "burst_size", "burst_decay", "holiday_mult",
        "capacity", "mq_cost", "idle", "shape", "cpu_sd", "knee", "lat0", "lat_gain", "slo_factor")}
    amp_rpc, amp_mq = _u(ra, c.daily_amp, A), _u(ra, c.daily_amp, A)
    phase = ra.uniform(0.0, 2 * np.pi, A)
    app = np.arange(num_zones, dtype=np.int64) % A
    base = level[app] * np.exp(c.zone_log_sd * rz.standard_normal(num_zones))
    ph = phase[app] + 0.2 * rz.standard_normal(num_zones)
    g = {k: v[app] for k, v in app_draw.items()}
    p = np.empty((num_zones, N_PARAMS))
    p[:, col("base_rpc")], p[:, col("base_mq")] = base, base * g["mq_ratio"]
    p[:, col("daily_amp_rpc")], p[:, col("daily_amp_mq")] = amp_rpc[app], amp_mq[app]
    p[:, col("cos_phase")], p[:, col("sin_phase")] = np.cos(ph), np.sin(ph)
    for name in ("weekend_dip", "trend", "noise_sd", "burst_prob", "burst_size", "burst_decay", "holiday_mult",
                 "idle", "shape", "cpu_sd", "knee", "lat0", "lat_gain"):
        p[:, col(name)] = g[name]
    p[:, col("w_rpc")] = 1.0 / g["capacity"]
    p[:, col("w_mq")] = g["mq_cost"] / g["capacity"]
    p[:, col("scale")] = 1.0
    p[:, col("slo_ms")] = g["lat0"] * g["slo_factor"]
    load = p[:, col("w_rpc")] * p[:, col("base_rpc")] + p[:, col("w_mq")] * p[:, col("base_mq")]
    lo = np.full(num_zones, c.min_vms, dtype=np.int64)
    init0 = np.maximum(lo, np.ceil(load / c.init_util).astype(np.int64))
    hi = np.minimum(np.maximum(lo, np.ceil(init0 * c.max_factor).astype(np.int64)), 10**8)
    init = np.minimum(init0, hi)
    n_days = max(c.holidays, default=-1) + 1
    holiday = np.zeros(n_days, dtype=bool)
    holiday[list(c.holidays)] = True
    return ZoneParams(p, lo, hi, init, app, holiday)
