"""Evaluation of tabular policies on the real C++ simulator.

* :func:`sequence_rewards` — exact: every user of a panel is run through given action
  sequences in expectation mode (``step(sample=False)``); the expected reward of page t
  is S_t b_t m_t with S_t the product of the earlier exact continuing probabilities, so
  ``rewards.sum(-1)`` is the user's exact expected GMV and sum_t gamma^t rewards[..., t]
  its V_gamma.  A deterministic tabular policy is one action sequence per segment
  (:func:`simcore.domains.search.tabular.dp.paths`), so this evaluates it exactly for each user; the
  only randomness left is which users are in the panel.
* :func:`simulate_policies` — Monte Carlo: sessions with sampled outcomes
  (``sample=True``), deterministic or stochastic tabular policies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.tabular.model import segment_slice
from simcore.domains.search.tabular.rng import Seeds, seed_tree
from simcore.domains.search.tabular.space import StateSpace


def draw_users(config: SessionConfig, n: int, seed: int) -> dict[str, np.ndarray]:
    """A panel of n users drawn by the simulator (query, segment, power, patience,
    prefs), as returned by ``SearchSimulator.users()`` (copied)."""
    from simcore.domains.search.simulator import SearchSimulator

    sim = SearchSimulator(config, int(n), seed=int(seed))
    sim.reset()
    return {k: np.array(v, copy=True) for k, v in sim.users().items()}


def _take_users(users: Mapping[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    return {k: np.asarray(v)[idx] for k, v in users.items()}


def sequence_rewards(
    config: SessionConfig,
    actions: np.ndarray,
    users: Mapping[str, np.ndarray],
    sequences: np.ndarray,
    chunk: int = 65_536,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Exact expected reward of each page for every (user, sequence) pair.

    Args:
        config: simulator configuration; sequences must have length config.horizon.
        actions: float (A, m) ranking weight vectors.
        users: panel of U users (see :func:`draw_users`).
        sequences: int (K, T) action indices.
        chunk: most sessions stepped at once.
        progress: called with the number of (user, sequence) pairs done.

    Returns:
        float64 (U, K, T): S_t * b_t * m_t (S_t = prod_{j<t} c_j) of user u under
        sequence k at page t.
    """
    from simcore.domains.search.simulator import SearchSimulator

    seqs = np.asarray(sequences, dtype=np.int64)
    acts = np.ascontiguousarray(actions, dtype=np.float32)
    T = config.horizon
    if seqs.ndim != 2 or seqs.shape[1] != T:
        raise ValueError(f"sequences: expected shape (K, {T}), got {seqs.shape}")
    if seqs.size and (seqs.min() < 0 or seqs.max() >= acts.shape[0]):
        raise ValueError(f"sequences: actions must lie in [0, {acts.shape[0]})")
    U, K = int(np.asarray(users["query"]).shape[0]), seqs.shape[0]
    out = np.zeros((U, K, T))
    if U == 0 or K == 0:
        return out
    per = max(1, chunk // K)  # users per chunk
    sim = None
    for u0 in range(0, U, per):
        u1 = min(U, u0 + per)
        B = (u1 - u0) * K
        if sim is None or sim.num_sessions != B:
            sim = SearchSimulator(config, B, seed=0)  # unused: users are set, outcomes not sampled
        panel = _take_users(users, np.repeat(np.arange(u0, u1), K))
        sim.reset_to(panel)
        seq_b = np.tile(seqs, (u1 - u0, 1))
        surv = np.ones(B)
        for t in range(T):
            r = sim.step(acts[seq_b[:, t]], sample=False)
            out[u0:u1, :, t] = (surv * r.b * r.m).reshape(u1 - u0, K)
            surv = surv * r.c
        if progress is not None:
            progress(B)
    return out


def evaluate_paths(
    config: SessionConfig,
    actions: np.ndarray,
    users: Mapping[str, np.ndarray],
    paths: Sequence[np.ndarray],
    gammas: Sequence[float] = (1.0,),
) -> np.ndarray:
    """Exact per-user values of deterministic policies given as per-segment paths.

    Args:
        paths: n policies, each int (G, T): the action sequence of segment g, or
            (1, T): a segment-free policy, the same sequence for every user.
        gammas: discount rates to report.

    Returns:
        float64 (n, len(gammas), U): V_gamma of each user under each policy (gamma = 1:
        the user's exact expected GMV).  Sequences shared by policies are simulated once.
    """
    seg = np.asarray(users["segment"], dtype=np.int64)
    U = seg.size
    T = config.horizon
    disc = np.array([[float(g) ** t for t in range(T)] for g in gammas])  # (n_g, T)
    out = np.zeros((len(paths), len(gammas), U))
    G = config.world.n_segments
    for g in range(G):
        idx = np.flatnonzero(seg == g)
        if idx.size == 0:
            continue
        seqs = np.array([np.asarray(p)[g if len(p) > 1 else 0] for p in paths], dtype=np.int64).reshape(len(paths), T)
        uniq, inv = np.unique(seqs, axis=0, return_inverse=True)
        rew = sequence_rewards(config, actions, _take_users(users, idx), uniq)  # (U_g, K, T)
        vals = np.einsum("ukt,gt->kgu", rew, disc)  # (K, n_g, U_g)
        out[:, :, idx] = vals[np.asarray(inv).ravel()]
    return out


def _policy_tables(
    policies: Sequence[np.ndarray], S: int, A: int
) -> tuple[np.ndarray, np.ndarray, list[int], list[int]]:
    """Packs policies for :func:`simulate_policies`: int (n_det, S) deterministic
    actions, float32 (n_sto, S, A) cumulative action probabilities (rows end at 1),
    and per policy its kind (0 deterministic, 1 stochastic) and row in its table."""
    det_tables, sto_tables, kind, index = [], [], [], []
    for p in policies:
        p = np.asarray(p)
        if p.dtype.kind in "iu":
            if p.shape != (S,):
                raise ValueError(f"policies: deterministic policy of shape {p.shape}, expected ({S},)")
            kind.append(0)
            index.append(len(det_tables))
            det_tables.append(p.astype(np.int8 if A <= 127 else np.int64))
        else:
            if p.shape != (S, A):
                raise ValueError(f"policies: stochastic policy of shape {p.shape}, expected ({S}, {A})")
            kind.append(1)
            index.append(len(sto_tables))
            c = np.cumsum(np.asarray(p, dtype=np.float64), axis=1)
            sto_tables.append((c / c[:, -1:]).astype(np.float32))
    det = np.stack(det_tables) if det_tables else np.zeros((1, S), np.int8)
    sto = np.stack(sto_tables) if sto_tables else np.zeros((1, S, A), np.float32)
    return det, sto, kind, index


def simulate_policies(
    config: SessionConfig,
    actions: np.ndarray,
    space: StateSpace,
    policies: Sequence[np.ndarray],
    sessions: int,
    seed: Seeds,
    lanes: int = 128,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Monte Carlo GMV of tabular policies on the simulator with sampled outcomes.

    Each policy gets ``lanes`` simulator slots that run sessions back to back
    (NEXT_STEP autoreset) until each slot has finished ceil(sessions / lanes)
    sessions; the first ``sessions`` finished sessions per policy are kept.  The
    tabular state (page, last L actions, segment) is tracked per slot, the segment read
    from the observation (segment-free spaces, G = 1: segment 0 for everyone).

    Args:
        space: the tabular state space the policies are defined on (its horizon and
            segments must match the config).
        policies: each int (S,) deterministic actions or float (S, A) probabilities.
        sessions: sessions per policy.
        seed: SeedTree (or int root) of two streams: ``"simulator"`` (its seed: users,
            outcomes) and ``"actions"`` (the generator of stochastic policies' actions).

    Returns:
        float64 (n_policies, sessions): the GMV of each session.
    """
    from simcore.domains.search.simulator import SearchSimulator

    if space.horizon != config.horizon or space.n_segments not in (1, config.world.n_segments):
        raise ValueError("space: horizon/segments do not match the simulator configuration")
    blind = space.n_segments == 1  # the segment-free state: every user in "segment" 0
    acts, A, S, n_pol = np.ascontiguousarray(actions, dtype=np.float32), space.n_actions, space.n_states, len(policies)
    if n_pol == 0:
        return np.zeros((0, int(sessions)))
    lanes = max(1, min(int(lanes), int(sessions)))
    per_lane = -(-int(sessions) // lanes)
    det, sto, kind, index = _policy_tables(policies, S, A)
    B = n_pol * lanes
    slot_kind = np.repeat(np.array(kind), lanes)
    slot_idx = np.repeat(np.array(index), lanes)
    stoch = slot_kind == 1
    seeds = seed_tree(seed)
    sim = SearchSimulator(config, B, seed=seeds.seed("simulator"))
    seg_sl = segment_slice(sim.obs_dim, config.user.window, sim.num_features, config.world.n_segments)
    rng = seeds.generator("actions")
    obs = sim.reset()
    g = np.zeros(B, dtype=np.int64) if blind else np.argmax(obs[:, seg_sl], axis=1).astype(np.int64)
    t = np.zeros(B, dtype=np.int64)
    h = np.zeros(B, dtype=np.int64)
    done = np.zeros(B, dtype=np.int64)
    result = np.zeros((B, per_lane))
    live = np.ones(B, dtype=bool)  # False while the slot waits for its autoreset step
    while done.min() < per_lane:
        s = space.index(np.minimum(t, space.horizon - 1), g, h)
        a = det[slot_idx, s].astype(np.int64)
        if stoch.any():
            cum = sto[slot_idx[stoch], s[stoch]]
            u = rng.random(int(stoch.sum()))
            a[stoch] = np.minimum((cum <= u[:, None]).sum(axis=1), A - 1)
        r = sim.step(acts[a], sample=True)
        out = r.outcome
        ended = live & (r.terminated | r.truncated)
        if ended.any():
            e = np.flatnonzero(ended & (done < per_lane))
            result[e, done[e]] = np.where(out[e] == 1, r.price[e], 0.0)  # GMV, whatever the reward mode
            done[ended] += 1
        restarted = out == -1
        cont = live & ~ended
        h = np.where(cont, space.next_hist(t, h, a), 0)
        t = np.where(cont, t + 1, 0)
        if restarted.any() and not blind:
            g[restarted] = np.argmax(r.obs[restarted][:, seg_sl], axis=1)
        live = ~ended
        if progress is not None:
            progress(int(ended.sum()))
    return result.reshape(n_pol, lanes * per_lane)[:, : int(sessions)]
