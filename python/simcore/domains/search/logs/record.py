"""Recording a policy on the C++ search simulator to a search log.

:func:`record` steps ``num_slots`` sessions at once (one C++ call per page of every
slot), keeps each page view's row, and writes whole sessions in chunks sorted by
session id.  Logging policies map a float32 (B, D) observation batch to float32 (B, m)
ranking weights, optionally with the float64 (B,) log density of each action (the
propensity column).  Two are built in: :class:`FixedPolicy` (one weight vector; its
log propensity is 0, a point mass) and :class:`GaussianPolicy` (weights drawn around a
mean, with their exact log density).

The log is a function of (config, world, seed, num_slots, policy): the same arguments
give a byte-identical table at any thread count.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from simcore._version import __version__
from simcore.domains.search.config import SessionConfig
from simcore.domains.search.logs.io import LogWriter
from simcore.domains.search.logs.schema import LogLayout
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.world import World
from simcore.util.checks import positive_int
from simcore.util.progress import Progress
from simcore.util.seeds import SeedTree

__all__ = ["FixedPolicy", "GaussianPolicy", "LogSummary", "record"]

PolicyOutput = Union[np.ndarray, tuple[np.ndarray, np.ndarray]]
LoggingPolicy = Callable[[np.ndarray], PolicyOutput]


class FixedPolicy:
    """The same ranking weights on every page; log propensity 0 (a point mass)."""

    def __init__(self, weights: np.ndarray, name: str = "fixed") -> None:
        w = np.asarray(weights, dtype=np.float32)
        if w.ndim != 1 or not np.all(np.isfinite(w)):
            raise ValueError(f"weights: expected a finite 1-d vector, got shape {w.shape}")
        self.weights, self.name = w, name

    def __call__(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = obs.shape[0]
        return np.tile(self.weights, (n, 1)), np.zeros(n)


class GaussianPolicy:
    """a ~ N(mean, diag(std^2)) independently per page, with its exact log density
    log p(a) = -sum_j [(a_j - mean_j)^2 / (2 std_j^2) + log std_j + log(2 pi) / 2]
    (computed from the float32 action actually logged).

    Args:
        mean: float (m,) mean weights.  std: float > 0 or (m,) standard deviations.
        seed: the policy's own random stream (a SeedTree path "logging-policy").
    """

    def __init__(self, mean: np.ndarray, std: float | np.ndarray, seed: int = 0, name: str = "gaussian") -> None:
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.broadcast_to(np.asarray(std, dtype=np.float64), self.mean.shape).copy()
        if self.mean.ndim != 1 or not np.all(np.isfinite(self.mean)):
            raise ValueError(f"mean: expected a finite 1-d vector, got shape {self.mean.shape}")
        if not np.all(np.isfinite(self.std)) or np.any(self.std <= 0):
            raise ValueError("std: must be finite and > 0")
        self.rng = SeedTree(seed).generator("logging-policy")
        self.name = name

    def log_prob(self, actions: np.ndarray) -> np.ndarray:
        """float64 (B,) log density of float (B, m) actions."""
        z = (np.asarray(actions, np.float64) - self.mean) / self.std
        return -(0.5 * z * z + np.log(self.std) + 0.5 * np.log(2 * np.pi)).sum(axis=1)

    def __call__(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = (self.mean + self.std * self.rng.standard_normal((obs.shape[0], self.mean.size))).astype(np.float32)
        return a, self.log_prob(a)


@dataclass
class LogSummary:
    """What :func:`record` wrote: rows (page views), sessions, wall seconds."""

    path: str
    rows: int
    sessions: int
    seconds: float

    @property
    def pages_per_minute(self) -> float:
        return 60.0 * self.rows / max(self.seconds, 1e-9)


class _Slots:
    """Per-slot session bookkeeping: session id (-1: not logged), page index, user."""

    def __init__(self, sim: SearchSimulator, sessions: int) -> None:
        B = sim.num_sessions
        self.sid = np.where(np.arange(B) < sessions, np.arange(B), -1).astype(np.int64)
        self.next_id = min(B, sessions)
        self.sessions = sessions
        self.page = np.zeros(B, np.int64)
        self.users = {k: np.array(v, copy=True) for k, v in sim.users().items()}

    def restart(self, rows: np.ndarray, sim: SearchSimulator) -> None:
        """Slots ``rows`` began new episodes: new ids while sessions remain, new users."""
        n = len(rows)
        if n == 0:
            return
        take = min(n, max(self.sessions - self.next_id, 0))
        ids = np.full(n, -1, np.int64)
        ids[:take] = np.arange(self.next_id, self.next_id + take)
        self.next_id += take
        self.sid[rows] = ids
        self.page[rows] = 0
        fresh = sim.users()
        for k in self.users:
            self.users[k][rows] = fresh[k][rows]


def _page_rows(sim: SearchSimulator, slots: _Slots, r: Any, actions: np.ndarray, logp: np.ndarray | None,
               keep: np.ndarray, exact: bool, latent: bool) -> dict[str, Any]:
    """The log rows of the page views in slots ``keep`` of step result ``r``."""
    w = sim.world
    Q, N, m = w.features.shape
    u = {k: v[keep] for k, v in slots.users.items()}
    items = r.page[keep].copy()
    shown = items >= 0
    flat = u["query"][:, None] * N + np.where(shown, items, 0)
    feats = w.features.reshape(Q * N, m)[flat] * shown[..., None]
    prices = w.prices.reshape(-1)[flat] * shown
    return {
        "session_id": slots.sid[keep], "page": slots.page[keep].astype(np.int32),
        "query": u["query"].astype(np.int64), "segment": u["segment"].astype(np.int32),
        "power": u["power"].astype(np.float64),
        "action": actions[keep], "log_propensity": None if logp is None else logp[keep],
        "items": items, "item_features": feats.astype(np.float32), "item_prices": prices,
        "clicks": r.clicks[keep].copy(), "carts": None,
        "outcome": r.outcome[keep].copy(), "bought_item": r.item[keep].copy(),
        "price": r.price[keep].copy(), "truncated": r.truncated[keep].copy(),
        "latent_patience": u["patience"].astype(np.float64) if latent else None,
        "latent_prefs": u["prefs"].astype(np.float64) if latent else None,
        **{f"exact_{k}": (getattr(r, k)[keep].copy() if exact else None) for k in "blcm"},
    }


def _concat(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {k: (None if parts[0][k] is None else np.concatenate([p[k] for p in parts])) for k in parts[0]}


def _take(d: dict[str, Any], idx: np.ndarray) -> dict[str, Any]:
    return {k: (None if v is None else v[idx]) for k, v in d.items()}


def _policy_out(policy: LoggingPolicy, obs: np.ndarray, B: int, m: int) -> tuple[np.ndarray, np.ndarray | None]:
    out = policy(obs)
    actions, logp = (out if isinstance(out, tuple) else (out, None))
    actions = np.ascontiguousarray(actions, dtype=np.float32)
    if actions.shape != (B, m):
        raise ValueError(f"policy: returned actions of shape {actions.shape}, expected {(B, m)}")
    if logp is not None:
        logp = np.asarray(logp, np.float64)
        if logp.shape != (B,):
            raise ValueError(f"policy: returned log propensities of shape {logp.shape}, expected {(B,)}")
    return actions, logp


def record(path: str | os.PathLike, policy: LoggingPolicy, *, sessions: int, config: SessionConfig | None = None,
           world: World | None = None, seed: int = 0, num_slots: int = 1024, chunk_rows: int = 1 << 18,
           exact: bool = True, latent: bool = True, policy_name: str | None = None,
           progress: bool = False) -> LogSummary:
    """Runs ``policy`` for ``sessions`` whole sessions and writes their page views.

    Args:
        path: ``*.parquet`` or ``*.csv`` output (written atomically).
        policy: obs float32 (B, D) -> actions float32 (B, m) [, log propensity (B,)].
        sessions: sessions to log (>= 1).  config, world, seed: the simulator's.
        num_slots: sessions stepped together (the batch size B).
        chunk_rows: rows buffered before whole sessions are written (a row group each).
        exact, latent: also log the exact b, l, c, m and the latent user traits.
        policy_name: provenance label (default: the policy's ``name`` attribute).
        progress: a progress bar over sessions.
    """
    sessions = positive_int(sessions, "sessions")
    num_slots = positive_int(num_slots, "num_slots", maximum=1 << 20)
    chunk_rows = positive_int(chunk_rows, "chunk_rows", maximum=1 << 30)
    cfg = config if config is not None else SessionConfig()
    sim = SearchSimulator(cfg, num_slots, seed, world)
    B, m, K = num_slots, sim.num_features, cfg.page_size
    layout = LogLayout(K, m, sim.horizon)
    meta = {"policy": policy_name or getattr(policy, "name", type(policy).__name__), "seed": int(seed),
            "num_slots": B, "simcore": __version__, "simulator": "search.SearchSimulator",
            "page_size": K, "max_steps": cfg.max_steps}
    t0 = time.perf_counter()
    obs = sim.reset()
    slots = _Slots(sim, sessions)
    done = np.zeros(sessions, bool)
    pending: list[dict[str, Any]] = []
    n_pending = rows = 0
    bar = Progress(sessions, desc="logging sessions", unit="sessions", enabled=progress or None if progress else False)
    with LogWriter(path, layout, meta) as writer:
        while (slots.sid >= 0).any():
            actions, logp = _policy_out(policy, obs, B, m)
            r = sim.step(actions)
            reset = r.outcome == -1
            keep = np.flatnonzero(~reset & (slots.sid >= 0))
            if len(keep):
                pending.append(_page_rows(sim, slots, r, actions, logp, keep, exact, latent))
                n_pending += len(keep)
                ended = keep[(r.terminated | r.truncated)[keep]]
                done[slots.sid[ended]] = True
                bar.update(len(ended))
            slots.page[~reset] += 1
            slots.restart(np.flatnonzero(reset), sim)
            obs = r.obs
            if n_pending >= chunk_rows:
                pending, n_pending, wrote = _flush(writer, pending, done, final=False)
                rows += wrote
        rows += _flush(writer, pending, done, final=True)[2]
    bar.close()
    return LogSummary(str(path), rows, int(done.sum()), time.perf_counter() - t0)


def _flush(writer: LogWriter, pending: list[dict[str, Any]], done: np.ndarray,
           final: bool) -> tuple[list[dict[str, Any]], int, int]:
    """Writes the buffered rows of finished sessions (sorted by session, page); keeps the rest."""
    if not pending:
        return [], 0, 0
    d = _concat(pending)
    fin = done[d["session_id"]]
    idx = np.flatnonzero(fin)
    idx = idx[np.lexsort((d["page"][idx], d["session_id"][idx]))]
    if len(idx):
        writer.write(_take(d, idx))
    rest = np.flatnonzero(~fin)
    if final and len(rest):
        raise RuntimeError(f"record: {len(rest)} rows of unfinished sessions at the end")  # cannot happen
    kept = [_take(d, rest)] if len(rest) else []
    return kept, len(rest), len(idx)
