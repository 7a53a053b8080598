"""Gymnasium envs over the learned simulator, with the spaces and info of
``simcore/SearchSession-v0`` (so every ranking agent runs on them unchanged).

* :class:`LearnedSearchVectorEnv`: B sessions, one :class:`.sim.LearnedSimulator`
  step (one top-K kernel call and one torch forward) per batch step, NEXT_STEP
  autoreset, info keys ``SEARCH_STEP_SPEC.info_keys`` as arrays.
* :class:`LearnedSearchEnv`: one session (a batch of one), for ``check_env``.

Registered as ``simcore/LearnedSearch-v0`` when this module is imported (it needs
torch, so ``import simcore`` does not import it).  Keywords: ``model`` (a
:class:`BehaviourModel` or the path of a :func:`.bc.save_model` file; default: an
untrained model initialised from ``model_seed``), ``users`` (a user sampler; default
the world's observable prior), ``config`` (SessionConfig, dict or None) and the
search env's keyword overrides.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.envs.common import continuous_actions, resolve_config
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.spec import SEARCH_STEP_SPEC, search_dims
from simcore.domains.virtual_taobao.bc import load_model
from simcore.domains.virtual_taobao.model import BehaviourConfig, BehaviourModel, seeded_model
from simcore.domains.virtual_taobao.sim import LearnedSimulator
from simcore.domains.virtual_taobao.users import UserSampler
from simcore.envs.registration import register_envs
from simcore.envs.seeding import batch_reset_seed, fold_seeds, single_env_seeds
from simcore.envs.standard import check_render_mode

__all__ = ["LearnedSearchVectorEnv", "LearnedSearchEnv", "make_simulator"]


def make_simulator(config: SessionConfig, num_sessions: int, model: BehaviourModel | str | os.PathLike | None,
                   users: UserSampler | None, model_seed: int = 0) -> LearnedSimulator:
    """A LearnedSimulator for an env's keywords (module docstring)."""
    if model is None:
        d = search_dims(config)
        model = seeded_model(BehaviourConfig(page_size=d["K"], num_features=d["m"], window=d["W"],
                                             segments=d["G"]), model_seed)
    elif isinstance(model, (str, os.PathLike)):
        model = load_model(model)
    elif not isinstance(model, BehaviourModel):
        raise TypeError(f"model: expected a BehaviourModel, a checkpoint path or None, got {type(model).__name__}")
    return LearnedSimulator(model, config, num_sessions, users=users)


class LearnedSearchVectorEnv(VectorEnv):
    """B sessions of a learned user; spaces, info and seeding conventions of
    :class:`simcore.domains.search.envs.vector.SearchSessionVectorEnv` (an int seed
    seeds the batch; a list of ``num_envs`` entries is folded into one batch seed)."""

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, config: SessionConfig | Mapping[str, Any] | None = None,
                 model: BehaviourModel | str | os.PathLike | None = None, users: UserSampler | None = None,
                 model_seed: int = 0, render_mode: str | None = None, max_episode_steps: int | None = None,
                 **overrides: Any) -> None:
        if isinstance(num_envs, Mapping) or not isinstance(num_envs, int) or isinstance(num_envs, bool):
            raise TypeError(f"num_envs: expected an integer, got {type(num_envs).__name__}")
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.config = resolve_config(config, overrides, max_episode_steps)
        self.sim = make_simulator(self.config, num_envs, model, users, model_seed)
        self.num_envs = self.sim.num_sessions
        self.dims = search_dims(self.config)
        self.single_observation_space = SEARCH_STEP_SPEC.observation_space(self.dims)
        self.single_action_space = spaces.Box(-1.0, 1.0, shape=(self.sim.num_features,), dtype=np.float32)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._seeded = False

    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Resets every session; obs float32 (B, D), empty info.  ``options={"users":
        {...}}`` starts the sessions with given observable users."""
        if isinstance(seed, (list, tuple, np.ndarray)):
            s = fold_seeds(single_env_seeds(seed, self.num_envs))
            self._np_random, self._np_random_seed = np.random.default_rng(s), s
            self.sim.seed(s)
            self._seeded = True
        elif (bs := batch_reset_seed(self, seed)) is not None:
            self.sim.seed(bs)
        obs = self.sim.reset_to(options["users"]) if options and "users" in options else self.sim.reset()
        return obs, {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        w = continuous_actions(actions, (self.num_envs, self.sim.num_features), "actions")
        r = self.sim.step(w)
        info = {k: getattr(r, k) for k in SEARCH_STEP_SPEC.info_keys}
        return r.obs, r.reward, r.terminated, r.truncated, info


class LearnedSearchEnv(gym.Env):
    """One session of a learned user (spaces and info of ``SearchSessionEnv``;
    ``outcome`` in info is the name: continue, buy, leave)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, config: SessionConfig | Mapping[str, Any] | None = None,
                 model: BehaviourModel | str | os.PathLike | None = None, users: UserSampler | None = None,
                 model_seed: int = 0, render_mode: str | None = None, max_episode_steps: int | None = None,
                 **overrides: Any) -> None:
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        overrides.setdefault("num_threads", 1)
        self.config = resolve_config(config, overrides, max_episode_steps)
        self.sim = make_simulator(self.config, 1, model, users, model_seed)
        self.observation_space = SEARCH_STEP_SPEC.observation_space(search_dims(self.config))
        self.action_space = spaces.Box(-1.0, 1.0, shape=(self.sim.num_features,), dtype=np.float32)
        self._seeded = False
        self._done = True

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or not self._seeded:
            self.sim.seed(int(self.np_random.integers(0, 2**63 - 1)))
            self._seeded = True
        if options and "user" in options:
            obs = self.sim.reset_to({k: np.asarray(v)[None] for k, v in options["user"].items()})
        else:
            obs = self.sim.reset()
        self._done = False
        u = self.sim.users()
        return obs[0].copy(), {"query": int(u["query"][0]), "segment": int(u["segment"][0]),
                               "power": float(u["power"][0])}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("step() called on a finished episode: call reset() first")
        r = self.sim.step(continuous_actions(action, (1, self.sim.num_features), "action"))
        obs, reward, terminated, truncated, info = SEARCH_STEP_SPEC.row(r)
        info["outcome"] = SearchSimulator.outcome_name(info["outcome"])
        self._done = terminated or truncated
        return obs, reward, terminated, truncated, info


register_envs({
    "simcore/LearnedSearch-v0": (
        "simcore.domains.virtual_taobao.env:LearnedSearchEnv",
        "simcore.domains.virtual_taobao.env:LearnedSearchVectorEnv",
    ),
})
