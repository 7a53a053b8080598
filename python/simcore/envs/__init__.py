"""The shared env layer, knowing no domain: seeding conventions
(:mod:`~simcore.envs.seeding`) and Gymnasium registration
(:mod:`~simcore.envs.registration`).  Each domain's envs live in its package
(e.g. :mod:`simcore.domains.search.envs`); importing :mod:`simcore` registers them all.

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
