"""``simcore reproduce bandits``: off-policy evaluation on the Open Bandit Dataset
(docs/ope.md) and the simulator studies with exact values (docs/bandits.md): estimators'
bias and coverage, high-confidence bounds, bandit regret, budgeted allocation, uplift.

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
    """How many claims hold, hold partly, are inconclusive or fail."""
    v = [c.verdict for c in claims(results)]
    return (f"{v.count('reproduced')} reproduced, {v.count('partly reproduced')} partly, "
            f"{v.count('inconclusive')} inconclusive, {v.count('not reproduced')} not reproduced of {len(v)} claims")


def requires_for(cfg: BanditsConfig) -> dict[str, str]:
    """torch only for the neural-linear agent of the regret study."""
    return {"torch": "the neural-linear bandit; or --set neural=false"} if cfg.neural else {}


EXPERIMENT = Experiment(
    name="bandits",
    help="bandits and OPE: the Open Bandit Dataset benchmark and simulator studies with exact values",
    config_cls=BanditsConfig,
    run=run,
    write_report=write_report,
    presets={"quick": BanditsConfig.quick, "full": BanditsConfig.full},
    summary=summary,
    requires_for=requires_for,
)

__all__ = ["EXPERIMENT", "BanditsConfig", "run", "write_report", "summary"]
