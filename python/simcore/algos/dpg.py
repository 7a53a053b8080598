"""The ranking article's DPG agent: a linear softmax actor and a compatible advantage
critic, updated exactly as the article writes it (section 算法设计).

Notation (m ranking weights, d = D + 1 state features: the observation and a bias 1):

* actor  mu_i(s) = C_i exp(theta_i . phi(s)) / sum_j exp(theta_j . phi(s)), theta (m, d);
* Jacobian  d mu_i / d theta_{j,k} = G[j, i] phi_k  with  G = (diag(p) - p p^T) diag(C),
  p = softmax(theta phi(s));  so "grad_theta mu(s)^T w" = G^T (W phi) = grad_a Q;
* critic  Q(s, a) = (a - mu(s))^T grad_theta mu(s)^T w + phi(s)^T v,  w (m, d), v (d,);
* TD error  delta = r + gamma phi(s')^T v - Q(s, a)   (no bootstrap after the session ends);
* theta += alpha_theta grad_theta mu(s) (grad_theta mu(s)^T w)  = outer(G G^T W phi, phi);
* w     += alpha_w delta (a^T grad_theta mu(s))             = delta outer(G a, phi);
* v     += alpha_v delta phi(s).

The article's w update uses the feature a^T grad_theta mu(s) (its Q-learning section),
while the critic it bootstraps is the advantage form, whose gradient in w is
(a - mu(s))^T grad_theta mu(s) (Silver et al.'s COPDAC-Q); ``compatible_features=True``
uses the latter.  With B sessions stepped together, each update applies the average
of the B per-transition increments (all computed at the same parameters).

Reward shaping enters as a hook (:class:`simcore.algos.hooks.RewardShaping`): the
learning reward is reward_scale * (r + F(batch, mu)), F = 0 without one (the search
domain's LTR potentials are :class:`simcore.domains.search.agents.shaping.PotentialShaping`).

RNEU (the article's figure 3): the norm of the expected TD update E[delta phi(s, a)],
phi(s, a) the critic's full feature vector (w- and v-parts), averaged over every
transition of an iteration: NEU = ||E[delta phi]||^2 as in Sutton et al. (2009), and
RNEU = sqrt(NEU).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from simcore.algos.base import (
    check_config,
    check_obs,
    check_positive,
    np_to_tensor,
    rng_state,
    set_rng_state,
    tensor_to_np,
)
from simcore.algos.hooks import RewardShaping
from simcore.algos.protocol import AgentBase, Batch

#: the batch columns the linear DPG itself reads
COLUMNS = ("obs", "action", "reward", "next_obs", "terminated", "truncated")


@dataclass(frozen=True)
class DPGConfig:
    """Hyper-parameters of :class:`LinearDPG`.

    Attributes:
        gamma: discount rate (1.0: the SSMDP is finite-horizon and undiscounted).
        alpha_theta: actor step size.
        alpha_w: advantage-critic step size.
        alpha_v: state-value step size.
        noise_std: std of the Gaussian exploration around mu(s).
        C: per-dimension weight scale C_i (a float: the same for every dimension);
            mu_i = C_i p_i with p on the probability simplex, so every weight is
            positive (C_i > 0).
        reward_scale: rewards (and shaping terms) are multiplied by this before learning.
        compatible_features: w update with (a - mu)^T grad mu instead of the article's
            a^T grad mu.
        clip_action: clip explored actions to the action box [-1, 1].
        seed: seed of the exploration noise.
    """

    gamma: float = 1.0
    alpha_theta: float = 0.5
    alpha_w: float = 2.0
    alpha_v: float = 0.02
    noise_std: float = 0.3
    C: float | tuple[float, ...] = 1.0
    reward_scale: float = 0.01
    compatible_features: bool = False
    clip_action: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma: must lie in [0, 1], got {self.gamma!r}")
        for name in ("alpha_theta", "alpha_w", "alpha_v", "noise_std"):
            check_positive(name, getattr(self, name), allow_zero=True)
        check_positive("reward_scale", self.reward_scale)
        c = np.atleast_1d(np.asarray(self.C, dtype=np.float64))
        if not np.all(np.isfinite(c)) or np.any(c <= 0):
            raise ValueError(f"C: weight scales must be finite and > 0, got {self.C!r}")


def state_features(obs: np.ndarray) -> np.ndarray:
    """phi(s) = [obs, 1]: float64 (n, D + 1)."""
    n = obs.shape[0]
    return np.concatenate([obs.astype(np.float64), np.ones((n, 1))], axis=1)


def softmax_actor(theta: np.ndarray, phi: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mu = C * softmax(phi theta^T) and p = softmax(...): float64 (n, m) each.

    Args:
        theta: float64 (m, d).  phi: float64 (n, d).  C: float64 (m,).
    """
    z = phi @ theta.T
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    return C * p, p


def softmax_actor_jacobian(theta: np.ndarray, phi: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Analytic d mu_i / d theta_{j,k} for one state: float64 (m, m, d) indexed [i, j, k].

    Args:
        theta: float64 (m, d).  phi: float64 (d,).  C: float64 (m,).
    """
    _, p = softmax_actor(theta, phi[None, :], C)
    p = p[0]
    G = (np.diag(p) - np.outer(p, p)) * C[None, :]  # G[j, i]
    return np.einsum("ji,k->ijk", G, phi)


def _G_times(p: np.ndarray, C: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Rows of G x with G = (diag(p) - p p^T) diag(C): p * (C x - p.(C x))."""
    u = C * x
    return p * (u - (p * u).sum(axis=1, keepdims=True))


def _GT_times(p: np.ndarray, C: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Rows of G^T z: C * p * (z - p.z)."""
    return C * p * (z - (p * z).sum(axis=1, keepdims=True))


class LinearDPG(AgentBase):
    """The article's DPG with a linear softmax actor and compatible advantage critic.

    Args:
        obs_dim: D.  n_features: m (action size).  config: :class:`DPGConfig`.
        shaping: a reward-shaping hook (default none).
    """

    name = "dpg"

    def __init__(self, obs_dim: int, n_features: int, config: DPGConfig | None = None,
                 shaping: RewardShaping | None = None) -> None:
        self.config = config if config is not None else DPGConfig()
        self.shaping = shaping
        if obs_dim < 1 or n_features < 1:
            raise ValueError(f"obs_dim, n_features: must be >= 1, got {obs_dim}, {n_features}")
        self.obs_dim, self.m = int(obs_dim), int(n_features)
        d = self.obs_dim + 1
        C = np.broadcast_to(np.asarray(self.config.C, dtype=np.float64), (self.m,))
        self.C = np.array(C, dtype=np.float64)
        self.theta = np.zeros((self.m, d))
        self.w = np.zeros((self.m, d))
        self.v = np.zeros(d)
        self.rng = np.random.default_rng(self.config.seed)
        self._neu_w = np.zeros((self.m, d))
        self._neu_v = np.zeros(d)
        self._neu_n = 0
        self.updates = 0

    # ------------------------------------------------------------------ policy
    def mu(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic weights mu(s): float64 (n, m)."""
        return softmax_actor(self.theta, state_features(obs), self.C)[0]

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        obs = check_obs(obs, self.obs_dim)
        a = self.mu(obs)
        if explore and self.config.noise_std > 0:
            a = a + self.config.noise_std * self.rng.standard_normal(a.shape)
            if self.config.clip_action:
                a = np.clip(a, -1.0, 1.0)
        return a.astype(np.float32)

    # ------------------------------------------------------------------ critic
    def critic(self, obs: np.ndarray, action: np.ndarray) -> np.ndarray:
        """Q(s, a) = (a - mu(s))^T G^T W phi(s) + phi(s)^T v: float64 (n,)."""
        phi = state_features(obs)
        mu, p = softmax_actor(self.theta, phi, self.C)
        g = _GT_times(p, self.C, phi @ self.w.T)
        return ((action.astype(np.float64) - mu) * g).sum(axis=1) + phi @ self.v

    def shaped_reward(self, batch: Batch, mu: np.ndarray | None = None) -> np.ndarray:
        """The learning reward reward_scale * (r + F(batch, mu)): float64 (n,).

        Args:
            batch: transitions.  mu: float64 (n, m) mu(s) if already computed.
        """
        r = batch.reward.astype(np.float64)
        if self.shaping is not None:
            r = r + self.shaping(batch, self.mu(batch.obs) if mu is None else mu)
        return self.config.reward_scale * r

    def update(self, batch: Batch) -> dict[str, float]:
        n = len(batch)
        if n == 0:
            return {}
        cfg = self.config
        phi = state_features(batch.obs)
        phi2 = state_features(batch.next_obs)
        a = batch.action.astype(np.float64)
        mu, p = softmax_actor(self.theta, phi, self.C)
        g = _GT_times(p, self.C, phi @ self.w.T)  # grad_a Q = grad_theta mu^T w, (n, m)
        q = ((a - mu) * g).sum(axis=1) + phi @ self.v
        r = self.shaped_reward(batch, mu)
        boot = np.where(batch.terminated | batch.truncated, 0.0, cfg.gamma * (phi2 @ self.v))
        delta = r + boot - q
        feat_a = a - mu if cfg.compatible_features else a
        Ga = _G_times(p, self.C, feat_a)  # phi(s, a) = outer(G a, phi)
        Gg = _G_times(p, self.C, g)  # grad_theta mu grad_a Q = outer(G g, phi)
        dw = (delta[:, None] * Ga).T @ phi  # sum_n delta_n outer(Ga_n, phi_n)
        dv = delta @ phi
        dtheta = Gg.T @ phi
        self.theta += cfg.alpha_theta * dtheta / n
        self.w += cfg.alpha_w * dw / n
        self.v += cfg.alpha_v * dv / n
        self._neu_w += dw
        self._neu_v += dv
        self._neu_n += n
        self.updates += 1
        return {
            "td_error": float(np.mean(np.abs(delta))),
            "learn_reward": float(r.mean()),
            "grad_a_norm": float(np.sqrt((g * g).sum(axis=1)).mean()),
        }

    def end_iteration(self) -> dict[str, float]:
        if self._neu_n == 0:
            return {}
        ew = self._neu_w / self._neu_n
        ev = self._neu_v / self._neu_n
        neu = float((ew * ew).sum() + (ev * ev).sum())
        self._neu_w[:] = 0
        self._neu_v[:] = 0
        self._neu_n = 0
        return {"neu": neu, "rneu": float(np.sqrt(neu))}

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {
            "config": asdict(self.config),
            "shaping": None if self.shaping is None else self.shaping.state_dict(),
            "theta": np_to_tensor(self.theta),
            "w": np_to_tensor(self.w),
            "v": np_to_tensor(self.v),
            "neu_w": np_to_tensor(self._neu_w),
            "neu_v": np_to_tensor(self._neu_v),
            "neu_n": self._neu_n,
            "updates": self.updates,
            "rng": rng_state(self.rng),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_config(state.get("config"), asdict(self.config))
        if (state.get("shaping") is None) != (self.shaping is None):
            raise ValueError("state: saved with a different shaping (present in one, absent in the other)")
        if self.shaping is not None:
            self.shaping.load_state_dict(state["shaping"])
        theta = tensor_to_np(state["theta"])
        if theta.shape != self.theta.shape:
            raise ValueError(f"state: theta has shape {theta.shape}, expected {self.theta.shape}")
        self.theta = theta
        self.w = tensor_to_np(state["w"])
        self.v = tensor_to_np(state["v"])
        self._neu_w = tensor_to_np(state["neu_w"])
        self._neu_v = tensor_to_np(state["neu_v"])
        self._neu_n = int(state["neu_n"])
        self.updates = int(state["updates"])
        set_rng_state(self.rng, state["rng"])
