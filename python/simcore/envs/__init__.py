"""The shared env layer, knowing no domain: seeding conventions
(:mod:`~simcore.envs.seeding`), Gymnasium registration
(:mod:`~simcore.envs.registration`), step specs (:mod:`~simcore.envs.spec`: output
fields and observation layout a simulator declares once), the standard keywords
(:mod:`~simcore.envs.standard`: render_mode, max_episode_steps, seed lists, integer
actions), config range checks (:mod:`~simcore.envs.ranges`), reusable conformance
checks (:mod:`~simcore.envs.conformance`) and RLlib creators
(:mod:`~simcore.envs.rllib`).  Each domain's envs live in its package
(e.g. :mod:`simcore.domains.search.envs`); importing :mod:`simcore` registers them all.

In a process that never imported simcore (e.g. a Ray worker) use the ids
``"simcore:simcore/SearchSession-v0"``: Gymnasium imports the module before the colon.

The search envs' old names here (``simcore.envs.SearchSessionEnv`` ...) still work,
with a DeprecationWarning.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

_MOVED = {
    "SearchSessionEnv": "simcore.domains.search.envs",
    "SearchSessionDiscreteEnv": "simcore.domains.search.envs",
    "SearchSessionVectorEnv": "simcore.domains.search.envs",
    "SearchSessionDiscreteVectorEnv": "simcore.domains.search.envs",
    "FeatureSelectionEnv": "simcore.domains.feature_cost.env",
    "FeatureSelectionVectorEnv": "simcore.domains.feature_cost.env",
}


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module 'simcore.envs' has no attribute {name!r}")
    warnings.warn(f"simcore.envs.{name} moved to {module}.{name}", DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module(module), name)
