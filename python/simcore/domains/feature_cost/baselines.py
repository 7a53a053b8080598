"""Baselines for the engine-cost problem: all features, static subsets (greedy under a
cost budget, greedy elimination path, exact best static from a table) and the
exhaustive per-request optimum (n <= 12) that learned policies are measured against.

Conventions: a subset is a bool mask (n,); ``cost_frac`` = its cost / the full cost;
``loss`` = the pairwise loss as a fraction of the counted pairs
(:attr:`SubsetEvalResult.loss_fraction`), or, where ``kl_temperature`` = T is given,
the KL loss ``SubsetEvalResult.kl`` (nats) of eq. 2.  The env's objective for a request is
``reward(S) = -cost_frac(S) - penalty * [loss(S) > C]``; the article's relaxed
objective is ``loss(S) + lam * cost_frac(S)`` (|S| weighted by cost; with equal costs
it is ``lam / n * |S|``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simcore.domains.feature_cost.kernels import subset_eval

__all__ = [
    "all_masks",
    "ExhaustiveTable",
    "exhaustive_table",
    "env_reward",
    "greedy_static_budget",
    "greedy_static_path",
]

MAX_EXHAUSTIVE_FEATURES = 12


def all_masks(n: int) -> np.ndarray:
    """bool (2**n, n): every subset; row m evaluates feature j iff bit j of m is set."""
    if not 1 <= n <= 20:
        raise ValueError(f"n: must lie in [1, 20], got {n}")
    m = np.arange(2**n, dtype=np.int64)[:, None]
    return ((m >> np.arange(n)) & 1).astype(bool)


def env_reward(loss: np.ndarray, cost_frac: np.ndarray, threshold: float, penalty: float) -> np.ndarray:
    """The env's episode return: -cost_frac - penalty * [loss > threshold] (broadcast)."""
    return -cost_frac - penalty * (loss > threshold)


@dataclass
class ExhaustiveTable:
    """Loss and cost of every subset for every request (Q requests, M = 2**n subsets).

    Attributes:
        masks: bool (M, n).
        loss: float64 (Q, M) pairwise loss fraction (or KL loss in nats).
        cost_frac: float64 (Q, M) cost / full cost (the same row for every request when
            costs do not depend on the request).
    """

    masks: np.ndarray
    loss: np.ndarray
    cost_frac: np.ndarray

    def best_threshold(self, threshold: float, penalty: float) -> np.ndarray:
        """int64 (Q,) subset maximising the env reward per request (ties: lower cost,
        then lower loss, then lower subset id)."""
        return _argbest(env_reward(self.loss, self.cost_frac, threshold, penalty), self.loss, self.cost_frac)

    def best_lambda(self, lam: float) -> np.ndarray:
        """int64 (Q,) subset minimising loss + lam * cost_frac per request."""
        return _argbest(-(self.loss + lam * self.cost_frac), self.loss, self.cost_frac)

    def best_static_threshold(self, threshold: float, penalty: float) -> int:
        """The one subset maximising the mean env reward over the requests."""
        r = env_reward(self.loss, self.cost_frac, threshold, penalty).mean(axis=0)
        return int(_argbest(r[None], self.loss.mean(axis=0)[None], self.cost_frac.mean(axis=0)[None])[0])

    def best_static_lambda(self, lam: float) -> int:
        """The one subset minimising mean (loss + lam * cost_frac)."""
        lm, cm = self.loss.mean(axis=0)[None], self.cost_frac.mean(axis=0)[None]
        return int(_argbest(-(lm + lam * cm), lm, cm)[0])

    def pick(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(masks (Q, n), loss (Q,), cost_frac (Q,)) of subset idx[q] for request q."""
        q = np.arange(self.loss.shape[0])
        idx = np.broadcast_to(np.asarray(idx), q.shape)
        return self.masks[idx], self.loss[q, idx], self.cost_frac[q, idx]


def _argbest(score: np.ndarray, loss: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Row-wise argmax of score (R, M); ties by lower cost, then lower loss, then
    lower subset id."""
    best = score.max(axis=1, keepdims=True)
    cand = score >= best - 1e-12
    cmin = np.where(cand, cost, np.inf).min(axis=1, keepdims=True)
    cand &= cost <= cmin + 1e-12
    return np.argmin(np.where(cand, loss, np.inf), axis=1).astype(np.int64)


def exhaustive_table(
    X: np.ndarray,
    weights: np.ndarray,
    cost: np.ndarray,
    fill: np.ndarray,
    top_k: int | None = None,
    threads: int | None = None,
    chunk: int = 16,
    progress: Callable[[int], None] | None = None,
    kl_temperature: float | None = None,
) -> ExhaustiveTable:
    """Evaluates all 2**n subsets for every request of X float32 (Q, N, n), n <= 12.

    Args:
        weights: the linear ranker (n,) (or any ranker :func:`subset_eval` takes).
        cost: per-item feature costs as :func:`subset_eval` takes them.
        fill: float32 (n,) value of skipped features (fixed: the population mean).
        chunk: requests per kernel call; ``progress(k)`` is called after each call
            with the number of requests done in it.
        kl_temperature: None: the loss is the pairwise loss fraction; T > 0: the KL
            loss of eq. 2 with softmax temperature T (``top_k`` is then ignored).
    """
    Q, N, n = X.shape
    if n > MAX_EXHAUSTIVE_FEATURES:
        raise ValueError(f"X: exhaustive search needs n <= {MAX_EXHAUSTIVE_FEATURES}, got {n}")
    masks = all_masks(n)
    M = masks.shape[0]
    loss = np.empty((Q, M))
    cost_frac = np.empty((Q, M))
    for q0 in range(0, Q, chunk):
        q1 = min(Q, q0 + chunk)
        Xc = np.ascontiguousarray(X[q0:q1])
        qi = np.repeat(np.arange(q1 - q0, dtype=np.int64), M)
        c = cost if np.ndim(cost) < 3 else np.asarray(cost)[q0:q1]
        res = subset_eval(Xc, np.tile(masks, (q1 - q0, 1)), c, weights, fill=fill, top_k=top_k,
                          query_index=qi, threads=threads, kl_temperature=kl_temperature)
        full = res.cost.reshape(q1 - q0, M)[:, -1:]  # the last mask evaluates everything
        t = res.loss_fraction if kl_temperature is None else res.kl
        loss[q0:q1] = t.reshape(q1 - q0, M)
        cost_frac[q0:q1] = np.divide(res.cost.reshape(q1 - q0, M), full,
                                     out=np.zeros((q1 - q0, M)), where=full > 0)
        if progress is not None:
            progress(q1 - q0)
    return ExhaustiveTable(masks=masks, loss=loss, cost_frac=cost_frac)


def _mean_loss(X, weights, cost, fill, top_k, threads, mask: np.ndarray,
               kl_temperature: float | None = None) -> tuple[float, float]:
    Q, _, n = X.shape
    res = subset_eval(X, np.tile(mask, (Q, 1)), cost, weights, fill=fill, top_k=top_k, threads=threads,
                      kl_temperature=kl_temperature)
    t = res.loss_fraction if kl_temperature is None else res.kl
    full = subset_eval(X[:1], np.ones((1, n), bool), cost if np.ndim(cost) < 3 else cost[:1], weights,
                       fill=fill).cost[0]
    return float(t.mean()), float(res.cost.mean() / full) if full > 0 else 0.0


def greedy_static_budget(
    X: np.ndarray,
    weights: np.ndarray,
    cost: np.ndarray,
    fill: np.ndarray,
    budget: float,
    top_k: int | None = None,
    threads: int | None = None,
    kl_temperature: float | None = None,
) -> np.ndarray:
    """The best static subset under a cost budget, greedily: start from no feature and
    repeatedly add the affordable feature with the largest drop in mean loss per unit
    of cost, until the budget (a fraction of the full cost, in [0, 1]) is spent or no
    feature lowers the loss (pairwise, or KL with ``kl_temperature``).  Returns bool (n,)."""
    if not 0.0 <= budget <= 1.0:
        raise ValueError(f"budget: must lie in [0, 1], got {budget}")
    n = X.shape[2]
    chosen = np.zeros(n, bool)
    cur_loss, cur_cost = _mean_loss(X, weights, cost, fill, top_k, threads, chosen, kl_temperature)
    while True:
        best, best_gain = None, 0.0
        for j in np.flatnonzero(~chosen):
            m = chosen.copy()
            m[j] = True
            loss, c = _mean_loss(X, weights, cost, fill, top_k, threads, m, kl_temperature)
            if c > budget + 1e-12:
                continue
            gain = (cur_loss - loss) / max(c - cur_cost, 1e-12)
            if loss < cur_loss and (best is None or gain > best_gain):
                best, best_gain, best_state = j, gain, (loss, c)
        if best is None:
            return chosen
        chosen[best] = True
        cur_loss, cur_cost = best_state


def greedy_static_path(
    X: np.ndarray,
    weights: np.ndarray,
    cost: np.ndarray,
    fill: np.ndarray,
    top_k: int | None = None,
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy backward elimination: from all features, repeatedly skip the feature
    whose removal raises the mean loss least per unit of cost saved.

    Returns (masks bool (n + 1, n), mean loss (n + 1,), cost_frac (n + 1,)), from all
    features down to none: a nested family of static subsets spanning the costs."""
    n = X.shape[2]
    cur = np.ones(n, bool)
    loss, c = _mean_loss(X, weights, cost, fill, top_k, threads, cur)
    masks, losses, costs = [cur.copy()], [loss], [c]
    while cur.any():
        best = None
        for j in np.flatnonzero(cur):
            m = cur.copy()
            m[j] = False
            l2, c2 = _mean_loss(X, weights, cost, fill, top_k, threads, m)
            ratio = (l2 - loss) / max(c - c2, 1e-12)
            if best is None or ratio < best[0]:
                best = (ratio, j, l2, c2)
        _, j, loss, c = best
        cur[j] = False
        masks.append(cur.copy())
        losses.append(loss)
        costs.append(c)
    return np.array(masks), np.array(losses), np.array(costs)
