"""A2C (advantage actor-critic, Mnih et al. 2016's synchronous variant) for discrete
actions over a batch of envs, with a Lagrangian price on spend for budgets.

Data: :meth:`A2C.update` learns from one *rollout*: a :class:`~simcore.algos.protocol.Batch`
with one row per env slot b (B rows) and K steps per row (columns of shape (B, K, ...)):

=============  ============  ==============================================================
column         shape/dtype   meaning
=============  ============  ==============================================================
obs            (B, K, D) f   s_t
action         (B, K) int    a_t in [0, n_actions)
reward         (B, K) f      r_t
next_obs       (B, K, D) f   s_{t+1} (NEXT_STEP autoreset: the ended episode's last state)
terminated     (B, K) bool   the episode ended at t (no bootstrap)
truncated      (B, K) bool   the episode was cut at t (bootstrap from V(next_obs_t))
valid          (B, K) bool   False for NEXT_STEP autoreset rows (the reset step: no transition)
cost           (B, K) f      optional: the spend of step t (for the budget price)
reward_all     (B, K, A) f   optional (``all_actions``): E[r_t | s_t, a] for every action a
cost_all       (B, K, A) f   optional (``all_actions``): E[c_t | s_t, a] for every action a
=============  ============  ==============================================================

K-step returns and advantages (the slides' "CLTV RL: Algorithm Design (3)"; the A3C
forward view: step t of a rollout of length K bootstraps at the rollout's end, so it
uses k = K - t rewards, or fewer when its episode ends first)::

    R_t = r_t + gamma * { 0                    if terminated_t
                          V(next_obs_t)        if truncated_t or t = K - 1
                          R_{t+1}              otherwise }
        = sum_{i<k} gamma^i r_{t+i} + gamma^k V(s_{t+k})   (no V term after a termination)
    A_t = R_t - V(s_t)

An autoreset row (valid = False) follows a done step, so no valid row's return reaches
through it; it is excluded from the losses.  Losses over the valid rows (mean)::

    policy loss  L_pi = -log pi(a_t | s_t) A_t - beta H(pi(. | s_t))    (A_t a constant)
    value loss   L_V  = (R_t - V(s_t))^2
    loss = L_pi + value_coef L_V

All-action immediate term (``all_actions``, for simulators that give the exact expected
reward of every action in the state the action was taken in, as the lifecycle simulator
does).  With rbar(s, a) = E[r - mu c | s, a] and the continuation C_t = R_t - rbar_t
(gamma times the return from t + 1), the policy loss becomes::

    L_pi = -sum_a pi(a | s_t) rbar(s_t, a) - log pi(a_t | s_t) (C_t - b_t) - beta H,
    b_t  = V(s_t) - sum_a pi(a | s_t) rbar(s_t, a)     (a function of s_t only)

whose gradient has the expectation of the sampled one (the first term is the exact
expectation over a_t of the immediate part, as in mean actor-critic, Allen et al. 2017),
with the immediate reward's sampling-over-actions noise removed.  With
``normalize_advantage`` both parts are divided by the same std of A_t.

Budget (a Lagrangian price on spend): the learner sees r_t - mu c_t, c_t the step's
cost.  With ``cost_limit`` set (allowed mean spend per valid row), the price mu follows
projected dual ascent once per iteration (:meth:`A2C.end_iteration`)::

    mu <- clip(mu + price_lr * (mean cost - cost_limit) / cost_limit, 0, price_max)

so mu rises while the policy overspends and falls back to 0 while it underspends; a
policy that maximises E[sum r - mu c] at the dual optimum maximises E[sum r] subject to
the spend limit (weak duality; exact when the constraint binds).  The env itself may
enforce a hard budget as well; the price keeps the policy from spending the budget on
the first days.

Networks: policy pi(a|s) = softmax(MLP) and value V(s) = linear(MLP), separate, each
``hidden`` tanh layers (default 3 x 256, the slides), optionally behind an obs encoder
(a domain module: ``encoder(generator) -> nn.Module`` with an ``out_dim`` attribute).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from simcore.algos.base import check_config, check_obs, check_positive, rng_state, set_rng_state
from simcore.algos.protocol import AgentBase, Batch

#: the rollout columns A2C reads (``cost`` optional)
COLUMNS = ("obs", "action", "reward", "next_obs", "terminated", "truncated", "valid")

#: builds an obs encoder (an nn.Module with ``out_dim``) from a seeded generator
EncoderFactory = Callable[[torch.Generator], nn.Module]


@dataclass(frozen=True)
class A2CConfig:
    """Hyper-parameters of :class:`A2C` (defaults: the slides' "DRL model settings").

    Attributes:
        gamma: discount factor in [0, 1] (0.99).
        hidden: tanh hidden layers of the policy and of the value net (each >= 1;
            (256, 256, 256)).
        lr: Adam step size of both nets (> 0; 2.5e-4).
        entropy_coef: beta, weight of the entropy bonus (>= 0; 0.01).
        value_coef: weight of the value loss (> 0; 0.5).
        max_grad_norm: global gradient-norm clip per net (> 0; 0 = no clipping; 0.5).
        reward_scale: rewards (and costs) are multiplied by this before learning (> 0).
        normalize_advantage: standardise A over the valid rows of a rollout.
        all_actions: use the all-action immediate term (module docstring; the batch
            must carry ``reward_all``, and ``cost_all`` when a price is set).
        cost_limit: allowed mean cost per valid row (> 0), or None: no price updates.
        price_lr: dual step size of the price mu (>= 0).
        price_init: initial price mu (>= 0).
        price_max: upper clip of mu (> 0).
        seed: network initialisation and action sampling (>= 0).
    """

    gamma: float = 0.99
    hidden: tuple[int, ...] = (256, 256, 256)
    lr: float = 2.5e-4
    entropy_coef: float = 0.01
    value_coef: float = 0.5
    max_grad_norm: float = 0.5
    reward_scale: float = 1.0
    normalize_advantage: bool = False
    all_actions: bool = False
    cost_limit: float | None = None
    price_lr: float = 0.5
    price_init: float = 0.0
    price_max: float = 100.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma: must lie in [0, 1], got {self.gamma!r}")
        if not self.hidden or any(not isinstance(h, int) or h < 1 for h in self.hidden):
            raise ValueError(f"hidden: need positive integer layer sizes, got {self.hidden!r}")
        for name in ("lr", "value_coef", "reward_scale", "price_max"):
            check_positive(name, getattr(self, name))
        for name in ("entropy_coef", "max_grad_norm", "price_lr", "price_init"):
            check_positive(name, getattr(self, name), allow_zero=True)
        if self.cost_limit is not None:
            check_positive("cost_limit", self.cost_limit)
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: must be an integer >= 0, got {self.seed!r}")


def kstep_returns(reward: torch.Tensor, next_value: torch.Tensor, terminated: torch.Tensor,
                  truncated: torch.Tensor, gamma: float) -> torch.Tensor:
    """K-step returns R (B, K) of one rollout (module docstring).

    Args:
        reward: r_t, float (B, K).
        next_value: V(next_obs_t), float (B, K) (used where truncated or at t = K - 1).
        terminated, truncated: bool (B, K).
        gamma: discount factor.
    """
    if reward.ndim != 2 or next_value.shape != reward.shape:
        raise ValueError(f"reward, next_value: expected equal (B, K) shapes, got {tuple(reward.shape)} "
                         f"and {tuple(next_value.shape)}")
    term = terminated.to(torch.bool)
    trunc = truncated.to(torch.bool)
    out = torch.empty_like(reward)
    k = reward.shape[1]
    ahead = next_value[:, k - 1]
    for t in range(k - 1, -1, -1):
        boot = next_value[:, t] if t == k - 1 else torch.where(trunc[:, t], next_value[:, t], ahead)
        ahead = reward[:, t] + gamma * torch.where(term[:, t], torch.zeros_like(boot), boot)
        out[:, t] = ahead
    return out


def tanh_mlp(sizes: list[int], generator: torch.Generator, final_scale: float = 1.0) -> nn.Sequential:
    """A tanh MLP sizes[0] -> ... -> sizes[-1] (no activation after the last layer);
    weights and biases uniform(+-1/sqrt(fan_in)) from ``generator``, the last layer
    scaled by ``final_scale`` (0.01 for the policy: a near-uniform initial policy)."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(int(sizes[i]), int(sizes[i + 1]))
        bound = 1.0 / math.sqrt(sizes[i]) * (final_scale if i == len(sizes) - 2 else 1.0)
        with torch.no_grad():
            nn.init.uniform_(lin.weight, -bound, bound, generator=generator)
            nn.init.uniform_(lin.bias, -bound, bound, generator=generator)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    """Separate policy (logits (n, A)) and value ((n,)) networks, each behind its own
    copy of the optional obs encoder."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...], generator: torch.Generator,
                 encoder: EncoderFactory | None = None) -> None:
        super().__init__()
        enc_p = encoder(generator) if encoder is not None else nn.Identity()
        enc_v = encoder(generator) if encoder is not None else nn.Identity()
        width = int(getattr(enc_p, "out_dim", obs_dim))
        self.policy = nn.Sequential(enc_p, tanh_mlp([width, *hidden, n_actions], generator, 0.01))
        self.value = nn.Sequential(enc_v, tanh_mlp([width, *hidden, 1], generator))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.policy(obs), self.value(obs).squeeze(-1)


def rollout_tensors(batch: Batch, n_actions: int) -> dict[str, torch.Tensor]:
    """The rollout columns as tensors (float32 obs/reward/cost, int64 action, bool
    flags), checked; ``cost`` is zeros when absent."""
    missing = [c for c in COLUMNS if c not in batch]
    if missing:
        raise ValueError(f"batch: missing rollout columns {missing} (have {batch.keys()})")
    reward = np.asarray(batch.reward, dtype=np.float32)
    if reward.ndim != 2:
        raise ValueError(f"batch.reward: expected shape (B, K), got {reward.shape}")
    action = np.asarray(batch.action)
    if action.shape != reward.shape or action.dtype.kind not in "iu":
        raise ValueError(f"batch.action: expected integers of shape {reward.shape}, got {action.dtype}{action.shape}")
    if action.size and (action.min() < 0 or action.max() >= n_actions):
        raise ValueError(f"batch.action: actions must lie in [0, {n_actions}), got [{action.min()}, {action.max()}]")
    cost = np.asarray(batch.cost, dtype=np.float32) if "cost" in batch else np.zeros_like(reward)
    for name, a in (("reward", reward), ("cost", cost), ("obs", batch.obs), ("next_obs", batch.next_obs)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"batch.{name}: contains NaN or inf")
    t = {k: torch.as_tensor(np.asarray(batch[k], dtype=np.float32)) for k in ("obs", "next_obs")}
    t.update(reward=torch.as_tensor(reward), cost=torch.as_tensor(cost),
             action=torch.as_tensor(action.astype(np.int64)))
    for k in ("reward_all", "cost_all"):
        if k in batch:
            a = np.asarray(batch[k], dtype=np.float32)
            if a.shape != reward.shape + (n_actions,):
                raise ValueError(f"batch.{k}: expected shape {reward.shape + (n_actions,)}, got {a.shape}")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"batch.{k}: contains NaN or inf")
            t[k] = torch.as_tensor(a)
    for k in ("terminated", "truncated", "valid"):
        t[k] = torch.as_tensor(np.asarray(batch[k], dtype=bool))
    return t


def a2c_loss(net: ActorCritic, t: Mapping[str, torch.Tensor], cfg: A2CConfig,
             price: float) -> tuple[torch.Tensor, dict[str, float]]:
    """The A2C loss of one rollout (module docstring) and its metrics."""
    b, k, d = t["obs"].shape
    with torch.no_grad():
        next_v = net.value(t["next_obs"].reshape(b * k, d)).reshape(b, k)
    r = cfg.reward_scale * (t["reward"] - price * t["cost"])
    ret = kstep_returns(r, next_v, t["terminated"], t["truncated"], cfg.gamma)
    logits, v = net(t["obs"].reshape(b * k, d))
    v = v.reshape(b, k)
    mask = t["valid"]
    n = mask.sum().clamp(min=1)
    adv = (ret - v).detach()
    if cfg.normalize_advantage and int(mask.sum()) > 1:
        sel = adv[mask]
        adv = (adv - sel.mean()) / (sel.std() + 1e-8)
    logp_all = F.log_softmax(logits, dim=-1)
    logp = logp_all.gather(1, t["action"].reshape(-1, 1)).reshape(b, k)
    ent = -(logp_all.exp() * logp_all).sum(-1).reshape(b, k)
    m = mask.to(torch.float32)
    if cfg.all_actions:
        pol = _all_action_policy_loss(t, cfg, price, r, ret, v.detach(), logp_all, logp, ent, m, n)
    else:
        pol = -((logp * adv + cfg.entropy_coef * ent) * m).sum() / n
    val = (((ret - v) ** 2) * m).sum() / n
    loss = pol + cfg.value_coef * val
    with torch.no_grad():
        metrics = {"policy_loss": float(pol), "value_loss": float(val), "entropy": float((ent * m).sum() / n),
                   "advantage": float((adv * m).sum() / n)}
    return loss, metrics


def _all_action_policy_loss(t: Mapping[str, torch.Tensor], cfg: A2CConfig, price: float, r: torch.Tensor,
                            ret: torch.Tensor, v: torch.Tensor, logp_all: torch.Tensor, logp: torch.Tensor,
                            ent: torch.Tensor, m: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """The all-action policy loss (module docstring); shapes (B, K) except logp_all
    (B K, A); r the learner's reward r_t - mu c_t (scaled), ret R_t, v V(s_t) (detached)."""
    if "reward_all" not in t or (price != 0 and "cost_all" not in t):
        raise ValueError("batch: all_actions needs the reward_all (and, with a price, cost_all) columns")
    b, k = r.shape
    rbar = t["reward_all"] - price * t["cost_all"] if price != 0 else t["reward_all"]
    rbar = cfg.reward_scale * rbar.reshape(b * k, -1)
    pi = logp_all.exp()
    immediate = (pi * rbar).sum(-1).reshape(b, k)  # E_pi[rbar(s_t, .)], differentiable in pi
    cont = (ret - r).detach()  # C_t = R_t - r_t
    base = v - immediate.detach()
    adv_c = cont - base
    scale = torch.ones(())
    if cfg.normalize_advantage and int(m.sum()) > 1:
        scale = (ret - v)[m.bool()].std() + 1e-8
    return -(((immediate + logp * adv_c) / scale + cfg.entropy_coef * ent) * m).sum() / n


class A2C(AgentBase):
    """A2C over a batch of envs (module docstring).

    Args:
        obs_dim: D (>= 1).
        n_actions: A (>= 2).
        config: :class:`A2CConfig`.
        encoder: optional obs encoder factory (a domain's context-aware input).
    """

    name = "a2c"

    def __init__(self, obs_dim: int, n_actions: int, config: A2CConfig | None = None,
                 encoder: EncoderFactory | None = None) -> None:
        if not isinstance(obs_dim, int) or obs_dim < 1:
            raise ValueError(f"obs_dim: must be an integer >= 1, got {obs_dim!r}")
        if not isinstance(n_actions, int) or n_actions < 2:
            raise ValueError(f"n_actions: must be an integer >= 2, got {n_actions!r}")
        self.config = cfg = config or A2CConfig()
        self.obs_dim, self.n_actions = obs_dim, n_actions
        gen = torch.Generator().manual_seed(cfg.seed)
        # nn.Linear's default initialisation (overwritten from ``gen``) draws from torch's
        # global generator: fork it, so that building an agent leaves the global state alone
        with torch.random.fork_rng(devices=[]):
            self.net = ActorCritic(obs_dim, n_actions, cfg.hidden, gen, encoder)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self.rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0xA2C]))
        self.price = float(cfg.price_init)
        self._cost_sum, self._rows = 0.0, 0

    def probs(self, obs: np.ndarray) -> np.ndarray:
        """pi(. | s): float64 (B, A) action probabilities."""
        obs = check_obs(obs, self.obs_dim)
        with torch.no_grad():
            logits = self.net.policy(torch.as_tensor(obs, dtype=torch.float32))
            return torch.softmax(logits.double(), dim=-1).numpy()

    def value(self, obs: np.ndarray) -> np.ndarray:
        """V(s): float64 (B,)."""
        obs = check_obs(obs, self.obs_dim)
        with torch.no_grad():
            return self.net.value(torch.as_tensor(obs, dtype=torch.float32)).squeeze(-1).double().numpy()

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """int64 (B,) actions: sampled from pi (inverse CDF on this agent's stream) when
        exploring, else argmax pi."""
        p = self.probs(obs)
        if not explore:
            return p.argmax(axis=1).astype(np.int64)
        u = np.asarray(self.rng.random(p.shape[0]))[:, None]
        return np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), self.n_actions - 1).astype(np.int64)

    def _observe_cost(self, t: Mapping[str, torch.Tensor]) -> None:
        mask = t["valid"]
        self._cost_sum += float(t["cost"][mask].double().sum())
        self._rows += int(mask.sum())

    def _step(self, net: ActorCritic) -> float:
        cfg = self.config
        norm = 0.0
        if cfg.max_grad_norm > 0:
            norm = float(nn.utils.clip_grad_norm_(net.policy.parameters(), cfg.max_grad_norm))
            nn.utils.clip_grad_norm_(net.value.parameters(), cfg.max_grad_norm)
        self.opt.step()
        return norm

    def update(self, batch: Batch) -> dict[str, float]:
        """One gradient step on one rollout (module docstring); returns the losses."""
        t = rollout_tensors(batch, self.n_actions)
        self._observe_cost(t)
        if not bool(t["valid"].any()):
            return {}
        loss, metrics = a2c_loss(self.net, t, self.config, self.price)
        self.opt.zero_grad()
        loss.backward()
        metrics["grad_norm"] = self._step(self.net)
        return metrics

    def end_iteration(self) -> dict[str, float]:
        """The dual step of the price (module docstring); returns mean cost and price."""
        cfg = self.config
        mean_cost = self._cost_sum / self._rows if self._rows else 0.0
        if cfg.cost_limit is not None and self._rows:
            step = cfg.price_lr * (mean_cost - cfg.cost_limit) / cfg.cost_limit
            self.price = float(min(max(self.price + step, 0.0), cfg.price_max))
        self._cost_sum, self._rows = 0.0, 0
        return {"mean_cost": mean_cost, "price": self.price}

    def state_dict(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "net": self.net.state_dict(), "opt": self.opt.state_dict(),
                "rng": rng_state(self.rng), "price": self.price, "cost_sum": self._cost_sum, "rows": self._rows}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_config(state.get("config"), asdict(self.config))
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        set_rng_state(self.rng, state["rng"])
        self.price = float(state["price"])
        self._cost_sum, self._rows = float(state["cost_sum"]), int(state["rows"])
