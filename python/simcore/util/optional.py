"""Optional dependencies: whether one can be imported, and its version, without importing
it at module load (simcore's own import never pulls them in)."""

from __future__ import annotations

import importlib

__all__ = ["module_available", "module_version", "sb3_available", "sb3_version"]


def module_available(name: str) -> bool:
    """True when ``import name`` succeeds."""
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def module_version(name: str) -> str:
    """``name.__version__``, or "not installed" when it cannot be imported."""
    try:
        mod = importlib.import_module(name)
    except ImportError:
        return "not installed"
    return str(getattr(mod, "__version__", "unknown"))


def sb3_available() -> bool:
    """True when stable_baselines3 (the benchmark-only extra ``clients``) can be imported."""
    return module_available("stable_baselines3")


def sb3_version() -> str:
    """stable_baselines3.__version__, or "not installed"."""
    return module_version("stable_baselines3")
