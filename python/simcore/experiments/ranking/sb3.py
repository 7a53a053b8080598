"""Stable-Baselines3 PPO and SAC as benchmark learners of the ranking study (optional).

SB3 is a benchmark-only dependency (extra ``clients``): nothing here imports it at module
level, and the experiment asks for it only when an ``sb3-*`` agent is requested
(``--preset full``).  Each learner trains with SB3's default hyper-parameters on the
single-session env ``gymnasium.make("simcore/SearchSession-v0", config=...)`` with the
experiment's session config (same world, users and reward as simcore's learners), for
the same number of env steps (pages) as the learner it is compared with; it is then
wrapped as an agent (:class:`SB3Policy`, the deterministic action
``model.predict(obs, deterministic=True)``) and evaluated exactly like every other agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simcore.algos.protocol import AgentBase
from simcore.util.optional import sb3_available

#: agent keys -> SB3 algorithm class names
SB3_ALGOS = {"sb3-ppo": "PPO", "sb3-sac": "SAC"}


class SB3Policy(AgentBase):
    """A trained SB3 model as an agent: act(obs) = model.predict(obs, deterministic=not explore),
    clipped to [-1, 1] (float32 (n, m) for obs float32 (n, D)).  Does not learn further."""

    def __init__(self, model: Any, name: str) -> None:
        self.model = model
        self.name = name

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        a, _ = self.model.predict(np.asarray(obs, dtype=np.float32), deterministic=not explore)
        return np.clip(np.asarray(a, dtype=np.float32), -1.0, 1.0)

    def state_dict(self) -> dict[str, Any]:
        return {"policy": {k: v.detach().clone() for k, v in self.model.policy.state_dict().items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.model.policy.load_state_dict(state["policy"])


def train_sb3(key: str, session_config: Any, steps: int, seed: int) -> SB3Policy:
    """SB3's ``key`` ("sb3-ppo" or "sb3-sac") with default settings, trained for ``steps``
    env steps (pages) on one ``simcore/SearchSession-v0`` env; ``seed`` (taken mod 2**32)
    seeds SB3 (networks, exploration) and the env's first reset."""
    if key not in SB3_ALGOS:
        raise ValueError(f"agent: unknown SB3 learner {key!r}; known: {list(SB3_ALGOS)}")
    if not sb3_available():
        raise RuntimeError(f"agent {key!r} needs stable-baselines3 (pip install 'simcore[clients]')")
    import gymnasium as gym
    import stable_baselines3 as sb3

    from simcore.domains.search import envs as _search_envs  # noqa: F401  (registers the env ids)

    env = gym.make("simcore/SearchSession-v0", config=session_config)
    cls = getattr(sb3, SB3_ALGOS[key])
    model = cls("MlpPolicy", env, seed=int(seed) % 2**32, device="cpu", verbose=0)
    model.learn(total_timesteps=int(steps))
    return SB3Policy(model, key)
