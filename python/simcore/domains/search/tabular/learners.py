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

import numbers
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from simcore.domains.search.tabular import rng as crng
from simcore.domains.search.tabular.dp import check_gamma, evaluate_values
from simcore.domains.search.tabular.model import TabularSSMDP
from simcore.domains.search.tabular.updates import (
    BatchedUpdater,
    argmax_rows,
    max_rows,
    sample_softmax,
    softmax_rows,
)


@dataclass(frozen=True)
class LearnerConfig:
    """Settings shared by the tabular learners.

    Attributes:
        sessions: sessions per run (the article: 800,000).
        lanes: P, concurrent sessions per run (the minibatch of a batched update).
        step_exponent: omega in (0.5, 1]: step size (n + 1)^-omega for Q / critic cells.
        step_min: lower bound of that step size (0: decays forever).
        epsilon_start, epsilon_end: Q-learning's exploration rate decays linearly
            from start to end over the first ``epsilon_decay`` fraction of sessions.
        epsilon_decay: fraction of sessions of the decay (0: constant epsilon_end).
        optimistic: Q-learning starts every Q at the largest price in the model (an
            upper bound of any return), so each action is tried once per visited
            state before its estimate counts (the first update replaces the initial
            value); False starts at 0.
        actor_lr: actor-critic's preference step per unit of delta / reward_scale.
        reward_scale: scale of delta in the actor update (None: mean of m over the model).
        curve_points: bins of the learning curve (average GMV per session per bin).
        checkpoints: times the exact value of the current policy is computed.
    """

    sessions: int = 800_000
    lanes: int = 100
    step_exponent: float = 0.8
    step_min: float = 0.0
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay: float = 0.5
    optimistic: bool = False
    actor_lr: float = 0.05
    reward_scale: float | None = None
    curve_points: int = 100
    checkpoints: int = 20

    def __post_init__(self) -> None:
        for name in ("sessions", "lanes", "curve_points", "checkpoints"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        if not 0.5 < self.step_exponent <= 1.0:
            raise ValueError(f"step_exponent: must lie in (0.5, 1], got {self.step_exponent!r}")
        if not 0.0 <= self.step_min <= 1.0:
            raise ValueError(f"step_min: must lie in [0, 1], got {self.step_min!r}")
        for name in ("epsilon_start", "epsilon_end", "epsilon_decay"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}: must lie in [0, 1], got {getattr(self, name)!r}")
        if not self.actor_lr > 0:
            raise ValueError(f"actor_lr: must be > 0, got {self.actor_lr!r}")
        if self.reward_scale is not None and not self.reward_scale > 0:
            raise ValueError(f"reward_scale: must be None or > 0, got {self.reward_scale!r}")


@dataclass
class LearnResult:
    """What a batch of R runs of one learner at one gamma produced.

    Attributes:
        algorithm: "q_learning" or "actor_critic".
        gamma: the discount rate.
        greedy: int8 (R, S) the final greedy action per state (argmax Q or argmax theta).
        probs: float32 (R, S, A) the final policy's action probabilities for
            actor-critic (softmax(theta)); None for Q-learning (whose final policy is
            ``greedy``).
        v_h0: float64 (R,) the learner's own final estimate of V_gamma(h0)
            (sum_g p_g max_a Q(s0_g, a), or the critic's sum_g p_g V(s0_g)).
        curve_sessions: int64 (B,) sessions completed at the end of each curve bin.
        curve_gmv: float64 (R, B) average GMV per session of the sessions in each bin
            (the behaviour policy, exploration included).
        ckpt_sessions: int64 (C,) sessions per run at each checkpoint.
        ckpt_v_h0: float64 (R, C) the learner's V_gamma(h0) estimate at checkpoints.
        ckpt_gmv: float64 (R, C) exact expected GMV (model) of the current final-form
            policy (greedy for Q-learning, softmax for actor-critic) at checkpoints.
        ckpt_v_exact: float64 (R, C) its exact V_gamma(h0).
        lane_steps: pages simulated (all runs).
        seconds: wall time.
    """

    algorithm: str
    gamma: float
    greedy: np.ndarray
    probs: np.ndarray | None
    v_h0: np.ndarray
    curve_sessions: np.ndarray
    curve_gmv: np.ndarray
    ckpt_sessions: np.ndarray
    ckpt_v_h0: np.ndarray
    ckpt_gmv: np.ndarray
    ckpt_v_exact: np.ndarray
    lane_steps: int
    seconds: float

    @property
    def final_policy(self) -> np.ndarray:
        """(R, S) int actions or (R, S, A) probabilities: what is evaluated."""
        return self.greedy if self.probs is None else self.probs


def learn(
    algorithm: str,
    model: TabularSSMDP,
    gamma: float,
    keys: np.ndarray,
    config: LearnerConfig = LearnerConfig(),
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
    cfg = config
    sp = model.space
    S, A, T = sp.n_states, sp.n_actions, sp.horizon
    R, P = keys.size, int(cfg.lanes)
    total = int(cfg.sessions)
    SA = S * A
    ar = np.arange(A, dtype=np.int64)
    b_flat, l_flat, m_flat = model.b.ravel(), model.l.ravel(), model.m.ravel()
    nxt_flat = sp.next_state.ravel()
    seg_cdf = np.cumsum(model.segment_probs)
    seg_cdf[-1] = 1.0
    is_q = algorithm == "q_learning"
    scale = float(cfg.reward_scale) if cfg.reward_scale is not None else float(np.mean(model.m)) or 1.0
    eps_span = max(1.0, cfg.epsilon_decay * total)

    init = sp.initial
    probs = model.segment_probs
    if is_q:
        Q = np.zeros(R * SA)
        Q.fill(float(model.m.max()) if cfg.optimistic else 0.0)
        update = BatchedUpdater(R * SA, cfg.step_exponent, cfg.step_min)
    else:
        theta = np.zeros(R * SA)
        theta.fill(0.0)
        Vc = np.zeros(R * S)
        update = BatchedUpdater(R * S, cfg.step_exponent, cfg.step_min)

    n_bins = min(cfg.curve_points, total)
    bin_size = -(-total // n_bins)
    n_bins = -(-total // bin_size)
    curve_sum = np.zeros(R * n_bins)
    curve_cnt = np.zeros(R * n_bins)
    n_ck = min(cfg.checkpoints, total)
    ck_at = np.unique(np.linspace(total / n_ck, total, n_ck).round().astype(np.int64))
    ck_v = np.zeros((R, ck_at.size))
    ck_gmv = np.zeros((R, ck_at.size))
    ck_vx = np.zeros((R, ck_at.size))
    done_per_run = np.zeros(R, dtype=np.int64)
    lane_steps = 0
    pending = 0

    def policy_of(table: np.ndarray, values: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(policy, learned V(h0)) of tables (n, S*A) [and critic values (n, S)]."""
        n = table.shape[0]
        t3 = table.reshape(n, S, A)
        if is_q:
            return np.argmax(t3, axis=2), (t3[:, init, :].max(axis=2) @ probs)
        return softmax_rows(t3), values.reshape(n, S)[:, init] @ probs

    # Checkpoint i of run r is taken when run r has completed ck_at[i] sessions (a
    # snapshot of its own tables), so a run's record does not depend on the others.
    snaps: list[dict[int, tuple[np.ndarray, np.ndarray | None]]] = [{} for _ in range(ck_at.size)]
    ck_next = np.zeros(R, dtype=np.int64)

    def take_snapshots() -> None:
        while True:
            due = np.flatnonzero((ck_next < ck_at.size) & (done_per_run >= ck_at[np.minimum(ck_next, ck_at.size - 1)]))
            if due.size == 0:
                return
            for r in due:
                i = int(ck_next[r])
                if is_q:
                    snaps[i][int(r)] = (Q[r * SA : (r + 1) * SA].copy(), None)
                else:
                    snaps[i][int(r)] = (theta[r * SA : (r + 1) * SA].copy(), Vc[r * S : (r + 1) * S].copy())
                ck_next[r] += 1
                if len(snaps[i]) == R:
                    evaluate_checkpoint(i)

    def evaluate_checkpoint(i: int) -> None:
        tab = np.stack([snaps[i][r][0] for r in range(R)])
        val = None if is_q else np.stack([snaps[i][r][1] for r in range(R)])
        snaps[i] = {}
        pol, v0 = policy_of(tab, val)
        ck_v[:, i] = v0
        ck_vx[:, i] = evaluate_values(model, pol, gamma)[:, init] @ probs
        ck_gmv[:, i] = ck_vx[:, i] if gamma == 1.0 else evaluate_values(model, pol, 1.0)[:, init] @ probs

    # Lane state (length n = R * P, compacted when lanes finish their quota).  A lane
    # holds its state index s directly; the page t is kept for the random counter.
    run = np.repeat(np.arange(R, dtype=np.int64), P)
    sess = np.tile(np.arange(P, dtype=np.int64), R)  # session number of the lane's session
    alive = sess < total
    run, sess = run[alive], sess[alive]
    key = keys[run]
    t = np.zeros(run.size, dtype=np.int64)
    s = init[np.searchsorted(seg_cdf, crng.uniform(key, sess, T, 0), side="right")]
    gmv = np.zeros(run.size)
    row0 = run * S  # row of (run, state 0) in the (R*S, A) views

    Q2 = Q.reshape(R * S, A) if is_q else None
    th2 = theta.reshape(R * S, A) if not is_q else None
    if cfg.epsilon_decay > 0:
        eps_a, eps_b = cfg.epsilon_start, (cfg.epsilon_end - cfg.epsilon_start) / eps_span
    else:
        eps_a, eps_b = cfg.epsilon_end, 0.0
    nxt_safe = np.where(nxt_flat < 0, 0, nxt_flat)
    last = nxt_flat < 0

    while run.size:
        row = row0 + s
        u_o, hi = crng.uniform_and_bits(key, sess, t, 1)
        if is_q:
            qrow = Q2[row]
            greedy = argmax_rows(qrow)
            eps = eps_a + eps_b * np.minimum(sess, eps_span) if eps_b else eps_a
            explore = (hi >> 16).astype(np.float64) * (2.0**-16) < eps
            rand_a = ((hi & 0xFFFF) * A) >> 16
            a = np.where(explore, rand_a.astype(np.int64), greedy)
        else:
            a, pi = sample_softmax(th2[row], hi.astype(np.float64) * (2.0**-32))
        cell = s * A + a
        bb = b_flat[cell]
        buy = u_o < bb
        s2 = nxt_safe[cell]
        cont = ~(buy | (u_o < bb + l_flat[cell]) | last[cell])
        r = np.where(buy, m_flat[cell], 0.0)
        if is_q:
            boot = max_rows(Q2[row0 + s2])
            target = r + gamma * np.where(cont, boot, 0.0)
            update(Q, row * A + a, target)
        else:
            target = r + gamma * np.where(cont, Vc[row0 + s2], 0.0)
            delta = (target - Vc[row]) * (cfg.actor_lr / scale)
            grad = pi * (-delta)[:, None]
            grad[np.arange(a.size), a] += delta
            np.add.at(theta, ((row * A)[:, None] + ar).ravel(), grad.ravel())
            update(Vc, row, target)
        lane_steps += run.size
        gmv += r
        ended = ~cont
        er = run[ended]
        bins = er * n_bins + sess[ended] // bin_size
        curve_sum += np.bincount(bins, weights=gmv[ended], minlength=R * n_bins)
        curve_cnt += np.bincount(bins, minlength=R * n_bins)
        done_per_run += np.bincount(er, minlength=R)
        n_end = er.size
        pending += n_end
        if n_end:
            sess[ended] += P
            gmv[ended] = 0.0
            t = np.where(ended, 0, t + 1)
            s = np.where(cont, s2, 0)
            u_g = crng.uniform(key[ended], sess[ended], T, 0)
            s[ended] = init[np.searchsorted(seg_cdf, u_g, side="right")]
            keep = sess < total
            if not keep.all():
                run, sess, key, t, s, gmv = run[keep], sess[keep], key[keep], t[keep], s[keep], gmv[keep]
                row0 = run * S
        else:
            t = t + 1
            s = s2
        if n_end:
            take_snapshots()
        if progress is not None and pending >= 20_000:
            progress(pending)
            pending = 0
    take_snapshots()  # (all sessions are done by now)
    if progress is not None and pending:
        progress(pending)

    pol, v0 = policy_of(Q.reshape(R, SA), None) if is_q else policy_of(theta.reshape(R, SA), Vc.reshape(R, S))
    if is_q:
        greedy_final, probs_final = pol.astype(np.int8), None
    else:
        greedy_final = np.argmax(theta.reshape(R, S, A), axis=2).astype(np.int8)
        probs_final = pol.astype(np.float32)
    with np.errstate(invalid="ignore"):
        curve = (curve_sum / np.maximum(curve_cnt, 1)).reshape(R, n_bins)
    ends = np.minimum(np.arange(1, n_bins + 1) * bin_size, total)
    return LearnResult(
        algorithm=algorithm,
        gamma=gamma,
        greedy=greedy_final,
        probs=probs_final,
        v_h0=np.asarray(v0, dtype=np.float64),
        curve_sessions=ends.astype(np.int64),
        curve_gmv=curve,
        ckpt_sessions=ck_at,
        ckpt_v_h0=ck_v,
        ckpt_gmv=ck_gmv,
        ckpt_v_exact=ck_vx,
        lane_steps=int(lane_steps),
        seconds=time.perf_counter() - t_start,
    )
