"""Configuration of the autoscaling reproduction (issue 15; torch-free)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from simcore.domains.autoscaling.config import AutoscalingConfig

__all__ = ["AutoscalingExperimentConfig", "MetaConfig", "ForecastSetup", "METHODS", "META_METHODS",
           "DELAY_METHODS", "smoke_config", "full_config"]

#: method keys.  ``autopilot`` aims its p95 (+15 %) at cpu_target, ``autopilot-limit`` at full utilisation
#: (Autopilot's limit setting); ``predictive`` uses the experiment's forecast (ForecastSetup.kind),
#: ``predictive-naive`` always the seasonal-naive one; ``meta-rl`` is the paper's method (ANP + policy
#: through the learned model, fed the experiment's forecast), ``meta-rl-naive`` the same ANP with a policy
#: trained and run on the seasonal-naive forecast (the forecast ablation), ``ppo`` the model-free baseline
#: (SB3, extra ``clients``) at the same env steps.
METHODS: tuple[str, ...] = ("threshold", "target-tracking", "autopilot", "autopilot-limit", "predictive",
                            "predictive-naive", "peak-static", "meta-rl", "meta-rl-naive", "ppo")
#: the learned methods (experiments/autoscaling/meta.py; they need torch, "ppo" also stable-baselines3)
META_METHODS: tuple[str, ...] = ("meta-rl", "meta-rl-naive", "ppo")
#: the methods of the provisioning-delay sensitivity (AutoscalingExperimentConfig.delays)
DELAY_METHODS: tuple[str, ...] = ("target-tracking", "autopilot", "meta-rl")


@dataclass(frozen=True)
class ForecastSetup:
    """The traffic forecast of the ``predictive`` and ``meta-rl`` methods.

    Attributes:
        kind: "learned" (the attention forecaster of domains/autoscaling/forecast.py, fitted
            per seed on traffic of the training apps only) or "seasonal-naive".
        every: steps between forecast refreshes (integer in [1, 12]; the forecaster's
            horizon is 12, so delay + every <= 12 is also checked).
        zones_per_app: zones per training app whose traffic trains the forecaster (>= 1).
        days: days of traffic per such zone, from their own stream "forecast_traffic"
            (integer in [2, 28]).
        steps: the forecaster's optimiser steps (>= 1).
    """

    kind: str = "learned"
    every: int = 6
    zones_per_app: int = 4
    days: int = 14
    steps: int = 400

    def __post_init__(self) -> None:
        if self.kind not in ("learned", "seasonal-naive"):
            raise ValueError(f"kind: expected 'learned' or 'seasonal-naive', got {self.kind!r}")
        for name, lo, hi in (("every", 1, 12), ("zones_per_app", 1, 10**4), ("days", 2, 28), ("steps", 1, 10**6)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValueError(f"{name}: must be an integer in [{lo}, {hi}], got {v!r}")


@dataclass(frozen=True)
class MetaConfig:
    """The meta model-based RL part (experiments/autoscaling/meta.py).

    Attributes:
        app_counts: numbers of training apps (each an integer >= 1, below the population's
            n_apps); the largest defines the training apps, the rest are held out.  Each
            count trains its own ANP and policy (accuracy vs #apps, sample-efficiency curve).
        zones_per_app: training zones per training app (integer >= 1).
        log_days: days of static-allocation log per training zone (integer in [2, 7]).
        anp_steps, anp_hidden, anp_batch_tasks: the ANP's gradient steps (>= 1), width
            (>= 4, a multiple of 4 heads) and tasks per step (>= 1).
        policy_steps: gradient steps of the policy (>= 1); policy_batch: rollout starts per
            step (>= 1).  rollout: model steps H (>= 1).
        error_threshold: model-quality filter, ANP RMSE above which a zone falls back to
            target tracking (in (0, 1]).
        threshold_curve: further thresholds at which the same policy is evaluated on every
            zone (the filter's sensitivity; each in (0, 1], 1.0 = no filter; may be empty).
        ppo_budgets: PPO's env-step budgets as multiples of the largest model-based budget
            (each > 0; 1.0 is the equal-budget "ppo" method).
    """

    app_counts: tuple[int, ...] = (5, 35)
    zones_per_app: int = 2
    log_days: int = 2
    anp_steps: int = 400
    anp_hidden: int = 64
    anp_batch_tasks: int = 16
    policy_steps: int = 150
    policy_batch: int = 128
    rollout: int = 12
    error_threshold: float = 0.06
    threshold_curve: tuple[float, ...] = (0.02, 0.04, 0.06, 0.08, 0.12, 1.0)
    ppo_budgets: tuple[float, ...] = (1.0, 3.0)

    def __post_init__(self) -> None:
        if not self.app_counts or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1
                                          for k in self.app_counts):
            raise ValueError(f"app_counts: expected integers >= 1, got {self.app_counts!r}")
        for name, lo in (("zones_per_app", 1), ("anp_steps", 1), ("anp_hidden", 4), ("anp_batch_tasks", 1),
                         ("policy_steps", 1), ("policy_batch", 1), ("rollout", 1)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
        if self.anp_hidden % 4:
            raise ValueError(f"anp_hidden: must be a multiple of 4 (the attention heads), got {self.anp_hidden}")
        if not isinstance(self.log_days, int) or not 2 <= self.log_days <= 7:
            raise ValueError(f"log_days: must be an integer in [2, 7], got {self.log_days!r}")
        if not 0 < self.error_threshold <= 1:
            raise ValueError(f"error_threshold: must lie in (0, 1], got {self.error_threshold!r}")
        if not all(isinstance(t, (int, float)) and not isinstance(t, bool) and 0 < t <= 1
                   for t in self.threshold_curve):
            raise ValueError(f"threshold_curve: expected numbers in (0, 1], got {self.threshold_curve!r}")
        if not self.ppo_budgets or not all(isinstance(b, (int, float)) and b > 0 for b in self.ppo_budgets):
            raise ValueError(f"ppo_budgets: expected numbers > 0, got {self.ppo_budgets!r}")


@dataclass(frozen=True)
class AutoscalingExperimentConfig:
    """The methods' comparison (the recorded default run: 815 CPU s, i.e. 13.6 CPU-min, one worker;
    wall 18.8 min on 2 cores shared at load 2.9-4.9; docs/autoscaling.md, "Cost").

    Attributes:
        sim: the simulator (default: cpu_target 0.5, band 0.1, one-week episodes,
            delay 0).
        zones: zones per seed (integer >= 1; 1000 by default, the paper's scale).
        seeds: seed indices (integer >= 2; 5 by default): each draws its own zone
            population and noise; CIs are Student-t over seeds.
        methods: method keys (subset of METHODS).
        plot_zones: zones of seed 0 plotted over the week (integer in [1, 6]).
        forecast: the forecast of ``predictive`` and ``meta-rl`` (:class:`ForecastSetup`).
        delays: provisioning delays (steps, each in [0, 8], other than sim.delay) at which
            DELAY_METHODS among the methods are re-run on the same zones and traffic (the
            meta-RL policy and its ANP unchanged: trained at sim.delay); may be empty.
        meta: the meta model-based RL and PPO settings (used when "meta-rl" or "ppo"
            is among the methods; max(app_counts) must stay below the population's
            n_apps so that held-out apps exist).
        seed: root seed.  workers: processes (1: inline).
    """

    sim: AutoscalingConfig = field(default_factory=lambda: AutoscalingConfig(num_threads=1))
    zones: int = 1000
    seeds: int = 5
    methods: tuple[str, ...] = METHODS
    plot_zones: int = 3
    forecast: ForecastSetup = field(default_factory=ForecastSetup)
    delays: tuple[int, ...] = (1, 2)
    meta: MetaConfig = field(default_factory=MetaConfig)
    seed: int = 0
    workers: int | None = 1

    def __post_init__(self) -> None:
        for name, lo in (("zones", 1), ("seeds", 2), ("plot_zones", 1)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
        if self.plot_zones > min(6, self.zones):
            raise ValueError(f"plot_zones: must be <= min(6, zones), got {self.plot_zones}")
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise ValueError(f"methods: expected a non-empty subset of {METHODS}, got {self.methods!r}")
        if ("meta-rl" in self.methods or "ppo" in self.methods) and max(self.meta.app_counts) >= \
                self.sim.workload.n_apps:
            raise ValueError(f"meta: max(app_counts) must be below workload.n_apps = {self.sim.workload.n_apps} "
                             "(held-out apps are needed)")
        if ("meta-rl" in self.methods or "ppo" in self.methods) and self.zones <= max(self.meta.app_counts):
            raise ValueError(f"zones: must exceed max(meta.app_counts) = {max(self.meta.app_counts)} so that "
                             "zones of held-out apps exist")
        for dep in ("ppo", "meta-rl-naive"):
            if dep in self.methods and "meta-rl" not in self.methods:
                raise ValueError(f"methods: {dep!r} is trained alongside 'meta-rl'; add 'meta-rl'")
        if self.needs_forecaster and self.sim.delay + self.forecast.every > 12:
            raise ValueError(f"forecast.every: sim.delay + every must be <= 12 (the forecaster's horizon), got "
                             f"{self.sim.delay} + {self.forecast.every}")
        if self.needs_forecaster and max(self.meta.app_counts) >= self.sim.workload.n_apps:
            raise ValueError("forecast: the learned forecaster trains on apps < max(meta.app_counts), which must be "
                             f"below workload.n_apps = {self.sim.workload.n_apps}")
        if not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 8 and d != self.sim.delay
                   for d in self.delays):
            raise ValueError(f"delays: expected integers in [0, 8] other than sim.delay, got {self.delays!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: must be an integer >= 0, got {self.seed!r}")
        if self.workers is not None and (not isinstance(self.workers, int) or self.workers < 1):
            raise ValueError(f"workers: must be None or an integer >= 1, got {self.workers!r}")


    @property
    def needs_forecaster(self) -> bool:
        """Whether a seed fits the learned forecaster (kind "learned" and a method that reads it)."""
        return self.forecast.kind == "learned" and ("predictive" in self.methods or "meta-rl" in self.methods)


def smoke_config() -> AutoscalingExperimentConfig:
    """2 seeds, 100 zones, two days; tiny ANP, policy and PPO budgets (45.5 CPU s; 102 s wall at load 7.8-8.4)."""
    return AutoscalingExperimentConfig(sim=AutoscalingConfig(num_threads=1, horizon=288), zones=100, seeds=2,
                                       meta=MetaConfig(app_counts=(3, 6), anp_steps=40, policy_steps=20,
                                                       policy_batch=64,
                                                       ppo_budgets=(1.0,)))


def full_config() -> AutoscalingExperimentConfig:
    """10 seeds of 4000 zones, provisioning delay 1 (10 minutes; the model-based policy is
    trained for delay 0, see docs/autoscaling.md), longer ANP and policy training, PPO up to
    10x the model-based budget."""
    return AutoscalingExperimentConfig(sim=dataclasses.replace(AutoscalingConfig(num_threads=1), delay=1),
                                       zones=4000, seeds=10, delays=(0, 2),
                                       meta=MetaConfig(app_counts=(5, 15, 35), zones_per_app=3, anp_steps=1500,
                                                       policy_steps=1000, policy_batch=256,
                                                       ppo_budgets=(1.0, 3.0, 10.0)))
