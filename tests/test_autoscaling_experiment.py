"""The autoscaling reproduction end to end on a tiny config: the report opens with the
claims table, the paper's claims are marked not tested, results are deterministic."""

from __future__ import annotations

from simcore.domains.autoscaling.config import AutoscalingConfig
from simcore.experiments.autoscaling import EXPERIMENT
from simcore.experiments.autoscaling.config import AutoscalingExperimentConfig


def test_tiny_run_and_report(tmp_path):
    cfg = AutoscalingExperimentConfig(sim=AutoscalingConfig(num_threads=1, horizon=160), zones=12, seeds=2,
                                      plot_zones=2)
    a = EXPERIMENT.run(cfg, progress=False)
    b = EXPERIMENT.run(cfg, progress=False)
    assert a["summary"] == b["summary"]
    files = EXPERIMENT.write_report(a, tmp_path, "test")
    assert {"report.md", "results.json", "zones_week.png"} <= set(files)
    text = (tmp_path / "report.md").read_text()
    assert text.index("## Claims") < text.index("## Baselines")
    assert text.count("not tested") >= 3
    assert a["summary"]["peak-static"]["vm_saved"]["mean"] == 0.0
