"""Rule-based autoscalers over the simulator's observations (docs/autoscaling_model.md,
"Baselines").  Every policy maps what an autoscaler sees after a step
(:class:`Observed`: CPU, VMs, provisioned VMs, traffic, the step) to scaling ratios
float64 (B,) within the config's range; none reads a latent parameter, except the
hindsight :class:`PeakStatic` reference, which is told its allocation.

* :class:`ThresholdScaling`: step scaling (public clouds' alarm rules): CPU above
  ``high`` scales out by ``step_out`` per ``step_width`` of breach, below ``low``
  scales in by ``step_in``; a cooldown after each operation.
* :class:`TargetTracking`: desired = ceil(P c / cpu_target) (the proportional rule of
  target-tracking policies), scale-in only beyond a tolerance.
* :class:`AutopilotRecommender`: Rzadca et al. (EuroSys 2020) moving window: an
  exponentially decayed histogram (half-life ``half_life`` steps, buckets growing by
  ``growth``) of the usage c l (busy-VM equivalents); recommends
  ceil(q_p (1 + margin) / aim) VMs, q_p the bucket upper bound at percentile p, aim =
  cpu_target by default (aim = 1: Autopilot's own use, q_p (1 + margin) as the limit),
  applied when it differs from P by more than ``min_change``.
* :class:`Predictive`: a traffic forecast of the step the new VMs serve (seasonal-naive:
  yesterday's traffic times the recent level ratio; or a learned forecaster's, e.g. the
  workload forecaster of :mod:`.forecast`) and the inverse of a CPU model
  c = alpha + beta . x / l fitted online per zone by decayed ridge least squares.
* :class:`PeakStatic`: a fixed allocation (e.g. :func:`peak_static_vms`, the VMs that
  put the noise-free CPU at cpu_target under each zone's peak traffic, in hindsight).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from simcore.domains.autoscaling.config import STEPS_PER_DAY, AutoscalingConfig
from simcore.domains.autoscaling.exact import vms_for_target
from simcore.domains.autoscaling.simulator import AutoscalingSimulator, AutoscalingStepResult
from simcore.domains.autoscaling.workload import ZoneParams, col

__all__ = ["Forecaster", "Observed", "observe", "ThresholdScaling", "TargetTracking", "AutopilotRecommender",
           "decayed_percentile", "Predictive", "PeakStatic", "peak_static_vms", "to_ratio"]


class Forecaster(Protocol):
    """A traffic forecaster (e.g. :class:`~simcore.domains.autoscaling.forecast.WorkloadForecaster`)."""

    @property
    def horizon(self) -> int: ...

    def predict(self, history: np.ndarray, t0: np.ndarray | int) -> np.ndarray: ...


@dataclass
class Observed:
    """What an autoscaler sees: cpu float64 (B,), vms and provisioned int64 (B,),
    traffic float64 (B, 2), t (steps done in the episode)."""

    cpu: np.ndarray
    vms: np.ndarray
    provisioned: np.ndarray
    traffic: np.ndarray
    t: int


def observe(sim: AutoscalingSimulator, r: AutoscalingStepResult | None = None) -> Observed:
    """The observation after a reset (r None) or after step result r."""
    st = sim.state()
    prov = st["vms"] + st["pending"].sum(axis=1)
    return Observed(st["cpu"], st["vms"], prov, st["traffic"], sim.t)


def to_ratio(desired: np.ndarray, provisioned: np.ndarray, cfg: AutoscalingConfig) -> np.ndarray:
    """The ratio that moves ``provisioned`` towards ``desired`` VMs, clipped to the range."""
    a = np.asarray(desired, dtype=np.float64) / np.maximum(provisioned, 1).astype(np.float64) - 1.0
    return np.clip(a, cfg.ratio_min, cfg.ratio_max)


class ThresholdScaling:
    """Step scaling with a cooldown (``cooldown`` steps after an operation)."""

    def __init__(self, cfg: AutoscalingConfig, high: float = 0.7, low: float = 0.3, step_out: float = 0.2,
                 step_in: float = 0.1, step_width: float = 0.1, cooldown: int = 3) -> None:
        if not 0 <= low < high <= 1 or step_out < 0 or step_in < 0 or step_width <= 0 or cooldown < 0:
            raise ValueError("ThresholdScaling: need 0 <= low < high <= 1, steps >= 0, step_width > 0, cooldown >= 0")
        self.cfg, self.high, self.low = cfg, high, low
        self.step_out, self.step_in, self.step_width, self.cooldown = step_out, step_in, step_width, cooldown
        self._wait: np.ndarray | None = None

    def act(self, o: Observed) -> np.ndarray:
        if self._wait is None or self._wait.shape != o.cpu.shape:
            self._wait = np.zeros(o.cpu.shape, dtype=np.int64)
        n_out = np.ceil((o.cpu - self.high) / self.step_width)
        a = np.where(o.cpu > self.high, self.step_out * n_out, np.where(o.cpu < self.low, -self.step_in, 0.0))
        a = np.where(self._wait > 0, 0.0, a)
        self._wait = np.where(a != 0, self.cooldown, np.maximum(self._wait - 1, 0))
        return np.clip(a, self.cfg.ratio_min, self.cfg.ratio_max)


class TargetTracking:
    """desired = ceil(P c / cpu_target); scale in only when desired < P (1 - tolerance)."""

    def __init__(self, cfg: AutoscalingConfig, tolerance: float = 0.1) -> None:
        if not 0 <= tolerance < 1:
            raise ValueError(f"tolerance: must lie in [0, 1), got {tolerance}")
        self.cfg, self.tolerance = cfg, tolerance

    def act(self, o: Observed) -> np.ndarray:
        desired = np.ceil(o.provisioned * o.cpu / self.cfg.cpu_target)
        keep = (desired < o.provisioned) & (desired >= o.provisioned * (1 - self.tolerance))
        return to_ratio(np.where(keep, o.provisioned, desired), o.provisioned, self.cfg)


def bucket_edges(n_buckets: int, first: float, growth: float) -> np.ndarray:
    """Upper bounds of the histogram buckets: bucket 0 = [0, first), bucket k = [first
    growth^(k-1), first growth^k) (the last is open above)."""
    return first * growth ** np.arange(n_buckets, dtype=np.float64)


def bucket_of(x: np.ndarray, first: float, growth: float, n_buckets: int) -> np.ndarray:
    """The bucket of each value (int64, same shape)."""
    with np.errstate(divide="ignore"):
        k = np.floor(np.log(np.maximum(x, 1e-300) / first) / np.log(growth)) + 1
    return np.clip(np.where(x < first, 0, k), 0, n_buckets - 1).astype(np.int64)


def decayed_percentile(hist: np.ndarray, edges: np.ndarray, p: float) -> np.ndarray:
    """The upper bound of the first bucket whose cumulative weight reaches p of the total
    (hist (B, n) weights, edges (n,)); 0 where a histogram is empty."""
    cum = np.cumsum(hist, axis=1)
    total = cum[:, -1:]
    k = np.argmax(cum >= p * total, axis=1)
    return np.where(total[:, 0] > 0, edges[k], 0.0)


class AutopilotRecommender:
    """Moving-window recommender on exponentially decayed usage histograms."""

    def __init__(self, cfg: AutoscalingConfig, percentile: float = 0.95, margin: float = 0.15,
                 half_life: float = STEPS_PER_DAY, growth: float = 1.05, first: float = 0.01, n_buckets: int = 480,
                 min_change: float = 0.1, aim: float | None = None) -> None:
        if aim is not None and not 0 < aim <= 1:
            raise ValueError(f"aim: must be None or lie in (0, 1], got {aim}")
        if not 0 < percentile <= 1 or margin < 0 or half_life <= 0 or growth <= 1 or first <= 0 or n_buckets < 2:
            raise ValueError("AutopilotRecommender: need percentile in (0, 1], margin >= 0, half_life > 0, "
                             "growth > 1, first > 0, n_buckets >= 2")
        self.cfg, self.p, self.margin, self.min_change = cfg, percentile, margin, min_change
        self.aim = cfg.cpu_target if aim is None else aim
        self.decay = 0.5 ** (1.0 / half_life)
        self.first, self.growth, self.n = first, growth, n_buckets
        self.edges = bucket_edges(n_buckets, first, growth)
        self.hist: np.ndarray | None = None

    def observe(self, usage: np.ndarray) -> None:
        """Decays the histograms and adds one sample of usage (B,) each."""
        if self.hist is None or self.hist.shape[0] != usage.shape[0]:
            self.hist = np.zeros((usage.shape[0], self.n))
        self.hist *= self.decay
        self.hist[np.arange(usage.shape[0]), bucket_of(usage, self.first, self.growth, self.n)] += 1.0

    def recommend(self) -> np.ndarray:
        """ceil(q_p (1 + margin) / aim) VMs per zone (float64 (B,))."""
        assert self.hist is not None
        q = decayed_percentile(self.hist, self.edges, self.p)
        return np.maximum(1.0, np.ceil(q * (1 + self.margin) / self.aim))

    def act(self, o: Observed) -> np.ndarray:
        self.observe(o.cpu * o.vms)
        rec = self.recommend()
        change = np.abs(rec - o.provisioned) > self.min_change * o.provisioned
        return to_ratio(np.where(change, rec, o.provisioned), o.provisioned, self.cfg)


class Predictive:
    """A traffic forecast + the inverse of an online-fitted linear CPU model.

    Model: c = alpha + beta_0 x_0 / l + beta_1 x_1 / l, fitted per zone on decayed
    (factor ``forget`` per step) normal equations with ridge ``ridge``; desired VMs =
    ceil(beta . x_hat / (cpu_target - alpha)) for the forecast x_hat of the step the new
    VMs serve (delay + 1 ahead).

    Forecast: without ``forecaster`` the seasonal-naive one, x(t + h - 144) times the ratio
    of the last ``level_window`` steps' traffic to the same steps a day earlier (clipped to
    [0.5, 2]), acting as :class:`TargetTracking` until a day of history exists.  With
    ``forecaster`` (anything with ``horizon`` >= delay + 1 and ``predict(history (B, T, 2),
    t0) -> (B, H, 2)``, e.g. a fitted
    :class:`~simcore.domains.autoscaling.forecast.WorkloadForecaster`), its forecast from
    the traffic of the episode's steps so far (the reset's reading left out; at most
    ``max_history`` steps; calendar index t0 = the step the forecast starts at), acting
    as :class:`TargetTracking` for the first ``warmup`` steps; the forecast is refreshed
    every ``every`` steps (in between, the same forecast's later steps are read, so the
    cost falls by that factor).
    """

    def __init__(self, cfg: AutoscalingConfig, forget: float = 0.995, ridge: float = 1e-3,
                 level_window: int = 6, forecaster: Forecaster | None = None, warmup: int = 6,
                 max_history: int = 2 * STEPS_PER_DAY * 7, every: int = 1) -> None:
        if not 0 < forget <= 1 or ridge <= 0 or not 1 <= level_window < STEPS_PER_DAY // 2:
            raise ValueError("Predictive: need forget in (0, 1], ridge > 0, level_window in [1, 72)")
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"every: must be an integer >= 1, got {every!r}")
        if forecaster is not None and getattr(forecaster, "horizon", 0) < cfg.delay + every:
            raise ValueError(f"forecaster: its horizon must be >= delay + every = {cfg.delay + every}")
        if not isinstance(warmup, int) or warmup < 1 or not isinstance(max_history, int) or max_history < warmup:
            raise ValueError("Predictive: need warmup >= 1 and max_history >= warmup (integers)")
        self.cfg, self.forget, self.ridge, self.w = cfg, forget, ridge, level_window
        self.forecaster, self.warmup, self.max_history, self.every = forecaster, warmup, max_history, every
        self._forecast: np.ndarray | None = None
        self.fallback = TargetTracking(cfg)
        self.hist: np.ndarray | None = None  # naive: (B, 144 + delay + 1, 2) ring; learned: (B, max_history, 2)
        self.n_seen = 0
        self.A: np.ndarray | None = None
        self.b: np.ndarray | None = None

    def _fit(self, o: Observed) -> tuple[np.ndarray, np.ndarray]:
        B = o.cpu.shape[0]
        if self.A is None or self.A.shape[0] != B:
            self.A, self.b = np.zeros((B, 3, 3)), np.zeros((B, 3))
        assert self.b is not None
        f = np.column_stack([np.ones(B), o.traffic / o.vms[:, None]])
        self.A = self.forget * self.A + f[:, :, None] * f[:, None, :]
        self.b = self.forget * self.b + f * o.cpu[:, None]
        coef = np.linalg.solve(self.A + self.ridge * np.eye(3), self.b[:, :, None])[:, :, 0]
        return coef[:, 0], coef[:, 1:]

    def _naive(self, o: Observed) -> np.ndarray | None:
        """The seasonal-naive forecast (B, 2), None before a day of history."""
        B, L = o.cpu.shape[0], STEPS_PER_DAY + self.cfg.delay + 1
        if self.hist is None or self.hist.shape[0] != B:
            self.hist, self.n_seen = np.zeros((B, L, 2)), 0
        self.hist[:, self.n_seen % L] = o.traffic
        self.n_seen += 1
        if self.n_seen < L:
            return None
        h = self.cfg.delay + 1
        idx = lambda back: (self.n_seen - 1 - back) % L  # noqa: E731  (steps back from now)
        recent = self.hist[:, [idx(j) for j in range(self.w)]].sum(axis=(1, 2))
        day_ago = self.hist[:, [idx(STEPS_PER_DAY + j) for j in range(self.w)]].sum(axis=(1, 2))
        level = np.clip(recent / np.maximum(day_ago, 1e-12), 0.5, 2.0)
        return self.hist[:, idx(STEPS_PER_DAY - h)] * level[:, None]

    def _learned(self, o: Observed) -> np.ndarray | None:
        """The forecaster's forecast (B, 2) of the step delay + 1 ahead, None during the warm-up."""
        assert self.forecaster is not None
        B = o.cpu.shape[0]
        if self.hist is None or self.hist.shape[0] != B or o.t == 0:
            self.hist, self.n_seen = np.zeros((B, self.max_history, 2)), 0
        if o.t == 0:  # the reset's reading precedes the episode's steps: not part of the series
            return None
        if self.n_seen == self.max_history:
            self.hist[:, :-1] = self.hist[:, 1:]
            self.n_seen -= 1
        self.hist[:, self.n_seen] = o.traffic
        self.n_seen += 1
        if self.n_seen < self.warmup:
            return None
        age = (self.n_seen - self.warmup) % self.every
        if age == 0:
            self._forecast = self.forecaster.predict(self.hist[:, :self.n_seen], int(o.t))
        assert self._forecast is not None
        return self._forecast[:, self.cfg.delay + age]

    def act(self, o: Observed) -> np.ndarray:
        forecast = self._naive(o) if self.forecaster is None else self._learned(o)
        alpha, beta = self._fit(o)
        if forecast is None:
            return self.fallback.act(o)
        load = (beta * forecast).sum(axis=1)
        room = self.cfg.cpu_target - alpha
        ok = (room > 1e-3) & (load > 0)
        desired = np.where(ok, np.ceil(load / np.where(ok, room, 1.0)), o.provisioned)
        return to_ratio(np.maximum(desired, 1), o.provisioned, self.cfg)


class PeakStatic:
    """A fixed allocation: moves to ``vms`` (int (B,)) as fast as the ratio range
    allows, then holds."""

    def __init__(self, cfg: AutoscalingConfig, vms: np.ndarray) -> None:
        self.cfg, self.vms = cfg, np.asarray(vms, dtype=np.int64)

    def act(self, o: Observed) -> np.ndarray:
        return to_ratio(self.vms, o.provisioned, self.cfg)


def peak_static_vms(zones: ZoneParams, traffic: np.ndarray, target: float) -> np.ndarray:
    """Hindsight peak provisioning: for traffic (T, B, 2) of an episode, the VMs that put
    the noise-free CPU at ``target`` at each zone's peak-load step (exact inversion of g
    with the latent parameters)."""
    x = np.asarray(traffic, dtype=np.float64)
    p = zones.params
    load = x[:, :, 0] * p[None, :, col("w_rpc")] + x[:, :, 1] * p[None, :, col("w_mq")]
    peak = x[np.argmax(load, axis=0), np.arange(zones.num_zones)]
    return vms_for_target(zones, peak, target)
