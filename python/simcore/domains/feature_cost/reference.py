"""Plain NumPy twins of the feature-subset evaluation kernel.

They define the semantics (see ``cpp/simcore/feature_cost.hpp``): tests compare the
C++ kernel against them, and ``bench/test_feature_cost.py`` measures against
:func:`subset_eval` (NumPy scoring + the foundation's ``discordant_pairs``).
Scores are accumulated in float64 in the same order as the C++ code, so linear and
MLP scores are equal bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simcore import kernels

Layer = tuple[np.ndarray, np.ndarray]


def feature_mean(X: np.ndarray) -> np.ndarray:
    """float32 (n,): per-feature mean of X float32 (Q, N, n) over all Q*N candidates.

    Each query's items are summed in order in float64, the per-query sums are added
    in query order, and the total divided by Q*N (the C++ order)."""
    Q, N, n = X.shape
    # Reducing an axis that is not the last one, NumPy adds the rows in order (no
    # pairwise summation): per_q[q] = ((X[q, 0] + X[q, 1]) + X[q, 2]) + ...  The tests
    # check this against an explicit loop.
    per_q = X.astype(np.float64).sum(axis=1)
    total = np.zeros(n)
    for q in range(Q):
        total = total + per_q[q]
    return (total / (Q * N)).astype(np.float32)


def subset_features(X: np.ndarray, mask: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """float32 (R, N, n): X with skipped features (mask False) replaced by ``fill``.

    X float32 (R, N, n) (one query per row), mask bool (R, n), fill float32 (n,)."""
    return np.where(mask[:, None, :], X, fill[None, None, :]).astype(np.float32)


def linear_scores(Xs: np.ndarray, w: np.ndarray) -> np.ndarray:
    """float64 (..., N): sum_j Xs[..., j] * w[j] in float64, in order j, from 0.0."""
    wd = np.asarray(w, dtype=np.float32).astype(np.float64)
    s = np.zeros(Xs.shape[:-1])
    for j in range(Xs.shape[-1]):
        s = s + Xs[..., j].astype(np.float64) * wd[j]
    return s


def mlp_scores(Xs: np.ndarray, layers: Sequence[Layer]) -> np.ndarray:
    """float64 (..., N): the MLP (ReLU between layers, one output unit) applied in
    float64 with unit u = ((b_u + a_0 W_0u) + a_1 W_1u) + ... (no FMA)."""
    a = Xs.astype(np.float64)
    for li, (W, b) in enumerate(layers):
        Wd = np.asarray(W, dtype=np.float32).astype(np.float64)
        z = np.broadcast_to(np.asarray(b, dtype=np.float32).astype(np.float64), a.shape[:-1] + (Wd.shape[1],))
        for j in range(Wd.shape[0]):
            z = z + a[..., j : j + 1] * Wd[j]
        a = np.where(z > 0, z, 0.0) if li + 1 < len(layers) else z
    return a[..., 0]


def positions(score: np.ndarray) -> np.ndarray:
    """int64 (N,): each item's position in the ranking by score descending, ties by
    lower index (position 0 = first)."""
    order = np.lexsort((np.arange(score.size), -score))
    pos = np.empty(score.size, dtype=np.int64)
    pos[order] = np.arange(score.size)
    return pos


def ranking_loss(f: np.ndarray, s: np.ndarray, k: int) -> int:
    """Pairs {i, j} ordered differently by the rankings of f and of s, counting only
    pairs with at least one member among the first k of f's ranking (k >= N: all
    pairs, computed with the foundation's ``discordant_pairs`` of the positions)."""
    N = f.size
    pf, ps = positions(f), positions(s)
    if k >= N:
        return kernels.discordant_pairs(pf, ps)
    top = np.flatnonzero(pf < k)
    d = (pf[top][:, None] < pf[None, :]) != (ps[top][:, None] < ps[None, :])
    inside = d[:, top]  # pairs with both members in the top-k appear twice in d
    return int(d.sum() - np.triu(inside, 1).sum())


def softmax_kl(f: np.ndarray, s: np.ndarray, T: float) -> np.ndarray:
    """KL(softmax(f / T) || softmax(s / T)) along the last axis, clamped at 0.

    f, s: float64 (..., N) full and subset scores.  Returns float64 (...,).
    """
    a, b = f / T, s / T
    la = a.max(axis=-1, keepdims=True) + np.log(np.exp(a - a.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True))
    lb = b.max(axis=-1, keepdims=True) + np.log(np.exp(b - b.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True))
    p = np.exp(a - la)
    kl = (p * ((a - la) - (b - lb))).sum(axis=-1)
    return np.maximum(kl, 0.0)


def pair_count(N: int, top_k: int | None) -> int:
    """Pairs the loss counts over: N(N-1)/2, or k(k-1)/2 + k(N-k) for k < N."""
    if top_k is None or top_k >= N:
        return N * (N - 1) // 2
    return top_k * (top_k - 1) // 2 + top_k * (N - top_k)


def cost_totals(cost: np.ndarray, Q: int, N: int) -> np.ndarray:
    """float64 (1 or Q, n): each query's per-feature cost summed over its items, for
    cost (n,) per feature and item (total N * c), (N, n) per item and feature
    (summed over items), or (Q, N, n) (summed over each query's items)."""
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim == 1:
        return (c * N)[None, :]
    if c.ndim == 2:
        return c.sum(axis=0)[None, :]
    return c.sum(axis=1)


def subset_eval(
    X: np.ndarray,
    mask: np.ndarray,
    cost: np.ndarray,
    w: np.ndarray | None = None,
    layers: Sequence[Layer] | None = None,
    fill: np.ndarray | None = None,
    top_k: int | None = None,
    query_index: np.ndarray | None = None,
    kl_temperature: float | None = None,
) -> dict[str, np.ndarray]:
    """Reference of :func:`simcore.domains.feature_cost.kernels.subset_eval`.

    Returns a dict with ``loss`` int64 (R,), ``cost`` float64 (R,), ``scores`` and
    ``full_scores`` float64 (R, N), ``fill`` float32 (n,), and ``kl`` float64 (R,)
    when ``kl_temperature`` is given (agrees with the C++ to rounding, not bitwise).
    """
    X = np.asarray(X)
    Q, N, n = X.shape
    mask = np.asarray(mask, dtype=bool)
    q = np.arange(Q) if query_index is None else np.asarray(query_index, dtype=np.int64)
    if fill is None:
        fill = feature_mean(X)
    fill = np.asarray(fill, dtype=np.float32)
    Xr = X[q]
    Xs = subset_features(Xr, mask, fill)
    if layers is None:
        full, sub = linear_scores(Xr, w), linear_scores(Xs, w)
    else:
        full, sub = mlp_scores(Xr, layers), mlp_scores(Xs, layers)
    k = N if top_k is None else int(top_k)
    loss = np.array([ranking_loss(full[r], sub[r], k) for r in range(q.size)], dtype=np.int64)
    tot = cost_totals(cost, Q, N)
    rows = q if tot.shape[0] > 1 else np.zeros(q.size, dtype=np.int64)
    total = np.zeros(q.size)
    for j in range(n):  # feature order, as the C++ sum
        total = total + np.where(mask[:, j], tot[rows, j], 0.0)
    out = {"loss": loss, "cost": total, "scores": sub, "full_scores": full, "fill": fill}
    if kl_temperature is not None:
        out["kl"] = softmax_kl(full, sub, float(kl_temperature))
    return out
