"""Measuring feature subsets on the held-out requests: loss (pairwise, top-k or KL) and
cost (the C++ subset kernel) and the exact expected GMV of simulated sessions (the
SSMDP simulator)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.domains.feature_cost.data import FeatureCostData, make_simulator_world, simulator_users
from simcore.domains.feature_cost.kernels import subset_eval
from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig
from simcore.domains.search.simulator import SearchSimulator
from simcore.runner import SeedTree

__all__ = ["PolicyEval", "Evaluator"]


@dataclass
class PolicyEval:
    """Per-request metrics of one policy on the Q held-out requests.

    Attributes:
        masks: bool (Q, n) the evaluated features of each request.
        loss: float64 (Q,) the loss t of the policy's loss definition: fraction of the
            (counted) candidate pairs ordered unlike the full-feature ranking, or the
            KL loss in nats.
        cost: float64 (Q,) cost of the evaluated features, fraction of the full cost.
        gmv: float64 (Q,) exact expected GMV per session, mean over the request's
            user panel (None: not measured).
    """

    masks: np.ndarray
    loss: np.ndarray
    cost: np.ndarray
    gmv: np.ndarray | None = None


class Evaluator:
    """Loss, cost and GMV of subsets on the held-out requests.

    Args:
        test: the held-out requests (Q requests of N candidates, n features).
        fill: float32 (n,) the value a skipped feature takes (the population mean).
        users_per_request: U simulated users per request (the GMV panel, common to
            every policy).
        seeds: the evaluation's seed tree; the panel and the simulator use its
            paths ``("panel",)`` and ``("simulator",)``.
        threads: kernel threads (None: all cores).
    """

    def __init__(self, test: FeatureCostData, fill: np.ndarray, users_per_request: int, seeds: SeedTree,
                 threads: int | None = None) -> None:
        self.test, self.fill, self.threads = test, fill, threads
        Q, N, n = test.X.shape
        self.full_cost = float(test.cost.sum() * N)
        world = make_simulator_world(test)
        user = UserModelConfig()
        scfg = SessionConfig(
            world=WorldConfig(n_queries=Q, n_items=N, n_features=n, n_segments=4),
            user=user,
            num_threads=threads,
        )
        self.U = users_per_request
        self.panel = simulator_users(test, world, self.U, user, seed=seeds.seed("panel"))
        self.sim = SearchSimulator(scfg, num_sessions=Q * self.U, seed=seeds.seed("simulator"), world=world)

    def evaluate(self, masks: np.ndarray, top_k: int | None = None, kl_temperature: float | None = None,
                 gmv: bool = True) -> PolicyEval:
        """The :class:`PolicyEval` of bool (Q, n) ``masks`` (GMV only if ``gmv``); the
        loss counts pairs touching the full top-``top_k`` (None: all pairs), or is the
        KL loss when ``kl_temperature`` is given."""
        t = self.test
        res = subset_eval(t.X, masks, t.cost, t.weights, fill=self.fill, top_k=top_k, threads=self.threads,
                          kl_temperature=kl_temperature)
        loss = res.loss_fraction if res.kl is None else res.kl
        e = PolicyEval(masks=masks.copy(), loss=loss, cost=res.cost / self.full_cost)
        if gmv:
            e.gmv = self.expected_gmv(masks)
        return e

    def expected_gmv(self, masks: np.ndarray) -> np.ndarray:
        """float64 (Q,) exact expected GMV per request, averaged over its users: every
        session is ranked with weights w * mask (the subset ranking of a linear ranker
        with constant fill values) and run in expectation mode to the horizon,
        GMV = sum_t (prod_{s<t} c_s) b_t m_t."""
        q = self.panel["query"]
        W = (self.test.weights[None, :] * masks[q]).astype(np.float32)
        self.sim.reset_to(self.panel)
        alive = np.ones(q.size)
        total = np.zeros(q.size)
        for _ in range(self.sim.horizon):
            r = self.sim.step(W, sample=False)
            total += alive * r.b * r.m
            alive = alive * r.c
        return total.reshape(-1, self.U).mean(axis=1)
