"""``simcore/ContextualBandit-v0``: the synthetic contextual bandit
(:class:`~simcore.domains.bandits.synthetic.SyntheticBandit`) as Gymnasium envs, so the
bandit agents run on a NEXT_STEP vector env.

Episode = ``horizon`` rounds.  Each round the slot shows a context x (float32 (d,), drawn
uniformly from the world's pool of M contexts), the agent picks an arm (Discrete(K)),
the reward is Bernoulli(mu(x, a)) or N(mu(x, a), sigma^2) (the world's model), and the
next context is drawn.  The world (pool, arm parameters) is fixed by ``world_seed``;
env seeds drive only the contexts and the rewards.  Info per step: ``context`` (pool
index of the context the action answered), ``mean_reward`` mu(x, a) and ``regret``
max_a' mu(x, a') - mu(x, a) (exact; pseudo-regret).  Episodes truncate at
min(horizon, max_episode_steps); nothing terminates.

Seeds: the single env's ``reset(seed=s)`` starts the stream ``SeedSequence(s)``; the
vector env's int seed s gives slot i ``SeedSequence(s, spawn_key=(i,))``, a list gives
slot i exactly the single env's stream for its entry (None: fresh entropy).  Unseeded
resets continue the streams.  NumPy only; ``num_threads`` is accepted (results do not
depend on it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from simcore.domains.bandits.synthetic import SyntheticBandit, SyntheticBanditConfig
from simcore.envs.ranges import check_int
from simcore.envs.registration import register_envs
from simcore.envs.standard import (
    check_max_episode_steps,
    check_render_mode,
    discrete_action,
    fresh_seed,
    per_env_seeds,
)


@dataclass(frozen=True)
class BanditEnvConfig:
    """``simcore/ContextualBandit-v0``.

    Attributes:
        bandit: the world (:class:`SyntheticBanditConfig`; default 100 contexts, d = 5, K = 5).
        world_seed: the seed the world is drawn with, integer in [0, 2**63 - 1] (default 0).
        horizon: rounds per episode, integer in [1, 10**7] (default 100).
        num_threads: accepted for the simcore env convention, integer in [1, 256]
            (default 1; NumPy only, results independent of it).
    """

    bandit: SyntheticBanditConfig = field(default_factory=SyntheticBanditConfig)
    world_seed: int = 0
    horizon: int = 100
    num_threads: int = 1

    def __post_init__(self) -> None:
        check_int("world_seed", self.world_seed, 0, 2**63 - 1)
        check_int("horizon", self.horizon, 1, 10**7)
        check_int("num_threads", self.num_threads, 1, 256)


def resolve_config(config: BanditEnvConfig | Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> BanditEnvConfig:
    """A config from an instance, a (nested) dict or None, with top-level keyword overrides."""
    if config is None:
        base: dict[str, Any] = {}
    elif isinstance(config, BanditEnvConfig):
        base = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    elif isinstance(config, Mapping):
        base = dict(config)
    else:
        raise TypeError(f"config: expected BanditEnvConfig, a dict or None, got {type(config).__name__}")
    base.update(overrides)
    if isinstance(base.get("bandit"), Mapping):
        base["bandit"] = SyntheticBanditConfig(**base["bandit"])
    names = {f.name for f in dataclasses.fields(BanditEnvConfig)}
    unknown = sorted(set(base) - names)
    if unknown:
        raise TypeError(f"config: unknown fields {unknown} (expected {sorted(names)})")
    return BanditEnvConfig(**base)


class _Slots:
    """B slots over one world: per-slot streams, contexts and round counters."""

    def __init__(self, num_envs: int, config: BanditEnvConfig, max_episode_steps: int | None) -> None:
        check_int("num_envs", num_envs, 1, 10**7)
        self.B = int(num_envs)
        self.config = config
        self.world = SyntheticBandit(config.bandit, np.random.default_rng(np.random.SeedSequence(config.world_seed)))
        limit = check_max_episode_steps(max_episode_steps)
        self.limit = config.horizon if limit is None else min(config.horizon, limit)
        self.rngs = [np.random.default_rng(np.random.SeedSequence(fresh_seed())) for _ in range(self.B)]
        self.ctx = np.zeros(self.B, dtype=np.int64)
        self.t = np.zeros(self.B, dtype=np.int64)
        self.done = np.zeros(self.B, dtype=bool)
        self.started = False

    def seed_slots(self, seqs: list[np.random.SeedSequence]) -> None:
        self.rngs = [np.random.default_rng(s) for s in seqs]

    def _draw_ctx(self, idx: np.ndarray) -> None:
        m = self.config.bandit.n_contexts
        for i in idx:
            self.ctx[i] = self.rngs[i].integers(0, m)

    def obs(self) -> np.ndarray:
        return self.world.contexts[self.ctx].astype(np.float32)

    def start(self) -> np.ndarray:
        every = np.arange(self.B)
        self._draw_ctx(every)
        self.t[:] = 0
        self.done[:] = False
        self.started = True
        return self.obs()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        reset = np.nonzero(self.done)[0]
        live = np.nonzero(~self.done)[0]
        w = self.world
        reward = np.zeros(self.B)
        mean = np.zeros(self.B)
        regret = np.zeros(self.B)
        ctx_now = self.ctx.copy()
        if live.size:
            c, a = self.ctx[live], actions[live]
            mean[live] = w.mu[c, a]
            regret[live] = w.regret(c, a)
            u = np.array([self.rngs[i].random() if w.config.reward == "bernoulli" else self.rngs[i].standard_normal()
                          for i in live])
            reward[live] = (u < mean[live]).astype(np.float64) if w.config.reward == "bernoulli" \
                else mean[live] + w.config.noise_sd * u
        self._draw_ctx(np.arange(self.B))
        self.t[live] += 1
        self.t[reset] = 0
        trunc = np.zeros(self.B, dtype=bool)
        trunc[live] = self.t[live] >= self.limit
        self.done[:] = trunc
        info = {"context": ctx_now, "mean_reward": mean, "regret": regret}
        return self.obs(), reward, np.zeros(self.B, dtype=bool), trunc, info


def _obs_space(world: SyntheticBandit) -> spaces.Box:
    """float32 (d,) in [-h, h], h = the pool's largest |entry| rounded up (the pool is finite)."""
    h = float(np.ceil(np.abs(world.contexts).max()))
    return spaces.Box(-h, h, (world.config.dim,), np.float32)


def _vector_actions(actions: Any, b: int, k: int) -> np.ndarray:
    a = np.asarray(actions)
    if a.dtype.kind not in "iu":
        raise TypeError(f"action: expected integers in [0, {k}), got dtype {a.dtype}")
    if a.shape != (b,):
        raise ValueError(f"action: expected shape ({b},), got {a.shape}")
    if a.size and (a.min() < 0 or a.max() >= k):
        raise ValueError(f"action: expected integers in [0, {k}), got range [{a.min()}, {a.max()}]")
    return a.astype(np.int64)


class ContextualBanditVectorEnv(VectorEnv):
    """B slots of the contextual bandit (module docstring).

    Args:
        num_envs: B.
        config: :class:`BanditEnvConfig`, a dict or None; keyword overrides of its fields.
        render_mode: None only.
        max_episode_steps: None, or truncate after min(horizon, max_episode_steps) rounds.
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, config: BanditEnvConfig | Mapping[str, Any] | None = None,
                 render_mode: str | None = None, max_episode_steps: int | None = None, **overrides: Any) -> None:
        if isinstance(num_envs, Mapping):
            raise TypeError("num_envs: expected an integer")
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.config = resolve_config(config, overrides)
        self.core = _Slots(num_envs, self.config, max_episode_steps)
        self.num_envs = self.core.B
        k = self.config.bandit.n_arms
        self.single_observation_space = _obs_space(self.core.world)
        self.single_action_space = spaces.Discrete(k)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._seeded = False

    @property
    def world(self) -> SyntheticBandit:
        """The bandit world (exact means ``world.mu``)."""
        return self.core.world

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        """Starts every slot; returns obs float32 (B, d) and an empty info."""
        if isinstance(seed, (list, tuple, np.ndarray)):
            seeds = [fresh_seed() if s is None else s for s in per_env_seeds(seed, self.num_envs)]
            self.core.seed_slots([np.random.SeedSequence(s) for s in seeds])
        elif seed is not None:
            s = discrete_action(seed, 2**63, name="seed")
            self.core.seed_slots([np.random.SeedSequence(s, spawn_key=(i,)) for i in range(self.num_envs)])
        elif not self._seeded:
            base = fresh_seed()
            self.core.seed_slots([np.random.SeedSequence(base, spawn_key=(i,)) for i in range(self.num_envs)])
        self._seeded = True
        return self.core.start(), {}

    def step(self, actions: Any):
        """actions int (B,) in [0, K); returns obs (B, d), reward float64 (B,),
        terminated, truncated bool (B,), info (``context``, ``mean_reward``, ``regret``)."""
        a = _vector_actions(actions, self.num_envs, self.config.bandit.n_arms)
        if not self.core.started:
            raise RuntimeError("step() before reset()")
        return self.core.step(a)


class ContextualBanditEnv(gym.Env):
    """One slot (same arguments as the vector env without ``num_envs``)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, config: BanditEnvConfig | Mapping[str, Any] | None = None, render_mode: str | None = None,
                 max_episode_steps: int | None = None, **overrides: Any) -> None:
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.config = resolve_config(config, overrides)
        self.core = _Slots(1, self.config, max_episode_steps)
        self.observation_space = _obs_space(self.core.world)
        self.action_space = spaces.Discrete(self.config.bandit.n_arms)
        self._seeded = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self.core.seed_slots([np.random.SeedSequence(int(seed))])
        elif not self._seeded:
            self.core.seed_slots([np.random.SeedSequence(int(self.np_random.integers(0, 2**63 - 1)))])
        self._seeded = True
        return self.core.start()[0], {}

    def step(self, action: Any):
        if self.core.done[0] or not self.core.started:
            raise RuntimeError("step() called on a finished episode: call reset() first")
        a = discrete_action(action, self.config.bandit.n_arms)
        obs, reward, term, trunc, info = self.core.step(np.array([a]))
        return obs[0], float(reward[0]), bool(term[0]), bool(trunc[0]), {k: v[0].item() for k, v in info.items()}


register_envs({
    "simcore/ContextualBandit-v0": (
        "simcore.domains.bandits.env:ContextualBanditEnv",
        "simcore.domains.bandits.env:ContextualBanditVectorEnv",
    ),
})
