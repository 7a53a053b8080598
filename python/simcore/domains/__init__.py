"""Domains: one package per simulated system, each over the shared layers.

* :mod:`simcore.domains.search` - search sessions (SSMDP): world, simulator, NumPy
  twin, Gymnasium envs, tabular solvers, search-specific agent terms;
* :mod:`simcore.domains.feature_cost` - engine cost: which ranking features to compute.

A domain imports the shared layers (kernels, envs, algos, train, runner, report,
util) and, if it derives from one, its base domain; never the reverse.
"""
