"""The C++-batched vector env (what ``gymnasium.make_vec`` returns for our ids)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.envs.common import continuous_actions, resolve_action_set, resolve_config, sim_dims
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.spec import SEARCH_STEP_SPEC
from simcore.envs.seeding import apply_vector_reset_seed
from simcore.envs.standard import check_render_mode


class SearchSessionVectorEnv(VectorEnv):
    """B search sessions stepped by one C++ call per step (NEXT_STEP autoreset).

    Spaces, rewards and info are those of :class:`SearchSessionEnv`, batched: info
    holds arrays (outcome int8: -1 autoreset, 0 continue, 1 buy, 2 leave).  The env
    truncates itself at the horizon (no TimeLimit wrapper).  Results depend only on
    the seed, never on ``num_threads``.  Info keys: ``SEARCH_STEP_SPEC.info_keys``.
    The env pickles and deep-copies with its full state.

    Seeds (``reset(seed=...)``): an int s seeds the batch (slot j's e-th episode
    draws from the C++ stream (s, j, e)).  A list follows Gymnasium's convention of
    one entry per sub-env (length ``num_envs``, else ValueError naming seed; entries
    ints in [0, 2**64 - 1] or None for fresh entropy): sub-env i is seeded exactly as
    the single env ``SearchSessionEnv.reset(seed=seed[i])`` seeds itself, so slot i
    replays that single env bit for bit under the same actions (its NEXT_STEP
    autoresets being the single env's ``reset()`` calls), and ``[s] * B`` gives B
    identical sub-envs.

    Args:
        num_envs: B, an integer (RLlib's ``env_config`` dicts go through the creator
            :func:`simcore.envs.rllib.make_env`).
        config: SessionConfig, a nested dict, or None; keyword overrides as for the
            single env.
        copy: return copies of the simulator's buffers (default) rather than views
            overwritten by the next step.
        render_mode: None only (no rendering); any other mode raises TypeError.
        max_episode_steps: None, or truncate at min(horizon, max_episode_steps)
            (what ``gymnasium.make_vec(..., max_episode_steps=n)`` passes).
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 1,
        config: SessionConfig | Mapping[str, Any] | None = None,
        copy: bool = True,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(num_envs, Mapping):
            raise TypeError("num_envs: expected an integer; for RLlib's env_config dict use the creator "
                            "simcore.envs.rllib.make_env(env_id, env_config)")
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.config = resolve_config(config, overrides, max_episode_steps)
        self.sim = SearchSimulator(self.config, num_sessions=int(num_envs))
        self.num_envs = self.sim.num_sessions
        self.copy = copy
        self.dims = sim_dims(self.sim)
        self.single_observation_space = SEARCH_STEP_SPEC.observation_space(self.dims)
        self.single_action_space = self._make_action_space(self.sim.num_features)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._seeded = False

    def _make_action_space(self, m: int) -> spaces.Space:
        return spaces.Box(-1.0, 1.0, shape=(m,), dtype=np.float32)

    def _weights(self, actions: Any) -> np.ndarray:
        return continuous_actions(actions, (self.num_envs, self.sim.num_features), "actions")

    def _c(self, a: np.ndarray) -> np.ndarray:
        return a.copy() if self.copy else a

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Resets every session; returns obs float32 (B, D) and an empty info.

        ``seed``: None (continue the stream), an int (one batch seed), or a list of
        ``num_envs`` ints or None, one per sub-env (see the class docstring).
        ``options={"users": ...}`` starts the sessions with given users (see
        SearchSimulator.reset_to)."""
        apply_vector_reset_seed(self, self.sim, seed)
        if options and "users" in options:
            obs = self.sim.reset_to(options["users"])
        else:
            obs = self.sim.reset()
        return self._c(obs), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        r = self.sim.step(self._weights(actions))
        info = {k: self._c(getattr(r, k)) for k in SEARCH_STEP_SPEC.info_keys}
        return self._c(r.obs), self._c(r.reward), self._c(r.terminated), self._c(r.truncated), info


class SearchSessionDiscreteVectorEnv(SearchSessionVectorEnv):
    """Batched :class:`SearchSessionDiscreteEnv`: actions are int (B,) indices into
    ``action_set`` (float32 (n_actions, m))."""

    def __init__(
        self,
        num_envs: int = 1,
        config: SessionConfig | Mapping[str, Any] | None = None,
        copy: bool = True,
        action_set: Any = None,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        **overrides: Any,
    ) -> None:
        self._action_set_arg = action_set
        super().__init__(num_envs, config, copy, render_mode=render_mode, max_episode_steps=max_episode_steps,
                         **overrides)

    def _make_action_space(self, m: int) -> spaces.Space:
        self.action_set = resolve_action_set(self._action_set_arg, m)
        return spaces.Discrete(self.action_set.shape[0])

    def _weights(self, actions: Any) -> np.ndarray:
        a = np.asarray(actions)
        if a.dtype.kind not in "iu":
            raise TypeError(f"actions: expected integer action indices, got dtype {a.dtype}")
        if a.shape != (self.num_envs,):
            raise ValueError(f"actions: expected shape ({self.num_envs},), got {a.shape}")
        if a.size and (a.min() < 0 or a.max() >= self.action_set.shape[0]):
            raise ValueError(f"actions: indices must lie in [0, {self.action_set.shape[0]})")
        return self.action_set[a]
