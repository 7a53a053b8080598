"""Reports shared by every experiment: statistics (:mod:`~simcore.report.stats`),
number and table formatting (:mod:`~simcore.report.format`), results.json
(:mod:`~simcore.report.io`) and plots in one house style (:mod:`~simcore.report.plots`) and the claims table
(:mod:`~simcore.report.claims`).
"""

from simcore.report.claims import Claim, claims_table
from simcore.report.format import fmt, markdown_table
from simcore.report.io import write_json
from simcore.report.plots import new_figure, save_figure
from simcore.report.stats import mean_ci, paired, plus_minus, t_ci, welch

__all__ = [
    "Claim", "claims_table", "t_ci", "paired", "welch", "plus_minus", "mean_ci",
    "fmt", "markdown_table", "write_json", "new_figure", "save_figure",
]
