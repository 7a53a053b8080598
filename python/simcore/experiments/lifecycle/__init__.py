"""The customer-lifecycle reproduction (seed section 2, "CLTV RL") as the CLI sees it.

* :mod:`~simcore.experiments.lifecycle.config` - :class:`LifecycleExperimentConfig`;
* :mod:`~simcore.experiments.lifecycle.run` - ``run(config, progress) -> results``
  (jobs: :mod:`.learners`; collector hooks: :mod:`.hooks`; measurement:
  :mod:`.evaluate`; summaries: :mod:`.analysis`);
* :mod:`~simcore.experiments.lifecycle.report` - ``write_report(results, out_dir,
  command)`` (claims: :mod:`.claims`, plots: :mod:`.plots`).
"""

from __future__ import annotations

from simcore.experiments.base import Experiment
from simcore.experiments.lifecycle.config import (
    LifecycleExperimentConfig,
    fair_log_config,
    full_config,
    smoke_config,
)
from simcore.experiments.lifecycle.report import summary, write_report
from simcore.experiments.lifecycle.run import run

EXPERIMENT = Experiment(
    name="lifecycle",
    help="customer lifecycle marketing: A2C/A3C vs cross-stitch / trace-norm MTL baselines, the BPI table",
    config_cls=LifecycleExperimentConfig,
    run=run,
    write_report=write_report,
    presets={"default": LifecycleExperimentConfig, "smoke": smoke_config, "full": full_config,
             "fair-log": fair_log_config},
    requires=("torch",),
    summary=summary,
)

__all__ = ["EXPERIMENT", "LifecycleExperimentConfig", "run", "write_report"]
