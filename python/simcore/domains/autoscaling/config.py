"""Configuration of the autoscaling simulator (docs/autoscaling_model.md).

:class:`AutoscalingConfig` holds the run-wide constants (reward, action range, horizon,
provisioning delay); :class:`WorkloadConfig` the population the per-app and per-zone
parameters are drawn from (:func:`simcore.domains.autoscaling.workload.draw_zones`).
Every range is checked in ``__post_init__`` (ValueError naming the field).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AutoscalingConfig", "WorkloadConfig", "STEPS_PER_DAY", "STEPS_PER_WEEK", "MAX_DELAY"]

#: 10-minute steps.
STEPS_PER_DAY = 144
STEPS_PER_WEEK = 7 * STEPS_PER_DAY
#: Longest provisioning delay (steps), the C++ pending ring's length.
MAX_DELAY = 8


def _range(name: str, value: float, lo: float, hi: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValueError(f"{name}: must be a number in [{lo}, {hi}], got {value!r}")


def _pair(name: str, value: tuple[float, float], lo: float, hi: float) -> None:
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise ValueError(f"{name}: expected a (low, high) pair, got {value!r}")
    _range(f"{name}[0]", value[0], lo, hi)
    _range(f"{name}[1]", value[1], lo, hi)
    if value[0] > value[1]:
        raise ValueError(f"{name}: low must be <= high, got {value!r}")


@dataclass(frozen=True)
class WorkloadConfig:
    """The population of applications and zones (uniform ranges are (low, high)).

    Attributes:
        n_apps: applications (>= 1); zone i belongs to app i % n_apps.
        rpc_median: median RPC calls per 10 minutes of a zone (> 0); per-zone
            log-normal spread ``zone_log_sd`` (in [0, 3]) around the app's level,
            which itself spreads by ``app_log_sd`` (in [0, 3]).
        mq_ratio: message subscriptions per RPC call, per app (in [0, 10]).
        daily_amp: amplitude of the daily sine, per dimension and app (in [0, 0.95]).
        weekend_dip: relative traffic drop on days 5 and 6 of the week (in [0, 0.9]).
        trend: relative growth per week (in [-0.5, 1]).
        noise_sd: log-normal noise sd per step (in [0, 1]).
        burst_prob: probability per step that a burst starts (in [0, 1]).
        burst_size: burst level added, relative traffic (in [0, 10]).
        burst_decay: per-step decay of the burst level (in [0, 0.99]).
        holiday_mult: traffic multiplier on holidays, per app (in [0.1, 10]).
        holidays: episode days (0-based) that are holidays (each >= 0).
        capacity: RPC calls per 10 minutes one VM serves at u = 1, per app (> 0).
        mq_cost: CPU cost of a message relative to an RPC call, per app (in [0, 10]).
        idle, shape, cpu_sd: the CPU curve g(u) = idle + (1 - idle)(1 - exp(-u^shape))
            and its Gaussian noise sd, per app (idle in [0, 0.5], shape in [0.3, 4],
            cpu_sd in [0, 0.2]).  LATENT: a policy sees only traffic, VMs and CPU.
        knee, lat0, lat_gain, slo_factor: latency lat0 (1 + lat_gain max(0, c - knee)
            / max(1 - c, 0.02)) ms; the SLO is lat0 * slo_factor (knee in [0.3, 0.99],
            lat0 in [1, 1000], lat_gain in [0, 100], slo_factor in [1, 100]).
        init_util: the initial VM count provisions the zone's mean load at this u
            (in [0.1, 2]).
        min_vms: the fewest VMs of a zone (>= 1).  max_factor: max_vms = max(min_vms,
            ceil(init_vms * max_factor)) (in [1, 1000]).
    """

    n_apps: int = 50
    rpc_median: float = 5000.0
    app_log_sd: float = 1.0
    zone_log_sd: float = 0.5
    mq_ratio: tuple[float, float] = (0.1, 1.0)
    daily_amp: tuple[float, float] = (0.3, 0.8)
    weekend_dip: tuple[float, float] = (0.0, 0.4)
    trend: tuple[float, float] = (-0.05, 0.15)
    noise_sd: tuple[float, float] = (0.03, 0.12)
    burst_prob: tuple[float, float] = (0.0, 0.01)
    burst_size: tuple[float, float] = (0.2, 1.5)
    burst_decay: tuple[float, float] = (0.7, 0.95)
    holiday_mult: tuple[float, float] = (0.5, 1.8)
    holidays: tuple[int, ...] = (3,)
    capacity: tuple[float, float] = (300.0, 1500.0)
    mq_cost: tuple[float, float] = (0.2, 1.0)
    idle: tuple[float, float] = (0.02, 0.1)
    shape: tuple[float, float] = (0.8, 2.0)
    cpu_sd: tuple[float, float] = (0.01, 0.04)
    knee: tuple[float, float] = (0.65, 0.85)
    lat0: tuple[float, float] = (20.0, 80.0)
    lat_gain: tuple[float, float] = (0.5, 3.0)
    slo_factor: tuple[float, float] = (2.0, 4.0)
    init_util: float = 0.7
    min_vms: int = 1
    max_factor: float = 10.0

    def __post_init__(self) -> None:
        if not isinstance(self.n_apps, int) or isinstance(self.n_apps, bool) or self.n_apps < 1:
            raise ValueError(f"n_apps: must be an integer >= 1, got {self.n_apps!r}")
        if not isinstance(self.min_vms, int) or isinstance(self.min_vms, bool) or not 1 <= self.min_vms <= 10**6:
            raise ValueError(f"min_vms: must be an integer in [1, 1e6] (zero VMs cannot serve), got {self.min_vms!r}")
        _range("rpc_median", self.rpc_median, 1e-6, 1e9)
        _range("app_log_sd", self.app_log_sd, 0, 3)
        _range("zone_log_sd", self.zone_log_sd, 0, 3)
        for name, lo, hi in (("mq_ratio", 0, 10), ("daily_amp", 0, 0.95), ("weekend_dip", 0, 0.9),
                             ("trend", -0.5, 1), ("noise_sd", 0, 1), ("burst_prob", 0, 1), ("burst_size", 0, 10),
                             ("burst_decay", 0, 0.99), ("holiday_mult", 0.1, 10), ("capacity", 1e-6, 1e9),
                             ("mq_cost", 0, 10), ("idle", 0, 0.5), ("shape", 0.3, 4), ("cpu_sd", 0, 0.2),
                             ("knee", 0.3, 0.99), ("lat0", 1, 1000), ("lat_gain", 0, 100), ("slo_factor", 1, 100)):
            _pair(name, getattr(self, name), lo, hi)
        if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in self.holidays):
            raise ValueError(f"holidays: expected day indices >= 0, got {self.holidays!r}")
        _range("init_util", self.init_util, 0.1, 2)
        _range("max_factor", self.max_factor, 1, 1000)


@dataclass(frozen=True)
class AutoscalingConfig:
    """Run-wide constants of the simulator.

    Attributes:
        cpu_target: the CPU utilisation aimed at (in (0, 1)).
        band: half-width of the target band (stability = share of steps with
            |c - cpu_target| <= band; in [0, 0.5]).
        eta: weight of the scaling cost |l' - l| / l in the reward (>= 0, <= 100).
        slo_penalty: reward penalty of a step whose latency exceeds the SLO (in [0, 1e3]).
        ratio_min, ratio_max: the action range, l' = round(l (1 + a)) (ratio_min in
            [-0.99, 0], ratio_max in [0, 10]).
        horizon: steps per episode (>= 1; 1008 = one week of 10-minute steps).
        delay: provisioning delay of new VMs in steps (in [0, 8]; removal is immediate).
        num_threads: C++ threads (None: all cores); results never depend on it.
        workload: the zone population.
    """

    cpu_target: float = 0.5
    band: float = 0.1
    eta: float = 0.05
    slo_penalty: float = 1.0
    ratio_min: float = -0.5
    ratio_max: float = 1.0
    horizon: int = STEPS_PER_WEEK
    delay: int = 0
    num_threads: int | None = None
    workload: WorkloadConfig = field(default_factory=WorkloadConfig)

    def __post_init__(self) -> None:
        if not (isinstance(self.cpu_target, (int, float)) and 0 < self.cpu_target < 1):
            raise ValueError(f"cpu_target: must lie in (0, 1), got {self.cpu_target!r}")
        _range("band", self.band, 0, 0.5)
        _range("eta", self.eta, 0, 100)
        _range("slo_penalty", self.slo_penalty, 0, 1e3)
        _range("ratio_min", self.ratio_min, -0.99, 0)
        _range("ratio_max", self.ratio_max, 0, 10)
        for name, lo, hi in (("horizon", 1, 10**8), ("delay", 0, MAX_DELAY)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValueError(f"{name}: must be an integer in [{lo}, {hi}], got {v!r}")
        if self.num_threads is not None and (not isinstance(self.num_threads, int) or self.num_threads < 1):
            raise ValueError(f"num_threads: must be None or an integer >= 1, got {self.num_threads!r}")
        if not isinstance(self.workload, WorkloadConfig):
            raise TypeError(f"workload: expected WorkloadConfig, got {type(self.workload).__name__}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AutoscalingConfig:
        """From a nested dict (``workload`` a dict of WorkloadConfig fields; lists become tuples)."""
        d = dict(d)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"config: unknown fields {sorted(unknown)}")
        w = d.pop("workload", None)
        if isinstance(w, Mapping):
            wnames = {f.name for f in dataclasses.fields(WorkloadConfig)}
            if set(w) - wnames:
                raise ValueError(f"workload: unknown fields {sorted(set(w) - wnames)}")
            kw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in w.items()}
            w = WorkloadConfig(**kw)
        return cls(**d, **({"workload": w} if w is not None else {}))
