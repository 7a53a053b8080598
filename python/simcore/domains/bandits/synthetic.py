"""Simulators with exact values for checking bandits and off-policy estimators (NumPy).

* :class:`SyntheticBandit` - a batched contextual bandit.  Contexts are drawn uniformly
  from a fixed pool of M vectors x_j (float (M, d), N(0, I/d) entries); arm a's mean reward
  at x is mu(x, a) = sigmoid(s (x^T theta_a + b_a)) (``reward="bernoulli"``: r ~ Bernoulli(mu))
  or mu = x^T theta_a + b_a (``"gaussian"``: r ~ N(mu, sigma^2); linear, so LinUCB is
  well specified) or mu = sin(s x^T theta_a) + b_a (``"nonlinear"``: r ~ N(mu, sigma^2);
  no linear model of x fits it, the case a neural bandit is for).  Because the pool is
  finite every policy's value is an exact sum:
  V(pi) = (1/M) sum_j sum_a pi(a | x_j) mu(x_j, a).  Policies are float (M, K) tables.
* :class:`EpisodicMDP` - a small finite-horizon MDP (S states, K actions, horizon H,
  transitions P (S, K, S) ~ Dirichlet, Bernoulli rewards with means R (S, K), start
  distribution d0); exact values and the true q by backward recursion,
  Q_t = R + gamma P V_{t+1}, V_t(s) = sum_a pi_t(a|s) Q_t(s, a), V_H = 0.  Policies are
  (S, K) tables (stationary) or (H, S, K).

Every random draw comes from a Generator the caller passes (a
:class:`~simcore.util.seeds.SeedTree` stream), so results are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simcore.envs.ranges import check_int, check_real


@dataclass(frozen=True)
class SyntheticBanditConfig:
    """A :class:`SyntheticBandit`.

    Attributes:
        n_contexts: pool size M, integer in [1, 10**6] (default 100).
        dim: context dimension d, integer in [1, 1000] (default 5).
        n_arms: K, integer in [2, 1000] (default 5).
        reward: "bernoulli" (default), "gaussian" or "nonlinear".
        scale: s, the logit scale of the Bernoulli model and the frequency of the
            nonlinear one, in (0, 100] (default 2.0).
        bias: mean of the per-arm offsets b_a ~ N(bias, 0.25), finite in [-20, 20]
            (default -1.0: mean rewards around 0.3 for the Bernoulli model).
        noise_sd: sigma of the Gaussian rewards, in (0, 100] (default 0.5).
    """

    n_contexts: int = 100
    dim: int = 5
    n_arms: int = 5
    reward: str = "bernoulli"
    scale: float = 2.0
    bias: float = -1.0
    noise_sd: float = 0.5

    def __post_init__(self) -> None:
        check_int("n_contexts", self.n_contexts, 1, 10**6)
        check_int("dim", self.dim, 1, 1000)
        check_int("n_arms", self.n_arms, 2, 1000)
        if self.reward not in ("bernoulli", "gaussian", "nonlinear"):
            raise ValueError(f"reward: expected 'bernoulli', 'gaussian' or 'nonlinear', got {self.reward!r}")
        check_real("scale", self.scale, 0.0, 100.0, lo_open=True)
        check_real("bias", self.bias, -20.0, 20.0)
        check_real("noise_sd", self.noise_sd, 0.0, 100.0, lo_open=True)


def _policy(pi: Any, shape: tuple[int, ...], name: str = "policy") -> np.ndarray:
    p = np.asarray(pi, dtype=np.float64)
    if p.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or not np.allclose(p.sum(axis=-1), 1.0, atol=1e-9):
        raise ValueError(f"{name}: expected probabilities >= 0 summing to 1 over actions")
    return p


class SyntheticBandit:
    """The contextual bandit of the module docstring; the world is drawn from ``rng``."""

    def __init__(self, config: SyntheticBanditConfig, rng: np.random.Generator) -> None:
        c = self.config = config
        self.contexts = rng.standard_normal((c.n_contexts, c.dim)) / np.sqrt(c.dim)
        self.theta = rng.standard_normal((c.n_arms, c.dim))
        self.offset = c.bias + 0.5 * rng.standard_normal(c.n_arms)
        lin = self.contexts @ self.theta.T + self.offset
        #: float64 (M, K) exact mean rewards
        if c.reward == "bernoulli":
            self.mu = 1.0 / (1.0 + np.exp(-c.scale * lin))
        elif c.reward == "nonlinear":
            self.mu = np.sin(c.scale * (self.contexts @ self.theta.T)) + self.offset
        else:
            self.mu = lin

    @property
    def shape(self) -> tuple[int, int]:
        """(M, K)."""
        return self.mu.shape  # type: ignore[return-value]

    def value(self, pi: Any) -> float:
        """Exact V(pi) for a float (M, K) policy table."""
        return float((_policy(pi, self.shape) * self.mu).sum(axis=1).mean())

    def optimal_policy(self) -> np.ndarray:
        """float64 (M, K) one-hot argmax_a mu(x_j, a)."""
        return np.eye(self.config.n_arms)[self.mu.argmax(axis=1)]

    def softmax_policy(self, temperature: float, epsilon: float = 0.0) -> np.ndarray:
        """float64 (M, K) (1 - eps) softmax(mu / temperature) + eps / K (temperature > 0)."""
        z = self.mu / temperature
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return (1 - epsilon) * p + epsilon / self.config.n_arms

    def sample_contexts(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """int64 (n,) pool indices, uniform."""
        return rng.integers(0, self.config.n_contexts, size=n)

    def rewards(self, ctx: np.ndarray, action: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """float64 (n,) rewards of ``action`` at pool indices ``ctx``."""
        m = self.mu[ctx, action]
        if self.config.reward == "bernoulli":
            return (rng.random(m.size) < m).astype(np.float64)
        return m + self.config.noise_sd * rng.standard_normal(m.size)

    def regret(self, ctx: np.ndarray, action: np.ndarray) -> np.ndarray:
        """float64 (n,) per-round pseudo-regret max_a mu(x, a) - mu(x, action)."""
        return self.mu[ctx].max(axis=1) - self.mu[ctx, action]

    def log(self, pi: Any, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """n rounds logged by ``pi`` (M, K): ``ctx`` int64 (n,), ``x`` (n, d), ``action``
        int64 (n,), ``pscore`` float64 (n,) = pi(action | x), ``reward`` float64 (n,)."""
        p = _policy(pi, self.shape)
        ctx = self.sample_contexts(n, rng)
        cum = np.cumsum(p[ctx], axis=1)
        action = np.minimum((rng.random((n, 1)) > cum).sum(axis=1), self.config.n_arms - 1)
        return {"ctx": ctx, "x": self.contexts[ctx], "action": action.astype(np.int64),
                "pscore": p[ctx, action], "reward": self.rewards(ctx, action, rng)}


@dataclass(frozen=True)
class EpisodicConfig:
    """An :class:`EpisodicMDP`.

    Attributes:
        n_states: S, integer in [1, 1000] (default 4).
        n_actions: K, integer in [2, 100] (default 3).
        horizon: H, integer in [1, 1000] (default 5).
        gamma: discount in [0, 1] (default 1.0).
        concentration: the Dirichlet parameter of each P(. | s, a), in (0, 100] (default 1.0).
    """

    n_states: int = 4
    n_actions: int = 3
    horizon: int = 5
    gamma: float = 1.0
    concentration: float = 1.0

    def __post_init__(self) -> None:
        check_int("n_states", self.n_states, 1, 1000)
        check_int("n_actions", self.n_actions, 2, 100)
        check_int("horizon", self.horizon, 1, 1000)
        check_real("gamma", self.gamma, 0.0, 1.0)
        check_real("concentration", self.concentration, 0.0, 100.0, lo_open=True)


class EpisodicMDP:
    """The finite-horizon MDP of the module docstring; drawn from ``rng``."""

    def __init__(self, config: EpisodicConfig, rng: np.random.Generator) -> None:
        c = self.config = config
        self.P = rng.dirichlet(np.full(c.n_states, c.concentration), size=(c.n_states, c.n_actions))
        self.R = rng.uniform(0.0, 1.0, size=(c.n_states, c.n_actions))
        self.d0 = rng.dirichlet(np.ones(c.n_states))

    def _steps(self, pi: Any) -> np.ndarray:
        c = self.config
        p = np.asarray(pi, dtype=np.float64)
        if p.ndim == 2:
            p = np.broadcast_to(p, (c.horizon, *p.shape))
        return _policy(p, (c.horizon, c.n_states, c.n_actions))

    def q_values(self, pi: Any) -> np.ndarray:
        """float64 (H, S, K) Q_t^pi by backward recursion (module docstring)."""
        c = self.config
        p = self._steps(pi)
        q = np.zeros((c.horizon, c.n_states, c.n_actions))
        v_next = np.zeros(c.n_states)
        for t in range(c.horizon - 1, -1, -1):
            q[t] = self.R + c.gamma * self.P @ v_next
            v_next = (p[t] * q[t]).sum(axis=1)
        return q

    def value(self, pi: Any) -> float:
        """Exact V(pi) = sum_s d0(s) V_0(s)."""
        q0 = self.q_values(pi)[0]
        return float(self.d0 @ (self._steps(pi)[0] * q0).sum(axis=1))

    def random_policy(self, rng: np.random.Generator, concentration: float = 1.0) -> np.ndarray:
        """float64 (S, K) a stationary policy with Dirichlet rows."""
        c = self.config
        return rng.dirichlet(np.full(c.n_actions, concentration), size=c.n_states)

    def log(self, pi: Any, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """n episodes under ``pi``: ``state``, ``action`` int64 (n, H), ``reward``,
        ``pscore`` float64 (n, H) (every episode runs H steps)."""
        c = self.config
        p = self._steps(pi)
        s = np.zeros((n, c.horizon), dtype=np.int64)
        a = np.zeros((n, c.horizon), dtype=np.int64)
        r = np.zeros((n, c.horizon))
        ps = np.zeros((n, c.horizon))
        cur = (rng.random((n, 1)) > np.cumsum(self.d0)).sum(axis=1).clip(max=c.n_states - 1)
        for t in range(c.horizon):
            s[:, t] = cur
            act = (rng.random((n, 1)) > np.cumsum(p[t][cur], axis=1)).sum(axis=1).clip(max=c.n_actions - 1)
            a[:, t], ps[:, t] = act, p[t][cur, act]
            r[:, t] = (rng.random(n) < self.R[cur, act]).astype(np.float64)
            cur = (rng.random((n, 1)) > np.cumsum(self.P[cur, act], axis=1)).sum(axis=1).clip(max=c.n_states - 1)
        return {"state": s, "action": a, "reward": r, "pscore": ps}

    def target_terms(self, logged: dict[str, np.ndarray], pi_e: Any, q_model: np.ndarray | None = None
                     ) -> dict[str, np.ndarray]:
        """For a target ``pi_e``: ``target_prob`` (n, H) pi_e(a_t|s_t), and with
        ``q_model`` (H, S, K) (default: the true Q of pi_e) ``q_hat`` (n, H) at the logged
        (s_t, a_t) and ``v_hat`` (n, H) = sum_a pi_e(a|s_t) q(s_t, a)."""
        p = self._steps(pi_e)
        q = self.q_values(pi_e) if q_model is None else np.asarray(q_model, dtype=np.float64)
        t = np.arange(self.config.horizon)[None, :]
        s, a = logged["state"], logged["action"]
        return {"target_prob": p[t, s, a], "q_hat": q[t, s, a], "v_hat": (p[t, s] * q[t, s]).sum(axis=-1)}
