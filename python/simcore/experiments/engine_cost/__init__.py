"""The engine-cost reproduction (seed article, 引擎性能优化) as the CLI sees it.

* :mod:`~simcore.experiments.engine_cost.config` - :class:`EngineCostConfig`;
* :mod:`~simcore.experiments.engine_cost.run` - ``run(config, progress) -> results``
  (baselines in process, learners as runner jobs: :mod:`.learners`; measurement:
  :mod:`.evaluation`; summaries: :mod:`.analysis`);
* :mod:`~simcore.experiments.engine_cost.report` - ``write_report(results, out_dir,
  command)`` (claims: :mod:`.claims`, plots: :mod:`.plots`).
"""

from __future__ import annotations

from simcore.experiments.base import Experiment
from simcore.experiments.engine_cost.config import EngineCostConfig
from simcore.experiments.engine_cost.report import write_report
from simcore.experiments.engine_cost.run import run


def _smoke() -> EngineCostConfig:
    """A seconds-long run of every code path (numbers meaningless)."""
    return EngineCostConfig(n_train=48, n_test=6, n_items=24, losses=("pairs", "top-k", "kl"), thresholds=(0.05,),
                            topk_thresholds=(0.05,), kl_thresholds=(0.01,), lambdas=(0.2,), learned_lambdas=(0.2,),
                            seeds=2, iterations=2, num_envs=8, users_per_request=2, budgets=(0.8,), workers=1)


def _full() -> EngineCostConfig:
    """The whole sweep: 5 training seeds, every loss definition (all pairs, top-10
    pairs, KL) with 5 thresholds each; REINFORCE beside the actor-critic on all pairs
    (100 learners, about 25 minutes on 2 quiet cores)."""
    return EngineCostConfig(losses=("pairs", "top-k", "kl"), thresholds=(0.01, 0.02, 0.05, 0.10, 0.15), seeds=5)


EXPERIMENT = Experiment(
    name="engine-cost",
    help="engine cost: learn which ranking features to compute per request",
    config_cls=EngineCostConfig,
    run=run,
    write_report=write_report,
    presets={"default": EngineCostConfig, "smoke": _smoke, "full": _full},
    requires=("torch",),
)

__all__ = ["EXPERIMENT", "EngineCostConfig", "run", "write_report"]
