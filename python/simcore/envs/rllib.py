"""RLlib support: simcore env ids resolvable in Ray workers that never imported simcore.

RLlib's env runners build their envs in fresh processes, where a plain
``"simcore/SearchSession-v0"`` is unknown to Gymnasium (``NamespaceNotFound``)
because nothing imported simcore there.  Two ways out:

* ``register_rllib_envs()`` in the driver (before ``build_algo()``): registers every
  ``simcore/...`` Gymnasium id with ``ray.tune.registry.register_env``; the creator
  (:func:`make_env`, pickled by reference) imports simcore in each worker.  Then
  ``PPOConfig().environment("simcore/SearchSession-v0")`` works unchanged, with any
  ``gym_env_vectorize_mode`` (``"vector_entry_point"`` gives the C++-batched env).
* without registration, the id ``"simcore:simcore/SearchSession-v0"``: Gymnasium
  imports the module before the colon (simcore, which registers its ids) first.

``env_config`` holds the env's keyword arguments (config overrides, ``config`` dict,
``action_set`` ...), as for ``gymnasium.make``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

from simcore.envs.registration import simcore_env_ids

__all__ = ["make_env", "simcore_env_ids", "register_rllib_envs", "module_qualified_id"]


def module_qualified_id(env_id: str) -> str:
    """``"simcore:" + env_id``: an id Gymnasium resolves in any process."""
    return env_id if env_id.startswith("simcore:") else f"simcore:{env_id}"


def make_env(env_id: str, env_config: Mapping[str, Any] | None = None) -> gym.Env | gym.vector.VectorEnv:
    """RLlib's env creator for ``env_id``.

    ``env_config`` (RLlib's EnvContext, a dict): keyword arguments of the env.  With a
    ``num_envs`` key (RLlib's VECTOR_ENTRY_POINT mode passes ``env_config |
    {"num_envs": n}``) returns the batched vector env of n sub-envs, else one env
    made by ``gymnasium.make``.
    """
    # No import needed here: unpickling this creator in a worker imports
    # simcore.envs.rllib, hence the simcore package, which registers every id.
    kwargs = dict(env_config or {})
    if "num_envs" in kwargs:
        n = int(kwargs.pop("num_envs"))
        return gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
    return gym.make(env_id, **kwargs)


def register_rllib_envs(ids: list[str] | None = None) -> list[str]:
    """Registers ``ids`` (default: every simcore id) with ``ray.tune.registry.register_env``
    under the same names; returns the names.  Needs ``ray`` installed."""
    from ray.tune.registry import register_env

    ids = simcore_env_ids() if ids is None else list(ids)
    for env_id in ids:
        creator: Callable[[Mapping[str, Any]], Any] = functools.partial(make_env, env_id)
        register_env(env_id, creator)
    return ids
