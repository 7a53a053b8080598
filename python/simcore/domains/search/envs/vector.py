"""The C++-batched vector env (what ``gymnasium.make_vec`` returns for our ids)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.envs.common import resolve_action_set, resolve_config
from simcore.envs.seeding import seed_to_int

_INFO_KEYS = ("outcome", "item", "price", "page", "clicks", "b", "l", "c", "m", "expected_clicks")


class SearchSessionVectorEnv(VectorEnv):
    """B search sessions stepped by one C++ call per step (NEXT_STEP autoreset).

    Spaces, rewards and info are those of :class:`SearchSessionEnv`, batched: info
    holds arrays (outcome int8: -1 autoreset, 0 continue, 1 buy, 2 leave).  The env
    truncates itself at the horizon (no TimeLimit wrapper).  Results depend only on
    the seed, never on ``num_threads``.

    Args:
        num_envs: B, or a dict (RLlib's ``env_config | {"num_envs": n}``) holding
            ``num_envs`` and config keys.
        config: SessionConfig, a nested dict, or None; keyword overrides as for the
            single env.
        copy: return copies of the simulator's buffers (default) rather than views
            overwritten by the next step.
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int | Mapping[str, Any] = 1,
        config: SessionConfig | Mapping[str, Any] | None = None,
        copy: bool = True,
        **overrides: Any,
    ) -> None:
        if isinstance(num_envs, Mapping):
            d = dict(num_envs)
            num_envs = int(d.pop("num_envs", 1))
            copy = bool(d.pop("copy", copy))
            self._action_set_arg = d.pop("action_set", getattr(self, "_action_set_arg", None))
            overrides = {**d, **overrides}
        self.config = resolve_config(config, overrides)
        self.sim = SearchSimulator(self.config, num_sessions=int(num_envs))
        self.num_envs = self.sim.num_sessions
        self.copy = copy
        m = self.sim.num_features
        self.single_observation_space = spaces.Box(0.0, 1.0, shape=(self.sim.obs_dim,), dtype=np.float32)
        self.single_action_space = self._make_action_space(m)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._seeded = False

    def _make_action_space(self, m: int) -> spaces.Space:
        return spaces.Box(-1.0, 1.0, shape=(m,), dtype=np.float32)

    def _weights(self, actions: Any) -> np.ndarray:
        return np.asarray(actions, dtype=np.float32)

    def _c(self, a: np.ndarray) -> np.ndarray:
        return a.copy() if self.copy else a

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Resets every session.  ``seed``: int or list of ints (hashed into one seed;
        session j then uses stream (seed, j, episode)).  ``options={"users": ...}``
        starts the sessions with given users (see SearchSimulator.reset_to)."""
        if seed is not None:
            s = seed_to_int(seed)
            self._np_random, self._np_random_seed = np.random.default_rng(s), s
            self.sim.seed(s)
            self._seeded = True
        elif not self._seeded:
            self.sim.seed(int(self.np_random.integers(0, 2**63 - 1)))
            self._seeded = True
        if options and "users" in options:
            obs = self.sim.reset_to(options["users"])
        else:
            obs = self.sim.reset()
        return self._c(obs), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        r = self.sim.step(self._weights(actions))
        info = {k: self._c(getattr(r, k)) for k in _INFO_KEYS}
        return self._c(r.obs), self._c(r.reward), self._c(r.terminated), self._c(r.truncated), info


class SearchSessionDiscreteVectorEnv(SearchSessionVectorEnv):
    """Batched :class:`SearchSessionDiscreteEnv`: actions are int (B,) indices into
    ``action_set`` (float32 (n_actions, m))."""

    def __init__(
        self,
        num_envs: int | Mapping[str, Any] = 1,
        config: SessionConfig | Mapping[str, Any] | None = None,
        copy: bool = True,
        action_set: Any = None,
        **overrides: Any,
    ) -> None:
        self._action_set_arg = action_set
        super().__init__(num_envs, config, copy, **overrides)

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
