"""``simcore reproduce bandits``: off-policy evaluation on the Open Bandit Dataset
(docs/ope.md).

* :mod:`~simcore.experiments.bandits.config` - :class:`BanditsConfig`;
* :mod:`~simcore.experiments.bandits.run` - ``run(config, progress) -> results``;
* :mod:`~simcore.experiments.bandits.report` - ``write_report(results, out_dir, command)``.
"""

from __future__ import annotations

from typing import Any

from simcore.experiments.bandits.config import BanditsConfig
from simcore.experiments.bandits.report import claims, write_report
from simcore.experiments.bandits.run import run
from simcore.experiments.base import Experiment


def summary(results: dict[str, Any]) -> str:
    """How many estimator rows hold, are inconclusive or fail."""
    v = [c.verdict for c in claims(results)]
    return (f"{v.count('reproduced')} reproduced, {v.count('inconclusive')} inconclusive, "
            f"{v.count('not reproduced')} not reproduced of {len(v)} (estimator, direction) rows")


EXPERIMENT = Experiment(
    name="bandits",
    help="off-policy evaluation on the Open Bandit Dataset: BTS's CTR from random logs and the reverse",
    config_cls=BanditsConfig,
    run=run,
    write_report=write_report,
    presets={"quick": BanditsConfig.quick},
    summary=summary,
)

__all__ = ["EXPERIMENT", "BanditsConfig", "run", "write_report", "summary"]
