"""The discount study (``simcore reproduce discount``): DP, Q-learning and actor-critic
on the search session MDP for gamma in {0, ..., 1}.

* :mod:`~simcore.experiments.discount.config` - :class:`DiscountConfig` and its
  ``full`` (the article's 50 runs x 800,000 sessions) and ``sensitivity`` presets;
* :mod:`~simcore.experiments.discount.run` - ``run(config, progress) -> results``
  (seed replicates as runner jobs; stages in :mod:`~simcore.experiments.discount.stages`);
* :mod:`~simcore.experiments.discount.analysis` - per-replicate gaps, CIs and checks;
* :mod:`~simcore.experiments.discount.summary` - between-seed CIs and the confirm rule;
* :mod:`~simcore.experiments.discount.sensitivity` - ``--preset sensitivity``;
* :mod:`~simcore.experiments.discount.claims` - the claims table;
* :mod:`~simcore.experiments.discount.report` - ``write_report(results, out_dir, command)``.
"""

from __future__ import annotations

from typing import Any

from simcore.experiments.base import Experiment
from simcore.experiments.discount.config import DiscountConfig
from simcore.experiments.discount.report import write_report
from simcore.experiments.discount.run import run


def summary_text(results: dict[str, Any]) -> str:
    """The DP gap per state (between-seed CI), then one line per check (held in how many
    seeds, name), after a count."""
    from simcore.report import plus_minus

    lines = []
    for state, s in results["summary"].items():
        mod, sim = s["dp_model_gap_pct"], s["dp_sim_gap_pct"]
        lines.append(f"{state}: DP gap model {plus_minus(mod['mean'], mod['half'], 1)} %, "
                     f"simulator {plus_minus(sim['mean'], sim['half'], 1)} %")
    rows = [(st, c) for st, cs in results["checks"].items() for c in cs]
    n_ok = sum(c["held"] == c["seeds"] for _, c in rows)
    lines.insert(0, f"{n_ok}/{len(rows)} checks held in every seed, {results['runtime_s']:.1f} s")
    lines += [f"  [{c['held']}/{c['seeds']}] {st}: {c['name']}" for st, c in rows]
    return "\n".join(lines)


EXPERIMENT = Experiment(
    name="discount",
    help="the discount study: DP, Q-learning and actor-critic for gamma in {0, ..., 1} (main job)",
    config_cls=DiscountConfig,
    run=run,
    write_report=write_report,
    presets={"full": DiscountConfig.full, "sensitivity": DiscountConfig.sensitivity_preset},
    summary=summary_text,
)

__all__ = ["EXPERIMENT", "DiscountConfig", "run", "write_report", "summary_text"]
