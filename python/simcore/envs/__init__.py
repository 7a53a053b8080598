"""Gymnasium environments over the C++ simulator, registered on import.

* ``simcore/SearchSession-v0``: continuous action (ranking weights), single env;
  ``gymnasium.make_vec`` returns the C++-batched :class:`SearchSessionVectorEnv`.
* ``simcore/SearchSessionDiscrete-v0``: choose one of a configured set of weight vectors.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from simcore.envs.search_session import SearchSessionDiscreteEnv, SearchSessionEnv
from simcore.envs.vector import SearchSessionDiscreteVectorEnv, SearchSessionVectorEnv

__all__ = [
    "SearchSessionEnv",
    "SearchSessionDiscreteEnv",
    "SearchSessionVectorEnv",
    "SearchSessionDiscreteVectorEnv",
]

_IDS = {
    "simcore/SearchSession-v0": (
        "simcore.envs.search_session:SearchSessionEnv",
        "simcore.envs.vector:SearchSessionVectorEnv",
    ),
    "simcore/SearchSessionDiscrete-v0": (
        "simcore.envs.search_session:SearchSessionDiscreteEnv",
        "simcore.envs.vector:SearchSessionDiscreteVectorEnv",
    ),
    # Engine cost: Skip/Eval each ranking feature (simcore.envs.feature_selection).
    "simcore/FeatureSelection-v0": (
        "simcore.envs.feature_selection:FeatureSelectionEnv",
        "simcore.envs.feature_selection:FeatureSelectionVectorEnv",
    ),
}

for _id, (_entry, _vec) in _IDS.items():
    if _id not in registry:
        # No TimeLimit wrapper: the env truncates itself at its horizon.
        register(id=_id, entry_point=_entry, vector_entry_point=_vec)
