"""Gymnasium envs of the lifecycle simulator, registered on import.

``simcore/Lifecycle-v0``: one customer slot over one marketing activity (horizon_days
daily steps; the budget is that slot's: budget_per_user); ``gymnasium.make_vec``
returns the C++-batched :class:`LifecycleVectorEnv` (B slots sharing the episode budget
budget_per_user * B, NEXT_STEP autoreset).  Observation: float32 (19,) in [0, 1]
(LIFECYCLE_STEP_SPEC.obs_layout; budget left and the customer's spend included).
Action: Discrete(A), the action table's rows (0 = do nothing).  Reward: value - cost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from simcore.domains.lifecycle.config import STAGES, LifecycleConfig
from simcore.domains.lifecycle.population import Population
from simcore.domains.lifecycle.simulator import LifecycleSimulator
from simcore.domains.lifecycle.spec import LIFECYCLE_STEP_SPEC
from simcore.envs.registration import register_envs
from simcore.envs.seeding import apply_vector_reset_seed
from simcore.envs.standard import check_render_mode, config_from, discrete_action

__all__ = ["LifecycleEnv", "LifecycleVectorEnv", "resolve_lifecycle_config"]


def resolve_lifecycle_config(config: LifecycleConfig | Mapping[str, Any] | None, overrides: Mapping[str, Any],
                             max_episode_steps: object = None) -> LifecycleConfig:
    """A LifecycleConfig from a config, a nested dict, and keyword overrides of its
    top-level fields; ``max_episode_steps`` lowers horizon_days to it."""
    return config_from(LifecycleConfig, config, overrides, max_episode_steps, "horizon_days")


def _vector_actions(actions: Any, B: int, A: int) -> np.ndarray:
    a = np.asarray(actions)
    if a.dtype.kind not in "iu" or a.dtype == np.bool_:
        raise TypeError(f"actions: expected integers in [0, {A}), got dtype {a.dtype}")
    if a.shape != (B,):
        raise ValueError(f"actions: expected shape ({B},), got {a.shape}")
    if a.size and (a.min() < 0 or a.max() >= A):
        raise ValueError(f"actions: values must lie in [0, {A}), got [{a.min()}, {a.max()}]")
    return a.astype(np.int64)


class LifecycleEnv(gym.Env):
    """One customer over one activity.

    Info: every field of LIFECYCLE_STEP_SPEC but obs/reward/terminated/truncated (the
    parts value and cost, clicked, converted, purchased, stage, blocked, budget_left,
    the exact p_* and expected_* of the applied action; ``alive`` is latent).
    ``reset(options={"user": i})`` starts population customer i.

    Args:
        config: LifecycleConfig, a nested dict or None; keyword overrides replace its
            top-level fields.  render_mode: None or "ansi".  max_episode_steps: lowers
            horizon_days.  backend, population: as LifecycleSimulator's.  The simulator
            is ``env.sim`` (e.g. ``env.sim.expectations_all()``).
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, config: LifecycleConfig | Mapping[str, Any] | None = None, render_mode: str | None = None,
                 max_episode_steps: int | None = None, backend: str = "auto", population: Population | None = None,
                 **overrides: Any) -> None:
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.config = resolve_lifecycle_config(config, overrides, max_episode_steps)
        if self.config.num_threads is None:
            self.config = dataclasses.replace(self.config, num_threads=1)
        self.sim = LifecycleSimulator(self.config, num_users=1, backend=backend, population=population)
        self.observation_space = LIFECYCLE_STEP_SPEC.observation_space(self.sim.dims)
        self.action_space = spaces.Discrete(self.sim.n_actions)
        self._seeded, self._done = False, True
        self._last: dict[str, Any] = {}

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or not self._seeded:
            self.sim.seed(int(self.np_random.integers(0, 2**63 - 1)))
            self._seeded = True
        if options and "user" in options:
            obs = self.sim.reset_to(np.array([options["user"]]))
        else:
            obs = self.sim.reset()
        self._done, self._last = False, {}
        st = self.sim.state()
        return obs[0].copy(), {"user": int(st["user"][0]), "budget_left": float(st["budget_left"])}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("step() called on a finished episode: call reset() first")
        a = discrete_action(action, self.sim.n_actions)
        r = self.sim.step(np.array([a], dtype=np.int64))
        obs, reward, terminated, truncated, info = LIFECYCLE_STEP_SPEC.row(r)
        self._done = terminated or truncated
        self._last = info
        return obs, reward, terminated, truncated, info

    def render(self) -> str | None:  # type: ignore[override]
        if self.render_mode != "ansi":
            return None
        if not self._last:
            return "(no day stepped yet)"
        i = self._last
        return (f"day {self.sim.day}: {self.sim.table.names[i['action']]} stage {STAGES[i['stage']]} -> "
                f"{STAGES[i['next_stage']]} | click {i['clicked']} convert {i['converted']} buy {i['purchased']} "
                f"value {i['value']:.2f} cost {i['cost']:.2f} | budget left {i['budget_left']:.2f}")


class LifecycleVectorEnv(VectorEnv):
    """B customer slots stepped by one C++ call per day (NEXT_STEP autoreset; all slots
    end together at the horizon, and the next step starts a new activity everywhere).

    Spaces, rewards and info as :class:`LifecycleEnv`, batched.  Seeds as the other
    simcore vector envs: an int seeds the batch (slot j's e-th episode: stream (s, j, e)),
    a list of ``num_envs`` entries seeds slot i as ``LifecycleEnv.reset(seed=seed[i])``
    would (but the budget is the batch's).  ``reset(options={"users": int (B,)})``.
    Results never depend on the thread count.  Pickles with its full state.
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, config: LifecycleConfig | Mapping[str, Any] | None = None,
                 copy: bool = True, render_mode: str | None = None, max_episode_steps: int | None = None,
                 backend: str = "auto", population: Population | None = None, **overrides: Any) -> None:
        if isinstance(num_envs, Mapping):
            raise TypeError("num_envs: expected an integer")
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.config = resolve_lifecycle_config(config, overrides, max_episode_steps)
        self.sim = LifecycleSimulator(self.config, num_users=int(num_envs), backend=backend, population=population)
        self.num_envs, self.copy = self.sim.num_users, copy
        self.single_observation_space = LIFECYCLE_STEP_SPEC.observation_space(self.sim.dims)
        self.single_action_space = spaces.Discrete(self.sim.n_actions)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._seeded = False

    def _c(self, a: np.ndarray) -> np.ndarray:
        return a.copy() if self.copy else a

    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        apply_vector_reset_seed(self, self.sim, seed)
        obs = self.sim.reset_to(options["users"]) if options and "users" in options else self.sim.reset()
        return self._c(obs), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        a = _vector_actions(actions, self.num_envs, self.sim.n_actions)
        r = self.sim.step(a)
        info = {k: self._c(getattr(r, k)) for k in LIFECYCLE_STEP_SPEC.info_keys}
        return self._c(r.obs), self._c(r.reward), self._c(r.terminated), self._c(r.truncated), info


register_envs({
    "simcore/Lifecycle-v0": (
        "simcore.domains.lifecycle.env:LifecycleEnv",
        "simcore.domains.lifecycle.env:LifecycleVectorEnv",
    ),
})
