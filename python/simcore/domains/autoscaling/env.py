"""Gymnasium envs of the autoscaling simulator, registered on import.

``simcore/Autoscaling-v0``: one application zone over one episode (``horizon``
10-minute steps, default one week); ``gymnasium.make_vec`` returns the C++-batched
:class:`AutoscalingVectorEnv` (B heterogeneous zones stepped in one call, NEXT_STEP
autoreset, every zone ending together at the horizon).  Observation: float32 (9,)
(AUTOSCALING_STEP_SPEC.obs_layout).  Action: Box(-1, 1, (1,)) (normalised, as SB3
asks), mapped to the scaling ratio a = -ratio_min x for x < 0 and ratio_max x for
x >= 0 (:func:`action_to_ratio`; 0 keeps the VMs), then l' = round(l (1 + a)) clipped
to the zone's VM bounds.  The simulator face and the baselines work in ratios
(:func:`ratio_to_action` maps back).  Reward:
-(cpu_target - c)^2 - eta |delta| / l - slo_penalty [latency > SLO].
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

from simcore.domains.autoscaling.config import AutoscalingConfig
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.spec import AUTOSCALING_STEP_SPEC
from simcore.domains.autoscaling.workload import ZoneParams
from simcore.envs.registration import register_envs
from simcore.envs.seeding import apply_vector_reset_seed
from simcore.envs.standard import check_render_mode, config_from

__all__ = ["AutoscalingEnv", "AutoscalingVectorEnv", "resolve_autoscaling_config", "action_to_ratio",
           "ratio_to_action"]


def resolve_autoscaling_config(config: AutoscalingConfig | Mapping[str, Any] | None, overrides: Mapping[str, Any],
                               max_episode_steps: object = None) -> AutoscalingConfig:
    """An AutoscalingConfig from a config, a nested dict and keyword overrides of its
    top-level fields; ``max_episode_steps`` lowers horizon to it."""
    return config_from(AutoscalingConfig, config, overrides, max_episode_steps, "horizon")


def _action_space(cfg: AutoscalingConfig) -> spaces.Box:
    return spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)


def action_to_ratio(x: np.ndarray, cfg: AutoscalingConfig) -> np.ndarray:
    """Normalised actions x in [-1, 1] -> ratios: -ratio_min x (x < 0), ratio_max x (x >= 0)."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x < 0, -cfg.ratio_min * x, cfg.ratio_max * x)


def ratio_to_action(a: np.ndarray, cfg: AutoscalingConfig) -> np.ndarray:
    """The inverse of :func:`action_to_ratio` (ratios clipped to the range first)."""
    a = np.clip(np.asarray(a, dtype=np.float64), cfg.ratio_min, cfg.ratio_max)
    lo, hi = -cfg.ratio_min, cfg.ratio_max
    return np.where(a < 0, a / (lo if lo > 0 else 1.0), a / (hi if hi > 0 else 1.0))


def _box_actions(actions: Any, B: int, cfg: AutoscalingConfig) -> np.ndarray:
    """Ratios float64 (B,) from (B, 1) or (B,) normalised actions in [-1, 1]
    (TypeError / ValueError naming action)."""
    a = np.asarray(actions)
    if a.dtype.kind not in "fiu" or a.dtype == np.bool_:
        raise TypeError(f"action: expected real scaling ratios, got dtype {a.dtype}")
    if a.shape not in ((B, 1), (B,)):
        raise ValueError(f"action: expected shape ({B}, 1), got {a.shape}")
    a = a.reshape(B).astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError("action: scaling ratios must be finite (NaN or inf given)")
    if a.min() < -1 or a.max() > 1:
        raise ValueError(f"action: normalised actions must lie in [-1, 1], got [{a.min()}, {a.max()}]")
    return np.clip(action_to_ratio(a, cfg), cfg.ratio_min, cfg.ratio_max)


class AutoscalingEnv(gym.Env):
    """One zone (zone ``zone`` of the population drawn with ``zone_seed``).

    Info: every field of AUTOSCALING_STEP_SPEC but obs/reward/terminated/truncated
    (vms, provisioned, delta, traffic, cpu, latent cpu_mean, latency, slo_violation,
    in_band, scaled, scaling_cost, ...).

    Args:
        config: AutoscalingConfig, a nested dict or None; keyword overrides replace its
            top-level fields.  render_mode: None or "ansi".  max_episode_steps: lowers
            horizon.  zones: ZoneParams of one zone (default: drawn).  zone_seed: the
            population's seed.  backend: as AutoscalingSimulator's.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, config: AutoscalingConfig | Mapping[str, Any] | None = None, render_mode: str | None = None,
                 max_episode_steps: int | None = None, zones: ZoneParams | None = None, zone_seed: int = 0,
                 backend: str = "auto", **overrides: Any) -> None:
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.config = resolve_autoscaling_config(config, overrides, max_episode_steps)
        if self.config.num_threads is None:
            self.config = dataclasses.replace(self.config, num_threads=1)
        self.sim = AutoscalingSimulator(self.config, 1, zones=zones, zone_seed=zone_seed, backend=backend)
        self.observation_space = AUTOSCALING_STEP_SPEC.observation_space(self.sim.dims)
        self.action_space = _action_space(self.config)
        self._seeded, self._done = False, True
        self._last: dict[str, Any] = {}

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or not self._seeded:
            self.sim.seed_slots(np.array([int(self.np_random.integers(0, 2**63 - 1))]))
            self._seeded = True
        obs = self.sim.reset()
        self._done, self._last = False, {}
        st = self.sim.state()
        return obs[0].copy(), {"vms": int(st["vms"][0]), "traffic": st["traffic"][0].copy(), "cpu": float(st["cpu"][0])}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("step() called on a finished episode: call reset() first")
        a = _box_actions(np.reshape(np.asarray(action), (1, -1)) if np.ndim(action) else action, 1, self.config)
        r = self.sim.step(a)
        obs, reward, terminated, truncated, info = AUTOSCALING_STEP_SPEC.row(r)
        self._done = terminated or truncated
        self._last = info
        return obs, reward, terminated, truncated, info

    def render(self) -> str | None:  # type: ignore[override]
        if self.render_mode != "ansi":
            return None
        if not self._last:
            return "(no step yet)"
        i = self._last
        return (f"step {self.sim.t}: vms {i['vms']} -> {i['provisioned']} | traffic {i['traffic'][0]:.0f} rpc "
                f"{i['traffic'][1]:.0f} mq | cpu {i['cpu']:.3f} | latency {i['latency']:.1f} ms "
                f"{'SLO VIOLATION' if i['slo_violation'] else ''}")


class AutoscalingVectorEnv(VectorEnv):
    """B zones stepped by one C++ call per 10 minutes (NEXT_STEP autoreset; all zones end
    together at the horizon and the next step starts a new episode everywhere).

    Spaces, rewards and info as :class:`AutoscalingEnv`, batched; zone i is zone i of
    the population drawn with ``zone_seed`` (or of ``zones``).  Seeds: an int seeds
    the batch (zone i's e-th episode: stream (s, i, e)); a list of ``num_envs`` entries
    seeds zone i as ``AutoscalingEnv.reset(seed=seed[i])`` would.  Results never depend
    on the thread count.  Pickles with its full state.
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, config: AutoscalingConfig | Mapping[str, Any] | None = None,
                 copy: bool = True, render_mode: str | None = None, max_episode_steps: int | None = None,
                 zones: ZoneParams | None = None, zone_seed: int = 0, backend: str = "auto",
                 **overrides: Any) -> None:
        if isinstance(num_envs, Mapping) or not isinstance(num_envs, (int, np.integer)):
            raise TypeError("num_envs: expected an integer")
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.config = resolve_autoscaling_config(config, overrides, max_episode_steps)
        self.sim = AutoscalingSimulator(self.config, int(num_envs), zones=zones, zone_seed=zone_seed, backend=backend)
        self.num_envs, self.copy = self.sim.num_zones, copy
        self.single_observation_space = AUTOSCALING_STEP_SPEC.observation_space(self.sim.dims)
        self.single_action_space = _action_space(self.config)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._seeded = False

    def _c(self, a: np.ndarray) -> np.ndarray:
        return a.copy() if self.copy else a

    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        apply_vector_reset_seed(self, self.sim, seed)
        return self._c(self.sim.reset()), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        r = self.sim.step(_box_actions(actions, self.num_envs, self.config))
        info = {k: self._c(getattr(r, k)) for k in AUTOSCALING_STEP_SPEC.info_keys}
        return self._c(r.obs), self._c(r.reward), self._c(r.terminated), self._c(r.truncated), info


register_envs({
    "simcore/Autoscaling-v0": (
        "simcore.domains.autoscaling.env:AutoscalingEnv",
        "simcore.domains.autoscaling.env:AutoscalingVectorEnv",
    ),
})
