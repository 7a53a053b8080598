"""Tabular solvers for the search-session MDP (the discount study, docs/discount.md).

* :mod:`~simcore.domains.search.tabular.space` — state indexing (page, last L actions, segment);
* :mod:`~simcore.domains.search.tabular.model` — the tabular SSMDP;
* :mod:`~simcore.domains.search.tabular.estimate` — its estimation from the C++ simulator's exact
  expectations;
* :mod:`~simcore.domains.search.tabular.dp` — exact backward induction and policy evaluation;
* :mod:`~simcore.domains.search.tabular.tree` — exact DP over the full page-history tree of the real
  simulator (short horizons);
* :mod:`~simcore.domains.search.tabular.learners` — vectorised tabular Q-learning and actor-critic
  (their batched table updates and row helpers: :mod:`~simcore.domains.search.tabular.updates`;
  their settings and results: :mod:`~simcore.domains.search.tabular.learner_types`);
* :mod:`~simcore.domains.search.tabular.simeval` — evaluation of tabular policies on the simulator.
"""

from simcore.domains.search.tabular.dp import DPSolution, brute_force, evaluate, evaluate_values, paths, solve
from simcore.domains.search.tabular.estimate import extract_model
from simcore.domains.search.tabular.model import TabularSSMDP
from simcore.domains.search.tabular.space import StateSpace

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
