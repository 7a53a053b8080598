"""The ranking experiment (DPG, reward shaping, DDPG + LTR gradient, DPG-FBE vs LTR
baselines): :mod:`.config` (settings), :mod:`.agents` (agents built for the search
env), :mod:`.run` (the runs), :mod:`.analysis` (summaries), :mod:`.plots` and
:mod:`.report` (report.md, results.json, PNGs).  ``EXPERIMENT`` is what the CLI sees.
"""

from __future__ import annotations

from simcore.experiments.base import Experiment
from simcore.experiments.ranking.config import RankingConfig, full_config, long_config
from simcore.experiments.ranking.report import write_report
from simcore.experiments.ranking.run import run as _run  # keeps the name `run` for the module

EXPERIMENT = Experiment(
    name="ranking",
    help="ranking control: DPG (+ shaping), DDPG with LTR gradient fusion, DPG-FBE vs baselines",
    config_cls=RankingConfig,
    run=_run,
    write_report=write_report,
    presets={"long": long_config, "full": full_config},
    requires=("torch",),
)

__all__ = ["EXPERIMENT", "RankingConfig", "write_report"]
