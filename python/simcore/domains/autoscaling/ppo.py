"""Model-free baseline: Stable-Baselines3 PPO on the batched autoscaling simulator.

SB3 is a benchmark-only dependency (extra ``clients``), imported lazily: nothing here
needs it until :func:`train_ppo` runs.  :class:`ZoneVecEnv` is an SB3 ``VecEnv`` over
one :class:`~.simulator.AutoscalingSimulator` of B zones (one C++ call per vector
step; the observation and action of ``simcore/Autoscaling-v0``: float32 (9,) and a
normalised ratio in [-1, 1]); all zones end together at the horizon, when the batch
is reset at once (``terminal_observation`` in each info, as SB3 expects).  PPO keeps
SB3's default hyper-parameters except the rollout length: ``n_steps`` = ceil(2048 /
B), so a rollout holds about SB3's single-env default of 2048 samples; observations
are normalised by ``VecNormalize`` (running mean / sd, rewards untouched).
:class:`PPOScalingPolicy` runs the trained model in the simulator (the observation
rebuilt from what :func:`~.evaluate.run_episode` passes, exactly as the env's layout).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from simcore.domains.autoscaling.baselines import Observed
from simcore.domains.autoscaling.config import STEPS_PER_DAY, STEPS_PER_WEEK, AutoscalingConfig
from simcore.domains.autoscaling.env import action_to_ratio
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.workload import ZoneParams
from simcore.util.optional import sb3_available, sb3_version

__all__ = ["sb3_available", "sb3_version", "make_vec_env", "train_ppo", "PPOScalingPolicy", "obs_from"]


def obs_from(o: Observed) -> np.ndarray:
    """The env observation float32 (B, 9) after a step (AUTOSCALING_STEP_SPEC.obs_layout)."""
    B = o.cpu.shape[0]
    v = o.vms.astype(np.float64)
    day = 2 * math.pi * (o.t % STEPS_PER_DAY) / STEPS_PER_DAY
    week = 2 * math.pi * (o.t % STEPS_PER_WEEK) / STEPS_PER_WEEK
    obs = np.empty((B, 9), dtype=np.float32)
    obs[:, 0:2] = np.log1p(o.traffic)
    obs[:, 2] = o.cpu
    obs[:, 3] = np.log(v)
    obs[:, 4] = (o.provisioned - o.vms) / v
    obs[:, 5:9] = np.array([math.sin(day), math.cos(day), math.sin(week), math.cos(week)], dtype=np.float32)
    return obs


def make_vec_env(cfg: AutoscalingConfig, zones: ZoneParams, seed: int) -> Any:
    """An SB3 VecEnv over the zones (module docstring); needs stable_baselines3."""
    from gymnasium import spaces
    from stable_baselines3.common.vec_env import VecEnv

    class ZoneVecEnv(VecEnv):  # type: ignore[misc]
        def __init__(self) -> None:
            self.sim = AutoscalingSimulator(cfg, zones=zones, seed=seed)
            self.render_mode = None
            obs_space = spaces.Box(-1.0, 1e9, shape=(9,), dtype=np.float32)
            super().__init__(zones.num_zones, obs_space, spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32))
            self._a = np.zeros(zones.num_zones)

        def reset(self) -> np.ndarray:
            return self.sim.reset().copy()

        def step_async(self, actions: np.ndarray) -> None:
            x = np.clip(np.asarray(actions, dtype=np.float64).reshape(-1), -1.0, 1.0)
            self._a = np.clip(action_to_ratio(x, cfg), cfg.ratio_min, cfg.ratio_max)

        def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
            r = self.sim.step(self._a)
            obs, rew, done = r.obs.copy(), r.reward.astype(np.float32), r.truncated.copy()
            infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
            if done.all():
                for i in range(self.num_envs):
                    infos[i] = {"terminal_observation": obs[i].copy(), "TimeLimit.truncated": True}
                obs = self.sim.reset().copy()
            return obs, rew, done, infos

        def close(self) -> None:
            return None

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [getattr(self, attr_name)] * self.num_envs

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            setattr(self, attr_name, value)

        def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:
            return [None] * self.num_envs

        def env_is_wrapped(self, wrapper_class: Any, indices: Any = None) -> list[bool]:
            return [False] * self.num_envs

    return ZoneVecEnv()


class PPOTrainer:
    """PPO on the training zones, trainable in chunks (for the sample-efficiency curve).

    Args: cfg (the simulator), zones (training zones), seed (SB3's and the env's;
    taken mod 2**32), horizon (episode length of the training env, steps).
    """

    def __init__(self, cfg: AutoscalingConfig, zones: ZoneParams, seed: int, horizon: int = 2 * STEPS_PER_DAY) -> None:
        if not sb3_available():
            raise RuntimeError("method 'ppo' needs stable-baselines3 (pip install 'simcore[clients]')")
        import stable_baselines3 as sb3
        from stable_baselines3.common.vec_env import VecNormalize

        self.cfg = cfg
        self.venv = VecNormalize(make_vec_env(replace(cfg, horizon=horizon), zones, seed % 2**63),
                                 norm_obs=True, norm_reward=False)
        n_steps = max(2, math.ceil(2048 / zones.num_zones))
        self.model = sb3.PPO("MlpPolicy", self.venv, n_steps=n_steps, batch_size=64, seed=int(seed) % 2**32,
                             device="cpu", verbose=0)
        self.steps = 0

    def learn(self, env_steps: int) -> None:
        """Trains for about ``env_steps`` more env steps (SB3 rounds up to whole rollouts)."""
        self.model.learn(total_timesteps=int(env_steps), reset_num_timesteps=self.steps == 0)
        self.steps = int(self.model.num_timesteps)

    def policy(self) -> PPOScalingPolicy:
        """The current deterministic policy (a frozen copy of the observation normaliser)."""
        rms: Any = self.venv.obs_rms
        return PPOScalingPolicy(self.model, rms.mean.copy(), rms.var.copy(),
                                self.venv.clip_obs, self.venv.epsilon, self.cfg)


def train_ppo(cfg: AutoscalingConfig, zones: ZoneParams, env_steps: int, seed: int) -> PPOScalingPolicy:
    """PPO trained for ``env_steps`` env steps on ``zones``; the deterministic policy."""
    tr = PPOTrainer(cfg, zones, seed)
    tr.learn(env_steps)
    return tr.policy()


class PPOScalingPolicy:
    """A trained SB3 model as an autoscaler: ratio = action_to_ratio(model.predict(
    normalised obs, deterministic=True))."""

    def __init__(self, model: Any, mean: np.ndarray, var: np.ndarray, clip: float, eps: float,
                 cfg: AutoscalingConfig) -> None:
        self.model, self.mean, self.var, self.clip, self.eps, self.cfg = model, mean, var, clip, eps, cfg

    def act(self, o: Observed) -> np.ndarray:
        obs = np.clip((obs_from(o) - self.mean) / np.sqrt(self.var + self.eps), -self.clip, self.clip)
        x, _ = self.model.predict(obs.astype(np.float32), deterministic=True)
        x = np.clip(np.asarray(x, dtype=np.float64).reshape(-1), -1.0, 1.0)
        return np.clip(action_to_ratio(x, self.cfg), self.cfg.ratio_min, self.cfg.ratio_max)
