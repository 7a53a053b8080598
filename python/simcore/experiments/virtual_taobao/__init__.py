"""The Virtual Taobao reproduction (issue 12) as the CLI sees it: ``simcore reproduce
virtual-taobao`` (:mod:`.config`, :mod:`.run`, :mod:`.evaluate`, :mod:`.report`)."""

from __future__ import annotations

from simcore.experiments.base import Experiment
from simcore.experiments.virtual_taobao.config import (
    VirtualTaobaoConfig,
    full_config,
    segment_logging_config,
    smoke_config,
)
from simcore.experiments.virtual_taobao.report import summary, write_report
from simcore.experiments.virtual_taobao.run import run

EXPERIMENT = Experiment(
    name="virtual-taobao",
    help="Virtual Taobao: user simulators learned from logs (BC, GAN-SD users, ANC) measured against the truth",
    config_cls=VirtualTaobaoConfig,
    run=run,
    write_report=write_report,
    presets={"default": VirtualTaobaoConfig, "smoke": smoke_config, "full": full_config,
             "segment-logging": segment_logging_config},
    requires=("torch", "pyarrow"),
    summary=summary,
)

__all__ = ["EXPERIMENT", "VirtualTaobaoConfig", "run", "write_report"]
