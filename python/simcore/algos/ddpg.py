"""DDPG (Lillicrap et al. 2016) on continuous actions, with hook points for domain terms.

Actor mu(s | theta_mu) (MLP, tanh output: actions in [-1, 1]^m) and critic
Q(s, a | theta_Q) (MLP on [s, a]), target networks updated softly (tau), a replay
memory, Gaussian exploration.  On a minibatch of n transitions

    critic:  min 1/n sum_i (Q(s_i, a_i) - y_i)^2,
             y_i = target(batch, Q'(s'_i, mu'(s'_i)))   (default: the TD target
             reward_scale r_i + gamma (1 - done_i) Q'(s'_i, mu'(s'_i)));
    actor:   min -1/n sum_i Q(s_i, mu(s_i))  +  extra(batch, mu(s_.))   (default: no extra).

``target`` (:class:`~simcore.algos.hooks.CriticTarget`) and ``extra``
(:class:`~simcore.algos.hooks.ActorTerm`) are hooks passed at construction: the
search domain's LTR gradient fusion and DPG-FBE's full expected backup live in
:mod:`simcore.domains.search.agents`.

RNEU: the norm of the expected semi-gradient TD update E[delta grad_{theta_Q} Q(s, a)]
over the transitions collected in an iteration (fresh data, before replay), the
network analogue of the linear agent's E[delta phi(s, a)].

Bounded output (``bounds``, an :class:`~simcore.algos.bounds.ActionBounds`): the actor's
last layer is a sigmoid, o(s) in [0, 1]^m, and the action is a = L + (U - L) o(s)
(the tier-traffic article's head), with L, U read at every call so that the bounds
may move while the agent trains.  Exploration then adds N(0, noise_std^2) to o and
clips o to [0, 1] (actions stay in [L, U]); the replay stores the effective action a,
and the critic, its target and the actor loss all see a (the map is differentiable).
Without ``bounds`` the actor is the tanh one above, unchanged.  ``noise_mask`` (bool
(m,), None: all) restricts exploration noise to some dimensions (single-dimension
exploration).

TD3 options (Fujimoto et al. 2018; all off by default, so DDPG is unchanged):
``twin_critic`` learns two critics Q1, Q2 and bootstraps from min(Q1', Q2') (the
actor ascends Q1); ``target_noise`` adds clip(N(0, target_noise^2), +-target_noise_clip)
to mu'(s') in the target (target policy smoothing: the critic fits Q averaged over a
neighbourhood of actions, which the actor cannot exploit through narrow critic errors);
``policy_delay`` updates the actor and the target networks every d-th critic step.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from simcore.algos.base import (
    check_config,
    check_obs,
    check_positive,
    rng_state,
    set_rng_state,
)
from simcore.algos.bounds import ActionBounds
from simcore.algos.hooks import ActorTerm, CriticTarget, hook_columns
from simcore.algos.nets import Critic, mlp, soft_update
from simcore.algos.protocol import AgentBase, Batch
from simcore.algos.replay import Replay

#: the batch columns DDPG itself reads
COLUMNS = ("obs", "action", "reward", "next_obs", "terminated", "truncated")


@dataclass(frozen=True)
class DDPGConfig:
    """Hyper-parameters of :class:`DDPG`.

    Attributes:
        gamma: discount rate in [0, 1] (1.0: finite-horizon, undiscounted).
        hidden: hidden layer sizes of actor and critic (each >= 1).
        actor_lr, critic_lr: Adam step sizes (> 0).
        tau: soft target-update rate in (0, 1].
        batch_size: replay minibatch size (>= 1).
        replay_capacity: transitions kept (>= 1).
        warmup: transitions in the replay before learning starts (>= 0).
        updates_per_batch: gradient steps per ``update`` call (>= 1; one call per env step).
        noise_std: std of the Gaussian exploration on the actions (>= 0).
        reward_scale: rewards are multiplied by this before learning (> 0).
        twin_critic: TD3's clipped double-Q target min(Q1', Q2') (default False).
        target_noise: std of TD3's target policy smoothing noise on mu'(s'), in
            action units (in sigmoid-output units when bounded); >= 0, default 0 (off).
        target_noise_clip: the smoothing noise is clipped to +-this (> 0; default 0.5).
        policy_delay: actor and target updates every this many critic steps
            (integer >= 1; default 1, DDPG).
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
    reward_scale: float = 0.01
    twin_critic: bool = False
    target_noise: float = 0.0
    target_noise_clip: float = 0.5
    policy_delay: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma: must lie in [0, 1], got {self.gamma!r}")
        for name in ("actor_lr", "critic_lr", "reward_scale"):
            check_positive(name, getattr(self, name))
        check_positive("noise_std", self.noise_std, allow_zero=True)
        check_positive("target_noise", self.target_noise, allow_zero=True)
        check_positive("target_noise_clip", self.target_noise_clip)
        if not isinstance(self.twin_critic, bool):
            raise ValueError(f"twin_critic: must be a bool, got {self.twin_critic!r}")
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"tau: must lie in (0, 1], got {self.tau!r}")
        for name in ("batch_size", "replay_capacity", "updates_per_batch", "policy_delay"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise ValueError(f"warmup: must be an integer >= 0, got {self.warmup!r}")
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"hidden: need positive layer sizes, got {self.hidden!r}")


#: the TD3 options' defaults (checkpoints written before they existed load with these)
_TD3_DEFAULTS = {"twin_critic": False, "target_noise": 0.0, "target_noise_clip": 0.5, "policy_delay": 1}


class TDTarget:
    """The default critic target y = reward_scale r + gamma (1 - done) Q'(s', mu'(s'))."""

    columns: tuple[str, ...] = ()

    def __call__(self, t: Mapping[str, torch.Tensor], next_q: torch.Tensor, gamma: float,
                 reward_scale: float) -> torch.Tensor:
        done = (t["terminated"] | t["truncated"]).to(torch.float32)
        return reward_scale * t["reward"] + gamma * (1.0 - done) * next_q

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        return None


class DDPG(AgentBase):
    """DDPG with a pluggable critic target and actor term (module docstring).

    Args:
        obs_dim: D.  n_features: m (action size).  config: :class:`DDPGConfig`.
        target: the critic target hook (default :class:`TDTarget`).
        actor_term: an extra actor-loss hook (default none).
        bounds: movable action bounds [L, U] (m,): sigmoid actor, a = L + (U - L) o
            (module docstring); None: the tanh actor with actions in [-1, 1]^m.
    """

    name = "ddpg"

    def __init__(
        self,
        obs_dim: int,
        n_features: int,
        config: DDPGConfig | None = None,
        target: CriticTarget | None = None,
        actor_term: ActorTerm | None = None,
        bounds: ActionBounds | None = None,
    ) -> None:
        self.config = cfg = config if config is not None else DDPGConfig()
        if obs_dim < 1 or n_features < 1:
            raise ValueError(f"obs_dim, n_features: must be >= 1, got {obs_dim}, {n_features}")
        self.obs_dim, self.m = int(obs_dim), int(n_features)
        self.target = target if target is not None else TDTarget()
        self.actor_term = actor_term
        if bounds is not None and (not isinstance(bounds, ActionBounds) or bounds.m != self.m):
            raise ValueError(f"bounds: expected an ActionBounds of length {self.m}, got {bounds!r}")
        self.bounds = bounds
        #: bool (m,): dimensions that get exploration noise (None: all)
        self.noise_mask: np.ndarray | None = None
        gen = torch.Generator().manual_seed(int(cfg.seed))
        out = torch.nn.Tanh() if bounds is None else torch.nn.Sigmoid()
        self.actor = mlp([self.obs_dim, *cfg.hidden, self.m], gen, out_activation=out)
        self.critic = Critic(self.obs_dim, self.m, cfg.hidden, gen)
        self.actor_target = copy.deepcopy(self.actor)
        self.critic_target = copy.deepcopy(self.critic)
        #: TD3's second critic and its target (None unless ``twin_critic``)
        self.critic2 = Critic(self.obs_dim, self.m, cfg.hidden, gen) if cfg.twin_critic else None
        self.critic2_target = copy.deepcopy(self.critic2) if self.critic2 is not None else None
        targets = [self.actor_target, self.critic_target]
        if self.critic2_target is not None:
            targets.append(self.critic2_target)
        for p in (q for net in targets for q in net.parameters()):
            p.requires_grad_(False)
        actor_params = list(self.actor.parameters())
        if actor_term is not None:
            actor_params += list(actor_term.parameters())
        self.actor_opt = torch.optim.Adam(actor_params, lr=cfg.actor_lr, foreach=True)
        critic_params = list(self.critic.parameters())
        if self.critic2 is not None:
            critic_params += list(self.critic2.parameters())
        self.critic_opt = torch.optim.Adam(critic_params, lr=cfg.critic_lr, foreach=True)
        #: the batch columns this agent reads (its own and its hooks')
        self.columns = hook_columns(COLUMNS, self.target, self.actor_term)
        self.replay = Replay(cfg.replay_capacity, self.columns)
        self.rng = np.random.default_rng([int(cfg.seed), 1])
        n_q = sum(p.numel() for p in self.critic.parameters())
        self._neu = torch.zeros(n_q, dtype=torch.float64)
        self._neu_n = 0
        self.gradient_steps = 0
        #: critic gradient steps (= gradient_steps unless policy_delay > 1)
        self.critic_steps = 0

    # ------------------------------------------------------------------ policy
    def _policy(self, net: torch.nn.Module, obs: torch.Tensor) -> torch.Tensor:
        """The action of actor ``net``: net(s), mapped into [L, U] when bounded."""
        out = net(obs)
        return out if self.bounds is None else self.bounds.scale_torch(out)

    def mu(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic actions mu(s): float32 (n, m) (in [L, U] when bounded)."""
        with torch.no_grad():
            return self._policy(self.actor, torch.as_tensor(obs, dtype=torch.float32)).numpy()

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        obs = check_obs(obs, self.obs_dim)
        if self.bounds is not None:
            with torch.no_grad():
                o = self.actor(torch.as_tensor(obs, dtype=torch.float32)).numpy().astype(np.float64)
            if explore and self.config.noise_std > 0:
                o = np.clip(o + self._noise(o.shape), 0.0, 1.0)
            a = np.clip(self.bounds.scale(o), self.bounds.low, self.bounds.high)
            return a.astype(np.float32)
        a = self.mu(obs)
        if explore and self.config.noise_std > 0:
            a = np.clip(a + self._noise(a.shape), -1.0, 1.0)
        return a.astype(np.float32)

    def _noise(self, shape: tuple[int, ...]) -> np.ndarray:
        """N(0, noise_std^2) of ``shape``, zero outside ``noise_mask``."""
        z = self.config.noise_std * self.rng.standard_normal(shape)
        return z if self.noise_mask is None else z * np.asarray(self.noise_mask, dtype=bool)

    # ------------------------------------------------------------------ learning
    def _tensors(self, data: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
        """Columns as tensors, float64 cast to float32."""
        out = {}
        for k, v in data.items():
            t = torch.as_tensor(v)
            out[k] = t.to(torch.float32) if t.dtype == torch.float64 else t
        return out

    def _target_action(self, next_obs: torch.Tensor, smooth: bool) -> torch.Tensor:
        """mu'(s'), plus TD3's clipped smoothing noise when ``smooth`` and target_noise > 0
        (drawn from the agent's rng; clipped to the action range): float32 (n, m)."""
        cfg = self.config
        out = self.actor_target(next_obs)
        if smooth and cfg.target_noise > 0:
            z = cfg.target_noise * self.rng.standard_normal(tuple(out.shape))
            z = torch.as_tensor(np.clip(z, -cfg.target_noise_clip, cfg.target_noise_clip), dtype=out.dtype)
            lo = -1.0 if self.bounds is None else 0.0
            out = torch.clamp(out + z, lo, 1.0)
        return out if self.bounds is None else self.bounds.scale_torch(out)

    def _critic_target(self, t: Mapping[str, torch.Tensor], smooth: bool = False) -> torch.Tensor:
        """y = target(t, Q'(s', mu'(s'))): float32 (n,), without gradient (with twin
        critics Q' = min(Q1', Q2'); ``smooth``: TD3's target policy smoothing)."""
        cfg = self.config
        with torch.no_grad():
            a2 = self._target_action(t["next_obs"], smooth)
            q2 = self.critic_target(t["next_obs"], a2)
            if self.critic2_target is not None:
                q2 = torch.minimum(q2, self.critic2_target(t["next_obs"], a2))
            return self.target(t, q2, cfg.gamma, cfg.reward_scale)

    def _accumulate_neu(self, batch: Batch) -> None:
        t = self._tensors({k: batch[k] for k in self.columns})
        y = self._critic_target(t)
        q = self.critic(t["obs"], t["action"])
        delta = (y - q).detach()
        grads = torch.autograd.grad((delta * q).sum(), list(self.critic.parameters()))
        self._neu += torch.cat([g.reshape(-1) for g in grads]).to(torch.float64)
        self._neu_n += len(batch)

    def _gradient_step(self) -> dict[str, float]:
        cfg = self.config
        t = self._tensors(self.replay.sample(self.rng, cfg.batch_size))
        y = self._critic_target(t, smooth=True)
        q = self.critic(t["obs"], t["action"])
        critic_loss = F.mse_loss(q, y)
        if self.critic2 is not None:
            critic_loss = critic_loss + F.mse_loss(self.critic2(t["obs"], t["action"]), y)
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_opt.step()
        self.critic_steps += 1
        if self.critic_steps % cfg.policy_delay != 0:
            return {"critic_loss": float(critic_loss.detach())}

        a = self._policy(self.actor, t["obs"])
        q_pi = self.critic(t["obs"], a)
        actor_loss = -q_pi.mean()
        extra_metrics: dict[str, float] = {}
        if self.actor_term is not None:
            extra, extra_metrics = self.actor_term(t, a)
            if extra is not None:
                actor_loss = actor_loss + extra
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_opt.step()
        soft_update(self.critic_target, self.critic, cfg.tau)
        soft_update(self.actor_target, self.actor, cfg.tau)
        if self.critic2 is not None:
            soft_update(self.critic2_target, self.critic2, cfg.tau)
        self.gradient_steps += 1
        return {
            "critic_loss": float(critic_loss.detach()),
            "actor_q": float(q_pi.detach().mean()),
            **extra_metrics,
        }

    def update(self, batch: Batch) -> dict[str, float]:
        if len(batch) == 0:
            return {}
        self._accumulate_neu(batch)
        self.replay.add(batch)
        if len(self.replay) < max(self.config.warmup, 1):
            return {}
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        for _ in range(self.config.updates_per_batch):
            for k, v in self._gradient_step().items():
                sums[k] = sums.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1
        return {k: v / counts[k] for k, v in sums.items()}

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
            "target": self.target.state_dict(),
            "actor_term": None if self.actor_term is None else self.actor_term.state_dict(),
            "actor_target": self.actor_target.state_dict(),
            "critic_target": self.critic_target.state_dict(),
            "actor_opt": self.actor_opt.state_dict(),
            "critic_opt": self.critic_opt.state_dict(),
            "replay": self.replay.state_dict(),
            "rng": rng_state(self.rng),
            "neu": self._neu.clone(),
            "neu_n": self._neu_n,
            "gradient_steps": self.gradient_steps,
            "critic_steps": self.critic_steps,
            **({} if self.critic2 is None else {"critic2": self.critic2.state_dict(),
                                                "critic2_target": self.critic2_target.state_dict()}),
            "bounds": None if self.bounds is None else self.bounds.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        saved = state.get("config")
        if saved is not None:  # checkpoints from before the TD3 options: their defaults
            saved = {**{k: v for k, v in _TD3_DEFAULTS.items() if k not in saved}, **saved}
        check_config(saved, asdict(self.config))
        if (state.get("actor_term") is None) != (self.actor_term is None):
            raise ValueError("state: saved with a different actor_term (present in one, absent in the other)")
        if (state.get("bounds") is None) != (self.bounds is None):
            raise ValueError("state: saved with different bounds (present in one, absent in the other)")
        self.actor.load_state_dict(state["actor"])
        self.critic.load_state_dict(state["critic"])
        self.target.load_state_dict(state["target"])
        if self.actor_term is not None:
            self.actor_term.load_state_dict(state["actor_term"])
        self.actor_target.load_state_dict(state["actor_target"])
        self.critic_target.load_state_dict(state["critic_target"])
        self.actor_opt.load_state_dict(state["actor_opt"])
        self.critic_opt.load_state_dict(state["critic_opt"])
        self.replay.load_state_dict(state["replay"])
        set_rng_state(self.rng, state["rng"])
        self._neu = state["neu"].clone().to(torch.float64)
        self._neu_n = int(state["neu_n"])
        self.gradient_steps = int(state["gradient_steps"])
        self.critic_steps = int(state.get("critic_steps", self.gradient_steps))
        if self.critic2 is not None:
            self.critic2.load_state_dict(state["critic2"])
            self.critic2_target.load_state_dict(state["critic2_target"])
        if self.bounds is not None:
            self.bounds.load_state_dict(state["bounds"])
