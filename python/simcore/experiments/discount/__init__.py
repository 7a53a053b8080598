"""The discount study (``simcore reproduce discount``): DP, Q-learning and actor-critic
on the search session MDP for gamma in {0, ..., 1}.

* :mod:`~simcore.experiments.discount.config` - :class:`DiscountConfig` and its
  ``full`` preset (the article's 50 runs x 800,000 sessions);
* :mod:`~simcore.experiments.discount.run` - ``run(config, progress) -> results``;
* :mod:`~simcore.experiments.discount.analysis` - gaps, CIs and checks;
* :mod:`~simcore.experiments.discount.claims` - the claims table;
* :mod:`~simcore.experiments.discount.report` - ``write_report(results, out_dir, command)``.
"""

from __future__ import annotations

from typing import Any

from simcore.experiments.base import Experiment
from simcore.experiments.discount.config import DiscountConfig
from simcore.experiments.discount.report import write_report
from simcore.experiments.discount.run import run


def summary(results: dict[str, Any]) -> str:
    """One line per check (``[ok]``/``[NO]``, name, measured numbers), after a count."""
    checks = results["checks"]
    n_ok = sum(c["held"] for c in checks)
    lines = [f"{n_ok}/{len(checks)} checks held in {results['runtime_s']:.1f} s"]
    lines += [f"  [{'ok' if c['held'] else 'NO'}] {c['name']}: {c['detail']}" for c in checks]
    return "\n".join(lines)


EXPERIMENT = Experiment(
    name="discount",
    help="the discount study: DP, Q-learning and actor-critic for gamma in {0, ..., 1} (main job)",
    config_cls=DiscountConfig,
    run=run,
    write_report=write_report,
    presets={"full": DiscountConfig.full},
    summary=summary,
)

__all__ = ["EXPERIMENT", "DiscountConfig", "run", "write_report", "summary"]
