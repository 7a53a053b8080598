"""Old module paths kept working: a module-level ``__getattr__`` that forwards a moved
name to its new home with a DeprecationWarning (used by the compatibility modules
``simcore.core``, ``simcore.reference``, ``simcore.config``, ``simcore.world``)."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any


def forwarder(old: str, moved: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for module ``old``: name -> new module path."""

    def __getattr__(name: str) -> Any:
        module = moved.get(name)
        if module is None:
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        warnings.warn(
            f"{old}.{name} moved to {module}.{name}; the old path goes in a later release",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(module), name)

    return __getattr__
