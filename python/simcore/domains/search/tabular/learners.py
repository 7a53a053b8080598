"""Tabular Q-learning and actor-critic on a :class:`TabularSSMDP`, vectorised.

Both learners run R independent runs at once, each with P concurrent sessions
("lanes"), all in one set of NumPy arrays of length R*P.  Each NumPy step advances
every lane by one page:

1. the lane's state s = (t, last L actions, segment) picks an action (Q: epsilon-greedy
   on Q; actor-critic: a draw from softmax(theta[s]));
2. the model's b, l of (s, a) decide buy / leave / continue from one uniform, the
   reward is m(s, a) on a purchase (the article's reward function), and the session
   also ends after the last page;
3. the TD targets of all lanes are applied as one **batched update** (below);
4. a lane whose session ended starts its next session at once (new segment).

Batched update (documented in docs/discount.md).  A step can visit the same cell
(run, s, a) from k lanes.  Their targets y_1..y_k are averaged and the cell moves as
if it had received k sequential updates with the same step size alpha and the mean
target:  Q <- Q + (1 - (1 - alpha)^k) (mean(y) - Q),  with alpha = max(alpha_min,
(n + 1)^-omega) where n counts the cell's earlier updates (so the first visit sets
Q to the target).  Targets use the table as it was before the step, i.e. a run
updates once per step with a minibatch of its P lanes; runs never share cells.  The
critic of actor-critic uses the same rule on V(run, s); the actor adds
actor_lr * delta / reward_scale * (onehot(a) - pi(s)) for every lane (summed, as
sequential updates would be to first order).

Randomness: every draw is a counter-based hash of (run key, session number, page,
slot) (:mod:`simcore.domains.search.tabular.rng`), so a run's result does not depend on R or on
which other runs share its arrays, only on its key.  Session n of a run is handled
by lane n mod P.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from simcore.domains.search.tabular import rng as crng
from simcore.domains.search.tabular.dp import check_gamma, evaluate_values
from simcore.domains.search.tabular.learner_types import LearnerConfig, LearnResult
from simcore.domains.search.tabular.model import TabularSSMDP
from simcore.domains.search.tabular.updates import (
    BatchedUpdater,
    argmax_rows,
    max_rows,
    sample_softmax,
    softmax_rows,
)

__all__ = ["LearnerConfig", "LearnResult", "learn", "DEFAULT_CONFIG"]

#: the default learner settings
DEFAULT_CONFIG = LearnerConfig()


class _Tables:
    """The learned tables of R runs, flat float64 arrays (runs never share cells).

    Q-learning: ``Q`` (R*S*A,), viewed as ``Q2`` (R*S, A).  Actor-critic: preferences
    ``theta`` (R*S*A,) (view ``th2`` (R*S, A)) and critic ``Vc`` (R*S,).  Row
    ``run*S + s`` of a view holds state s of that run.
    """

    def __init__(self, algorithm: str, model: TabularSSMDP, gamma: float, R: int, cfg: LearnerConfig) -> None:
        sp = model.space
        self.is_q = algorithm == "q_learning"
        self.S, self.A, self.R = sp.n_states, sp.n_actions, R
        self.gamma = gamma
        self.init, self.probs = sp.initial, model.segment_probs
        SA = self.S * self.A
        self.ar = np.arange(self.A, dtype=np.int64)
        if self.is_q:
            self.Q = np.zeros(R * SA)
            self.Q.fill(float(model.m.max()) if cfg.optimistic else 0.0)
            self.update = BatchedUpdater(R * SA, cfg.step_exponent, cfg.step_min)
            self.Q2 = self.Q.reshape(R * self.S, self.A)
        else:
            self.theta = np.zeros(R * SA)
            self.theta.fill(0.0)
            self.Vc = np.zeros(R * self.S)
            self.update = BatchedUpdater(R * self.S, cfg.step_exponent, cfg.step_min)
            self.th2 = self.theta.reshape(R * self.S, self.A)
        scale = float(cfg.reward_scale) if cfg.reward_scale is not None else float(np.mean(model.m)) or 1.0
        self.actor_step = cfg.actor_lr / scale
        total = int(cfg.sessions)
        self.eps_span = max(1.0, cfg.epsilon_decay * total)
        if cfg.epsilon_decay > 0:
            self.eps_a, self.eps_b = cfg.epsilon_start, (cfg.epsilon_end - cfg.epsilon_start) / self.eps_span
        else:
            self.eps_a, self.eps_b = cfg.epsilon_end, 0.0

    def act(self, row: np.ndarray, hi: np.ndarray, sess: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Actions int64 (n,) of lanes in rows ``row`` from their uint64 (n,) 32 random
        bits ``hi`` (and session numbers, for epsilon); actor-critic also returns pi (n, A)."""
        if self.is_q:
            greedy = argmax_rows(self.Q2[row])
            eps = self.eps_a + self.eps_b * np.minimum(sess, self.eps_span) if self.eps_b else self.eps_a
            explore = (hi >> 16).astype(np.float64) * (2.0**-16) < eps
            rand_a = ((hi & 0xFFFF) * self.A) >> 16
            return np.where(explore, rand_a.astype(np.int64), greedy), None
        return sample_softmax(self.th2[row], hi.astype(np.float64) * (2.0**-32))

    def learn(self, row: np.ndarray, row0: np.ndarray, a: np.ndarray, pi: np.ndarray | None,
              r: np.ndarray, cont: np.ndarray, s2: np.ndarray) -> None:
        """One batched TD update of every lane (reward r, continuation mask cont, next
        state s2; targets read the tables as they were before the step)."""
        if self.is_q:
            boot = max_rows(self.Q2[row0 + s2])
            target = r + self.gamma * np.where(cont, boot, 0.0)
            self.update(self.Q, row * self.A + a, target)
            return
        target = r + self.gamma * np.where(cont, self.Vc[row0 + s2], 0.0)
        delta = (target - self.Vc[row]) * self.actor_step
        grad = pi * (-delta)[:, None]
        grad[np.arange(a.size), a] += delta
        np.add.at(self.theta, ((row * self.A)[:, None] + self.ar).ravel(), grad.ravel())
        self.update(self.Vc, row, target)

    def snapshot(self, r: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Copies of run r's tables: (table (S*A,), critic (S,) or None)."""
        SA = self.S * self.A
        if self.is_q:
            return self.Q[r * SA : (r + 1) * SA].copy(), None
        return self.theta[r * SA : (r + 1) * SA].copy(), self.Vc[r * self.S : (r + 1) * self.S].copy()

    def policy_of(self, table: np.ndarray, values: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(policy, learned V(h0)) of tables (n, S*A) [and critic values (n, S)]:
        Q-learning (n, S) argmax actions and sum_g p_g max_a Q(s0_g, a); actor-critic
        (n, S, A) softmax(theta) and sum_g p_g V(s0_g)."""
        n = table.shape[0]
        t3 = table.reshape(n, self.S, self.A)
        if self.is_q:
            return np.argmax(t3, axis=2), (t3[:, self.init, :].max(axis=2) @ self.probs)
        assert values is not None, "actor-critic: the critic values are needed"
        return softmax_rows(t3), values.reshape(n, self.S)[:, self.init] @ self.probs

    def final(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(int8 (R, S) greedy actions, float32 (R, S, A) probabilities or None, V(h0) (R,))."""
        R, SA = self.R, self.S * self.A
        if self.is_q:
            pol, v0 = self.policy_of(self.Q.reshape(R, SA), None)
            return pol.astype(np.int8), None, v0
        pol, v0 = self.policy_of(self.theta.reshape(R, SA), self.Vc.reshape(R, self.S))
        greedy = np.argmax(self.theta.reshape(R, self.S, self.A), axis=2).astype(np.int8)
        return greedy, pol.astype(np.float32), v0


class _Checkpoints:
    """Checkpoint i of run r is taken when run r has completed ``at[i]`` sessions (a
    snapshot of its own tables), so a run's record does not depend on the others; once
    all R runs have a snapshot, the learned and exact values are computed together."""

    def __init__(self, model: TabularSSMDP, tables: _Tables, total: int, n_checkpoints: int) -> None:
        self.model, self.tables, self.R = model, tables, tables.R
        n_ck = min(n_checkpoints, total)
        self.at = np.unique(np.linspace(total / n_ck, total, n_ck).round().astype(np.int64))
        self.v = np.zeros((self.R, self.at.size))
        self.gmv = np.zeros((self.R, self.at.size))
        self.vx = np.zeros((self.R, self.at.size))
        self.snaps: list[dict[int, tuple[np.ndarray, np.ndarray | None]]] = [{} for _ in range(self.at.size)]
        self.next = np.zeros(self.R, dtype=np.int64)

    def take(self, done_per_run: np.ndarray) -> None:
        """Snapshots every run whose int64 (R,) completed sessions reached its next checkpoint."""
        at, nxt = self.at, self.next
        while True:
            due = np.flatnonzero((nxt < at.size) & (done_per_run >= at[np.minimum(nxt, at.size - 1)]))
            if due.size == 0:
                return
            for r in due:
                i = int(nxt[r])
                self.snaps[i][int(r)] = self.tables.snapshot(int(r))
                nxt[r] += 1
                if len(self.snaps[i]) == self.R:
                    self._evaluate(i)

    def _evaluate(self, i: int) -> None:
        tb, init, probs, gamma = self.tables, self.tables.init, self.tables.probs, self.tables.gamma
        tab = np.stack([self.snaps[i][r][0] for r in range(self.R)])
        val = None if tb.is_q else np.stack([np.asarray(self.snaps[i][r][1]) for r in range(self.R)])
        self.snaps[i] = {}
        pol, v0 = tb.policy_of(tab, val)
        self.v[:, i] = v0
        self.vx[:, i] = evaluate_values(self.model, pol, gamma)[:, init] @ probs
        self.gmv[:, i] = self.vx[:, i] if gamma == 1.0 else evaluate_values(self.model, pol, 1.0)[:, init] @ probs


class _Curve:
    """Learning curve accumulators: GMV sum and session count per (run, bin) of
    ``bin_size`` sessions (float64 (R*B,) each)."""

    def __init__(self, R: int, total: int, points: int) -> None:
        n_bins = min(points, total)
        self.bin_size = -(-total // n_bins)
        self.n_bins = -(-total // self.bin_size)
        self.R, self.total = R, total
        self.sum = np.zeros(R * self.n_bins)
        self.cnt = np.zeros(R * self.n_bins)

    def add(self, er: np.ndarray, sess: np.ndarray, gmv: np.ndarray) -> None:
        """Adds ended sessions: int64 (k,) runs, (k,) session numbers, float64 (k,) GMV."""
        bins = er * self.n_bins + sess // self.bin_size
        self.sum += np.bincount(bins, weights=gmv, minlength=self.R * self.n_bins)
        self.cnt += np.bincount(bins, minlength=self.R * self.n_bins)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """(int64 (B,) sessions at each bin's end, float64 (R, B) mean GMV per session)."""
        with np.errstate(invalid="ignore"):
            curve = (self.sum / np.maximum(self.cnt, 1)).reshape(self.R, self.n_bins)
        ends = np.minimum(np.arange(1, self.n_bins + 1) * self.bin_size, self.total)
        return ends.astype(np.int64), curve


class _Lanes:
    """Lane state, length n = R*P, compacted when lanes finish their quota: run index,
    session number, run key (uint64), page t (for the random counter), state s, GMV
    so far, and row0 = run*S (the row of (run, state 0) in the (R*S, A) views)."""

    def __init__(self, model: TabularSSMDP, keys: np.ndarray, P: int, total: int) -> None:
        sp = model.space
        self.S, self.T, self.P, self.total = sp.n_states, sp.horizon, P, total
        self.init = sp.initial
        self.seg_cdf = np.cumsum(model.segment_probs)
        self.seg_cdf[-1] = 1.0
        R = keys.size
        run = np.repeat(np.arange(R, dtype=np.int64), P)
        sess = np.tile(np.arange(P, dtype=np.int64), R)  # session number of the lane's session
        alive = sess < total
        self.run, self.sess = run[alive], sess[alive]
        self.key = keys[self.run]
        self.t = np.zeros(self.run.size, dtype=np.int64)
        self.s = self._first_state(self.key, self.sess)
        self.gmv = np.zeros(self.run.size)
        self.row0 = self.run * self.S

    def _first_state(self, key: np.ndarray, sess: np.ndarray) -> np.ndarray:
        """The initial state of each session: its segment from slot 0 of page T."""
        return self.init[np.searchsorted(self.seg_cdf, crng.uniform(key, sess, self.T, 0), side="right")]

    def advance(self, cont: np.ndarray, s2: np.ndarray, n_end: int) -> None:
        """Moves continuing lanes to s2; ended lanes start their next session (the
        lane's session number + P) and lanes past the quota are dropped."""
        if not n_end:
            self.t = self.t + 1
            self.s = s2
            return
        ended = ~cont
        self.sess[ended] += self.P
        self.gmv[ended] = 0.0
        self.t = np.where(ended, 0, self.t + 1)
        self.s = np.where(cont, s2, 0)
        self.s[ended] = self._first_state(self.key[ended], self.sess[ended])
        keep = self.sess < self.total
        if not keep.all():
            for name in ("run", "sess", "key", "t", "s", "gmv"):
                setattr(self, name, getattr(self, name)[keep])
            self.row0 = self.run * self.S


def _simulate(model: TabularSSMDP, tables: _Tables, lanes: _Lanes, curve: _Curve, ckpt: _Checkpoints,
              progress: Callable[[int], None] | None) -> int:
    """Steps every lane one page at a time until all sessions are done; returns the
    number of pages simulated (see the module docstring for one step)."""
    A, R = tables.A, tables.R
    b_flat, l_flat, m_flat = model.b.ravel(), model.l.ravel(), model.m.ravel()
    nxt_flat = model.space.next_state.ravel()
    nxt_safe = np.where(nxt_flat < 0, 0, nxt_flat)
    last = nxt_flat < 0
    done_per_run = np.zeros(R, dtype=np.int64)
    lane_steps = pending = 0
    while lanes.run.size:
        row = lanes.row0 + lanes.s
        u_o, hi = crng.uniform_and_bits(lanes.key, lanes.sess, lanes.t, 1)
        a, pi = tables.act(row, hi, lanes.sess)
        cell = lanes.s * A + a
        bb = b_flat[cell]
        buy = u_o < bb
        s2 = nxt_safe[cell]
        cont = ~(buy | (u_o < bb + l_flat[cell]) | last[cell])
        r = np.where(buy, m_flat[cell], 0.0)
        tables.learn(row, lanes.row0, a, pi, r, cont, s2)
        lane_steps += lanes.run.size
        lanes.gmv += r
        ended = ~cont
        er = lanes.run[ended]
        curve.add(er, lanes.sess[ended], lanes.gmv[ended])
        done_per_run += np.bincount(er, minlength=R)
        n_end = er.size
        pending += n_end
        lanes.advance(cont, s2, n_end)
        if n_end:
            ckpt.take(done_per_run)
        if progress is not None and pending >= 20_000:
            progress(pending)
            pending = 0
    ckpt.take(done_per_run)  # (all sessions are done by now)
    if progress is not None and pending:
        progress(pending)
    return lane_steps


def learn(
    algorithm: str,
    model: TabularSSMDP,
    gamma: float,
    keys: np.ndarray,
    config: LearnerConfig = DEFAULT_CONFIG,
    progress: Callable[[int], None] | None = None,
) -> LearnResult:
    """Runs R = len(keys) independent runs of a tabular learner on ``model``.

    Args:
        algorithm: "q_learning" or "actor_critic".
        model: the tabular SSMDP sessions are sampled from.
        gamma: discount rate in [0, 1].
        keys: uint64 (R,) one key per run (see :func:`simcore.domains.search.tabular.rng.run_keys`).
        config: the learner settings.
        progress: called with the number of newly completed sessions (all runs) now
            and then.

    Returns:
        A :class:`LearnResult`.
    """
    if algorithm not in ("q_learning", "actor_critic"):
        raise ValueError(f"algorithm: expected 'q_learning' or 'actor_critic', got {algorithm!r}")
    gamma = check_gamma(gamma)
    keys = np.asarray(keys, dtype=np.uint64).ravel()
    if keys.size < 1:
        raise ValueError("keys: need at least one run")
    t_start = time.perf_counter()
    total = int(config.sessions)
    tables = _Tables(algorithm, model, gamma, keys.size, config)
    curve = _Curve(keys.size, total, config.curve_points)
    ckpt = _Checkpoints(model, tables, total, config.checkpoints)
    lanes = _Lanes(model, keys, int(config.lanes), total)
    lane_steps = _simulate(model, tables, lanes, curve, ckpt, progress)
    greedy_final, probs_final, v0 = tables.final()
    ends, curve_gmv = curve.result()
    return LearnResult(
        algorithm=algorithm,
        gamma=gamma,
        greedy=greedy_final,
        probs=probs_final,
        v_h0=np.asarray(v0, dtype=np.float64),
        curve_sessions=ends,
        curve_gmv=curve_gmv,
        ckpt_sessions=ckpt.at,
        ckpt_v_h0=ckpt.v,
        ckpt_gmv=ckpt.gmv,
        ckpt_v_exact=ckpt.vx,
        lane_steps=int(lane_steps),
        seconds=time.perf_counter() - t_start,
    )
