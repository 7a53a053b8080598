"""Exact evaluation of ranking policies in the true and in a learned simulator.

A policy here is a static weight vector w (m,).  Evaluating P policies on n users is
one batch of n * P sessions stepped to the horizon in expectation mode
(``step(..., sample=False)``): per page t the simulator's exact b_t, l_t, c_t, m_t
(the true simulator's from its user model, a learned one's from its behaviour model),
from which, with survival S_t = prod_{j<t} c_j,

    value up to page h   V(h) = mean_u sum_{t<=h} S_t b_t m_t      (V(T): expected GMV)
    purchase-page pmf    p_t  = mean_u S_t b_t                      (the R2P figure's input)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["paths", "summaries", "cem_static"]


def paths(make_sim: Callable[[int], Any], users: dict[str, np.ndarray] | None, W: np.ndarray, n: int
          ) -> dict[str, np.ndarray]:
    """b, l, c, m float64 (P, n, T) of P policies ``W`` (P, m) on n users, or of P
    per-user policies ``W`` (P, n, m) (user j ranked by W[p, j] on every page: e.g. a
    policy whose weights depend on the user's segment only).

    ``make_sim(B)`` builds a simulator of B sessions; ``users`` (n each) are given to
    ``reset_to`` tiled P times (None: the simulator draws its own users)."""
    W = np.asarray(W)
    if W.ndim == 3 and W.shape[1] != n:
        raise ValueError(f"W: per-user weights need shape (P, n={n}, m), got {W.shape}")
    P = W.shape[0]
    sim = make_sim(P * n)
    if users is None:
        sim.reset()
    else:
        sim.reset_to({k: np.tile(np.asarray(v), (P,) + (1,) * (np.asarray(v).ndim - 1)) for k, v in users.items()})
    acts = (np.ascontiguousarray(W.reshape(P * n, W.shape[2]), np.float32) if W.ndim == 3
            else np.repeat(np.asarray(W, np.float32), n, axis=0))
    out: dict[str, list[np.ndarray]] = {k: [] for k in "blcm"}
    for _ in range(sim.horizon):
        r = sim.step(acts, sample=False)
        for k in "blcm":
            out[k].append(np.asarray(getattr(r, k), np.float64).reshape(P, n).copy())
    return {k: np.stack(v, axis=2) for k, v in out.items()}


def summaries(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """From :func:`paths`: ``value_h`` (P, T) V(h) for h = 1..T, ``pmf`` (P, T) the
    purchase-page distribution, ``survival`` (P, n, T)."""
    c = p["c"]
    S = np.concatenate([np.ones_like(c[..., :1]), np.cumprod(c, axis=2)[..., :-1]], axis=2)
    gain = S * p["b"] * p["m"]
    return {"value_h": np.cumsum(gain, axis=2).mean(axis=1), "pmf": (S * p["b"]).mean(axis=1), "survival": S}


def kl_pages(true: dict[str, np.ndarray], learned: dict[str, np.ndarray]) -> np.ndarray:
    """float64 (P, T): mean over users of KL((c, b, l)_true || (c, b, l)_learned) at each page."""
    eps = 1e-9
    kl = np.zeros(true["b"].shape)
    for k in "blc":
        t = np.clip(true[k], eps, 1.0)
        q = np.clip(learned[k], eps, 1.0)
        kl += t * (np.log(t) - np.log(q))
    return kl.mean(axis=1)


def cem_static(value: Callable[[np.ndarray], np.ndarray], m: int, start: np.ndarray, rng: np.random.Generator,
               iterations: int, population: int, elite: int, std: float = 0.5) -> np.ndarray:
    """Cross-entropy search for a static weight vector in [-1, 1]^m maximising
    ``value(W (P, m)) -> (P,)``; returns the final mean (m,)."""
    mu, sd = np.asarray(start, np.float64).copy(), np.full(m, std)
    for _ in range(iterations):
        W = np.clip(mu + sd * rng.standard_normal((population, m)), -1.0, 1.0)
        v = value(W.astype(np.float32))
        top = W[np.argsort(-v)[:elite]]
        mu, sd = top.mean(axis=0), np.maximum(top.std(axis=0), 0.02)
    return np.clip(mu, -1.0, 1.0)
