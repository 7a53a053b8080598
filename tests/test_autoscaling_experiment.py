"""The autoscaling reproduction end to end on tiny configs: the report opens with the
claims table, the learned methods (meta-RL, PPO) run and fill their sections, results
are deterministic; without them the paper's claims are marked not tested."""

from __future__ import annotations

import pytest

from simcore.domains.autoscaling.config import AutoscalingConfig
from simcore.experiments.autoscaling import EXPERIMENT
from simcore.experiments.autoscaling.config import (
    META_METHODS,
    METHODS,
    AutoscalingExperimentConfig,
    ForecastSetup,
    MetaConfig,
)

BASELINES = tuple(m for m in METHODS if m not in META_METHODS)
#: a cheap learned forecaster for the tiny runs
FC = ForecastSetup(steps=5, days=3)


def test_tiny_run_and_report(tmp_path):
    pytest.importorskip("stable_baselines3")
    meta = MetaConfig(app_counts=(2, 4), anp_steps=10, policy_steps=5, policy_batch=16, ppo_budgets=(1.0, 2.0))
    cfg = AutoscalingExperimentConfig(sim=AutoscalingConfig(num_threads=1, horizon=160), zones=12, seeds=2,
                                      plot_zones=2, meta=meta, forecast=FC)
    a = EXPERIMENT.run(cfg, progress=False)
    b = EXPERIMENT.run(cfg, progress=False)
    assert a["summary"] == b["summary"]
    assert a["meta_rl"]["accuracy"] == b["meta_rl"]["accuracy"]
    assert set(a["meta_rl"]["accuracy"]) == {"2", "4"}
    assert len(a["meta_rl"]["curve"]["ppo"]) == 2 and len(a["meta_rl"]["curve"]["meta-rl"]) == 2
    files = EXPERIMENT.write_report(a, tmp_path, "test")
    assert {"report.md", "results.json", "zones_week.png", "sample_efficiency.png"} <= set(files)
    text = (tmp_path / "report.md").read_text()
    assert text.index("## Claims") < text.index("## Methods") < text.index("Held-out apps only")
    assert "## Sample efficiency" in text and "## CPU meta-predictor accuracy" in text
    assert "| meta-rl |" in text and "| ppo |" in text
    assert text.count("not tested") == 0
    assert a["summary"]["peak-static"]["vm_saved"]["mean"] == 0.0


def test_baselines_only(tmp_path):
    cfg = AutoscalingExperimentConfig(sim=AutoscalingConfig(num_threads=1, horizon=160), zones=12, seeds=2,
                                      plot_zones=2, methods=BASELINES, forecast=FC)
    a = EXPERIMENT.run(cfg, progress=False)
    assert "meta_rl" not in a
    EXPERIMENT.write_report(a, tmp_path, "test")
    assert (tmp_path / "report.md").read_text().count("not tested") >= 3


def test_config_checks():
    with pytest.raises(ValueError, match="zones"):
        AutoscalingExperimentConfig(zones=10, meta=MetaConfig(app_counts=(10,)))
    with pytest.raises(ValueError, match="meta-rl"):
        AutoscalingExperimentConfig(methods=("ppo",))
    with pytest.raises(ValueError, match="app_counts"):
        MetaConfig(app_counts=(0,))
    with pytest.raises(ValueError, match="log_days"):
        MetaConfig(log_days=1)


def test_requirements_follow_the_methods():
    need = EXPERIMENT.requires_for(AutoscalingExperimentConfig())
    assert set(need) == {"torch", "stable_baselines3"}
    assert EXPERIMENT.requires_for(AutoscalingExperimentConfig(methods=BASELINES)) == {}
    assert set(EXPERIMENT.requires_for(AutoscalingExperimentConfig(methods=BASELINES + ("meta-rl",)))) == {"torch"}
