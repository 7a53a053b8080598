"""``simcore calibrate`` (also ``simcore reproduce calibrate``): fit the search user
model to the article's fig. 3 purchase-episode lengths and write a ``--config`` file.

* :mod:`~simcore.experiments.calibrate.config` - :class:`CalibrateConfig`;
* :mod:`~simcore.experiments.calibrate.run` - ``run(config, progress) -> results``;
* :mod:`~simcore.experiments.calibrate.report` - ``write_report(results, out_dir, command)``.
"""

from __future__ import annotations

from typing import Any

from simcore.experiments.base import Experiment
from simcore.experiments.calibrate.config import CalibrateConfig
from simcore.experiments.calibrate.report import write_report
from simcore.experiments.calibrate.run import run


def summary(results: dict[str, Any]) -> str:
    """The fitted values and whether each fig. 3 statement holds on the holdout panels."""
    par = ", ".join(f"{p['name']}={p['fit']:g}" for p in results["params"])
    met = sum(r["verdict"] == "reproduced" for r in results["statistics"])
    return (f"fitted {par}; {met}/{len(results['statistics'])} fig. 3 statements hold on fresh panels "
            "(95 % CI inside the bound)")


EXPERIMENT = Experiment(
    name="calibrate",
    help="fit the search user model to the article's fig. 3 (purchase-episode lengths); writes calibrated.json",
    config_cls=CalibrateConfig,
    run=run,
    write_report=write_report,
    presets={"quick": CalibrateConfig.quick},
    summary=summary,
)

__all__ = ["EXPERIMENT", "CalibrateConfig", "run", "write_report", "summary"]
