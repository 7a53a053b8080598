"""Estimation of the tabular SSMDP from the C++ simulator's exact expectations.

:class:`ModelEstimator` accumulates survival-weighted exact per-user expectations;
:func:`extract_model` runs a uniform-random estimation round and then refinement
rounds along the current DP policies (see
:mod:`~simcore.domains.search.tabular.model` for the estimator's maths).  Imports
point one way: space <- model <- dp <- estimate.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.tabular.dp import check_gamma, solve
from simcore.domains.search.tabular.model import TabularSSMDP, segment_slice
from simcore.domains.search.tabular.rng import Seeds, seed_tree
from simcore.domains.search.tabular.space import StateSpace


class ModelEstimator:
    """Accumulates survival-weighted exact expectations from the simulator and builds
    the tabular SSMDP from them (with back-off).

    Each call of :meth:`collect` runs users (drawn by the simulator) through the whole
    horizon in expectation mode (``step(sample=False)``: no outcome is drawn, so every
    user reaches every page).  At every page the exact b, l, m of *all* A actions are
    read for the same user (A-1 ``peek`` calls plus the ``step``), so every visited
    state gets all its actions estimated on the same users.  Each contribution is
    weighted by the user's survival probability S_u (product of its exact c so far):

        b(s, a) = sum_u S_u b_u(s, a) / sum_u S_u,   l likewise,
        m(s, a) = sum_u S_u b_u m_u / sum_u S_u b_u,  c = 1 - b - l.

    The actions taken come from a behaviour: uniformly random, or ("refinement") a
    set of deterministic tabular policies, each session following one of them with
    probability 1 - epsilon per page and a uniformly random action otherwise.  The
    estimates of all calls are pooled.

    Args:
        config: the simulator configuration (horizon T = config.horizon).
        actions: float (A, m) ranking weight vectors, A >= 1.
        memory: L >= 0.
        batch_size: sessions stepped together.
    """

    def __init__(self, config: SessionConfig, actions: np.ndarray, memory: int = 4, batch_size: int = 8192):
        from simcore.domains.search.simulator import SearchSimulator

        acts = np.asarray(actions)
        if acts.ndim != 2 or acts.shape[0] < 1:
            raise ValueError(f"actions: expected a non-empty (A, m) array, got shape {acts.shape}")
        if acts.dtype.kind != "f" or not np.all(np.isfinite(acts)):
            raise ValueError("actions: must be finite floating weights")
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size: must be an integer >= 1, got {batch_size!r}")
        self.config = config
        self.actions = np.ascontiguousarray(acts, dtype=np.float32)
        self.space = StateSpace(config.horizon, acts.shape[0], memory, config.world.n_segments)
        self.batch_size = int(batch_size)
        self._SearchSimulator = SearchSimulator
        S, A = self.space.n_states, self.space.n_actions
        self.W = np.zeros(S)  # sum of survival weights per state
        self.W2 = np.zeros(S)  # sum of squared weights
        self.N = np.zeros(S, dtype=np.int64)  # users that visited the state
        self.WB = np.zeros(S * A)
        self.WL = np.zeros(S * A)
        self.WBM = np.zeros(S * A)
        self.seg_count = np.zeros(self.space.n_segments, dtype=np.int64)
        self.sessions = 0
        self.rounds: list[dict] = []
        self._segment_probs: np.ndarray | None = None

    def collect(
        self,
        n_sessions: int,
        seed: Seeds,
        policies: np.ndarray | None = None,
        epsilon: float = 0.2,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Runs ``n_sessions`` users (rounded up to equal batches) and accumulates.

        Args:
            n_sessions: users to run.
            seed: SeedTree (or int root) of the round's two streams: the simulator's
                seed ``seed_tree(seed).seed("simulator")`` (users) and the generator
                ``.generator("behaviour")`` of the behaviour's random actions.
            policies: None (uniformly random actions) or int (n, S) deterministic
                policies; session i follows policy i mod n.
            epsilon: with ``policies``, probability of a uniformly random action.
            progress: called with the number of sessions finished after each batch.
        """
        if not isinstance(n_sessions, numbers.Integral) or isinstance(n_sessions, bool) or n_sessions < 1:
            raise ValueError(f"n_sessions: must be an integer >= 1, got {n_sessions!r}")
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon: must lie in [0, 1], got {epsilon!r}")
        space, acts, config = self.space, self.actions, self.config
        S, A, T, G = space.n_states, space.n_actions, space.horizon, space.n_segments
        pols = None
        if policies is not None:
            pols = np.asarray(policies, dtype=np.int64).reshape(-1, S)
            if pols.size and (pols.min() < 0 or pols.max() >= A):
                raise ValueError(f"policies: actions must lie in [0, {A})")
        n_batches = -(-int(n_sessions) // self.batch_size)
        B = -(-int(n_sessions) // n_batches)
        seeds = seed_tree(seed)
        sim = self._SearchSimulator(config, B, seed=seeds.seed("simulator"))
        if acts.shape[1] != sim.num_features:
            raise ValueError(f"actions: expected {sim.num_features} columns, got {acts.shape[1]}")
        self._segment_probs = np.asarray(sim.world.segment_probs, dtype=np.float64)
        seg_sl = segment_slice(sim.obs_dim, config.user.window, sim.num_features, G)
        rng = seeds.generator("behaviour")
        W, W2, N, WB, WL, WBM = self.W, self.W2, self.N, self.WB, self.WL, self.WBM
        for batch in range(n_batches):
            obs = sim.reset()
            g = np.argmax(obs[:, seg_sl], axis=1).astype(np.int64)
            self.seg_count += np.bincount(g, minlength=G)
            which = None if pols is None else (batch * B + np.arange(B)) % pols.shape[0]
            surv = np.ones(B)
            h = np.zeros(B, dtype=np.int64)
            for t in range(T):
                s = space.index(t, g, h)
                W += np.bincount(s, weights=surv, minlength=S)
                W2 += np.bincount(s, weights=surv * surv, minlength=S)
                N += np.bincount(s, minlength=S)
                a = rng.integers(0, A, size=B)
                if pols is not None:
                    a = np.where(rng.random(B) < epsilon, a, pols[which, s])
                for j in range(1, A):
                    cand = (a + j) % A
                    pe = sim.peek(acts[cand])
                    key = s * A + cand
                    WB += np.bincount(key, weights=surv * pe.b, minlength=S * A)
                    WL += np.bincount(key, weights=surv * pe.l, minlength=S * A)
                    WBM += np.bincount(key, weights=surv * pe.b * pe.m, minlength=S * A)
                r = sim.step(acts[a], sample=False)
                key = s * A + a
                WB += np.bincount(key, weights=surv * r.b, minlength=S * A)
                WL += np.bincount(key, weights=surv * r.l, minlength=S * A)
                WBM += np.bincount(key, weights=surv * r.b * r.m, minlength=S * A)
                surv = surv * r.c
                h = space.next_hist(t, h, a)
            if progress is not None:
                progress(B)
        self.sessions += n_batches * B
        self.rounds.append(
            {
                "sessions": int(n_batches * B),
                "behaviour": "uniform" if pols is None else f"{pols.shape[0]} policies, epsilon {epsilon}",
                "seeds": {k: seeds.describe(k) for k in ("simulator", "behaviour")},
            }
        )

    def model(self, min_ess: float = 5.0) -> TabularSSMDP:
        """The tabular SSMDP of everything collected so far.

        Back-off: a state whose effective sample size (sum S_u)^2 / sum S_u^2 is below
        ``min_ess`` takes the estimate of the same state with its oldest action
        forgotten (memory L-1, then L-2, ... down to (t, segment)): the first level
        that has ``min_ess``; (t, segment) is used even below it.  ``level`` records
        the choice.
        """
        if not min_ess >= 1:
            raise ValueError(f"min_ess: must be >= 1, got {min_ess!r}")
        if self.sessions == 0:
            raise ValueError("model: nothing collected yet (call collect first)")
        if np.any(self.seg_count == 0):
            raise ValueError(
                f"n_sessions: {self.sessions} sessions left segment(s) "
                f"{np.flatnonzero(self.seg_count == 0).tolist()} unseen; use more sessions"
            )
        space = self.space
        S, A = space.n_states, space.n_actions
        W, W2 = self.W, self.W2
        WB2, WL2, WBM2 = self.WB.reshape(S, A), self.WL.reshape(S, A), self.WBM.reshape(S, A)
        b = np.empty((S, A))
        l = np.empty((S, A))  # noqa: E741
        m = np.empty((S, A))
        level = np.full(S, -1, dtype=np.int64)
        for lev in range(space.memory, -1, -1):
            if lev == space.memory:
                w, w2, wb, wl, wbm = W, W2, WB2, WL2, WBM2
            else:
                proj = space.project(lev)
                nc = int(proj.max()) + 1

                def pool(x: np.ndarray) -> np.ndarray:
                    if x.ndim == 1:
                        return np.bincount(proj, weights=x, minlength=nc)[proj]
                    return np.stack([np.bincount(proj, weights=x[:, j], minlength=nc) for j in range(A)], 1)[proj]

                w, w2, wb, wl, wbm = pool(W), pool(W2), pool(WB2), pool(WL2), pool(WBM2)
            with np.errstate(invalid="ignore", divide="ignore"):
                ess = np.where(w2 > 0, w * w / np.where(w2 > 0, w2, 1.0), 0.0)
            take = (level < 0) & ((ess >= min_ess) | ((lev == 0) & (w > 0)))
            if np.any(take):
                b[take] = wb[take] / w[take, None]
                l[take] = wl[take] / w[take, None]
                wbt = wb[take]
                m[take] = np.where(wbt > 0, wbm[take] / np.where(wbt > 0, wbt, 1.0), 0.0)
                level[take] = lev
        if np.any(level < 0):  # a (t, segment) never reached: impossible in expectation mode
            raise RuntimeError("extract_model: some (page, segment) pairs were never visited")
        b = np.clip(b, 0.0, 1.0)
        l = np.clip(l, 0.0, 1.0 - b)  # noqa: E741
        c = np.clip(1.0 - b - l, 0.0, 1.0)
        probs = self._segment_probs / self._segment_probs.sum()
        info = {
            "sessions": int(self.sessions),
            "rounds": list(self.rounds),
            "memory": int(space.memory),
            "min_ess": float(min_ess),
            "states": int(S),
            "states_visited": int(np.count_nonzero(self.N)),
            "backoff_states": int(np.count_nonzero(level < space.memory)),
            # share of the expected page views (survival mass) in backed-off states
            "backoff_weight": float((W * (level < space.memory)).sum() / W.sum()),
            "segment_counts": self.seg_count.tolist(),
        }
        return TabularSSMDP(space, b, l, c, m, probs, visits=self.N.copy(), level=level, info=info)


def extract_model(
    config: SessionConfig,
    actions: np.ndarray,
    memory: int = 4,
    n_sessions: int = 40_000,
    seed: Seeds = 0,
    refine_rounds: int = 0,
    refine_sessions: int = 0,
    refine_gammas: tuple[float, ...] = (0.0, 0.1, 0.5, 0.9, 1.0),
    refine_epsilon: float = 0.2,
    batch_size: int = 8192,
    min_ess: float = 5.0,
    progress: Callable[[int], None] | None = None,
) -> TabularSSMDP:
    """Estimates the tabular SSMDP of ``config`` from the simulator's exact expectations.

    First ``n_sessions`` users under uniformly random actions; then ``refine_rounds``
    rounds of ``refine_sessions`` users each that follow the current model's
    gamma-optimal DP policies (for every gamma in ``refine_gammas``, epsilon-greedy),
    so that the states those policies visit are estimated from many users rather than
    the few a uniform behaviour leaves there (otherwise DP favours paths whose few
    samples happen to look good).  Round k (0: the uniform one) draws from
    ``seed_tree(seed).child("round", k)`` (see :meth:`ModelEstimator.collect`; the
    streams are recorded in ``model.info["rounds"]``).  See :class:`ModelEstimator`
    for the estimator and the back-off, and docs/discount.md.
    """
    for name, v in (("refine_rounds", refine_rounds), ("refine_sessions", refine_sessions)):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 0:
            raise ValueError(f"{name}: must be an integer >= 0, got {v!r}")
    if refine_rounds and refine_sessions < 1:
        raise ValueError("refine_sessions: must be >= 1 when refine_rounds > 0")
    gammas = [check_gamma(g, "refine_gammas") for g in refine_gammas]
    est = ModelEstimator(config, actions, memory, batch_size)
    seeds = seed_tree(seed)
    est.collect(n_sessions, seeds.child("round", 0), progress=progress)
    model = est.model(min_ess)
    for k in range(int(refine_rounds)):
        pols = np.stack([solve(model, g).policy for g in gammas]) if gammas else None
        est.collect(refine_sessions, seeds.child("round", k + 1), pols, refine_epsilon, progress=progress)
        model = est.model(min_ess)
    model.info["seed"] = seeds.describe()
    return model
