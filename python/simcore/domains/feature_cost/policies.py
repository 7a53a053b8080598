"""The policy-gradient learners' shared parts for ``simcore/FeatureSelection-v0``:
networks, acting, observation scaling, checkpoints.

A policy makes one Bernoulli decision per step, pi_theta(Eval | s) = sigmoid(z_theta(s))
(1 = Eval, 0 = Skip), with a value network V(s) on the same inputs; the two learners
(:mod:`~simcore.domains.feature_cost.agents`) differ only in their advantage.  They
follow :class:`simcore.algos.protocol.AgentProtocol` and learn from the time-major
episode :class:`~simcore.algos.protocol.Batch` of :mod:`simcore.train.episodes`
(obs (T, B, D) float32, action (T, B) int64, reward (T, B) float64, next_obs
(T, B, D) float32, done (T, B) bool).  This module imports no env.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
from torch import nn

from simcore.algos.protocol import AgentBase, Batch
from simcore.domains.feature_cost.agent_config import FeatureSelectionAgentConfig
from simcore.util.seeds import SeedTree

__all__ = ["PolicyValueAgent", "discounted_returns"]


def discounted_returns(reward: np.ndarray, done: np.ndarray, gamma: float) -> np.ndarray:
    """float64 (T, B) returns-to-go G_t = r_{t+1} + gamma (1 - done_t) G_{t+1} of
    time-major rewards (T, B) with episode ends ``done`` bool (T, B) (0 after an end)."""
    reward = np.asarray(reward, dtype=np.float64)
    done = np.asarray(done, dtype=bool)
    G = np.zeros_like(reward)
    acc = np.zeros(reward.shape[1])
    for t in range(reward.shape[0] - 1, -1, -1):
        acc = reward[t] + gamma * acc * (~done[t])
        G[t] = acc
    return G


def _mlp(d_in: int, hidden: Sequence[int], d_out: int) -> nn.Sequential:
    """tanh MLP d_in -> hidden... -> d_out, torch's default initialisation (global RNG)."""
    layers: list[nn.Module] = []
    d = d_in
    for h in hidden:
        layers += [nn.Linear(d, int(h)), nn.Tanh()]
        d = int(h)
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)


class PolicyValueAgent(AgentBase):
    """Shared parts of the two learners: networks, sampling, observation scaling,
    checkpoints; subclasses define ``update``.

    Args:
        obs_dim: D, features of an observation (the last ``config.heads`` of them the
            one-hot of the current step when ``heads`` > 0).
        config: hyper-parameters (None: the defaults).
    """

    name = "agent"

    def __init__(self, obs_dim: int, config: FeatureSelectionAgentConfig | None = None) -> None:
        if not isinstance(obs_dim, int) or obs_dim < 1:
            raise ValueError(f"obs_dim: must be a positive integer, got {obs_dim!r}")
        self.config = config if config is not None else FeatureSelectionAgentConfig()
        self.obs_dim = obs_dim
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SeedTree(self.config.seed).seed("init"))
            if self.config.heads > obs_dim:
                raise ValueError(f"heads: {self.config.heads} > obs_dim {obs_dim}")
            # logit of P(Eval | s): one network, or one per feature
            if self.config.heads == 0:
                self.policy = _mlp(obs_dim, self.config.hidden, 1)
            else:
                self.policy = nn.ModuleList(
                    [_mlp(obs_dim, self.config.hidden, 1) for _ in range(self.config.heads)]
                )
            self.value = _mlp(obs_dim, self.config.value_hidden, 1)
            nets = [self.policy] if self.config.heads == 0 else list(self.policy)
            p0 = self.config.init_eval_prob
            with torch.no_grad():
                for net in nets:
                    net[-1].weight.mul_(0.1)
                    net[-1].bias.fill_(float(np.log(p0 / (1.0 - p0))))
        if self.config.policy_optimizer == "adam":
            self.opt_policy = torch.optim.Adam(self.policy.parameters(), lr=self.config.lr_policy)
        else:
            self.opt_policy = torch.optim.SGD(self.policy.parameters(), lr=self.config.lr_policy)
        self.opt_value = torch.optim.Adam(self.value.parameters(), lr=self.config.lr_value)
        self.generator = torch.Generator().manual_seed(SeedTree(self.config.seed).seed("sampling"))
        self.updates = 0
        H = max(1, self.config.heads)
        self.obs_count = torch.zeros(H, dtype=torch.float64)
        self.obs_mean = torch.zeros(H, obs_dim, dtype=torch.float64)
        self.obs_m2 = torch.zeros(H, obs_dim, dtype=torch.float64)
        self._scale_cache: tuple[torch.Tensor, torch.Tensor] | None = None

    # ------------------------------------------------------------------ acting
    def _obs(self, obs: Any) -> torch.Tensor:
        if not isinstance(obs, np.ndarray):
            raise TypeError(f"obs: expected a numpy array, got {type(obs).__name__}")
        if obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            raise ValueError(f"obs: expected shape (B, {self.obs_dim}), got {obs.shape}")
        if not np.all(np.isfinite(obs)):
            raise ValueError("obs: contains NaN or inf")
        return torch.as_tensor(obs, dtype=torch.float32)

    def _head_index(self, obs: torch.Tensor) -> torch.Tensor:
        """(B,) head of each row: the current step (from the one-hot), 0 without heads
        or after the last decision."""
        h = self.config.heads
        if h == 0:
            return torch.zeros(obs.shape[0], dtype=torch.long)
        onehot = obs[:, -h:]
        return torch.where(onehot.sum(dim=1) > 0, onehot.argmax(dim=1), torch.zeros(obs.shape[0], dtype=torch.long))

    def _update_obs_stats(self, obs: torch.Tensor) -> None:
        """Running mean and variance per head (Chan et al.'s parallel update)."""
        idx = self._head_index(obs)
        x = obs.double()
        for k in torch.unique(idx).tolist():
            xk = x[idx == k]
            n_b = float(xk.shape[0])
            mean_b = xk.mean(dim=0)
            m2_b = ((xk - mean_b) ** 2).sum(dim=0)
            n_a = float(self.obs_count[k])
            delta = mean_b - self.obs_mean[k]
            tot = n_a + n_b
            self.obs_mean[k] = self.obs_mean[k] + delta * (n_b / tot)
            self.obs_m2[k] = self.obs_m2[k] + m2_b + delta**2 * (n_a * n_b / tot)
            self.obs_count[k] = tot
        self._scale_cache = None

    def _scaler(self) -> tuple[torch.Tensor, torch.Tensor]:
        """float32 (H, D) mean and 1 / std of the running statistics (cached)."""
        if self._scale_cache is None:
            cnt = self.obs_count.clamp(min=1.0)[:, None]
            inv = 1.0 / torch.sqrt(self.obs_m2 / cnt + 1e-4)
            self._scale_cache = (self.obs_mean.float(), inv.float())
        return self._scale_cache

    def _normalized(self, obs: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        if not self.config.normalize_obs:
            return obs
        mean, inv = self._scaler()
        return ((obs - mean[idx]) * inv[idx]).clamp(-5.0, 5.0)

    def _logits(self, obs: torch.Tensor) -> torch.Tensor:
        """(B,) logit of pi(Eval | s)."""
        idx = self._head_index(obs)
        x = self._normalized(obs, idx)
        if self.config.heads == 0:
            out = self.policy(x)[:, 0]
        else:
            out = torch.zeros(obs.shape[0], dtype=torch.float32)
            for k in torch.unique(idx).tolist():
                rows = torch.nonzero(idx == k)[:, 0]
                out = out.index_put((rows,), self.policy[k](x[rows])[:, 0])
        L = self.config.logit_bound
        return L * torch.tanh(out / L) if L > 0 else out

    def _values(self, obs: torch.Tensor) -> torch.Tensor:
        """(B,) V(s), on the same standardised inputs as the policy."""
        return self.value(self._normalized(obs, self._head_index(obs)))[:, 0]

    def eval_probability(self, obs: np.ndarray) -> np.ndarray:
        """float64 (B,) pi(Eval | s)."""
        with torch.no_grad():
            return torch.sigmoid(self._logits(self._obs(obs))).double().numpy()

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """int64 (B,) actions for float32 (B, D) observations: sampled from pi with the
        agent's generator when ``explore``, else the more likely action (Eval on ties)."""
        with torch.no_grad():
            p = torch.sigmoid(self._logits(self._obs(obs)))
            if explore:
                a = (torch.rand(p.shape, generator=self.generator) < p).long()
            else:
                a = (p >= 0.5).long()
        return a.numpy().astype(np.int64)

    # ---------------------------------------------------------------- learning
    def _tensors(self, batch: Batch) -> tuple[torch.Tensor, ...]:
        """Flattened (T * B,) float32 tensors obs, next_obs, action, reward, done of an
        episode batch (time-major rows); updates the running observation statistics."""
        T, B, D = batch.obs.shape
        if D != self.obs_dim:
            raise ValueError(f"batch.obs: expected {self.obs_dim} features, got {D}")
        obs = torch.as_tensor(batch.obs.reshape(T * B, D), dtype=torch.float32)
        nxt = torch.as_tensor(batch.next_obs.reshape(T * B, D), dtype=torch.float32)
        a = torch.as_tensor(batch.action.reshape(T * B), dtype=torch.float32)
        r = torch.as_tensor(batch.reward.reshape(T * B), dtype=torch.float32)
        done = torch.as_tensor(batch.done.reshape(T * B), dtype=torch.float32)
        if self.config.normalize_obs:
            self._update_obs_stats(obs)
        return obs, nxt, a, r, done

    def _policy_step(self, obs: torch.Tensor, a: torch.Tensor, adv: torch.Tensor) -> dict[str, float]:
        c = self.config
        if c.normalize_advantages and adv.numel() > 1:
            adv = adv / (adv.std() + 1e-8)
        logits = self._logits(obs)
        logp = -nn.functional.binary_cross_entropy_with_logits(logits, a, reduction="none")
        p = torch.sigmoid(logits)
        ent = -(p * torch.log(p + 1e-12) + (1 - p) * torch.log(1 - p + 1e-12))
        l1 = sum(w.abs().sum() for w in self.policy.parameters())
        loss = -(adv * logp).mean() - c.entropy * ent.mean() + c.l1 * l1
        self.opt_policy.zero_grad()
        loss.backward()
        self.opt_policy.step()
        return {"policy_loss": float(loss.detach()), "entropy": float(ent.mean().detach()), "l1": float(l1.detach())}

    # ------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Parameters, optimiser states, sampling generator and counters."""
        return {
            "name": self.name,
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.config).items()},
            "obs_dim": self.obs_dim,
            "policy": self.policy.state_dict(),
            "value": self.value.state_dict(),
            "opt_policy": self.opt_policy.state_dict(),
            "opt_value": self.opt_value.state_dict(),
            "generator": self.generator.get_state(),
            "updates": self.updates,
            "obs_count": self.obs_count.clone(),
            "obs_mean": self.obs_mean.clone(),
            "obs_m2": self.obs_m2.clone(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restores :meth:`state_dict` (the agent must have the same config)."""
        if state.get("name") != self.name:
            raise ValueError(f"state: saved by {state.get('name')!r}, not {self.name!r}")
        if int(state["obs_dim"]) != self.obs_dim:
            raise ValueError(f"state: obs_dim {state['obs_dim']} != {self.obs_dim}")
        self.policy.load_state_dict(state["policy"])
        self.value.load_state_dict(state["value"])
        self.opt_policy.load_state_dict(state["opt_policy"])
        self.opt_value.load_state_dict(state["opt_value"])
        self.generator.set_state(state["generator"])
        self.updates = int(state["updates"])
        self.obs_count = state["obs_count"].clone()
        self.obs_mean = state["obs_mean"].clone()
        self.obs_m2 = state["obs_m2"].clone()
        self._scale_cache = None
