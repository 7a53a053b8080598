"""Tabular solvers for the search-session MDP (the discount study, docs/discount.md).

* :mod:`~simcore.tabular.space` — state indexing (page, last L actions, segment);
* :mod:`~simcore.tabular.model` — the tabular SSMDP and its extraction from the C++
  simulator's exact expectations;
* :mod:`~simcore.tabular.dp` — exact backward induction and policy evaluation;
* :mod:`~simcore.tabular.tree` — exact DP over the full page-history tree of the real
  simulator (short horizons);
* :mod:`~simcore.tabular.learners` — vectorised tabular Q-learning and actor-critic;
* :mod:`~simcore.tabular.simeval` — evaluation of tabular policies on the simulator.
"""

from simcore.tabular.dp import DPSolution, brute_force, evaluate, evaluate_values, paths, solve
from simcore.tabular.model import TabularSSMDP, extract_model
from simcore.tabular.space import StateSpace

__all__ = [
    "StateSpace",
    "TabularSSMDP",
    "extract_model",
    "DPSolution",
    "solve",
    "evaluate",
    "evaluate_values",
    "paths",
    "brute_force",
]
