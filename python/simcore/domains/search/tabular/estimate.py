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


def _backoff(space: StateSpace, W: np.ndarray, W2: np.ndarray, WB: np.ndarray, WL: np.ndarray, WBM: np.ndarray,
             min_ess: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """b, l, m (S, A) and the memory level (S,) of every state: the finest level
    L, L-1, ..., 0 whose pooled accumulators (W, W2 (S,), WB, WL, WBM (S, A)) reach an
    effective sample size of ``min_ess`` (level 0 also below it); level -1: never
    reached.  See :meth:`ModelEstimator.model`."""
    S, A = space.n_states, space.n_actions
    W2B, WL2, WBM2 = WB, WL, WBM
    b = np.empty((S, A))
    l = np.empty((S, A))  # noqa: E741
    m = np.empty((S, A))
    level = np.full(S, -1, dtype=np.int64)
    for lev in range(space.memory, -1, -1):
        if lev == space.memory:
            w, w2, wb, wl, wbm = W, W2, W2B, WL2, WBM2
        else:
            proj = space.project(lev)
            nc = int(proj.max()) + 1

            def pool(x: np.ndarray) -> np.ndarray:
                if x.ndim == 1:
                    return np.bincount(proj, weights=x, minlength=nc)[proj]
                return np.stack([np.bincount(proj, weights=x[:, j], minlength=nc) for j in range(A)], 1)[proj]

            w, w2, wb, wl, wbm = pool(W), pool(W2), pool(W2B), pool(WL2), pool(WBM2)
        with np.errstate(invalid="ignore", divide="ignore"):
            ess = np.where(w2 > 0, w * w / np.where(w2 > 0, w2, 1.0), 0.0)
        take = (level < 0) & ((ess >= min_ess) | ((lev == 0) & (w > 0)))
        if np.any(take):
            b[take] = wb[take] / w[take, None]
            l[take] = wl[take] / w[take, None]
            wbt = wb[take]
            m[take] = np.where(wbt > 0, wbm[take] / np.where(wbt > 0, wbt, 1.0), 0.0)
            level[take] = lev
    return b, l, m, level


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

    def model(self, min_ess: float = 5.0, segments: bool = True) -> TabularSSMDP:
        """The tabular SSMDP of everything collected so far.

        ``segments=False``: the article's segment-free model on (t, last L actions)
        (:meth:`StateSpace.segment_free`): the accumulators of the G segments of a
        (t, history) are pooled, i.e. b(s, a) = sum_u S_u b_u / sum_u S_u over all users
        whatever their segment, with one initial state of probability 1.

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
        space, S, A = self.space, self.space.n_states, self.space.n_actions
        W, W2, N = self.W, self.W2, self.N
        WB2, WL2, WBM2 = self.WB.reshape(S, A), self.WL.reshape(S, A), self.WBM.reshape(S, A)
        probs = self._segment_probs / self._segment_probs.sum()
        if not segments:
            space, idx = space.segment_free(), space.drop_segment()
            S = space.n_states

            def merge(x: np.ndarray) -> np.ndarray:
                if x.ndim == 1:
                    return np.bincount(idx, weights=x, minlength=S)
                return np.stack([np.bincount(idx, weights=x[:, j], minlength=S) for j in range(A)], 1)

            W, W2, N = merge(W), merge(W2), merge(N.astype(np.float64)).astype(np.int64)
            WB2, WL2, WBM2 = merge(WB2), merge(WL2), merge(WBM2)
            probs = np.ones(1)
        b, l, m, level = _backoff(space, W, W2, WB2, WL2, WBM2, min_ess)  # noqa: E741
        if np.any(level < 0):  # a (t, segment) never reached: impossible in expectation mode
            raise RuntimeError("extract_model: some (page, segment) pairs were never visited")
        b = np.clip(b, 0.0, 1.0)
        l = np.clip(l, 0.0, 1.0 - b)  # noqa: E741
        c = np.clip(1.0 - b - l, 0.0, 1.0)
        info = {
            "sessions": int(self.sessions),
            "rounds": list(self.rounds),
            "memory": int(space.memory),
            "min_ess": float(min_ess),
            "states": int(S),
            "segments": bool(segments),
            "states_visited": int(np.count_nonzero(N)),
            "backoff_states": int(np.count_nonzero(level < space.memory)),
            # share of the expected page views (survival mass) in backed-off states
            "backoff_weight": float((W * (level < space.memory)).sum() / W.sum()),
            "segment_counts": self.seg_count.tolist(),
        }
        return TabularSSMDP(space, b, l, c, m, probs, visits=N.copy(), level=level, info=info)


#: the tabular states the study compares: the article's (t, last L actions) and
#: (t, last L actions, user segment)
STATES = ("history", "segment")


def extract_models(
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
    states: tuple[str, ...] = ("segment",),
    progress: Callable[[int], None] | None = None,
) -> dict[str, TabularSSMDP]:
    """Estimates the tabular SSMDP of ``config`` for each state in ``states`` from the
    simulator's exact expectations, all from the same users.

    ``"segment"``: state (t, last L actions, segment); ``"history"``: the article's
    segment-free (t, last L actions), the pooled estimate
    (:meth:`ModelEstimator.model` with ``segments=False``).  First ``n_sessions``
    users under uniformly random actions; then ``refine_rounds`` rounds of
    ``refine_sessions`` users each that follow the current models' gamma-optimal DP
    policies (for every gamma in ``refine_gammas`` and every state, epsilon-greedy;
    a segment-free policy acts the same in every segment), so that the states those
    policies visit are estimated from many users rather than the few a uniform
    behaviour leaves there (otherwise DP favours paths whose few samples happen to
    look good).  Round k (0: the uniform one) draws from
    ``seed_tree(seed).child("round", k)`` (see :meth:`ModelEstimator.collect`; the
    streams are recorded in ``model.info["rounds"]``).  See :class:`ModelEstimator`
    for the estimator and the back-off, and docs/discount.md.
    """
    for name, v in (("refine_rounds", refine_rounds), ("refine_sessions", refine_sessions)):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 0:
            raise ValueError(f"{name}: must be an integer >= 0, got {v!r}")
    if refine_rounds and refine_sessions < 1:
        raise ValueError("refine_sessions: must be >= 1 when refine_rounds > 0")
    if not states or len(set(states)) != len(states) or any(x not in STATES for x in states):
        raise ValueError(f"states: expected distinct names from {STATES}, got {states!r}")
    gammas = [check_gamma(g, "refine_gammas") for g in refine_gammas]
    est = ModelEstimator(config, actions, memory, batch_size)
    seeds = seed_tree(seed)
    drop = est.space.drop_segment()

    def fit() -> dict[str, TabularSSMDP]:
        return {x: est.model(min_ess, segments=x == "segment") for x in states}

    est.collect(n_sessions, seeds.child("round", 0), progress=progress)
    models = fit()
    for k in range(int(refine_rounds)):
        pols = None
        if gammas:
            pols = np.stack([solve(models[x], g).policy[drop] if x == "history" else solve(models[x], g).policy
                             for x in states for g in gammas])
        est.collect(refine_sessions, seeds.child("round", k + 1), pols, refine_epsilon, progress=progress)
        models = fit()
    for m in models.values():
        m.info["seed"] = seeds.describe()
    return models


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
    """The (t, last L actions, segment) model alone: :func:`extract_models` with
    ``states=("segment",)``."""
    return extract_models(config, actions, memory, n_sessions, seed, refine_rounds, refine_sessions,
                          refine_gammas, refine_epsilon, batch_size, min_ess, ("segment",), progress)["segment"]
