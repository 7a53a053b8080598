"""Dynamic action bounds by the cross-entropy method (the article's 分层流量调控, 2.1).

A global (state-free) action a* ~ N(mu, diag(sigma^2)), mu, sigma float64 (m,).  One
iteration:

1. draw s candidates Omega_1..Omega_s ~ N(mu, diag(sigma^2)) (clipped to the optional
   box [low, high]; with ``explore="one"`` only dimension k = iteration mod m varies,
   the others stay at mu: the article's single-dimension exploration);
2. a caller-supplied evaluator returns R(Omega_j), the mean reward of N_j sessions
   served with Omega_j (:func:`confident_mean` runs sessions until the mean is
   confident);
3. keep the top-p elite D (``n_elite = max(1, round(p s))``, ties broken by index);
4. take ONE gradient step of size alpha on the elite log-likelihood

       f(mu, sigma) = sum_{i in D} log N(Omega_i | mu, sigma^2)   (per dimension)
       df/dmu    = sum_{i in D} (Omega_i - mu) / sigma^2
       df/dsigma = sum_{i in D} ((Omega_i - mu)^2 / sigma^3 - 1 / sigma)
       mu <- mu + alpha df/dmu,   sigma <- max(sigma + alpha df/dsigma, min_std)

   (not the jump to the elite mean and std, which maximise f: the bounds must move
   slowly enough for the actor to follow);
5. the bounds are L = mu - w sigma, U = mu + w sigma (w = ``width``, the article's 2),
   clipped to the box.

No overshoot: the mu step is alpha df/dmu = c (mean(D) - mu) with c = alpha |D| / sigma^2,
so for c <= 1 it lands between mu and the elite mean (the maximiser of f in mu).
Where c > 1 (small sigma) the plain step would pass the maximiser; it is then capped
at it (c := 1), and likewise the sigma step at the maximiser s = the elite's RMS
distance from mu.  With the defaults the cap acts only for sigma below
sqrt(alpha |D|) (``cap_sigma``); above it every step is exactly the article's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from simcore.algos.base import (
    check_config,
    check_positive,
    np_to_tensor,
    rng_state,
    set_rng_state,
    tensor_to_np,
)
from simcore.algos.bounds import ActionBounds, check_vector
from simcore.algos.protocol import AgentBase, Batch

#: evaluator(candidates float64 (s, m)) -> float (s,) mean reward of each candidate
Evaluator = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class CEMBoundsConfig:
    """Settings of :class:`CEMBounds` (module docstring for the maths).

    Attributes:
        n_candidates: s, candidates per iteration (integer >= 2; default 8).
        elite_frac: p, fraction kept as the elite D, |D| = max(1, round(p s)) (in
            (0, 1]; default 0.25).
        alpha: gradient step on the elite log-likelihood (> 0; default 0.002; steps
            are capped at the maximiser, module docstring).
        init_std: initial sigma of every dimension (>= min_std; default 0.5).
        min_std: sigma floor (> 0; default 0.1).
        max_std: sigma cap (None: none; else >= init_std).
        width: w of L, U = mu -/+ w sigma (> 0; default 2.0, the article's).
        explore: "all" (every dimension varies in every iteration) or "one" (only
            dimension iteration mod m; single-dimension exploration).
        low, high: optional box for candidates and bounds (None: unbounded; low < high).
        seed: seed of the candidate draws (integer >= 0).
    """

    n_candidates: int = 8
    elite_frac: float = 0.25
    alpha: float = 0.002
    init_std: float = 0.5
    min_std: float = 0.1
    max_std: float | None = None
    width: float = 2.0
    explore: str = "all"
    low: float | None = None
    high: float | None = None
    seed: int = 0

    @property
    def cap_sigma(self) -> float:
        """sqrt(alpha |D|): below this sigma the mu step is capped at the elite mean."""
        return float(np.sqrt(self.alpha * self.n_elite))

    @property
    def n_elite(self) -> int:
        """|D| = max(1, round(p s))."""
        return max(1, int(round(self.elite_frac * self.n_candidates)))

    def __post_init__(self) -> None:
        if not isinstance(self.n_candidates, int) or isinstance(self.n_candidates, bool) or self.n_candidates < 2:
            raise ValueError(f"n_candidates: must be an integer >= 2, got {self.n_candidates!r}")
        if not isinstance(self.elite_frac, (int, float)) or not 0.0 < self.elite_frac <= 1.0:
            raise ValueError(f"elite_frac: must lie in (0, 1], got {self.elite_frac!r}")
        for name in ("alpha", "init_std", "min_std", "width"):
            check_positive(name, getattr(self, name))
        if self.init_std < self.min_std:
            raise ValueError(f"init_std: must be >= min_std ({self.min_std}), got {self.init_std!r}")
        if self.max_std is not None:
            check_positive("max_std", self.max_std)
            if self.max_std < self.init_std:
                raise ValueError(f"max_std: must be >= init_std ({self.init_std}), got {self.max_std!r}")
        if self.explore not in ("all", "one"):
            raise ValueError(f"explore: expected 'all' or 'one', got {self.explore!r}")
        if (self.low is None) != (self.high is None):
            raise ValueError("low, high: give both or neither")
        if self.low is not None and not float(self.low) < float(self.high):  # type: ignore[arg-type]
            raise ValueError(f"low, high: need low < high, got {self.low}, {self.high}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed: must be an integer >= 0, got {self.seed!r}")


def elite_loglik_gradient(elite: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(df/dmu, df/dsigma) of f = sum_i log N(elite_i | mu, sigma^2), per dimension.

    Args:
        elite: float (n, m).  mu, sigma: float (m,), sigma > 0.
    Returns:
        two float64 (m,) arrays.
    """
    d = np.asarray(elite, dtype=np.float64) - mu
    s2 = sigma * sigma
    g_mu = d.sum(axis=0) / s2
    g_sigma = (d * d).sum(axis=0) / (s2 * sigma) - d.shape[0] / sigma
    return g_mu, g_sigma


def confident_mean(draw: Callable[[int], np.ndarray], max_chunks: int, rel_tol: float,
                   abs_tol: float = 0.0, min_chunks: int = 1) -> tuple[float, int, float]:
    """The mean of per-session rewards drawn chunk by chunk until it is confident.

    Chunk i is ``draw(i)`` (float (n_i,) rewards of fresh sessions).  Stops after at
    least ``min_chunks`` chunks as soon as the 95 % normal half-width
    1.96 sd / sqrt(N) <= max(rel_tol |mean|, abs_tol), or after ``max_chunks``.

    Returns:
        (mean, N sessions used, half-width).
    """
    if max_chunks < 1 or min_chunks < 1 or min_chunks > max_chunks:
        raise ValueError(f"min_chunks, max_chunks: need 1 <= min_chunks <= max_chunks, got {min_chunks}, {max_chunks}")
    parts: list[np.ndarray] = []
    mean, half = float("nan"), float("inf")
    for i in range(max_chunks):
        r = np.asarray(draw(i), dtype=np.float64).ravel()
        if r.size == 0 or not np.all(np.isfinite(r)):
            raise ValueError(f"draw: chunk {i} must be a non-empty finite array, got {r.size} values")
        parts.append(r)
        x = np.concatenate(parts)
        mean = float(x.mean())
        half = 1.959963984540054 * float(x.std(ddof=1)) / np.sqrt(x.size) if x.size > 1 else float("inf")
        if i + 1 >= min_chunks and half <= max(rel_tol * abs(mean), abs_tol):
            break
    return mean, int(sum(p.size for p in parts)), half


class CEMBounds:
    """The CEM bound tracker (module docstring).

    Args:
        m: action size.  config: :class:`CEMBoundsConfig`.  init_mean: float (m,)
            initial mu (default zeros).
    """

    def __init__(self, m: int, config: CEMBoundsConfig | None = None, init_mean: Any = None) -> None:
        self.config = cfg = config if config is not None else CEMBoundsConfig()
        if not isinstance(m, int) or m < 1:
            raise ValueError(f"m: must be an integer >= 1, got {m!r}")
        self.m = m
        mu = np.zeros(m) if init_mean is None else init_mean
        self.mu = self._box(check_vector("init_mean", mu, m))
        self.sigma = np.full(m, float(cfg.init_std))
        self.iteration = 0
        self.rng = np.random.default_rng([int(cfg.seed), 3])
        self.candidates: np.ndarray | None = None

    def _box(self, x: np.ndarray) -> np.ndarray:
        c = self.config
        return x if c.low is None else np.clip(x, c.low, c.high)

    def dims(self) -> np.ndarray:
        """bool (m,): the dimensions this iteration explores."""
        if self.config.explore == "all":
            return np.ones(self.m, bool)
        d = np.zeros(self.m, bool)
        d[self.iteration % self.m] = True
        return d

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(L, U) = mu -/+ width sigma, clipped to the box: float64 (m,) each."""
        w = self.config.width * self.sigma
        return self._box(self.mu - w), self._box(self.mu + w)

    def ask(self) -> np.ndarray:
        """This iteration's s candidates: float64 (s, m) (kept until :meth:`tell`)."""
        z = self.rng.standard_normal((self.config.n_candidates, self.m))
        c = self.mu + self.sigma * z * self.dims()
        self.candidates = self._box(c)
        return self.candidates.copy()

    def tell(self, scores: Any) -> dict[str, float]:
        """Scores float (s,) of the asked candidates -> one gradient step (module
        docstring); returns metrics (best and mean score, mean sigma, explored dim)."""
        cfg = self.config
        if self.candidates is None:
            raise ValueError("scores: call ask() before tell()")
        r = np.asarray(scores, dtype=np.float64)
        if r.shape != (cfg.n_candidates,) or not np.all(np.isfinite(r)):
            raise ValueError(f"scores: expected {cfg.n_candidates} finite numbers, got {np.asarray(scores).tolist()}")
        order = np.argsort(-r, kind="stable")
        elite = self.candidates[order[: cfg.n_elite]]
        g_mu, g_sigma = elite_loglik_gradient(elite, self.mu, self.sigma)
        d = self.dims()
        step_mu = cfg.alpha * g_mu
        to_mean = elite.mean(axis=0) - self.mu
        step_mu = np.where(np.abs(step_mu) > np.abs(to_mean), to_mean, step_mu)  # never past the maximiser
        step_sigma = cfg.alpha * g_sigma
        to_s = np.sqrt(((elite - self.mu) ** 2).mean(axis=0)) - self.sigma
        step_sigma = np.where(np.abs(step_sigma) > np.abs(to_s), to_s, step_sigma)
        self.mu = self._box(np.where(d, self.mu + step_mu, self.mu))
        sigma = np.maximum(self.sigma + step_sigma, cfg.min_std)
        if cfg.max_std is not None:
            sigma = np.minimum(sigma, cfg.max_std)
        self.sigma = np.where(d, sigma, self.sigma)
        dim = int(np.flatnonzero(d)[0]) if cfg.explore == "one" else -1
        self.iteration += 1
        self.candidates = None
        return {"cem_best": float(r[order[0]]), "cem_mean": float(r.mean()), "cem_sigma": float(self.sigma.mean()),
                "cem_dim": float(dim)}

    def step(self, evaluate: Evaluator) -> dict[str, float]:
        """One iteration: ask, ``evaluate(candidates)`` -> (s,) mean rewards, tell."""
        return self.tell(evaluate(self.ask()))

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly (tensors and plain values)."""
        return {"config": asdict(self.config), "mu": np_to_tensor(self.mu), "sigma": np_to_tensor(self.sigma),
                "iteration": self.iteration, "rng": rng_state(self.rng),
                "candidates": None if self.candidates is None else np_to_tensor(self.candidates)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restores :meth:`state_dict` (same config)."""
        check_config(state.get("config"), asdict(self.config))
        self.mu = tensor_to_np(state["mu"])
        self.sigma = tensor_to_np(state["sigma"])
        self.iteration = int(state["iteration"])
        set_rng_state(self.rng, state["rng"])
        c = state.get("candidates")
        self.candidates = None if c is None else tensor_to_np(c)


class CEMBoundedAgent(AgentBase):
    """An agent with movable bounds (e.g. :class:`~simcore.algos.ddpg.DDPG` with
    ``bounds``) whose bounds a :class:`CEMBounds` moves while it trains.

    ``act`` and ``update`` are the agent's; every ``every``-th ``end_iteration`` also
    runs one CEM iteration with ``evaluate`` (on its own sessions, concurrently with
    the agent's learning) and sets the agent's bounds to the CEM's (L, U).  At
    construction the agent starts from the CEM's initial bounds.  With the CEM's
    ``explore="one"`` the agent's ``noise_mask`` (if it has one) follows the CEM's
    explored dimension, so that both explore the same single dimension.

    Args:
        agent: has ``bounds`` (:class:`~simcore.algos.bounds.ActionBounds`) and the
            agent protocol.  cem: the tracker.  evaluate: see :meth:`CEMBounds.step`.
        every: CEM iterations every this many agent iterations (integer >= 1).
    """

    def __init__(self, agent: Any, cem: CEMBounds, evaluate: Evaluator, every: int = 1) -> None:
        bounds = getattr(agent, "bounds", None)
        if not isinstance(bounds, ActionBounds) or bounds.m != cem.m:
            raise ValueError(f"agent: needs ActionBounds of length {cem.m} as .bounds, got {bounds!r}")
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every: must be an integer >= 1, got {every!r}")
        self.agent, self.cem, self.evaluate, self.every = agent, cem, evaluate, every
        self.name = f"{agent.name}+cem"
        self.iterations = 0
        bounds.set(*cem.bounds())
        self._sync_mask()

    def _sync_mask(self) -> None:
        if self.cem.config.explore == "one" and hasattr(self.agent, "noise_mask"):
            self.agent.noise_mask = self.cem.dims()

    @property
    def bounds(self) -> ActionBounds:
        """The agent's (moving) bounds."""
        return self.agent.bounds  # type: ignore[no-any-return]

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        return self.agent.act(obs, explore)  # type: ignore[no-any-return]

    def update(self, batch: Batch) -> dict[str, float]:
        return self.agent.update(batch)  # type: ignore[no-any-return]

    def end_iteration(self) -> dict[str, float]:
        out = dict(self.agent.end_iteration())
        self.iterations += 1
        if self.iterations % self.every == 0:
            out.update(self.cem.step(self.evaluate))
            self.bounds.set(*self.cem.bounds())
            self._sync_mask()
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"agent": self.agent.state_dict(), "cem": self.cem.state_dict(), "iterations": self.iterations}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.agent.load_state_dict(state["agent"])
        self.cem.load_state_dict(state["cem"])
        self.iterations = int(state["iterations"])
        self._sync_mask()
