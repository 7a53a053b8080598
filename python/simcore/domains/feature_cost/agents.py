"""Torch agents for ``simcore/FeatureSelection-v0`` (seed article, 引擎性能优化, 三、算法设计).

* :class:`ActorCriticAgent`: the article's method.  A policy network pi_theta(Eval | s)
  (the actor) and a value network V_c(s) (the critic) trained with the article's TD
  loss  L(theta_c) = || V(s_k) - r_{k+1} - gamma V(s_{k+1}) ||^2  (V = 0 after the last
  decision).  The actor follows the TD advantage r + gamma V(s') - V(s) and carries
  the article's L1 term mu ||theta||_1 on the policy parameters.
* :class:`ReinforceAgent`: REINFORCE with a learned baseline: the Monte-Carlo return
  G_k = sum_{t >= k} gamma^(t - k) r_t, advantage G_k - V(s_k), V regressed on G_k.

Both follow :class:`simcore.algos.protocol.AgentProtocol`: ``act(obs, explore)``
(int64 (B,) actions, 1 = Eval), ``update(batch)`` on the time-major episode
:class:`~simcore.algos.protocol.Batch` of :mod:`simcore.train.episodes` (one whole
episode per slot) returning float metrics, ``end_iteration()`` (nothing),
``state_dict()`` / ``load_state_dict()`` (parameters, optimiser states and the
sampling generator; loadable with ``torch.load(..., weights_only=True)``).  Shared
parts: :mod:`~simcore.domains.feature_cost.policies`; training and greedy subsets:
:mod:`~simcore.domains.feature_cost.training`.
"""

from __future__ import annotations

import torch

from simcore.algos.protocol import Batch
from simcore.domains.feature_cost.policies import PolicyValueAgent, discounted_returns

__all__ = ["ActorCriticAgent", "ReinforceAgent", "AGENTS"]


class ActorCriticAgent(PolicyValueAgent):
    """The article's actor-critic (see the module docstring)."""

    name = "actor-critic"

    def update(self, batch: Batch) -> dict[str, float]:
        """One critic step on the TD loss, then one actor step on the TD advantage."""
        obs, nxt, a, r, done = self._tensors(batch)
        g = self.config.gamma
        with torch.no_grad():
            target = r + g * (1.0 - done) * self._values(nxt)
        for _ in range(self.config.critic_steps):
            v = self._values(obs)
            critic = ((v - target) ** 2).mean()
            self.opt_value.zero_grad()
            critic.backward()
            self.opt_value.step()
        with torch.no_grad():
            target = r + g * (1.0 - done) * self._values(nxt)
            adv = target - self._values(obs)
        m = self._policy_step(obs, a, adv)
        self.updates += 1
        return {"critic_loss": float(critic.detach()), **m}


class ReinforceAgent(PolicyValueAgent):
    """REINFORCE with a learned state-value baseline."""

    name = "reinforce"

    def update(self, batch: Batch) -> dict[str, float]:
        """Monte-Carlo returns; baseline regression, then the policy-gradient step."""
        obs, _, a, _, _ = self._tensors(batch)
        G = torch.as_tensor(discounted_returns(batch.reward, batch.done, self.config.gamma).reshape(-1),
                            dtype=torch.float32)
        for _ in range(self.config.critic_steps):
            v = self._values(obs)
            base = ((v - G) ** 2).mean()
            self.opt_value.zero_grad()
            base.backward()
            self.opt_value.step()
        with torch.no_grad():
            adv = G - self._values(obs)
        m = self._policy_step(obs, a, adv)
        self.updates += 1
        return {"baseline_loss": float(base.detach()), **m}


#: agent name -> class (keys: agent_config.AGENT_NAMES, the torch-free list configs check)
AGENTS: dict[str, type[PolicyValueAgent]] = {a.name: a for a in (ActorCriticAgent, ReinforceAgent)}
