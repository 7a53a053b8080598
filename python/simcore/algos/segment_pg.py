"""Segment-head clipped policy gradient (simcore's own learner, not from the article).

A PPO-style on-policy learner (Schulman et al. 2017's clipped surrogate with GAE) whose
actor is a *per-segment* squashed Gaussian: the observation's segment one-hot g(s)
(the G columns before the last, :func:`simcore.domains.search.spec.segment_of`'s
layout) selects one row of a table, optionally plus a linear term in the observation,

    u ~ N(theta[g(s)] + W s, diag(exp(2 log_std[g(s)]))),   a = tanh(u) in (-1, 1)^m,

theta float (G, m), W float (m, D) (zero and frozen unless ``state_term``), log_std
float (G, m).  The greedy action is tanh(theta[g] + W s): with W = 0 one weight vector
per segment, exactly the class of the per-segment static optimum ("segment-opt").
The critic is a value network V(s) (MLP on s).  The learner reads only what an
off-the-shelf learner gets from the env (columns ``obs``, ``action``, ``reward``,
``next_obs``, ``terminated``, ``truncated`` and the row's ``slot``; ``reward_key="price"``
reads the realised purchase price instead of the env's reward): no simulator
expectations.  Options off by default (tried in docs/ranking.md, not used there):
``state_term``, ``segment_norm`` (advantages normalised within each segment),
``average`` (Polyak averaging of the greedy policy's parameters); the ranking
experiment does use ``learn_std=False`` (a fixed exploration std).

Every ``rollout_steps`` calls of :meth:`update` (one per vector step) and at every
iteration boundary, with done = terminated or truncated and V on the scaled reward
reward_scale * r:

    delta_t = reward_scale r_t + gamma (1 - done_t) V(s'_t) - V(s_t),
    A_t = delta_t + gamma lam (1 - done_t) A_{t+1}   (per slot, backwards in time),
    R_t = A_t + V(s_t)    (the critic's regression target);

then ``epochs`` passes over shuffled minibatches of ``minibatch`` rows of

    actor:  max mean min(rho A', clip(rho, 1 - clip, 1 + clip) A'),
            rho = pi(u | s) / pi_old(u | s),  A' = (A - mean A) / std A,
    critic: min mean (V(s) - R)^2,

(A' per segment of the rollout with ``segment_norm``), with u = atanh(a) recovered from
the batch's action (clamped at +-(1 - 1e-6)).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from simcore.algos.base import check_config, check_obs, check_positive, rng_state, set_rng_state
from simcore.algos.nets import mlp
from simcore.algos.protocol import AgentBase, Batch

#: the batch columns this learner reads
COLUMNS = ("obs", "action", "reward", "next_obs", "terminated", "truncated", "slot")
_EPS = 1e-6


@dataclass(frozen=True)
class SegmentPGConfig:
    """Hyper-parameters of :class:`SegmentPG`.

    Attributes:
        n_segments: G, the one-hot's width in the observation (>= 1).
        gamma: discount in [0, 1].  lam: GAE's lambda in [0, 1].
        rollout_steps: vector steps per policy update (integer >= 1).
        epochs: passes over a rollout (integer >= 1).
        minibatch: rows per gradient step (integer >= 1).
        clip: the surrogate's clip range (> 0).
        actor_lr, critic_lr: Adam step sizes (> 0).
        init_std: initial exploration std in pre-tanh units (> 0).
        min_std: lower bound of the learned std (>= 0, < init_std).
        learn_std: whether log_std is learned (else fixed at init_std, or annealed by
            ``std_decay``).
        std_decay: with ``learn_std`` off, the fixed std is multiplied by this after every
            policy update, std_k = max(min_std, init_std * std_decay^k) (noise annealing);
            in (0, 1], 1 (default): no annealing.
        state_term: whether the linear term W s is learned (else W = 0).
        hidden: the value network's hidden sizes (each >= 1).
        reward_scale: rewards are multiplied by this for the critic (> 0).
        segment_norm: normalise advantages within each segment of a rollout (else over
            the whole minibatch, PPO's default).
        average: rate beta of the Polyak (exponential) average of theta and W that the
            greedy policy uses, theta_bar <- (1 - b_k) theta_bar + b_k theta after update
            k, b_k = max(beta, 1 / k) (a running mean until 1 / beta updates); in [0, 1],
            0 (default): the greedy policy uses theta itself.
        reward_key: the batch column used as reward: "reward" (the env's reward;
            default) or "price" (the realised purchase price of the page, 0 without a
            purchase: the GMV reward).
        seed: seeds initialisation, exploration and minibatch shuffles.
    """

    n_segments: int = 4
    gamma: float = 1.0
    lam: float = 0.95
    rollout_steps: int = 4
    epochs: int = 10
    minibatch: int = 256
    clip: float = 0.2
    actor_lr: float = 1e-2
    critic_lr: float = 1e-3
    init_std: float = 0.5
    min_std: float = 0.02
    learn_std: bool = True
    std_decay: float = 1.0
    state_term: bool = False
    hidden: tuple[int, ...] = (64, 64)
    reward_scale: float = 0.1
    segment_norm: bool = False
    average: float = 0.0
    reward_key: str = "reward"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_segments", "rollout_steps", "epochs", "minibatch"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        for name in ("gamma", "lam", "average"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0.0 <= v <= 1.0:
                raise ValueError(f"{name}: must lie in [0, 1], got {v!r}")
        for name in ("clip", "actor_lr", "critic_lr", "init_std", "reward_scale"):
            check_positive(name, getattr(self, name))
        check_positive("min_std", self.min_std, allow_zero=True)
        if not isinstance(self.std_decay, (int, float)) or isinstance(self.std_decay, bool) \
                or not 0.0 < self.std_decay <= 1.0:
            raise ValueError(f"std_decay: must lie in (0, 1], got {self.std_decay!r}")
        if self.std_decay < 1.0 and self.learn_std:
            raise ValueError("std_decay: anneals a fixed std; set learn_std=False to use it")
        if self.min_std >= self.init_std:
            raise ValueError(f"min_std: must be < init_std ({self.init_std}), got {self.min_std!r}")
        for name in ("learn_std", "state_term", "segment_norm"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: must be a bool, got {getattr(self, name)!r}")
        if self.reward_key not in ("reward", "price"):
            raise ValueError(f"reward_key: must be 'reward' or 'price', got {self.reward_key!r}")
        if not self.hidden or any(not isinstance(h, int) or h < 1 for h in self.hidden):
            raise ValueError(f"hidden: need positive integer layer sizes, got {self.hidden!r}")


def gae(reward: np.ndarray, done: np.ndarray, value: np.ndarray, next_value: np.ndarray, slot: np.ndarray,
        step: np.ndarray, gamma: float, lam: float) -> np.ndarray:
    """GAE advantages of transitions stored in time order (float64 (n,)).

    Args:
        reward, value, next_value: float (n,) scaled rewards, V(s), V(s').
        done: bool (n,) no bootstrap after the row.  slot: int (n,) the session slot.
        step: int (n,) the vector step of each row (non-decreasing).
    A_t = delta_t + gamma lam (1 - done_t) A_next[slot], A_next the slot's next row's
    advantage within the arrays (0 after its last one); delta_t as the module says.
    """
    n = reward.shape[0]
    adv = np.zeros(n)
    if n == 0:
        return adv
    notdone = 1.0 - done.astype(np.float64)
    delta = reward + gamma * notdone * next_value - value
    carry = np.zeros(int(slot.max()) + 1)
    bounds = np.flatnonzero(np.diff(step)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [n]])
    for s0, s1 in zip(starts[::-1], ends[::-1]):
        sl = slot[s0:s1]
        a = delta[s0:s1] + gamma * lam * notdone[s0:s1] * carry[sl]
        adv[s0:s1] = a
        carry[sl] = a
    return adv


class SegmentPG(AgentBase):
    """The segment-head clipped policy gradient (module docstring).

    Args:
        obs_dim: D (the segment one-hot is ``obs[:, D-1-G:D-1]``).  n_features: m.
        config: :class:`SegmentPGConfig`.
    """

    name = "segment-pg"

    def __init__(self, obs_dim: int, n_features: int, config: SegmentPGConfig | None = None) -> None:
        self.config = cfg = config if config is not None else SegmentPGConfig()
        if obs_dim < cfg.n_segments + 1 or n_features < 1:
            raise ValueError(f"obs_dim, n_features: need obs_dim > n_segments and n_features >= 1, "
                             f"got {obs_dim}, {n_features}")
        self.obs_dim, self.m, G = int(obs_dim), int(n_features), cfg.n_segments
        gen = torch.Generator().manual_seed(int(cfg.seed))
        self.theta = torch.zeros(G, self.m, requires_grad=True)
        self.W = torch.zeros(self.m, self.obs_dim, requires_grad=cfg.state_term)
        self.log_std = torch.full((G, self.m), math.log(cfg.init_std), requires_grad=cfg.learn_std)
        params = [self.theta] + ([self.W] if cfg.state_term else []) + ([self.log_std] if cfg.learn_std else [])
        self.actor_opt = torch.optim.Adam(params, lr=cfg.actor_lr)
        self.value = mlp([self.obs_dim, *cfg.hidden, 1], gen, final_init=None)
        self.critic_opt = torch.optim.Adam(self.value.parameters(), lr=cfg.critic_lr)
        self.rng = np.random.default_rng([int(cfg.seed), 7])
        self._buffer: list[Batch] = []
        self.updates = 0
        #: the Polyak averages of theta and W (the greedy policy's, when ``average`` > 0)
        self.theta_bar = self.theta.detach().clone()
        self.W_bar = self.W.detach().clone()

    # ------------------------------------------------------------------ policy
    def _segment(self, obs: torch.Tensor) -> torch.Tensor:
        G = self.config.n_segments
        return torch.argmax(obs[:, -1 - G:-1], dim=1)

    def _dist(self, obs: torch.Tensor, averaged: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std float32 (n, m) of u given s (``averaged``: the Polyak-averaged mean)."""
        g = self._segment(obs)
        theta, W = (self.theta_bar, self.W_bar) if averaged else (self.theta, self.W)
        mean = theta[g] + obs @ W.T
        log_std = self.log_std[g]
        if self.config.min_std > 0:
            log_std = torch.clamp(log_std, min=math.log(self.config.min_std))
        return mean, torch.exp(log_std)

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """float32 (n, m) actions: tanh(u), u sampled (explore) or the mean (the
        Polyak-averaged mean when ``average`` > 0)."""
        obs = check_obs(obs, self.obs_dim)
        with torch.no_grad():
            averaged = not explore and self.config.average > 0
            mean, std = self._dist(torch.as_tensor(obs, dtype=torch.float32), averaged)
        u = mean.numpy().astype(np.float64)
        if explore:
            u = u + std.numpy() * self.rng.standard_normal(u.shape)
        return np.tanh(u).astype(np.float32)

    def greedy_table(self) -> np.ndarray:
        """float32 (G, m): the greedy weights per segment when W = 0 (tanh of theta, or
        of its average)."""
        theta = self.theta_bar if self.config.average > 0 else self.theta.detach()
        return np.tanh(theta.numpy()).astype(np.float32)

    @staticmethod
    def _log_prob(u: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
        """Gaussian log-density of u summed over the m dims (the tanh Jacobian cancels in ratios)."""
        z = (u - mean) / std
        return (-0.5 * z * z - torch.log(std)).sum(dim=1)

    # ------------------------------------------------------------------ learning
    def update(self, batch: Batch) -> dict[str, float]:
        if len(batch) == 0:
            return {}
        step = len(self._buffer)
        part = {k: batch[k] for k in COLUMNS}
        part["reward"] = batch[self.config.reward_key]
        part["step"] = np.full(len(batch), step, dtype=np.int64)
        self._buffer.append(Batch(**part))
        if len(self._buffer) >= self.config.rollout_steps:
            return self._learn()
        return {}

    def end_iteration(self) -> dict[str, float]:
        """Learns from the rows collected since the last update (the env resets next)."""
        return self._learn() if self._buffer else {}

    def _rollout(self) -> dict[str, torch.Tensor]:
        """The buffered rollout with advantages and critic targets as tensors."""
        cfg = self.config
        b = Batch.concat(self._buffer)
        self._buffer = []
        obs = torch.as_tensor(b["obs"], dtype=torch.float32)
        with torch.no_grad():
            v = self.value(obs).squeeze(-1).numpy().astype(np.float64)
            v2 = self.value(torch.as_tensor(b["next_obs"], dtype=torch.float32)).squeeze(-1).numpy()
        done = np.asarray(b["terminated"], bool) | np.asarray(b["truncated"], bool)
        r = cfg.reward_scale * np.asarray(b["reward"], dtype=np.float64)
        adv = gae(r, done, v, v2.astype(np.float64), np.asarray(b["slot"]), np.asarray(b["step"]), cfg.gamma,
                  cfg.lam)
        ret = adv + v
        if cfg.segment_norm:
            g = self._segment(obs).numpy()
            for k in np.unique(g):
                sel = g == k
                adv[sel] = (adv[sel] - adv[sel].mean()) / (adv[sel].std() + 1e-8)
        a = np.clip(np.asarray(b["action"], dtype=np.float64), -1 + _EPS, 1 - _EPS)
        u = torch.as_tensor(np.arctanh(a), dtype=torch.float32)
        with torch.no_grad():
            mean, std = self._dist(obs)
            logp = self._log_prob(u, mean, std)
        return {"obs": obs, "u": u, "logp": logp, "adv": torch.as_tensor(adv, dtype=torch.float32),
                "ret": torch.as_tensor(ret, dtype=torch.float32)}

    def _learn(self) -> dict[str, float]:
        cfg = self.config
        t = self._rollout()
        n = t["obs"].shape[0]
        mb = min(cfg.minibatch, n)
        sums = {"actor_loss": 0.0, "critic_loss": 0.0, "clip_frac": 0.0}
        steps = 0
        for _ in range(cfg.epochs):
            order = torch.as_tensor(self.rng.permutation(n))
            for i in range(0, n - mb + 1, mb):
                idx = order[i:i + mb]
                for k, v in self._step({k: x[idx] for k, x in t.items()}).items():
                    sums[k] += v
                steps += 1
        self.updates += 1
        if cfg.std_decay < 1.0:  # noise annealing of the fixed std (floored at min_std)
            with torch.no_grad():
                self.log_std.add_(math.log(cfg.std_decay)).clamp_(min=math.log(max(cfg.min_std, 1e-12)))
        beta = max(cfg.average, 1.0 / self.updates)
        with torch.no_grad():
            self.theta_bar.mul_(1 - beta).add_(self.theta.detach(), alpha=beta)
            self.W_bar.mul_(1 - beta).add_(self.W.detach(), alpha=beta)
        out = {k: v / max(steps, 1) for k, v in sums.items()}
        out["std"] = float(self._dist(t["obs"][:1])[1].detach().mean()) if n else float("nan")
        return out

    def _step(self, t: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """One gradient step of the actor and of the critic on a minibatch."""
        cfg = self.config
        adv = t["adv"]
        if not cfg.segment_norm:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8) if adv.numel() > 1 else adv * 0
        mean, std = self._dist(t["obs"])
        ratio = torch.exp(self._log_prob(t["u"], mean, std) - t["logp"])
        surrogate = torch.minimum(ratio * adv, torch.clamp(ratio, 1 - cfg.clip, 1 + cfg.clip) * adv)
        actor_loss = -surrogate.mean()
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_opt.step()
        critic_loss = torch.mean((self.value(t["obs"]).squeeze(-1) - t["ret"]) ** 2)
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_opt.step()
        clipped = (torch.abs(ratio.detach() - 1) > cfg.clip).float().mean()
        return {"actor_loss": float(actor_loss.detach()), "critic_loss": float(critic_loss.detach()),
                "clip_frac": float(clipped)}

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        if self._buffer:
            raise RuntimeError("state_dict: call at an iteration boundary (rows are still buffered)")
        return {
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.config).items()},
            "theta": self.theta.detach().clone(), "W": self.W.detach().clone(),
            "log_std": self.log_std.detach().clone(), "value": copy.deepcopy(self.value.state_dict()),
            "theta_bar": self.theta_bar.clone(), "W_bar": self.W_bar.clone(),
            "actor_opt": copy.deepcopy(self.actor_opt.state_dict()),
            "critic_opt": copy.deepcopy(self.critic_opt.state_dict()),
            "rng": rng_state(self.rng), "updates": self.updates,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_config(state.get("config"), asdict(self.config))
        with torch.no_grad():
            self.theta.copy_(state["theta"])
            self.W.copy_(state["W"])
            self.log_std.copy_(state["log_std"])
            self.theta_bar.copy_(state["theta_bar"])
            self.W_bar.copy_(state["W_bar"])
        self.value.load_state_dict(state["value"])
        self.actor_opt.load_state_dict(state["actor_opt"])
        self.critic_opt.load_state_dict(state["critic_opt"])
        set_rng_state(self.rng, state["rng"])
        self.updates = int(state["updates"])
        self._buffer = []
