"""Configuration of the autoscaling reproduction (issue 15; torch-free)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from simcore.domains.autoscaling.config import AutoscalingConfig

__all__ = ["AutoscalingExperimentConfig", "METHODS", "smoke_config", "full_config"]

#: method keys (the rule baselines; the meta-RL method of the paper is not implemented yet).  ``autopilot``
#: aims its p95 (+15 %) at cpu_target, ``autopilot-limit`` at full utilisation (Autopilot's limit setting).
METHODS: tuple[str, ...] = ("threshold", "target-tracking", "autopilot", "autopilot-limit", "predictive",
                            "peak-static")


@dataclass(frozen=True)
class AutoscalingExperimentConfig:
    """The baselines' comparison (default: about a minute on 2 quiet cores).

    Attributes:
        sim: the simulator (default: cpu_target 0.5, band 0.1, one-week episodes,
            delay 0).
        zones: zones per seed (integer >= 1; 1000 by default, the paper's scale).
        seeds: seed indices (integer >= 2; 5 by default): each draws its own zone
            population and noise; CIs are Student-t over seeds.
        methods: method keys (subset of METHODS).
        plot_zones: zones of seed 0 plotted over the week (integer in [1, 6]).
        seed: root seed.  workers: processes (1: inline).
    """

    sim: AutoscalingConfig = field(default_factory=lambda: AutoscalingConfig(num_threads=1))
    zones: int = 1000
    seeds: int = 5
    methods: tuple[str, ...] = METHODS
    plot_zones: int = 3
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
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: must be an integer >= 0, got {self.seed!r}")
        if self.workers is not None and (not isinstance(self.workers, int) or self.workers < 1):
            raise ValueError(f"workers: must be None or an integer >= 1, got {self.workers!r}")


def smoke_config() -> AutoscalingExperimentConfig:
    """A few seconds: 2 seeds, 100 zones, two days."""
    return AutoscalingExperimentConfig(sim=AutoscalingConfig(num_threads=1, horizon=288), zones=100, seeds=2)


def full_config() -> AutoscalingExperimentConfig:
    """10 seeds of 4000 zones, provisioning delay 1 (10 minutes)."""
    return AutoscalingExperimentConfig(sim=dataclasses.replace(AutoscalingConfig(num_threads=1), delay=1),
                                       zones=4000, seeds=10)
