"""DPG-FBE (Hu et al., KDD 2018, "Reinforcement Learning to Rank in E-Commerce Search
Engine"): deterministic policy gradient whose critic target is a *full expected
backup* over the three outcomes of a page, instead of the single sampled outcome.

After the page history h produced by (s, a), the user buys with probability b(h)
(reward: price, expected m(h)), leaves with l(h) (reward 0, end) or continues with
c(h) to the state s'.  The critic target is therefore

    y = E[r | h] + gamma * c(h) * (1 - last_page) * Q'(s', mu'(s')),

with E[r | h] = b m for the GMV reward, or b m + (1 - b) E[clicks] for the ranking
article's reward ("clicks": price on purchase, else the number of clicks; clicks are
drawn independently of the outcome).  s' is the observation after the page, which the
simulator reports even when the user bought or left: it is the state the user would
be in had they continued.  The bootstrap happens whatever outcome was sampled.

b, c, m come from the simulator (``info`` of each step: exact for the page actually
shown), or, with an :class:`simcore.domains.search.agents.outcome_model.OutcomeModel`, from models
fitted on logged sessions.  Actor, critic and replay are DDPG's (:mod:`simcore.algos.ddpg`); the backup is
its critic-target hook :class:`FullExpectedBackup`, and :func:`dpg_fbe` builds the agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from simcore.algos.ddpg import DDPG, DDPGConfig
from simcore.algos.hooks import ActorTerm
from simcore.domains.search.agents.outcome_model import OutcomeModel

FBE_REWARDS = ("gmv", "clicks")


class FullExpectedBackup:
    """The critic target y = reward_scale E[r | h] + gamma c (1 - last_page) Q'(s', mu'(s'))
    (a :class:`simcore.algos.hooks.CriticTarget`; module docstring).

    Reads the batch columns ``last_page`` bool (n,) and, without an outcome model,
    ``b``, ``c``, ``m``, ``expected_clicks`` float (n,); with one, ``next_obs``.

    Args:
        reward: the expected reward backed up: "gmv" (b m, Hu et al.) or "clicks"
            (b m + (1 - b) E[clicks], the ranking article's reward).
        outcome_model: None (exact b, c, m from the simulator) or a fitted
            :class:`OutcomeModel` predicting them from the post-page observation.
    """

    columns = ("last_page", "b", "c", "m", "expected_clicks")

    def __init__(self, reward: str = "gmv", outcome_model: OutcomeModel | None = None) -> None:
        if reward not in FBE_REWARDS:
            raise ValueError(f"reward: expected one of {FBE_REWARDS}, got {reward!r}")
        self.reward = reward
        self.outcome_model = outcome_model

    def _outcomes(self, t: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        if self.outcome_model is None:
            return t["b"], t["c"], t["m"], t["expected_clicks"]
        pred = self.outcome_model.predict(t["next_obs"].numpy())
        return tuple(torch.as_tensor(pred[k], dtype=torch.float32) for k in ("b", "c", "m", "expected_clicks"))

    def __call__(self, t: Mapping[str, torch.Tensor], next_q: torch.Tensor, gamma: float,
                 reward_scale: float) -> torch.Tensor:
        b, c, m, ec = self._outcomes(t)
        expected_r = b * m
        if self.reward == "clicks":
            expected_r = expected_r + (1.0 - b) * ec
        cont = c * (1.0 - t["last_page"].to(torch.float32))
        return reward_scale * expected_r + gamma * cont * next_q

    def state_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"fbe_reward": self.reward}
        if self.outcome_model is not None:
            d["outcome_model"] = self.outcome_model.state_dict()
        return d

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("fbe_reward", self.reward) != self.reward:
            raise ValueError(f"state: saved with fbe reward {state['fbe_reward']!r}, not {self.reward!r}")
        if "outcome_model" in state:
            if self.outcome_model is None:
                self.outcome_model = OutcomeModel()
            self.outcome_model.load_state_dict(state["outcome_model"])
        elif self.outcome_model is not None:
            raise ValueError("state: has no outcome_model but this agent uses one")


def dpg_fbe(
    obs_dim: int,
    n_features: int,
    config: DDPGConfig | None = None,
    reward: str = "gmv",
    outcome_model: OutcomeModel | None = None,
    actor_term: ActorTerm | None = None,
) -> DDPG:
    """DPG-FBE: a :class:`DDPG` whose critic target is :class:`FullExpectedBackup`
    (named "dpg-fbe").

    Args:
        obs_dim, n_features, config: as :class:`DDPG`.  reward, outcome_model: as
        :class:`FullExpectedBackup`.  actor_term: e.g. the LTR fusion term (default none).
    """
    agent = DDPG(obs_dim, n_features, config, target=FullExpectedBackup(reward, outcome_model),
                 actor_term=actor_term)
    agent.name = "dpg-fbe"
    return agent


def exact_expected_reward(b: np.ndarray, m: np.ndarray, expected_clicks: np.ndarray, reward: str) -> np.ndarray:
    """E[r | page history] for ``reward`` "gmv" (b m) or "clicks" (b m + (1 - b) E[clicks])."""
    if reward not in FBE_REWARDS:
        raise ValueError(f"reward: expected one of {FBE_REWARDS}, got {reward!r}")
    r = b * m
    return r + (1.0 - b) * expected_clicks if reward == "clicks" else r
