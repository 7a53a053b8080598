"""Gymnasium envs of the search domain, registered on import.

* ``simcore/SearchSession-v0``: continuous action (ranking weights), single env;
  ``gymnasium.make_vec`` returns the C++-batched :class:`SearchSessionVectorEnv`.
* ``simcore/SearchSessionDiscrete-v0``: choose one of a configured set of weight vectors.
"""

from __future__ import annotations

from simcore.domains.search.envs.single import SearchSessionDiscreteEnv, SearchSessionEnv
from simcore.domains.search.envs.vector import SearchSessionDiscreteVectorEnv, SearchSessionVectorEnv
from simcore.envs.registration import register_envs

__all__ = [
    "SearchSessionEnv",
    "SearchSessionDiscreteEnv",
    "SearchSessionVectorEnv",
    "SearchSessionDiscreteVectorEnv",
]

register_envs({
    "simcore/SearchSession-v0": (
        "simcore.domains.search.envs.single:SearchSessionEnv",
        "simcore.domains.search.envs.vector:SearchSessionVectorEnv",
    ),
    "simcore/SearchSessionDiscrete-v0": (
        "simcore.domains.search.envs.single:SearchSessionDiscreteEnv",
        "simcore.domains.search.envs.vector:SearchSessionDiscreteVectorEnv",
    ),
})
