"""Meta model-based RL autoscaler (seed section 3; Xue et al., KDD 2022, "scaling decider").

One deterministic policy a = pi(s, z) for every zone, trained by value gradients
through the learned, differentiable dynamics (the slides' V(s, z) = r(s, a, z) +
gamma V(g(s, pi(s, z), z))):

* data: each training zone's log under its static allocation (:func:`static_log`: no
  scaling ever happened, as in the paper's setting), with the forecasts the policy
  would have seen (:class:`SeasonalNaive`, or any ``forecast_next`` callable);
* state s_t: features of the current traffic per provisioned VM and of the next
  step's forecast per VM (:func:`~.anp.features`, standardised as the ANP's inputs),
  the CPU, the time of day; z the zone's ANP task embedding (E[q(z | C)], C its log);
* dynamics g: provisioned VMs P' = clip(P (1 + a), min_vms, max_vms) (continuous: the
  simulator rounds), traffic exogenous (``rollout_traffic="logged"``: the log's next
  traffic, i.e. the traffic model is the data; "forecast": the forecast itself), CPU
  c' = the ANP's predictive mean at features(x', P') given the zone's context;
* reward r = -(cpu_target - c')^2 - eta |a| - slo_penalty sigmoid((c' - slo_cpu) /
  slo_width) (a smooth surrogate of the SLO step penalty: the latency knee is latent);
* loss: -E[sum_{k<H} gamma^k r_k + gamma^H V(s_H)] over random starts (zone, step,
  initial VMs log-uniform within ``init_spread`` of the logged ones); the critic V(s, z)
  regresses on the same H-step targets (its input detached).

:class:`MetaScalingPolicy` runs the trained policy in the simulator; zones whose ANP
error on their own log exceeds ``error_threshold`` (the slides' filter of apps that
can be scaled safely by model quality) fall back to target tracking.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from simcore.domains.autoscaling.anp import ANP, ANPContext, features
from simcore.domains.autoscaling.baselines import Observed, TargetTracking
from simcore.domains.autoscaling.config import STEPS_PER_DAY, STEPS_PER_WEEK, AutoscalingConfig
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.workload import ZoneParams

__all__ = ["MBRLConfig", "ZoneLog", "SeasonalNaive", "ForecasterStream", "Forecast", "static_log",
           "model_error", "ScalingPolicyNet", "train_policy",
           "MetaScalingPolicy"]


@dataclass(frozen=True)
class MBRLConfig:
    """Policy training through the learned model.

    Attributes:
        rollout: H, model steps per rollout (integer >= 1).  gamma: discount in [0, 1).
        hidden: policy and critic width (>= 4).  lr: Adam step (in (0, 1)).
        steps: gradient steps (>= 1).  batch: rollout starts per step (>= 1).
        init_spread: initial VMs = logged VMs exp(U(-s, s)) (s in [0, 3]).
        slo_cpu, slo_width: the SLO surrogate's CPU knee (in (0, 1)) and width (> 0).
        error_threshold: zones whose ANP RMSE on their own log exceeds it fall back to
            target tracking (in (0, 1]; 1 keeps every zone).
        rollout_traffic: "logged" (next traffic from the log) or "forecast".
        seed: torch seed of the weights and the starts (>= 0).
    """

    rollout: int = 12
    gamma: float = 0.9
    hidden: int = 64
    lr: float = 3e-3
    steps: int = 300
    batch: int = 256
    init_spread: float = 0.7
    slo_cpu: float = 0.85
    slo_width: float = 0.02
    error_threshold: float = 0.06
    rollout_traffic: str = "logged"
    seed: int = 0

    def __post_init__(self) -> None:
        for name, lo in (("rollout", 1), ("hidden", 4), ("steps", 1), ("batch", 1), ("seed", 0)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
        for name, flo, fhi in (("gamma", 0, 0.999), ("init_spread", 0, 3), ("slo_cpu", 1e-3, 0.999),
                               ("slo_width", 1e-4, 1), ("error_threshold", 1e-4, 1), ("lr", 1e-6, 0.999)):
            f = getattr(self, name)
            if not isinstance(f, (int, float)) or not flo <= f <= fhi:
                raise ValueError(f"{name}: must lie in [{flo}, {fhi}], got {f!r}")
        if self.rollout_traffic not in ("logged", "forecast"):
            raise ValueError(f"rollout_traffic: expected 'logged' or 'forecast', got {self.rollout_traffic!r}")


@dataclass
class ZoneLog:
    """A log of B zones over T steps: traffic float64 (B, T, D), vms float64 (B, T),
    cpu float64 (B, T), forecast float64 (B, T, D) (forecast[:, t] = the forecast of
    traffic[:, t] made after step t - 1; forecast[:, 0] = traffic[:, 0])."""

    traffic: np.ndarray
    vms: np.ndarray
    cpu: np.ndarray
    forecast: np.ndarray

    @property
    def env_steps(self) -> int:
        return int(self.cpu.size)

    def features(self) -> np.ndarray:
        """ANP features float32 (B, T, D)."""
        return features(self.traffic, self.vms)


class Forecast(Protocol):
    """A streaming one-step-ahead traffic forecast: ``update(traffic (B, D))`` after each
    step, ``next() -> (B, D)`` the forecast of the next step."""

    def update(self, traffic: np.ndarray) -> None: ...

    def next(self) -> np.ndarray: ...


class SeasonalNaive:
    """Forecast of the next step's traffic (B, D): yesterday's traffic at that step times
    the ratio of the last ``window`` steps to the same steps a day earlier (clipped to
    [0.5, 2]); the last traffic while less than a day and a window of history exist."""

    def __init__(self, window: int = 6) -> None:
        self.window = window
        self.hist: list[np.ndarray] = []

    def update(self, traffic: np.ndarray) -> None:
        self.hist.append(np.asarray(traffic, dtype=np.float64).copy())

    def next(self) -> np.ndarray:
        n, w, d = len(self.hist), self.window, STEPS_PER_DAY
        if n < d + w:
            return self.hist[-1]
        recent = np.sum([self.hist[n - 1 - j] for j in range(w)], axis=0).sum(axis=-1)
        past = np.sum([self.hist[n - 1 - d - j] for j in range(w)], axis=0).sum(axis=-1)
        level = np.clip(recent / np.maximum(past, 1e-12), 0.5, 2.0)
        return self.hist[n - d] * level[:, None]


class ForecasterStream:
    """A fitted :class:`~.forecast.WorkloadForecaster` behind the :class:`SeasonalNaive`
    protocol (``update`` each step, ``next`` = the forecast (B, D) of the next step); it
    reads the last ``keep`` steps (a week plus its window by default) with calendar
    index t0 = the number of steps seen.

    ``every`` = k refreshes the forecast every k steps (1 <= k <= the forecaster's
    horizon) and reads its later steps in between, so the cost falls k-fold.  ``cache``
    (a dict shared by streams over the same traffic, e.g. the policies evaluated on one
    seed's episode, whose traffic does not depend on the actions) stores each refresh
    keyed by the number of steps seen and checks the newest traffic against it (ValueError
    when another traffic meets the cache).
    """

    def __init__(self, forecaster: Any, keep: int | None = None, every: int = 1,
                 cache: dict[int, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        if not isinstance(every, int) or isinstance(every, bool) or not 1 <= every <= forecaster.horizon:
            raise ValueError(f"every: must be an integer in [1, {forecaster.horizon}] (the horizon), got {every!r}")
        self.f, self.every, self.cache = forecaster, every, cache
        self.keep = keep if keep is not None else STEPS_PER_WEEK + forecaster.config.window
        self.hist: list[np.ndarray] = []
        self._fc: np.ndarray | None = None
        self._at = 0  # steps seen when self._fc was made

    def update(self, traffic: np.ndarray) -> None:
        self.hist.append(np.asarray(traffic, dtype=np.float64).copy())

    def _predict(self) -> np.ndarray:
        n, last = len(self.hist), self.hist[-1]
        if self.cache is not None and n in self.cache:
            seen, fc = self.cache[n]
            if seen.shape != last.shape or not np.array_equal(seen, last):
                raise ValueError(f"cache: the traffic at step {n} differs from the cached episode's "
                                 "(share a cache only between runs over the same traffic)")
            return fc
        fc = self.f.predict(np.stack(self.hist[-self.keep:], axis=1), n)
        if self.cache is not None:
            self.cache[n] = (last.copy(), fc)
        return fc

    def next(self) -> np.ndarray:
        n = len(self.hist)
        if self._fc is None or not 0 <= n - self._at < self.every:
            self._fc, self._at = self._predict(), n
        return self._fc[:, n - self._at]


def static_log(cfg: AutoscalingConfig, zones: ZoneParams, steps: int, seed: int,
               forecaster: Callable[[], Forecast] = SeasonalNaive) -> ZoneLog:
    """``steps`` steps of every zone at its initial (static) allocation, stream ``seed``."""
    if not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps: must be an integer >= 2, got {steps!r}")
    sim = AutoscalingSimulator(replace(cfg, horizon=steps), zones=zones, seed=seed)
    sim.reset()
    B = zones.num_zones
    tr, vm, cpu, fc = np.zeros((B, steps, 2)), np.zeros((B, steps)), np.zeros((B, steps)), np.zeros((B, steps, 2))
    f = forecaster()
    zero = np.zeros(B)
    for t in range(steps):
        fc[:, t] = f.next() if t else 0.0
        r = sim.step(zero)
        tr[:, t], vm[:, t], cpu[:, t] = r.traffic, r.vms, r.cpu
        f.update(r.traffic)
    fc[:, 0] = tr[:, 0]
    return ZoneLog(tr, vm, cpu, fc)


def model_error(anp: ANP, log: ZoneLog) -> np.ndarray:
    """Per-zone RMSE (B,) of the ANP predicting the log's odd steps from its even ones."""
    x = log.features()
    mu, _ = anp.predict(x[:, 0::2], log.cpu[:, 0::2], x[:, 1::2])
    return np.sqrt(np.mean((mu - log.cpu[:, 1::2]) ** 2, axis=1))


class ScalingPolicyNet(nn.Module):
    """pi(s, z) -> normalised action in [-1, 1] (tanh; the last layer starts at zero, i.e.
    at the no-op policy) and the critic V(s, z).  s: float32 (B, 2 D + 3) features
    (:meth:`state`), z (B, latent)."""

    def __init__(self, in_dim: int, hidden: int, seed: int) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.pi = nn.Sequential(nn.Linear(in_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                    nn.Linear(hidden, 1))
            self.v = nn.Sequential(nn.Linear(in_dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        last = self.pi[-1]
        assert isinstance(last, nn.Linear)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.pi(s))[:, 0]

    def value(self, s: torch.Tensor) -> torch.Tensor:
        return self.v(s)[:, 0]


def _ratio(x: torch.Tensor, cfg: AutoscalingConfig) -> torch.Tensor:
    return torch.where(x < 0, -cfg.ratio_min * x, cfg.ratio_max * x)


def _state(anp: ANP, x: torch.Tensor, P: torch.Tensor, c: torch.Tensor, fc: torch.Tensor, z: torch.Tensor,
           tau: torch.Tensor) -> torch.Tensor:
    """Policy input: standardised features of traffic / P and forecast / P, CPU, day sin/cos, z."""
    fx = (torch.log1p(x / P[:, None]) - anp.x_mean) / anp.x_sd
    ff = (torch.log1p(fc / P[:, None]) - anp.x_mean) / anp.x_sd
    ang = 2 * math.pi * (tau % STEPS_PER_DAY) / STEPS_PER_DAY
    return torch.cat([fx, ff, c[:, None], torch.sin(ang)[:, None], torch.cos(ang)[:, None], z], dim=1)


def _cpu(anp: ANP, ctx: ANPContext, x: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
    """The ANP's predictive mean CPU (B,) given the zones' contexts at traffic x (B, D) on P VMs."""
    mu, _ = anp.decode(ctx, torch.log1p(x / P[:, None])[:, None, :])
    return mu[:, 0].clamp(0.0, 1.0)


def _embedding(ctx: ANPContext, B: int) -> torch.Tensor:
    return ctx.z if ctx.z is not None else torch.zeros(B, 0)


def train_policy(anp: ANP, log: ZoneLog, zones: ZoneParams, cfg: AutoscalingConfig, config: MBRLConfig,
                 progress: bool = False) -> tuple[ScalingPolicyNet, list[float]]:
    """Trains pi on model rollouts from the training zones' log; returns the net and the
    mean model return per step (list of ``steps`` floats)."""
    m = config
    B, T = log.cpu.shape
    if T < m.rollout + 2:
        raise ValueError(f"log: needs more than rollout + 1 = {m.rollout + 1} steps, got {T}")
    for p in anp.parameters():
        p.requires_grad_(False)
    ctx = anp.context(log.features(), log.cpu)
    Z = _embedding(ctx, B)
    X = torch.as_tensor(log.traffic, dtype=torch.float32)
    FC = torch.as_tensor(log.forecast, dtype=torch.float32)
    V0 = torch.as_tensor(log.vms, dtype=torch.float32)
    lo = torch.as_tensor(zones.min_vms, dtype=torch.float32)
    hi = torch.as_tensor(zones.max_vms, dtype=torch.float32)
    net = ScalingPolicyNet(2 * X.shape[2] + 3 + Z.shape[1], m.hidden, m.seed)
    opt_pi = torch.optim.Adam(net.pi.parameters(), lr=m.lr)
    opt_v = torch.optim.Adam(net.v.parameters(), lr=m.lr)
    g = torch.Generator().manual_seed(m.seed + 1)
    hist: list[float] = []
    from simcore.util.progress import Progress

    with Progress(m.steps, desc="mbrl", unit="step", enabled=None if progress else False) as bar:
        for _ in range(m.steps):
            b = torch.randint(0, B, (m.batch,), generator=g)
            t = torch.randint(0, T - m.rollout - 1, (m.batch,), generator=g)
            P = (V0[b, t] * torch.exp((2 * torch.rand(m.batch, generator=g) - 1) * m.init_spread)).clamp(lo[b], hi[b])
            cb = ctx.take(b)
            with torch.no_grad():
                c = _cpu(anp, cb, X[b, t], P)
            s0 = _state(anp, X[b, t], P, c, FC[b, t + 1], Z[b], (t + 1).float())  # log step t is tau t + 1
            ret, disc = torch.zeros(m.batch), 1.0
            s = s0
            for k in range(m.rollout):
                a = _ratio(net(s), cfg)
                P = torch.minimum(torch.maximum(P * (1 + a), lo[b]), hi[b])
                x_next = X[b, t + k + 1] if m.rollout_traffic == "logged" else FC[b, t + k + 1]
                c = _cpu(anp, cb, x_next, P)
                r = (-(cfg.cpu_target - c) ** 2 - cfg.eta * a.abs()
                     - cfg.slo_penalty * torch.sigmoid((c - m.slo_cpu) / m.slo_width))
                ret = ret + disc * r
                disc *= m.gamma
                s = _state(anp, X[b, t + k + 1], P, c, FC[b, t + k + 2], Z[b], (t + k + 2).float())
            loss_pi = -(ret + disc * net.value(s)).mean()
            opt_pi.zero_grad()
            loss_pi.backward()
            opt_pi.step()
            target = (ret + disc * net.value(s)).detach()
            loss_v = ((net.value(s0.detach()) - target) ** 2).mean()
            opt_v.zero_grad()
            loss_v.backward()
            opt_v.step()
            hist.append(float(ret.detach().mean()))
            bar.update(1)
    return net, hist


class MetaScalingPolicy:
    """The trained policy in the simulator (the evaluate.Policy protocol).

    Args:
        net: the trained :class:`ScalingPolicyNet`.  anp: the CPU meta-predictor.
        context_log: the evaluated zones' own log (their ANP context; B zones).
        cfg: the simulator config.  fallback: bool (B,), zones run by target tracking
            (the model-quality filter; None: none).  forecast: the streaming forecast
            (default :class:`SeasonalNaive`; the one the training log was made with).
    """

    def __init__(self, net: ScalingPolicyNet, anp: ANP, context_log: ZoneLog, cfg: AutoscalingConfig,
                 fallback: np.ndarray | None = None, forecast: Forecast | None = None) -> None:
        self.net, self.anp, self.cfg = net, anp, cfg
        ctx = anp.context(context_log.features(), context_log.cpu)
        B = context_log.cpu.shape[0]
        self.z = _embedding(ctx, B)
        self.fallback = np.zeros(B, dtype=bool) if fallback is None else np.asarray(fallback, dtype=bool)
        self.rule = TargetTracking(cfg)
        self.forecast: Forecast = forecast if forecast is not None else SeasonalNaive()

    def act(self, o: Observed) -> np.ndarray:
        self.forecast.update(o.traffic)
        fc = self.forecast.next()
        P = np.maximum(o.provisioned, 1).astype(np.float32)
        with torch.no_grad():
            s = _state(self.anp, torch.as_tensor(o.traffic, dtype=torch.float32), torch.as_tensor(P),
                       torch.as_tensor(o.cpu, dtype=torch.float32), torch.as_tensor(fc, dtype=torch.float32),
                       self.z, torch.full((P.shape[0],), float(o.t)))
            a = _ratio(self.net(s), self.cfg).numpy().astype(np.float64)
        a = np.where(self.fallback, self.rule.act(o), a)
        return np.clip(a, self.cfg.ratio_min, self.cfg.ratio_max)
