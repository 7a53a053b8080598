"""``cem-segment``: the learned per-segment intervention (a simcore extension, not the
article's method), the personalised counterpart of ``cem-uniform``.

The article's CEM tracks one global distribution of tier weights and the DDPG actor
personalises inside its bounds.  Here one CEM tracker per user segment g (the segment is
in the observation) moves its own N(mu_g, sigma_g^2); every user is served mu of their
segment.  One iteration draws s candidates per segment and serves candidate j's table
(mu_0^j, ..., mu_{G-1}^j) to the same sessions for every j (common random numbers, as
``cem-uniform``: stream ``("call", k, i)`` for chunk i of call k); the score of
candidate j for segment g is the mean session return over the sessions whose user is in
g, so every segment's tracker learns from the same traffic budget as the one global
tracker of ``cem-uniform`` (split by segment).  Chunks are added until every
(candidate, segment) mean is confident (:func:`.evaluate._confident`) or
``max_chunks``; a segment without sessions in a call scores 0 for every candidate (its
tracker then keeps its mean: equal scores give the elite of the first candidates, whose
step is the same small gradient step as any other).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from simcore.algos.cem_bounds import CEMBounds
from simcore.algos.protocol import AgentBase
from simcore.domains.search.spec import segment_of
from simcore.experiments.tiered_traffic.evaluate import _confident, served_returns
from simcore.util.seeds import SeedTree

__all__ = ["segment_session_returns", "segment_cem_evaluator", "CEMSegmentPolicy"]


def segment_session_returns(sim: Any, table: np.ndarray, seed: int,
                            expected: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """One fresh sampled session per slot of ``sim``, each user served the row of
    ``table`` float (G, m_t) of their segment: (returns float64 (B,), as
    :func:`.evaluate.session_returns`; segments int64 (B,))."""
    sim.seed(int(seed))
    sim.reset()
    seg = np.asarray(sim.users()["segment"], dtype=np.int64)
    return served_returns(sim, sim.weights_for(np.asarray(table, dtype=np.float32)[seg]), expected), seg


def segment_cem_evaluator(sim: Any, seeds: SeedTree, n_segments: int, max_chunks: int, rel_tol: float,
                          expected: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """evaluate(candidates float (s, G, m_t)) -> float64 (s, G) per-segment mean
    session returns (module docstring); sessions used are counted in
    ``evaluate.sessions`` (a one-element list)."""
    calls, used = [0], [0]

    def evaluate(candidates: np.ndarray) -> np.ndarray:
        C = np.asarray(candidates, dtype=np.float64)
        if C.ndim != 3 or C.shape[1] != n_segments:
            raise ValueError(f"candidates: expected shape (s, {n_segments}, m_t), got {C.shape}")
        k = calls[0]
        calls[0] += 1
        rets: list[list[np.ndarray]] = [[] for _ in range(C.shape[0])]
        segs: list[np.ndarray] = []
        for i in range(max_chunks):
            seed = seeds.seed("call", k, i)
            for j, table in enumerate(C):
                x, g = segment_session_returns(sim, table, seed, expected)
                rets[j].append(x)
            segs.append(g)  # the same users for every candidate (common random numbers)
            seg = np.concatenate(segs)
            xs = [np.concatenate(r) for r in rets]
            if all(_confident(x[seg == g], rel_tol) for x in xs for g in range(n_segments)):
                break
        out = np.zeros((C.shape[0], n_segments))
        for j, x in enumerate(xs):
            for g in range(n_segments):
                sel = seg == g
                out[j, g] = float(x[sel].mean()) if sel.any() else 0.0
            used[0] += int(x.size)
        return out

    evaluate.sessions = used  # type: ignore[attr-defined]
    return evaluate


class CEMSegmentPolicy(AgentBase):
    """Every user served the CEM mean of their segment; each ``end_iteration`` runs one
    iteration of every segment's tracker on ``evaluate`` (module docstring).

    Args:
        cems: one :class:`~simcore.algos.cem_bounds.CEMBounds` per segment (same m).
        evaluate: :func:`segment_cem_evaluator`'s function.
    """

    name = "cem-segment"

    def __init__(self, cems: list[CEMBounds], evaluate: Callable[[np.ndarray], np.ndarray]) -> None:
        if not cems or len({c.m for c in cems}) != 1:
            raise ValueError(f"cems: expected one or more trackers of equal size, got {len(cems)}")
        self.cems, self.evaluate = cems, evaluate

    @property
    def table(self) -> np.ndarray:
        """float64 (G, m_t): the per-segment tier weights served now."""
        return np.stack([c.mu for c in self.cems])

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        return self.table[segment_of(obs, len(self.cems))].astype(np.float32)

    def step_cem(self) -> dict[str, float]:
        """One iteration of every segment's tracker on common sessions."""
        cand = np.stack([c.ask() for c in self.cems], axis=1)  # (s, G, m_t)
        scores = self.evaluate(cand)
        metrics = [c.tell(scores[:, g]) for g, c in enumerate(self.cems)]
        return {k: float(np.mean([m[k] for m in metrics])) for k in ("cem_best", "cem_mean", "cem_sigma")}

    def end_iteration(self) -> dict[str, float]:
        return self.step_cem()

    def state_dict(self) -> dict[str, Any]:
        return {"cems": [c.state_dict() for c in self.cems]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for c, s in zip(self.cems, state["cems"]):
            c.load_state_dict(s)
