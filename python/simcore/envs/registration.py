"""Gymnasium registration shared by every domain's envs."""

from __future__ import annotations

from collections.abc import Mapping

from gymnasium.envs.registration import register, registry


def register_envs(ids: Mapping[str, tuple[str, str]]) -> None:
    """Registers env ids once: id -> (entry point, vector entry point), both
    ``"module:Class"`` strings.  No TimeLimit wrapper: every simcore env truncates
    itself at its horizon."""
    for env_id, (entry, vec) in ids.items():
        if env_id not in registry:
            register(id=env_id, entry_point=entry, vector_entry_point=vec)


def simcore_env_ids(prefix: str = "simcore/") -> list[str]:
    """Every registered Gymnasium id starting with ``prefix``, sorted.  (Importing this
    module imported the ``simcore`` package first, which registers every domain's ids.)"""
    return sorted(i for i in registry if i.startswith(prefix))
