"""The cloud-autoscaling reproduction (seed section 3; issue 15) as the CLI sees it: the
rule baselines, the paper's meta model-based RL method (ANP CPU meta-predictor + policy
trained through it, :mod:`.meta`) and SB3 PPO (:mod:`.config`, :mod:`.run`, :mod:`.report`)."""

from __future__ import annotations

from simcore.experiments.autoscaling.config import AutoscalingExperimentConfig, full_config, smoke_config
from simcore.experiments.autoscaling.report import summary, write_report
from simcore.experiments.autoscaling.run import run
from simcore.experiments.base import Experiment


def requires_for(cfg: AutoscalingExperimentConfig) -> dict[str, str]:
    """torch for the learned methods, stable-baselines3 for PPO (the rule baselines need neither)."""
    need: dict[str, str] = {}
    if "meta-rl" in cfg.methods or "ppo" in cfg.methods:
        need["torch"] = "the meta-rl and ppo methods"
    if "ppo" in cfg.methods:
        need["stable_baselines3"] = "the ppo method (simcore[clients])"
    return need


EXPERIMENT = Experiment(
    name="autoscaling",
    help="cloud autoscaling: meta model-based RL (ANP + value gradients), PPO, threshold, target tracking, "
         "Autopilot-style, predictive and peak-static baselines",
    config_cls=AutoscalingExperimentConfig,
    run=run,
    write_report=write_report,
    presets={"default": AutoscalingExperimentConfig, "smoke": smoke_config, "full": full_config},
    summary=summary,
    requires_for=requires_for,
)

__all__ = ["EXPERIMENT", "AutoscalingExperimentConfig", "run", "write_report"]
