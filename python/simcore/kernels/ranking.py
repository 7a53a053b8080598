"""The Python face of the C++ ranking kernels: top-k selection, scores, Kendall distance.

Input conventions (checked here, with TypeError/ValueError naming the argument):

* ``X`` item features must be float32 with N >= 1 items and m >= 1 features; a
  non-contiguous or misaligned float32 array is copied to aligned C order (inputs
  only).  Other dtypes are rejected rather than silently converted,
  since a float64 -> float32 cast can change rankings.
* weight vectors may be any real floating dtype and are cast to float32.
* ``exclude`` masks must be bool.
* ``discordant_pairs`` accepts any real numeric 1-d arrays (cast to float64).

Scores are ``sum_j X[i, j] * w[j]`` accumulated in float64 in feature order; ranking is
by score descending with ties broken by lower index.  :mod:`simcore.kernels.reference`
computes the same in plain NumPy.
"""

from __future__ import annotations

import numpy as np

from simcore import _core
from simcore.util.checks import aligned, positive_int, thread_count

__all__ = ["topk", "topk_batch", "topk_indexed", "discordant_pairs", "scores", "hardware_threads"]


def hardware_threads() -> int:
    """Number of hardware threads (the default thread count)."""
    return int(_core.hardware_threads())


def _as_items(X: object, name: str, ndim: int) -> np.ndarray:
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{name}: expected a numpy float32 array, got {type(X).__name__}")
    if X.dtype != np.float32:
        raise TypeError(
            f"{name}: expected dtype float32, got {X.dtype} (convert with .astype(np.float32))"
        )
    if X.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array, got shape {X.shape}")
    if ndim == 2 and 0 in X.shape:
        what = "item (N = 0)" if X.shape[0] == 0 else "feature (m = 0)"
        raise ValueError(f"{name}: needs at least one {what}, got shape {X.shape}")
    if ndim == 3 and 0 in X.shape:
        raise ValueError(f"{name}: needs B >= 1, N >= 1 and m >= 1, got shape {X.shape}")
    return aligned(X)


def _as_weights(w: object, name: str, shape: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(w)
    if a.dtype.kind not in "fiu" or a.dtype == np.bool_:
        raise TypeError(f"{name}: expected real numbers, got dtype {a.dtype}")
    if a.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {a.shape}")
    a = aligned(np.asarray(a, dtype=np.float32))
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or inf (or overflows float32)")
    return a


def _as_mask(mask: object, name: str, shape: tuple[int, ...]) -> np.ndarray | None:
    if mask is None:
        return None
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        raise TypeError(f"{name}: expected a numpy bool array")
    if mask.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {mask.shape}")
    return aligned(mask)


def topk(
    X: np.ndarray,
    w: np.ndarray,
    k: int,
    exclude: np.ndarray | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Indices of the k highest-scoring non-excluded items.

    Args:
        X: float32 (N, m) item features, N >= 1.
        w: real (m,) weights (cast to float32).
        k: number of items wanted, >= 1.
        exclude: bool (N,) or None; True removes an item.
        threads: worker threads for N >= 262144 (None: all cores); the result does
            not depend on it.

    Returns:
        int64 (<= k,) indices, best first (ties: lower index first); fewer than k
        when fewer items remain.
    """
    X = _as_items(X, "X", 2)
    N, m = X.shape
    w = _as_weights(w, "w", (m,))
    mask = _as_mask(exclude, "exclude", (N,))
    k = min(positive_int(k, "k", maximum=None), N)
    return _core.ranking.topk(X, w, k, mask, thread_count(threads))


def topk_batch(
    X: np.ndarray,
    W: np.ndarray,
    k: int,
    exclude: np.ndarray | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Top-k per row of a batch, multi-threaded with the GIL released.

    Args:
        X: float32 (B, N, m).
        W: real (B, m) weights, one vector per row (cast to float32).
        k: >= 1 (values above N are clamped to N).
        exclude: bool (B, N) or None.
        threads: worker threads (None: all cores).  Results do not depend on it.

    Returns:
        int64 (B, min(k, N)), each row as :func:`topk`, padded with -1 where fewer
        items remain (after ``exclude``).  The output never has more than N columns,
        so a huge k costs no more than k = N.
    """
    X = _as_items(X, "X", 3)
    B, N, m = X.shape
    W = _as_weights(W, "W", (B, m))
    mask = _as_mask(exclude, "exclude", (B, N))
    k = min(positive_int(k, "k", maximum=None), N)
    return _core.ranking.topk_batch(X, W, k, mask, thread_count(threads))


def _as_rows(rows: object, name: str, n_catalogues: int) -> np.ndarray:
    a = np.asarray(rows)
    if a.dtype.kind not in "iu" or a.dtype == np.bool_:
        raise TypeError(f"{name}: expected integer catalogue ids, got dtype {a.dtype}")
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-d array, got shape {a.shape}")
    if a.min() < 0 or a.max() >= n_catalogues:
        raise ValueError(f"{name}: entries must lie in [0, {n_catalogues}), got min {a.min()}, max {a.max()}")
    return aligned(np.asarray(a, dtype=np.int64))


def topk_indexed(
    X: np.ndarray,
    rows: np.ndarray,
    W: np.ndarray,
    k: int,
    exclude: np.ndarray | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """:func:`topk_batch` over a shared catalogue, without copying it per row:
    row b ranks the items ``X[rows[b]]``.  Equal to ``topk_batch(X[rows], W, k,
    exclude)`` (the same scores, ties and padding), multi-threaded with the GIL released.

    Args:
        X: float32 (Q, N, m) catalogues (e.g. one per query), Q, N, m >= 1.
        rows: integer (B,) catalogue id of each row, in [0, Q), B >= 1.
        W: real (B, m) weights, one vector per row (cast to float32).
        k: >= 1 (values above N are clamped to N).
        exclude: bool (B, N) or None (per row, over its catalogue's items).
        threads: worker threads (None: all cores).  Results do not depend on it.

    Returns:
        int64 (B, min(k, N)) item indices into the row's catalogue, best first, -1 padded.
    """
    X = _as_items(X, "X", 3)
    Q, N, m = X.shape
    r = _as_rows(rows, "rows", Q)
    B = r.shape[0]
    W = _as_weights(W, "W", (B, m))
    mask = _as_mask(exclude, "exclude", (B, N))
    k = min(positive_int(k, "k", maximum=None), N)
    return _core.ranking.topk_indexed(X, r, W, k, mask, thread_count(threads))


def _as_ranks(a: object, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise TypeError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: must not be empty")
    arr = aligned(np.asarray(arr, dtype=np.float64))
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or inf")
    return arr


def discordant_pairs(a: np.ndarray, b: np.ndarray) -> int:
    """Number of pairs i < j with (a_i - a_j)(b_i - b_j) < 0, in O(n log n).

    Args:
        a, b: real (n,) arrays of equal length n >= 1 (cast to float64).
    """
    a = _as_ranks(a, "a")
    b = _as_ranks(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"b: expected the same length as a ({a.size}), got {b.size}")
    return int(_core.ranking.discordant_pairs(a, b))


def scores(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """float64 (N,) scores X @ w accumulated in float64 in feature order.

    X: float32 (N, m) with N, m >= 1 (ValueError naming X otherwise)."""
    X = _as_items(X, "X", 2)
    return _core.ranking.scores(X, _as_weights(w, "w", (X.shape[1],)))
