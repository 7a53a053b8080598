"""Hard baselines of the ranking study, computed on the simulator's exact expectations.

* :func:`exact_policy_gmv` — exact expected GMV per session of a deterministic policy
  on a panel of users: the simulator's expectation mode (``step(sample=False)``) walks
  one path per user and gives the exact b_t, c_t, m_t of every page, so

      E[GMV | user] = sum_t (prod_{j<t} c_j) b_t m_t.

  This is exact for every policy whose action depends on the page history, the
  segment, the purchasing power and t only (static weights, per-segment weights,
  tabular sequences).  The expectation mode shows no clicks, so for a policy that
  also reads the clicked-item features of its observation it is the value of that
  policy with those features held at zero (the learners' table reports it as
  "no-click path" and their sampled GMV next to it).
* :func:`optimise_segments` — the per-segment (contextual) static optimum: one weight
  vector per user segment, each found by the cross-entropy method on the exact
  expected GMV of that segment's users in a panel.  The candidates of the first
  iteration include every vector passed as ``include`` (the global static optimum,
  the named vectors), and the best candidate ever seen is kept, so on its panel the
  result is at least as good, segment by segment, as each of them.
* :class:`SegmentWeights` — the policy: the weight vector of the observation's segment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from simcore.algos.protocol import AgentBase
from simcore.domains.search.spec import segment_of

Policy = Callable[[np.ndarray], np.ndarray]


class SegmentWeights(AgentBase):
    """A static weight vector per user segment: act(obs) = W[segment(obs)].

    Args:
        weights: float (G, m), row g used for users of segment g.
        name: the agent's name.
    """

    name = "segment-opt"

    def __init__(self, weights: np.ndarray, name: str = "segment-opt") -> None:
        self.w = np.asarray(weights, dtype=np.float32)
        if self.w.ndim != 2:
            raise ValueError(f"weights: expected (G, m), got shape {self.w.shape}")
        self.name = name

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        return self.w[segment_of(obs, self.w.shape[0])].copy()

    def state_dict(self) -> dict[str, Any]:
        return {"weights": self.w.copy()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.w = np.asarray(state["weights"], dtype=np.float32)


def exact_policy_gmv(sim: Any, policy: Policy, users: Mapping[str, np.ndarray]) -> np.ndarray:
    """Exact expected GMV per session of each user under a deterministic policy.

    Args:
        sim: a :class:`simcore.domains.search.simulator.SearchSimulator` with as many
            sessions as ``users`` has users (U).
        policy: obs float32 (U, D) -> weights float (U, m) (e.g. ``agent.act(obs, False)``).
        users: the panel, as ``SearchSimulator.users()`` returns it.

    Returns:
        float64 (U,): sum_t (prod_{j<t} c_j) b_t m_t along each user's path.
    """
    obs = np.array(sim.reset_to(users), copy=True)
    total = np.zeros(sim.num_sessions)
    cont = np.ones(sim.num_sessions)
    for _ in range(sim.horizon):
        r = sim.step(np.asarray(policy(obs), dtype=np.float32), sample=False)
        total += cont * r.b * r.m
        cont *= r.c
        obs = np.array(r.obs, copy=True)
    return total


def _tile(users: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    return {k: np.concatenate([np.asarray(v)] * n) for k, v in users.items()}


def candidates_gmv(sim: Any, weights: np.ndarray, users: Mapping[str, np.ndarray]) -> np.ndarray:
    """Exact mean GMV per session of static vectors on a panel: float64 (n,) for
    ``weights`` float (n, m); ``sim`` must hold n * U sessions."""
    n, U = weights.shape[0], len(users["query"])
    W = np.repeat(np.asarray(weights, dtype=np.float32), U, axis=0)
    v = exact_policy_gmv(sim, lambda _obs: W, _tile(users, n))
    return v.reshape(n, U).mean(axis=1)


def cem_exact(evaluate: Callable[[np.ndarray], np.ndarray], mean: np.ndarray, std: np.ndarray,
              rng: np.random.Generator, n_candidates: int, iterations: int,
              include: np.ndarray | None = None, low: float = -1.0) -> tuple[np.ndarray, float, list[float]]:
    """The cross-entropy method over static weights in [low, 1]^m (default [-1, 1]^m;
    ``low=0``: non-negative weights, the softmax actor's class) on an exact score.

    Each iteration draws ``n_candidates`` vectors from N(mean, diag(std^2)) (clipped;
    candidate 0 is the mean itself, and on the first iteration the rows of
    ``include`` replace the first candidates), scores them with ``evaluate`` (float
    (n, m) -> float64 (n,)), and moves mean and std 80 % of the way to the top quarter
    (std floored at 0.02).  The best vector ever scored is kept.

    Returns:
        (best weights float (m,), its score, best score after each iteration).
    """
    m = mean.shape[0]
    best_w = (include[0] if include is not None else mean).copy()
    best_v, hist = -np.inf, []
    n_elite = max(2, n_candidates // 4)
    for it in range(iterations):
        C = np.clip(mean + std * rng.standard_normal((n_candidates, m)), low, 1)
        C[0] = np.clip(mean, low, 1)
        if it == 0 and include is not None:
            k = min(len(include), n_candidates - n_elite)
            C[:k] = np.clip(include[:k], low, 1)
        v = evaluate(C)
        order = np.argsort(-v, kind="stable")
        if v[order[0]] > best_v:
            best_v, best_w = float(v[order[0]]), C[order[0]].copy()
        elite = C[order[:n_elite]]
        mean = 0.2 * mean + 0.8 * elite.mean(axis=0)
        std = np.maximum(0.2 * std + 0.8 * elite.std(axis=0), 0.02)
        hist.append(best_v)
    return best_w, best_v, hist


def _cem_segment(make_sim: Callable[[int], Any], users: Mapping[str, np.ndarray], include: np.ndarray,
                 rng: np.random.Generator, n_candidates: int, iterations: int,
                 low: float = -1.0) -> tuple[np.ndarray, float]:
    """CEM over one segment's static weights in [low, 1]^m on its users' exact GMV (best ever kept)."""
    sim = make_sim(n_candidates * len(users["query"]))
    w, v, _ = cem_exact(lambda C: candidates_gmv(sim, C, users), include[0].astype(np.float64),
                        np.full(include.shape[1], 0.5), rng, n_candidates, iterations, include, low)
    return w, v


def optimise_segments(make_sim: Callable[[int], Any], users: Mapping[str, np.ndarray], n_segments: int,
                      include: np.ndarray, rng: np.random.Generator, n_candidates: int = 24,
                      iterations: int = 12, low: float = -1.0) -> dict[str, Any]:
    """The per-segment static optimum on a panel (module docstring), over weights in
    [low, 1]^m (``low=0``: the non-negative weights of the article's softmax actor).

    Args:
        make_sim: n -> a SearchSimulator with n sessions (same world and config).
        users: the panel (``SearchSimulator.users()``).  n_segments: G.
        include: float (k, m) vectors among the first iteration's candidates of every
            segment (row 0 also starts the search).
        rng: the search's Generator.  n_candidates, iterations: CEM sizes.

    Returns:
        ``{"weights": float (G, m), "segment_gmv": float (G,) exact GMV per session of
        each segment's users on the panel, "included_gmv": float (G, k) the same for
        each included vector, "share": float (G,) panel share of each segment}``.
    """
    seg = np.asarray(users["segment"])
    include = np.clip(np.asarray(include, dtype=np.float64), low, 1)
    m = include.shape[1]
    W = np.zeros((n_segments, m))
    gmv, inc, share = np.zeros(n_segments), np.zeros((n_segments, len(include))), np.zeros(n_segments)
    for g in range(n_segments):
        idx = np.flatnonzero(seg == g)
        share[g] = idx.size / seg.size
        if idx.size == 0:
            W[g] = include[0]
            continue
        sub = {k: np.asarray(v)[idx] for k, v in users.items()}
        W[g], gmv[g] = _cem_segment(make_sim, sub, include, rng, n_candidates, iterations, low)
        inc[g] = candidates_gmv(make_sim(len(include) * idx.size), include, sub)
    return {"weights": W, "segment_gmv": gmv, "included_gmv": inc, "share": share}


class SequenceWeights(AgentBase):
    """An open-loop weight sequence per segment: act(obs) = actions[paths[g, t]] with g
    the observation's segment and t = round(horizon * obs[:, -1]) the pages shown.

    Args:
        actions: float (A, m) the action set.  paths: int (G, T) each segment's sequence.
    """

    name = "tabular-opt"

    def __init__(self, actions: np.ndarray, paths: np.ndarray, name: str = "tabular-opt") -> None:
        self.actions = np.asarray(actions, dtype=np.float32)
        self.paths = np.asarray(paths, dtype=np.int64)
        self.name = name

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        G, T = self.paths.shape
        t = np.clip(np.rint(np.asarray(obs)[:, -1] * T).astype(np.int64), 0, T - 1)
        return self.actions[self.paths[segment_of(obs, G), t]].copy()

    def state_dict(self) -> dict[str, Any]:
        return {"actions": self.actions.copy(), "paths": self.paths.copy()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.actions = np.asarray(state["actions"], dtype=np.float32)
        self.paths = np.asarray(state["paths"], dtype=np.int64)


def tabular_optimum(config: Any, actions: np.ndarray, users: Mapping[str, np.ndarray], seed: int,
                    memory: int = 1, n_sessions: int = 8192) -> dict[str, Any]:
    """The per-state optimum over a finite action set: backward induction over (page,
    last ``memory`` actions, segment) on the tabular model estimated from the
    simulator's exact expectations (:func:`simcore.domains.search.tabular.extract_model`,
    one refinement round along its own optimum), then per segment the better, in exact
    GMV on ``users``, of the DP's sequence and the best constant sequence (so the result
    is at least as good as every static vector of ``actions`` on that panel, segment by
    segment, even where the estimated model errs).

    Returns ``{"paths": int (G, T), "dp_gmv": float (G,), "constant_gmv": float (G,),
    "used_dp": bool (G,)}`` (exact GMV per session of each segment's users on the panel).
    """
    from simcore.domains.search.tabular import extract_model, paths, solve
    from simcore.domains.search.tabular.simeval import evaluate_paths

    acts = np.asarray(actions, dtype=np.float32)
    model = extract_model(config, acts, memory=memory, n_sessions=n_sessions, seed=seed, refine_rounds=1,
                          refine_sessions=n_sessions // 2, refine_gammas=(1.0,))
    dp = paths(model, solve(model, 1.0).policy)
    G, T = dp.shape
    cands = [dp] + [np.full((G, T), a, dtype=np.int64) for a in range(len(acts))]
    vals = evaluate_paths(config, acts, users, cands)[:, 0, :]  # (n_cands, U)
    seg = np.asarray(users["segment"])
    out = dp.copy()
    dp_gmv, const_gmv, used = np.zeros(G), np.zeros(G), np.zeros(G, dtype=bool)
    for g in range(G):
        idx = seg == g
        if not np.any(idx):
            continue
        per = vals[:, idx].mean(axis=1)
        best_c = 1 + int(np.argmax(per[1:]))
        dp_gmv[g], const_gmv[g] = per[0], per[best_c]
        used[g] = per[0] >= per[best_c]
        if not used[g]:
            out[g] = cands[best_c][g]
    return {"paths": out, "dp_gmv": dp_gmv, "constant_gmv": const_gmv, "used_dp": used}
