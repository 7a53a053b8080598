"""NumPy twin of the C++ autoscaling simulator (cpp/simcore/autoscaling/): the same
formulas, draws and order, vectorised over zones, on the same state dict.

Per zone and step (episode time tau = steps since the reset):

1. action a: target = clip(floor(P (1 + a) + 0.5), min_vms, max_vms) with P the
   provisioned VMs (serving + pending); delta = target - P; new VMs join the pending
   ring at slot delay - 1 (delay 0: serving at once); removals cancel pending VMs
   (latest first), then serving ones.
2. draws (stream order): one uniform (burst), a Box-Muller pair (traffic noise
   e0, e1), a pair (CPU noise e2; its partner unused).
3. burst b' = b burst_decay + burst_size [u < burst_prob]; traffic
   x_k = base_k (1 + amp_k sin(theta + phase)) W T H (1 + b') exp(sd e_k - sd^2 / 2),
   theta = 2 pi (tau mod 144) / 144, W = 1 - weekend_dip on days 5, 6 of the week,
   T = 1 + trend tau / 1008, H = holiday_mult on holidays.
4. CPU: u = (w . x) / l, mu = idle + (1 - idle)(1 - exp(-(u / scale)^shape)),
   c = clip(mu + cpu_sd e2, 0, 1); latency lat0 (1 + lat_gain max(0, c - knee) /
   max(1 - c, 0.02)); violation latency > slo_ms.
5. reward -(cpu_target - c)^2 - eta |delta| / P - slo_penalty [violation]; then the
   pending VMs due next step start serving and the ring shifts.

exp, log, log1p and cos / sin(2 pi u) are the step's own polynomial functions
(:mod:`simcore.domains.autoscaling.vecmath`, the twin of cpp/simcore/autoscaling/vecmath.hpp),
so the twin is bit-identical to the C++ at any ISA and thread count.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simcore.domains.autoscaling import vecmath as vm
from simcore.domains.autoscaling.config import MAX_DELAY, STEPS_PER_DAY, STEPS_PER_WEEK
from simcore.domains.autoscaling.workload import ZoneParams, col
from simcore.kernels.rng import _GOLDEN, _mix, stream_key

__all__ = ["ReferenceAutoscalingBatch", "TWO_PI"]

TWO_PI = 6.283185307179586


def _uniform(rng: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        rng += _GOLDEN
        z = _mix(rng.copy())
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _normal_pair(rng: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u1 = 1.0 - _uniform(rng)
    u2 = _uniform(rng)
    rad = np.sqrt(-2.0 * vm.log(u1))
    c, s = vm.sincos2pi(u2)
    return rad * c, rad * s


def _normal(rng: np.ndarray) -> np.ndarray:
    """The first normal of a Box-Muller pair (two uniforms drawn; the sine never computed)."""
    u1 = 1.0 - _uniform(rng)
    u2 = _uniform(rng)
    return np.sqrt(-2.0 * vm.log(u1)) * vm.cos2pi(u2)


def _time_features(tau: int) -> tuple[float, float, np.ndarray]:
    day = TWO_PI * ((tau % STEPS_PER_DAY) / STEPS_PER_DAY)
    week = TWO_PI * ((tau % STEPS_PER_WEEK) / STEPS_PER_WEEK)
    sd, cd = math.sin(day), math.cos(day)
    return sd, cd, np.array([sd, cd, math.sin(week), math.cos(week)], dtype=np.float32)


class ReferenceAutoscalingBatch:
    """The twin of ``_core.autoscaling.AutoscalingBatch`` (same constructor arguments
    as the face passes, same ``reset`` / ``step`` on the state and out dicts)."""

    def __init__(self, zones: ZoneParams, model: np.ndarray, horizon: int, delay: int) -> None:
        self.z = zones
        self.p = zones.params
        self.target, self.band, self.eta, self.penalty, self.a_min, self.a_max = (float(v) for v in model)
        self.horizon, self.delay = int(horizon), int(delay)
        self.num_zones = zones.num_zones

    def _outcome(self, s: dict[str, np.ndarray], tau: int, st: float, ct: float) -> tuple[np.ndarray, np.ndarray]:
        p, rng = self.p, s["rng"]
        ub = _uniform(rng)
        b = s["burst"] * p[:, col("burst_decay")] + np.where(ub < p[:, col("burst_prob")], p[:, col("burst_size")], 0.0)
        s["burst"][:] = b
        day = tau // STEPS_PER_DAY
        hol_day = day < self.z.holiday.size and bool(self.z.holiday[day])
        wk = 1.0 - p[:, col("weekend_dip")] if day % 7 >= 5 else np.ones(self.num_zones)
        tr = 1.0 + p[:, col("trend")] * (tau / STEPS_PER_WEEK)
        hol = p[:, col("holiday_mult")] if hol_day else np.ones(self.num_zones)
        common = ((wk * tr) * hol) * (1.0 + b)
        ds = st * p[:, col("cos_phase")] + ct * p[:, col("sin_phase")]
        e0, e1 = _normal_pair(rng)
        e2 = _normal(rng)
        sd = p[:, col("noise_sd")]
        half = 0.5 * sd * sd
        x = s["traffic"]
        x[:, 0] = (p[:, col("base_rpc")] * (1.0 + p[:, col("daily_amp_rpc")] * ds)) * common * vm.exp(sd * e0 - half)
        x[:, 1] = (p[:, col("base_mq")] * (1.0 + p[:, col("daily_amp_mq")] * ds)) * common * vm.exp(sd * e1 - half)
        u = (p[:, col("w_rpc")] * x[:, 0] + p[:, col("w_mq")] * x[:, 1]) / s["vms"].astype(np.float64)
        z = u / p[:, col("scale")]
        idle = p[:, col("idle")]
        zp = vm.exp(p[:, col("shape")] * vm.log(z))  # z^shape as in the C++ (z = 0 -> 0)
        mu = idle + (1.0 - idle) * (1.0 - vm.exp(-zp))
        c = np.minimum(1.0, np.maximum(0.0, mu + p[:, col("cpu_sd")] * e2))
        return mu, c

    def _obs(self, s: dict[str, np.ndarray], obs: np.ndarray, tf: np.ndarray) -> None:
        x, l = s["traffic"], s["vms"].astype(np.float64)
        obs[:, 0] = vm.log1p(x[:, 0])
        obs[:, 1] = vm.log1p(x[:, 1])
        obs[:, 2] = s["cpu"]
        obs[:, 3] = vm.log(l)
        obs[:, 4] = s["pending"].sum(axis=1).astype(np.float64) / l
        obs[:, 5:9] = tf

    def reset(self, s: dict[str, np.ndarray], obs: np.ndarray, threads: int = 0) -> None:
        s["t"][0] = 0
        s["rng"][:] = stream_key(s["key_seed"], s["key_stream"], s["episode"])
        s["episode"] += np.uint64(1)
        s["vms"][:] = self.z.init_vms
        s["pending"][:] = 0
        s["burst"][:] = 0.0
        _, c = self._outcome(s, 0, 0.0, 1.0)
        s["cpu"][:] = c
        self._obs(s, obs, np.array([0, 1, 0, 1], dtype=np.float32))

    def _scale(self, s: dict[str, np.ndarray], a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pend = s["pending"]
        prov = s["vms"] + pend.sum(axis=1)
        target = np.floor(prov.astype(np.float64) * (1.0 + a) + 0.5).astype(np.int64)
        target = np.minimum(self.z.max_vms, np.maximum(self.z.min_vms, target))
        delta = target - prov
        up = delta > 0
        if self.delay == 0:
            s["vms"][up] += delta[up]
        else:
            pend[up, self.delay - 1] += delta[up]
        r = np.where(delta < 0, -delta, 0)
        for j in range(MAX_DELAY - 1, -1, -1):
            take = np.minimum(r, pend[:, j])
            pend[:, j] -= take
            r -= take
        s["vms"] -= r
        return prov, target, delta

    def step(self, s: dict[str, np.ndarray], actions: np.ndarray, out: dict[str, np.ndarray], threads: int = 0) -> None:
        a = np.asarray(actions, dtype=np.float64)
        if not np.all(np.isfinite(a) & (a >= self.a_min) & (a <= self.a_max)):
            raise ValueError(f"actions: scaling ratios must be finite and lie in [{self.a_min}, {self.a_max}]")
        if s["t"][0] >= self.horizon:
            self._autoreset(s, out)
            return
        tau = int(s["t"][0]) + 1
        st, ct, tf = _time_features(tau)
        prov, target, delta = self._scale(s, a)
        serving = s["vms"].copy()
        mu, c = self._outcome(s, tau, st, ct)
        s["cpu"][:] = c
        p = self.p
        lat = p[:, col("lat0")] * (1.0 + p[:, col("lat_gain")] * np.maximum(0.0, c - p[:, col("knee")])
                                   / np.maximum(1.0 - c, 0.02))
        viol = lat > p[:, col("slo_ms")]
        cost = np.abs(delta).astype(np.float64) / prov.astype(np.float64)
        dev = self.target - c
        out["reward"][:] = -(dev * dev) - self.eta * cost - np.where(viol, self.penalty, 0.0)
        out["terminated"][:] = False
        out["truncated"][:] = tau >= self.horizon
        out["action"][:] = a
        out["vms"][:], out["provisioned"][:], out["delta"][:] = serving, target, delta
        out["traffic"][:] = s["traffic"]
        out["cpu"][:], out["cpu_mean"][:], out["latency"][:], out["scaling_cost"][:] = c, mu, lat, cost
        out["slo_violation"][:], out["in_band"][:] = viol, np.abs(dev) <= self.band
        out["scaled"][:], out["reset_row"][:] = delta != 0, False
        pend = s["pending"]
        s["vms"] += pend[:, 0]
        pend[:, :-1] = pend[:, 1:].copy()
        pend[:, -1] = 0
        self._obs(s, out["obs"], tf)
        s["t"][0] = tau

    def _autoreset(self, s: dict[str, np.ndarray], out: dict[str, Any]) -> None:
        self.reset(s, out["obs"])
        for k in ("reward", "action", "cpu_mean", "latency", "scaling_cost"):
            out[k][:] = 0.0
        for k in ("terminated", "truncated", "slo_violation", "in_band", "scaled"):
            out[k][:] = False
        out["vms"][:], out["provisioned"][:], out["delta"][:] = s["vms"], s["vms"], 0
        out["traffic"][:], out["cpu"][:], out["reset_row"][:] = s["traffic"], s["cpu"], True
