"""Populations of observable users (query, segment, purchasing power) and their fidelity.

A user sampler has ``sample(rng, n) -> {"query": int64 (n,), "segment": int32 (n,),
"power": float64 (n,)}``.  Here: :class:`PriorUsers` (the world's documented observable
prior: query uniform, segment ~ segment_probs, power ~ Beta(2, 2); known, not learned),
:class:`EmpiricalUsers` (resampling logged users) and :class:`GaussianMixtureUsers` (a
diagonal Gaussian mixture fitted by EM on the encoding [onehot(query), onehot(segment),
power], decoded by argmax per block).  GAN-SD is in :mod:`.gansd`.

:func:`population_distance` measures a generated population against a reference one:
total variation (TV = 1/2 sum |p - q|) on query, segment and the joints (query,
segment) and (segment, power decile), and the Wasserstein-1 distance on power.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np
from scipy.stats import wasserstein_distance

from simcore.domains.search.world import World

__all__ = ["UserSampler", "PriorUsers", "EmpiricalUsers", "GaussianMixtureUsers", "population_distance",
           "check_users", "encode_users"]

Users = dict[str, np.ndarray]


class UserSampler(Protocol):
    def sample(self, rng: np.random.Generator, n: int) -> Users: ...


def check_users(users: Mapping[str, np.ndarray], n_queries: int, n_segments: int, name: str = "users") -> Users:
    """Checked copies (query int64, segment int32, power float64 in [0, 1], equal
    lengths); ValueError / TypeError naming the field."""
    if not isinstance(users, Mapping):
        raise TypeError(f"{name}: expected a mapping with query, segment, power; got {type(users).__name__}")
    out: Users = {}
    for key, hi in (("query", n_queries), ("segment", n_segments)):
        if key not in users:
            raise ValueError(f'{name}["{key}"]: missing')
        a = np.asarray(users[key])
        if a.dtype.kind not in "iu":
            raise TypeError(f'{name}["{key}"]: expected integers, got dtype {a.dtype}')
        if a.ndim != 1 or (a.size and (a.min() < 0 or a.max() >= hi)):
            raise ValueError(f'{name}["{key}"]: expected a 1-d array of ids in [0, {hi})')
        out[key] = a.astype(np.int64 if key == "query" else np.int32)
    if "power" not in users:
        raise ValueError(f'{name}["power"]: missing')
    p = np.asarray(users["power"], dtype=np.float64)
    if p.shape != out["query"].shape or out["segment"].shape != p.shape:
        raise ValueError(f"{name}: query, segment and power must have equal lengths")
    if not np.all(np.isfinite(p)) or (p.size and (p.min() < 0 or p.max() > 1)):
        raise ValueError(f'{name}["power"]: must be finite and lie in [0, 1]')
    out["power"] = p
    return out


class PriorUsers:
    """The world's observable prior (docs/user_model.md, Users): query uniform over
    the Q queries, segment ~ segment_probs, power = median of three uniforms."""

    def __init__(self, world: World) -> None:
        self.n_queries = int(world.features.shape[0])
        self.probs = np.asarray(world.segment_probs, np.float64)

    def sample(self, rng: np.random.Generator, n: int) -> Users:
        q = rng.integers(0, self.n_queries, n).astype(np.int64)
        g = rng.choice(self.probs.size, size=n, p=self.probs / self.probs.sum()).astype(np.int32)
        a, b, c = rng.random((3, n))
        power = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))  # = np.median(., axis=0), exactly
        return {"query": q, "segment": g, "power": power}


class EmpiricalUsers:
    """Resamples the given users (e.g. :func:`.data.first_pages` of a log) uniformly
    with replacement."""

    def __init__(self, users: Mapping[str, np.ndarray]) -> None:
        self.users = {k: np.asarray(users[k]).copy() for k in ("query", "segment", "power")}
        if self.users["query"].size == 0:
            raise ValueError("users: need at least one user")

    def sample(self, rng: np.random.Generator, n: int) -> Users:
        idx = rng.integers(0, self.users["query"].size, n)
        return {k: v[idx] for k, v in self.users.items()}


def encode_users(users: Mapping[str, np.ndarray], n_queries: int, n_segments: int) -> np.ndarray:
    """float64 (n, Q + G + 1): [onehot(query), onehot(segment), power]."""
    n = len(users["query"])
    z = np.zeros((n, n_queries + n_segments + 1))
    z[np.arange(n), users["query"]] = 1.0
    z[np.arange(n), n_queries + np.asarray(users["segment"])] = 1.0
    z[:, -1] = users["power"]
    return z


class GaussianMixtureUsers:
    """A diagonal Gaussian mixture over :func:`encode_users`, fitted by EM.

    Args:
        users: the training users.  n_queries, n_segments: Q and G.
        components: mixture size (>= 1).  iterations: EM iterations (>= 1).
        seed: initialisation (responsibilities from a random assignment).
    """

    def __init__(self, users: Mapping[str, np.ndarray], n_queries: int, n_segments: int, components: int = 16,
                 iterations: int = 50, seed: int = 0) -> None:
        if not isinstance(components, int) or components < 1:
            raise ValueError(f"components: must be an integer >= 1, got {components!r}")
        self.Q, self.G = n_queries, n_segments
        z = encode_users(users, n_queries, n_segments)
        rng = np.random.default_rng(seed)
        resp = np.eye(components)[rng.integers(0, components, z.shape[0])]
        for _ in range(max(1, iterations)):
            w, mu, var = self._m_step(z, resp)
            logp = (-0.5 * (((z[:, None, :] - mu[None]) ** 2) / var[None] + np.log(2 * np.pi * var[None])).sum(2)
                    + np.log(w)[None])
            logp -= logp.max(axis=1, keepdims=True)
            resp = np.exp(logp)
            resp /= resp.sum(axis=1, keepdims=True)
        self.weights, self.mean, self.var = self._m_step(z, resp)

    @staticmethod
    def _m_step(z: np.ndarray, resp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        nk = resp.sum(axis=0) + 1e-9
        mu = resp.T @ z / nk[:, None]
        var = resp.T @ (z * z) / nk[:, None] - mu * mu
        return nk / nk.sum(), mu, np.maximum(var, 1e-4)

    def sample(self, rng: np.random.Generator, n: int) -> Users:
        k = rng.choice(self.weights.size, size=n, p=self.weights)
        z = self.mean[k] + np.sqrt(self.var[k]) * rng.standard_normal((n, self.mean.shape[1]))
        return {"query": z[:, : self.Q].argmax(axis=1).astype(np.int64),
                "segment": z[:, self.Q: self.Q + self.G].argmax(axis=1).astype(np.int32),
                "power": np.clip(z[:, -1], 0.0, 1.0)}


def _tv(a: np.ndarray, b: np.ndarray, size: int) -> float:
    p = np.bincount(a, minlength=size) / max(a.size, 1)
    q = np.bincount(b, minlength=size) / max(b.size, 1)
    return float(0.5 * np.abs(p - q).sum())


def population_distance(gen: Mapping[str, np.ndarray], ref: Mapping[str, np.ndarray], n_queries: int,
                        n_segments: int, power_bins: int = 10) -> dict[str, float]:
    """Distances of a generated population from a reference one (module docstring):
    tv_query, tv_segment, tv_query_segment, tv_segment_power, w1_power."""
    bins = np.linspace(0, 1, power_bins + 1)[1:-1]
    gb, rb = np.digitize(gen["power"], bins), np.digitize(ref["power"], bins)
    gq, rq = np.asarray(gen["query"], np.int64), np.asarray(ref["query"], np.int64)
    gs, rs = np.asarray(gen["segment"], np.int64), np.asarray(ref["segment"], np.int64)
    return {
        "tv_query": _tv(gq, rq, n_queries),
        "tv_segment": _tv(gs, rs, n_segments),
        "tv_query_segment": _tv(gq * n_segments + gs, rq * n_segments + rs, n_queries * n_segments),
        "tv_segment_power": _tv(gs * power_bins + gb, rs * power_bins + rb, n_segments * power_bins),
        "w1_power": float(wasserstein_distance(gen["power"], ref["power"])),
    }
