"""DDPG with gradient fusion (the ranking article's section DDPG与梯度融合).

Actor mu(s | theta_mu) (MLP, tanh output: weights in [-1, 1]^m) and critic
Q(s, a | theta_Q) (MLP on [s, a]), target networks updated softly (tau), a replay
memory, Gaussian exploration.  The actor minimises

    -1/N sum_i Q(s_i, mu(s_i))  +  lambda * 1/N sum_i CE(mu(s_i), X_i, Y_i),

with CE the pointwise LTR cross entropy of the page shown in s_i:
CE(a, X, Y) = -1/n sum_k [y_k log sigmoid(a.x_k) + (1 - y_k) log(1 - sigmoid(a.x_k))],
so its gradient is the article's  -grad_a Q grad mu + lambda grad_a L grad mu  (the
article writes L as the log-likelihood; we descend the cross entropy, its negative,
which is the only reading under which the LTR term pulls towards the labels).
``ltr_weight=0`` is plain DDPG.

RNEU: the norm of the expected semi-gradient TD update E[delta grad_{theta_Q} Q(s, a)]
over the transitions collected in an iteration (fresh data, before replay), the
network analogue of the linear agent's E[delta phi(s, a)].
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from simcore.algos.base import (
    Agent,
    Transition,
    check_config,
    check_obs,
    check_positive,
    rng_state,
    set_rng_state,
)
from simcore.algos.nets import Critic, mlp, soft_update
from simcore.algos.replay import Replay

LTR_LABELS = ("click", "purchase", "click_or_purchase")

_REPLAY_KEYS = (
    "obs", "action", "reward", "next_obs", "terminated", "truncated", "last_page",
    "page_features", "page_mask", "clicks", "purchased", "b", "c", "m", "expected_clicks",
)


@dataclass(frozen=True)
class DDPGConfig:
    """Hyper-parameters of :class:`DDPG` (and :class:`simcore.domains.search.agents.fbe.DPGFBE`).

    Attributes:
        gamma: discount rate (1.0: finite-horizon, undiscounted SSMDP).
        hidden: hidden layer sizes of actor and critic.
        actor_lr, critic_lr: Adam step sizes.
        tau: soft target-update rate.
        batch_size: replay minibatch size.
        replay_capacity: transitions kept.
        warmup: transitions in the replay before learning starts.
        updates_per_batch: gradient steps per ``update`` call (one call per env step).
        noise_std: std of the Gaussian exploration on the weights.
        ltr_weight: lambda of the LTR cross-entropy term (0: plain DDPG).
        ltr_label: label Y of the LTR term: "click", "purchase" or "click_or_purchase".
        ltr_intercept: give the LTR logistic model a learned intercept b (sigmoid(a.x +
            b)).  Without it (the article's formula) the mostly-negative labels can
            only be fitted by pushing every weight negative, which distorts the ranking
            direction; b absorbs the base rate and does not affect the ranking.
        ltr_scale: give the LTR logistic model a learned scale kappa > 0
            (sigmoid(kappa a.x + b)).  The ranking is invariant to the scale of a, and
            the actor's tanh bounds |a_i| <= 1, so without kappa the term pulls a
            towards the box-constrained fit, whose direction differs from the
            unconstrained LTR model's; with kappa only a's direction is fitted.
        reward_scale: rewards are multiplied by this before learning.
        seed: seeds network initialisation, exploration and replay sampling.
    """

    gamma: float = 1.0
    hidden: tuple[int, ...] = (64, 64)
    actor_lr: float = 3e-4
    critic_lr: float = 1e-3
    tau: float = 0.01
    batch_size: int = 256
    replay_capacity: int = 100_000
    warmup: int = 2_000
    updates_per_batch: int = 1
    noise_std: float = 0.3
    ltr_weight: float = 0.0
    ltr_label: str = "click_or_purchase"
    ltr_intercept: bool = True
    ltr_scale: bool = True
    reward_scale: float = 0.01
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma: must lie in [0, 1], got {self.gamma!r}")
        for name in ("actor_lr", "critic_lr", "reward_scale"):
            check_positive(name, getattr(self, name))
        for name in ("noise_std", "ltr_weight"):
            check_positive(name, getattr(self, name), allow_zero=True)
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"tau: must lie in (0, 1], got {self.tau!r}")
        for name in ("batch_size", "replay_capacity", "updates_per_batch"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise ValueError(f"warmup: must be an integer >= 0, got {self.warmup!r}")
        if self.ltr_label not in LTR_LABELS:
            raise ValueError(f"ltr_label: expected one of {LTR_LABELS}, got {self.ltr_label!r}")
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"hidden: need positive layer sizes, got {self.hidden!r}")


def ltr_cross_entropy(
    action: torch.Tensor,
    features: torch.Tensor,
    mask: torch.Tensor,
    labels: torch.Tensor,
    intercept: torch.Tensor | float = 0.0,
    scale: torch.Tensor | float = 1.0,
) -> torch.Tensor:
    """Pointwise LTR cross entropy per row: float (n,).

    Args:
        action: (n, m) weights a.  features: (n, K, m) items X.  mask: bool (n, K) real
        items.  labels: (n, K) Y in {0, 1}.  intercept: b.  scale: kappa (scalars).

    Returns:
        -1/n_i sum_k mask [y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))],
        z = kappa a.x + b.
    """
    s = scale * torch.einsum("nkm,nm->nk", features, action) + intercept
    ce = F.binary_cross_entropy_with_logits(s, labels, reduction="none")
    maskf = mask.to(ce.dtype)
    return (ce * maskf).sum(dim=1) / maskf.sum(dim=1).clamp_min(1.0)


class DDPG(Agent):
    """DDPG on the ranking weights, with the LTR gradient-fusion term.

    Args:
        obs_dim: D.  n_features: m.  config: :class:`DDPGConfig`.
    """

    name = "ddpg"

    def __init__(self, obs_dim: int, n_features: int, config: DDPGConfig | None = None) -> None:
        self.config = cfg = config if config is not None else DDPGConfig()
        if obs_dim < 1 or n_features < 1:
            raise ValueError(f"obs_dim, n_features: must be >= 1, got {obs_dim}, {n_features}")
        self.obs_dim, self.m = int(obs_dim), int(n_features)
        gen = torch.Generator().manual_seed(int(cfg.seed))
        self.actor = mlp([self.obs_dim, *cfg.hidden, self.m], gen, out_activation=torch.nn.Tanh())
        self.critic = Critic(self.obs_dim, self.m, cfg.hidden, gen)
        self.actor_target = copy.deepcopy(self.actor)
        self.critic_target = copy.deepcopy(self.critic)
        for p in (*self.actor_target.parameters(), *self.critic_target.parameters()):
            p.requires_grad_(False)
        #: intercept of the LTR logistic model (trained with the actor when used)
        self.ltr_bias = torch.zeros((), requires_grad=cfg.ltr_intercept)
        #: log of the LTR model's scale kappa (trained with the actor when used)
        self.ltr_log_scale = torch.zeros((), requires_grad=cfg.ltr_scale)
        actor_params = list(self.actor.parameters()) + [
            p for p, used in ((self.ltr_bias, cfg.ltr_intercept), (self.ltr_log_scale, cfg.ltr_scale)) if used
        ]
        self.actor_opt = torch.optim.Adam(actor_params, lr=cfg.actor_lr, foreach=True)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr, foreach=True)
        self.replay = Replay(cfg.replay_capacity, _REPLAY_KEYS)
        self.rng = np.random.default_rng([int(cfg.seed), 1])
        n_q = sum(p.numel() for p in self.critic.parameters())
        self._neu = torch.zeros(n_q, dtype=torch.float64)
        self._neu_n = 0
        self.gradient_steps = 0

    # ------------------------------------------------------------------ policy
    def mu(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic weights mu(s): float32 (n, m)."""
        with torch.no_grad():
            return self.actor(torch.as_tensor(obs, dtype=torch.float32)).numpy()

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        obs = check_obs(obs, self.obs_dim)
        a = self.mu(obs)
        if explore and self.config.noise_std > 0:
            a = np.clip(a + self.config.noise_std * self.rng.standard_normal(a.shape), -1.0, 1.0)
        return a.astype(np.float32)

    # ------------------------------------------------------------------ learning
    def _tensors(self, data: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
        out = {}
        for k, v in data.items():
            t = torch.as_tensor(v)
            out[k] = t.to(torch.float32) if t.dtype == torch.float64 else t
        return out

    def _critic_target(self, t: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """y = r + gamma (1 - done) Q'(s', mu'(s')): float32 (n,)."""
        cfg = self.config
        with torch.no_grad():
            q2 = self.critic_target(t["next_obs"], self.actor_target(t["next_obs"]))
            done = (t["terminated"] | t["truncated"]).to(torch.float32)
            return cfg.reward_scale * t["reward"] + cfg.gamma * (1.0 - done) * q2

    def _labels(self, t: Mapping[str, torch.Tensor]) -> torch.Tensor:
        lab = self.config.ltr_label
        if lab == "click":
            y = t["clicks"]
        elif lab == "purchase":
            y = t["purchased"]
        else:
            y = t["clicks"] | t["purchased"]
        return y.to(torch.float32)

    def _accumulate_neu(self, batch: Transition) -> None:
        data = {k: getattr(batch, k) for k in _REPLAY_KEYS}
        t = self._tensors(data)
        y = self._critic_target(t)
        q = self.critic(t["obs"], t["action"])
        delta = (y - q).detach()
        grads = torch.autograd.grad((delta * q).sum(), list(self.critic.parameters()))
        self._neu += torch.cat([g.reshape(-1) for g in grads]).to(torch.float64)
        self._neu_n += len(batch)

    def _gradient_step(self) -> dict[str, float]:
        cfg = self.config
        t = self._tensors(self.replay.sample(self.rng, cfg.batch_size))
        y = self._critic_target(t)
        q = self.critic(t["obs"], t["action"])
        critic_loss = F.mse_loss(q, y)
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_opt.step()

        a = self.actor(t["obs"])
        q_pi = self.critic(t["obs"], a)
        actor_loss = -q_pi.mean()
        ltr = torch.zeros(())
        if cfg.ltr_weight > 0:
            ltr = ltr_cross_entropy(
                a, t["page_features"], t["page_mask"], self._labels(t), self.ltr_bias,
                self.ltr_log_scale.exp(),
            ).mean()
            actor_loss = actor_loss + cfg.ltr_weight * ltr
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_opt.step()
        soft_update(self.critic_target, self.critic, cfg.tau)
        soft_update(self.actor_target, self.actor, cfg.tau)
        self.gradient_steps += 1
        return {
            "critic_loss": float(critic_loss.detach()),
            "actor_q": float(q_pi.detach().mean()),
            "ltr_ce": float(ltr.detach()),
        }

    def update(self, batch: Transition) -> dict[str, float]:
        if len(batch) == 0:
            return {}
        self._accumulate_neu(batch)
        self.replay.add(batch)
        if len(self.replay) < max(self.config.warmup, 1):
            return {}
        sums: dict[str, float] = {}
        for _ in range(self.config.updates_per_batch):
            for k, v in self._gradient_step().items():
                sums[k] = sums.get(k, 0.0) + v
        return {k: v / self.config.updates_per_batch for k, v in sums.items()}

    def end_iteration(self) -> dict[str, float]:
        if self._neu_n == 0:
            return {}
        e = self._neu / self._neu_n
        neu = float((e * e).sum())
        self._neu.zero_()
        self._neu_n = 0
        return {"neu": neu, "rneu": float(np.sqrt(neu))}

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.config).items()},
            "actor": self.actor.state_dict(),
            "critic": self.critic.state_dict(),
            "ltr_bias": self.ltr_bias.detach().clone(),
            "ltr_log_scale": self.ltr_log_scale.detach().clone(),
            "actor_target": self.actor_target.state_dict(),
            "critic_target": self.critic_target.state_dict(),
            "actor_opt": self.actor_opt.state_dict(),
            "critic_opt": self.critic_opt.state_dict(),
            "replay": self.replay.state_dict(),
            "rng": rng_state(self.rng),
            "neu": self._neu.clone(),
            "neu_n": self._neu_n,
            "gradient_steps": self.gradient_steps,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_config(state.get("config"), asdict(self.config))
        self.actor.load_state_dict(state["actor"])
        self.critic.load_state_dict(state["critic"])
        with torch.no_grad():
            self.ltr_bias.copy_(state["ltr_bias"])
            self.ltr_log_scale.copy_(state["ltr_log_scale"])
        self.actor_target.load_state_dict(state["actor_target"])
        self.critic_target.load_state_dict(state["critic_target"])
        self.actor_opt.load_state_dict(state["actor_opt"])
        self.critic_opt.load_state_dict(state["critic_opt"])
        self.replay.load_state_dict(state["replay"])
        set_rng_state(self.rng, state["rng"])
        self._neu = state["neu"].clone().to(torch.float64)
        self._neu_n = int(state["neu_n"])
        self.gradient_steps = int(state["gradient_steps"])
