"""Plain NumPy twins of the C++ ranking kernels (:mod:`simcore.kernels.ranking`).

They define the semantics; tests compare the C++ kernels against them, and the
benchmarks measure against them.
"""

from __future__ import annotations

import numpy as np


def scores(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """float64 (..., N) scores sum_j X[..., j] * w[j], accumulated in float64 in
    feature order j = 0..m-1 (the order the C++ kernels use, so results are equal
    bit for bit).  X float32 (..., N, m); w (m,) or broadcastable (..., 1, m)."""
    X = np.asarray(X, dtype=np.float32)
    w = np.asarray(w, dtype=np.float32).astype(np.float64)
    if w.ndim == 1:
        w = w.reshape((1,) * (X.ndim - 1) + (-1,))
    s = X[..., 0].astype(np.float64) * w[..., 0]
    for j in range(1, X.shape[-1]):
        s = s + X[..., j].astype(np.float64) * w[..., j]
    return s


def topk(X: np.ndarray, w: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """int64 indices of the k best non-excluded rows of X under w: score descending,
    ties by lower index; fewer than k when fewer remain."""
    s = scores(X, w)
    idx = np.arange(s.shape[0])
    if exclude is not None:
        idx = idx[~np.asarray(exclude, dtype=bool)]
    order = np.lexsort((idx, -s[idx]))  # primary: score desc; secondary: index asc
    return idx[order[:k]].astype(np.int64)


def topk_batch(X: np.ndarray, W: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """int64 (B, k): :func:`topk` per row, padded with -1."""
    B = X.shape[0]
    out = np.full((B, k), -1, dtype=np.int64)
    for b in range(B):
        r = topk(X[b], W[b], k, None if exclude is None else exclude[b])
        out[b, : r.size] = r
    return out


def topk_indexed(X: np.ndarray, rows: np.ndarray, W: np.ndarray, k: int,
                 exclude: np.ndarray | None = None) -> np.ndarray:
    """int64 (B, k): row b is :func:`topk` of the catalogue X[rows[b]] (X (Q, N, m))
    under W[b], padded with -1."""
    B = len(rows)
    out = np.full((B, k), -1, dtype=np.int64)
    for b in range(B):
        r = topk(X[int(rows[b])], W[b], k, None if exclude is None else exclude[b])
        out[b, : r.size] = r
    return out


def discordant_pairs(a: np.ndarray, b: np.ndarray) -> int:
    """Number of pairs i < j with (a_i - a_j)(b_i - b_j) < 0 (O(n^2), blockwise)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    n = a.size
    total = 0
    for i0 in range(0, n, 512):
        sa = np.sign(a[i0 : i0 + 512, None] - a[None, :])
        sb = np.sign(b[i0 : i0 + 512, None] - b[None, :])
        rows = np.arange(i0, min(i0 + 512, n))[:, None]
        upper = np.arange(n)[None, :] > rows
        total += int(np.count_nonzero((sa * sb < 0) & upper))
    return total
