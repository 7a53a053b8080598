"""The tiered-traffic reproduction (seed article, 分层流量调控) as the CLI sees it.

* :mod:`~simcore.experiments.tiered_traffic.config` - :class:`TieredTrafficConfig`;
* :mod:`~simcore.experiments.tiered_traffic.run` - ``run(config, progress) -> results``
  (jobs: :mod:`.learners`; exact baselines: :mod:`.optimum`; measurement:
  :mod:`.evaluate`; collector hooks: :mod:`.hooks`; summaries: :mod:`.analysis`);
* :mod:`~simcore.experiments.tiered_traffic.report` - ``write_report(results, out_dir,
  command)`` (claims: :mod:`.claims`, plots: :mod:`.plots`).
"""

from __future__ import annotations

from simcore.experiments.base import Experiment
from simcore.experiments.tiered_traffic.config import TieredTrafficConfig, full_config, smoke_config
from simcore.experiments.tiered_traffic.report import summary, write_report
from simcore.experiments.tiered_traffic.run import run

EXPERIMENT = Experiment(
    name="tiered-traffic",
    help="tiered traffic: DDPG with CEM-moved bounds steering a tier's share at a bounded GMV cost",
    config_cls=TieredTrafficConfig,
    run=run,
    write_report=write_report,
    presets={"default": TieredTrafficConfig, "smoke": smoke_config, "full": full_config},
    requires=("torch",),
    summary=summary,
)

__all__ = ["EXPERIMENT", "TieredTrafficConfig", "run", "write_report"]
