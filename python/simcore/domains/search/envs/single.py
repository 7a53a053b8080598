"""Single-session Gymnasium envs over the C++ simulator (a batch of one)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.envs.common import continuous_actions, resolve_action_set, resolve_config, sim_dims
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.spec import SEARCH_STEP_SPEC
from simcore.envs.standard import check_render_mode, discrete_action

#: (info key, is a scalar per row), in the spec's order: a Python scalar for a scalar
#: field, a copy of row 0 otherwise (read on every step, so computed once)


class SearchSessionEnv(gym.Env):
    """One user's search session; the action is the ranking weight vector.

    Observation (float32, in [0, 1]): mean features of each of the last W pages (W*m,
    zeros before a page exists), mean features of the items clicked on them (m), the
    user's purchasing power, segment one-hot (G), and pages shown / horizon.
    Action: float32 (m,) ranking weights in [-1, 1] (any finite weights are accepted:
    the page is the top-K unseen items by X @ action).
    Reward: the purchase price when the user buys ("gmv"), optionally the number of
    clicks on pages without a purchase ("clicks").  Buying or leaving terminates;
    reaching the horizon truncates.
    Info: outcome ("continue", "buy", "leave"), item, price, page (int64 (K,)),
    clicks (bool (K,)), and the exact b, l, c, m and expected_clicks of the page.

    Args:
        config: SessionConfig, a nested dict, or None (defaults); keyword arguments
            override its top-level fields.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"]}

    def __init__(
        self,
        config: SessionConfig | Mapping[str, Any] | None = None,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        **overrides: Any,
    ) -> None:
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        overrides.setdefault("num_threads", 1)
        self.config = resolve_config(config, overrides, max_episode_steps)
        self.sim = SearchSimulator(self.config, num_sessions=1)
        self.dims = sim_dims(self.sim)
        self.observation_space = SEARCH_STEP_SPEC.observation_space(self.dims)
        self.action_space = self._make_action_space(self.sim.num_features)
        self._seeded = False
        self._done = True
        self._last: dict[str, Any] = {}

    def _make_action_space(self, m: int) -> spaces.Space:
        return spaces.Box(-1.0, 1.0, shape=(m,), dtype=np.float32)

    def _weights(self, action: Any) -> np.ndarray:
        return continuous_actions(action, (1, self.sim.num_features), "action")

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or not self._seeded:
            self.sim.seed(int(self.np_random.integers(0, 2**63 - 1)))
            self._seeded = True
        if options and "user" in options:
            users = {k: np.asarray(v)[None, ...] for k, v in options["user"].items()}
            obs = self.sim.reset_to(users)
        else:
            obs = self.sim.reset()
        self._done = False
        user = self.sim.users()
        info = {"query": int(user["query"][0]), "segment": int(user["segment"][0]), "power": float(user["power"][0])}
        return obs[0].copy(), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("step() called on a finished episode: call reset() first")
        r = self.sim.step(self._weights(action))
        obs, reward, terminated, truncated, info = SEARCH_STEP_SPEC.row(r)
        info["outcome"] = SearchSimulator.outcome_name(info["outcome"])
        self._done = terminated or truncated
        self._last = info
        return obs, reward, terminated, truncated, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        if not self._last:
            return "(no page shown yet)"
        i = self._last
        return (
            f"page {self.sim.steps_taken()[0]}: items {i['page'].tolist()} | "
            f"b={i['b']:.3f} l={i['l']:.3f} c={i['c']:.3f} m={i['m']:.2f} -> {i['outcome']}"
        )


class SearchSessionDiscreteEnv(SearchSessionEnv):
    """:class:`SearchSessionEnv` whose action picks one of ``action_set``'s weight vectors:
    a Python or NumPy integer (bool, float and str raise TypeError).

    Args:
        action_set: real (n_actions, m) weight vectors (default: the five of
            :func:`simcore.domains.search.world.default_action_set`).
    """

    def __init__(
        self,
        config: SessionConfig | Mapping[str, Any] | None = None,
        render_mode: str | None = None,
        action_set: Any = None,
        max_episode_steps: int | None = None,
        **overrides: Any,
    ) -> None:
        self._action_set_arg = action_set
        super().__init__(config, render_mode=render_mode, max_episode_steps=max_episode_steps, **overrides)

    def _make_action_space(self, m: int) -> spaces.Space:
        self.action_set = resolve_action_set(self._action_set_arg, m)
        return spaces.Discrete(self.action_set.shape[0])

    def _weights(self, action: Any) -> np.ndarray:
        a = discrete_action(action, self.action_set.shape[0])
        return self.action_set[a : a + 1]
