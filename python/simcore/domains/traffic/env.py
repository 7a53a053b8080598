"""Gymnasium envs of the tiered-traffic simulator, registered on import.

``simcore/TieredTraffic-v0``: one user's search session; the action is the tier
weights a in R^{m_t} (the article's action: one ranking weight per tier flag), added
to the fixed base weights of pi_basic; ``gymnasium.make_vec`` returns the C++-batched
:class:`TieredTrafficVectorEnv` (NEXT_STEP autoreset).
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

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.envs.common import continuous_actions
from simcore.domains.traffic.config import TrafficConfig
from simcore.domains.traffic.simulator import TrafficSimulator
from simcore.domains.traffic.spec import TRAFFIC_STEP_SPEC
from simcore.envs.registration import register_envs
from simcore.envs.seeding import apply_vector_reset_seed
from simcore.envs.standard import check_max_episode_steps, check_render_mode

__all__ = ["TieredTrafficEnv", "TieredTrafficVectorEnv", "resolve_traffic_config"]



def resolve_traffic_config(config: TrafficConfig | Mapping[str, Any] | None, overrides: Mapping[str, Any],
                           max_episode_steps: object = None) -> TrafficConfig:
    """A TrafficConfig from a config object, a (nested) dict, and keyword overrides of
    its top-level fields (or of ``session``'s: ``num_threads=1`` is ``session.num_threads``);
    ``max_episode_steps`` lowers session.max_steps to it."""
    limit = check_max_episode_steps(max_episode_steps)
    mine = {f.name for f in dataclasses.fields(TrafficConfig)}
    session_keys = {f.name for f in dataclasses.fields(SessionConfig)}
    inner = {k: overrides[k] for k in overrides if k not in mine and k in session_keys}
    overrides = {k: v for k, v in overrides.items() if k not in inner}
    if isinstance(config, TrafficConfig):
        cfg = dataclasses.replace(config, **overrides) if overrides else config
    elif config is None or isinstance(config, Mapping):
        d = dict(config or {})
        d.update(overrides)
        cfg = TrafficConfig.from_dict(d)
    else:
        raise TypeError(f"config: expected TrafficConfig, dict or None, got {type(config).__name__}")
    if inner:  # the search session's own fields (num_threads, page_size, ...) as top-level keywords
        d = {f.name: getattr(cfg.session, f.name) for f in dataclasses.fields(SessionConfig)}
        d.update(inner)
        cfg = dataclasses.replace(cfg, session=SessionConfig.from_dict(d))
    if limit is not None and limit < cfg.session.max_steps:
        cfg = dataclasses.replace(cfg, session=dataclasses.replace(cfg.session, max_steps=limit))
    return cfg


def _action_bound(value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < float(value) < 1e6:
        raise ValueError(f"action_bound: must be a number in (0, 1e6), got {value!r}")
    return float(value)


class TieredTrafficEnv(gym.Env):
    """One user's session over the tiered catalogue.

    Observation: the search observation over the m + m_t ranking columns (float32 in
    [0, 1]; TRAFFIC_STEP_SPEC.obs_layout).  Action: float32 (m_t,) tier weights in
    [-action_bound, action_bound] (any finite weights are accepted); the page ranks by
    pi_basic's base weights plus these on the tier flags.  Reward: the article's
    r = GMV(n_click, n_cart, n_buy) + sum_i lambda_i (p_i(pi) - p_i(pi_basic)).
    Info: every field of TRAFFIC_STEP_SPEC but obs/reward/terminated/truncated, among
    them the decomposition reward_gmv + reward_tier (== reward), the shares and the
    counts; outcome as "continue", "buy" or "leave".

    Args:
        config: TrafficConfig, a nested dict, or None; keyword overrides replace its
            top-level fields.  action_bound: half-width of the action Box (1.0; the tier
            weights are on the scale of the base weights, whose "ltr" values sum to 1).
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"]}

    def __init__(self, config: TrafficConfig | Mapping[str, Any] | None = None, render_mode: str | None = None,
                 max_episode_steps: int | None = None, action_bound: float = 1.0, **overrides: Any) -> None:
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.config = resolve_traffic_config(config, overrides, max_episode_steps)
        if self.config.session.num_threads is None:
            self.config = dataclasses.replace(self.config, session=dataclasses.replace(self.config.session,
                                                                                       num_threads=1))
        self.sim = TrafficSimulator(self.config, num_sessions=1)
        bound = _action_bound(action_bound)
        self.observation_space = TRAFFIC_STEP_SPEC.observation_space(self.sim.dims)
        self.action_space = spaces.Box(-bound, bound, shape=(self.sim.n_tiers,), dtype=np.float32)
        self._seeded, self._done = False, True
        self._last: dict[str, Any] = {}

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or not self._seeded:
            self.sim.seed(int(self.np_random.integers(0, 2**63 - 1)))
            self._seeded = True
        if options and "user" in options:
            obs = self.sim.reset_to({k: np.asarray(v)[None, ...] for k, v in options["user"].items()})
        else:
            obs = self.sim.reset()
        self._done = False
        u = self.sim.users()
        info = {"query": int(u["query"][0]), "segment": int(u["segment"][0]), "power": float(u["power"][0]),
                "affinity": u["prefs"][0, self.sim.n_base:].copy()}
        return obs[0].copy(), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("step() called on a finished episode: call reset() first")
        a = continuous_actions(action, (1, self.sim.n_tiers), "action")
        r = self.sim.step(self.sim.weights_for(a))
        obs, reward, terminated, truncated, info = TRAFFIC_STEP_SPEC.row(r)
        info["outcome"] = TrafficSimulator.outcome_name(info["outcome"])
        self._done = terminated or truncated
        self._last = info
        return obs, reward, terminated, truncated, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        if not self._last:
            return "(no page shown yet)"
        i = self._last
        return (f"page {self.sim.steps_taken()[0]}: share {np.round(i['share'], 2).tolist()} vs basic "
                f"{np.round(i['share_basic'], 2).tolist()} | clicks {i['n_click']} carts {i['n_cart']} "
                f"-> {i['outcome']} (r = {i['reward_gmv']:.3f} + {i['reward_tier']:.3f})")


class TieredTrafficVectorEnv(VectorEnv):
    """B tiered-traffic sessions stepped by one C++ call per step (NEXT_STEP autoreset).

    Spaces, rewards and info are those of :class:`TieredTrafficEnv`, batched (info holds
    arrays; outcome int8: -1 autoreset, 0 continue, 1 buy, 2 leave).  Seeds as for the
    search vector env: an int seeds the batch (slot j's e-th episode: stream (s, j, e)),
    a list of ``num_envs`` entries seeds sub-env i as ``TieredTrafficEnv.reset(seed=seed[i])``
    does.  Results never depend on the thread count.  Pickles with its full state.

    Args:
        num_envs: B.  config, overrides, max_episode_steps, action_bound: as for the
            single env.  copy: return copies of the simulator's buffers (default).
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, config: TrafficConfig | Mapping[str, Any] | None = None,
                 copy: bool = True, render_mode: str | None = None, max_episode_steps: int | None = None,
                 action_bound: float = 1.0, **overrides: Any) -> None:
        if isinstance(num_envs, Mapping):
            raise TypeError("num_envs: expected an integer; for RLlib's env_config dict use the creator "
                            "simcore.envs.rllib.make_env(env_id, env_config)")
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.config = resolve_traffic_config(config, overrides, max_episode_steps)
        self.sim = TrafficSimulator(self.config, num_sessions=int(num_envs))
        self.num_envs, self.copy = self.sim.num_sessions, copy
        bound = _action_bound(action_bound)
        self.single_observation_space = TRAFFIC_STEP_SPEC.observation_space(self.sim.dims)
        self.single_action_space = spaces.Box(-bound, bound, shape=(self.sim.n_tiers,), dtype=np.float32)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._seeded = False

    def _c(self, a: np.ndarray) -> np.ndarray:
        return a.copy() if self.copy else a

    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Resets every session; ``options={"users": ...}`` starts given users
        (TrafficSimulator.reset_to)."""
        apply_vector_reset_seed(self, self.sim, seed)
        obs = self.sim.reset_to(options["users"]) if options and "users" in options else self.sim.reset()
        return self._c(obs), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        a = continuous_actions(actions, (self.num_envs, self.sim.n_tiers), "actions")
        r = self.sim.step(self.sim.weights_for(a))
        info = {k: self._c(getattr(r, k)) for k in TRAFFIC_STEP_SPEC.info_keys}
        return self._c(r.obs), self._c(r.reward), self._c(r.terminated), self._c(r.truncated), info


register_envs({
    "simcore/TieredTraffic-v0": (
        "simcore.domains.traffic.env:TieredTrafficEnv",
        "simcore.domains.traffic.env:TieredTrafficVectorEnv",
    ),
})
