"""Engine-cost optimisation (seed article, section 引擎性能优化): choose, per query,
which ranking features to compute.

* :mod:`~simcore.domains.feature_cost.kernels`: the C++ subset-evaluation kernel (pairwise
  loss against the full ranking and cost of the evaluated features).
* :mod:`~simcore.domains.feature_cost.reference`: its plain NumPy twin.
* :mod:`~simcore.domains.feature_cost.data`: a context-dependent data generator.
* :mod:`~simcore.domains.feature_cost.baselines`: all-features, greedy static subsets and the
  exhaustive per-query optimum.
"""

from simcore.domains.feature_cost.kernels import MLPRanker, SubsetEvalResult, feature_mean, pair_count, subset_eval

__all__ = ["MLPRanker", "SubsetEvalResult", "subset_eval", "feature_mean", "pair_count"]
