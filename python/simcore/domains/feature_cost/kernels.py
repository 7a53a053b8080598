"""The Python face of the C++ feature-subset evaluation kernel (argument checks).

:func:`subset_eval` ranks each query's candidates with a subset of the ranking
features and reports, per row, the pairwise loss against the full-feature ranking
and the cost of the evaluated features.  Exact definitions (scores, ties, the top-k
restriction, cost sums) are in ``cpp/simcore/ranking/feature_cost.hpp`` and in the NumPy
reference :mod:`simcore.domains.feature_cost.reference`, which gives the same numbers.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np

from simcore import _core
from simcore.util.checks import INT64_MAX, aligned, int_in_range, positive_int, thread_count

__all__ = ["MLPRanker", "SubsetEvalResult", "subset_eval", "feature_mean", "pair_count", "cost_totals"]


@dataclass(frozen=True)
class MLPRanker:
    """A small MLP ranker f: layers (W float32 (in, out), b float32 (out,)), ReLU
    between layers, one output unit; evaluated in float64.

    The first layer's ``in`` is the number of features n; the last layer's ``out`` is 1.
    """

    layers: tuple[tuple[np.ndarray, np.ndarray], ...]

    @classmethod
    def random(cls, n: int, hidden: Sequence[int] = (32,), seed: int = 0, scale: float = 1.0) -> MLPRanker:
        """A ranker with He-initialised random weights (for tests and benchmarks)."""
        rng = np.random.default_rng(seed)
        sizes = [int(n), *[int(h) for h in hidden], 1]
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            W = (rng.normal(size=(a, b)) * scale * np.sqrt(2.0 / a)).astype(np.float32)
            layers.append((W, (0.1 * rng.normal(size=b)).astype(np.float32)))
        return cls(tuple(layers))


Ranker = Union[np.ndarray, Sequence[float], MLPRanker]


@dataclass
class SubsetEvalResult:
    """What :func:`subset_eval` returns (R rows, N items, n features).

    Attributes:
        loss: int64 (R,) discordant pairs between the subset and the full ranking.
        cost: float64 (R,) summed cost of the evaluated features over the query's items.
        pairs: the number of pairs the loss counts over (same for every row).
        fill: float32 (n,) the values used for skipped features.
        scores: float64 (R, N) subset scores, or None.
        full_scores: float64 (R, N) full-feature scores, or None.
        kl: float64 (R,) KL(softmax(full / T) || softmax(subset / T)) per row (the
            seed's D(F_o || F_a)), when ``kl_temperature`` was given; else None.
    """

    loss: np.ndarray
    cost: np.ndarray
    pairs: int
    fill: np.ndarray
    scores: np.ndarray | None = None
    full_scores: np.ndarray | None = None
    kl: np.ndarray | None = None

    @property
    def loss_fraction(self) -> np.ndarray:
        """float64 (R,) loss / pairs (0 when there are no pairs)."""
        return self.loss / self.pairs if self.pairs > 0 else np.zeros(self.loss.shape)


def _as_X(X: object) -> np.ndarray:
    if not isinstance(X, np.ndarray):
        raise TypeError(f"X: expected a numpy float32 array, got {type(X).__name__}")
    if X.dtype != np.float32:
        raise TypeError(f"X: expected dtype float32, got {X.dtype} (convert with .astype(np.float32))")
    if X.ndim != 3:
        raise ValueError(f"X: expected a 3-d array (Q, N, n), got shape {X.shape}")
    Q, N, n = X.shape
    if Q == 0:
        raise ValueError("X: needs at least one query (Q = 0)")
    if N == 0:
        raise ValueError("X: needs at least one item per query (N = 0)")
    if n == 0:
        raise ValueError("X: needs at least one feature (n = 0)")
    return aligned(X)


def _as_real(a: object, name: str, shape: tuple[int, ...] | None, dtype: type) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise TypeError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {arr.shape}")
    arr = aligned(np.asarray(arr, dtype=dtype))
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or inf (or overflows {np.dtype(dtype).name})")
    return arr


def _ranker_args(ranker: object, n: int) -> tuple[np.ndarray | None, list | None]:
    if isinstance(ranker, MLPRanker):
        ranker = ranker.layers
    if isinstance(ranker, (list, tuple)) and ranker and all(
        isinstance(L, (list, tuple)) and len(L) == 2 for L in ranker
    ):
        layers = []
        for i, (W, b) in enumerate(ranker):
            W = _as_real(W, f"layers[{i}].W", None, np.float32)
            b = _as_real(b, f"layers[{i}].b", None, np.float32)
            if W.ndim != 2:
                raise ValueError(f"layers[{i}].W: expected a 2-d array, got shape {W.shape}")
            layers.append((W, b))
        return None, layers
    if ranker is None:
        raise TypeError("ranker: expected weights (n,) or an MLPRanker / list of (W, b)")
    return _as_real(ranker, "w", (n,), np.float32), None


def cost_totals(cost: object, Q: int, N: int, n: int) -> np.ndarray:
    """float64 (1 or Q, n): per-feature cost of a query summed over its N items.

    Args:
        cost: real, non-negative: (n,) cost per item of each feature (total N * c),
            (N, n) per item and feature, or (Q, N, n) per query, item and feature.
    """
    c = np.asarray(cost)
    if c.dtype.kind not in "fiu" or c.dtype == np.bool_:
        raise TypeError(f"cost: expected real numbers, got dtype {c.dtype}")
    c = c.astype(np.float64)
    if c.shape not in ((n,), (N, n), (Q, N, n)):
        raise ValueError(f"cost: expected shape ({n},), ({N}, {n}) or ({Q}, {N}, {n}), got {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("cost: contains NaN or inf")
    if np.any(c < 0):
        raise ValueError("cost: must be non-negative")
    if c.ndim == 1:
        tot = (c * N)[None, :]
    elif c.ndim == 2:
        tot = c.sum(axis=0)[None, :]
    else:
        tot = c.sum(axis=1)
    if not np.all(np.isfinite(tot)):
        raise ValueError("cost: the per-query totals overflow float64")
    return np.ascontiguousarray(tot)


def subset_eval(
    X: np.ndarray,
    mask: np.ndarray,
    cost: np.ndarray,
    ranker: Ranker,
    *,
    fill: np.ndarray | None = None,
    top_k: int | None = None,
    query_index: np.ndarray | None = None,
    threads: int | None = None,
    return_scores: bool = False,
    simd: bool = True,
    kl_temperature: float | None = None,
) -> SubsetEvalResult:
    """Evaluates feature subsets, batched over queries (C++, GIL released).

    Args:
        X: float32 (Q, N, n) candidate features of Q queries.
        mask: bool (R, n), True = feature evaluated (Eval), False = skipped.  Row r
            belongs to query ``query_index[r]`` (default: R == Q, row r = query r).
        cost: non-negative (n,), (N, n) or (Q, N, n) cost of computing a feature for
            one item (see :func:`cost_totals`).
        ranker: linear weights (n,) (cast to float32), or an :class:`MLPRanker` /
            sequence of (W, b) pairs.
        fill: float32 (n,) value of a skipped feature; default: the feature's mean
            over all Q*N candidates of X (:func:`feature_mean`).  Pass a fixed
            population mean when evaluating batches of a larger data set.
        top_k: None: the loss counts all pairs; k >= 1: only pairs with at least one
            member in the full ranking's top-k (k >= N: all pairs).
        query_index: int (R,) query of each row, or None.  Rows of the same query
            next to each other share the full-ranking work.
        threads: worker threads (None: all cores); results do not depend on it.
        return_scores: also return the subset and full scores (float64 (R, N)).
        simd: False forces the portable scalar path (for tests; same results).
        kl_temperature: T > 0: also compute the KL loss between the full and the subset
            scores' softmax distributions at temperature T (``result.kl``).

    Returns:
        :class:`SubsetEvalResult`.  Raises ValueError if X holds NaN/inf (or the
        scores overflow), TypeError/ValueError naming any malformed argument.
    """
    X = _as_X(X)
    Q, N, n = X.shape
    w, layers = _ranker_args(ranker, n)
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        raise TypeError("mask: expected a numpy bool array of shape (R, n)")
    if mask.ndim != 2 or mask.shape[1] != n:
        raise ValueError(f"mask: expected shape (R, {n}), got {mask.shape}")
    if mask.shape[0] == 0:
        raise ValueError("mask: needs at least one row (empty query set)")
    mask = aligned(mask)
    qi = None
    if query_index is not None:
        qi = np.asarray(query_index)
        if qi.dtype.kind not in "iu":
            raise TypeError(f"query_index: expected integers, got dtype {qi.dtype}")
        if qi.shape != (mask.shape[0],):
            raise ValueError(f"query_index: expected shape ({mask.shape[0]},), got {qi.shape}")
        if qi.size and (qi.min() < 0 or qi.max() >= Q):
            raise ValueError(f"query_index: entries must lie in [0, {Q}), got {qi.min()}..{qi.max()}")
        qi = aligned(np.asarray(qi, dtype=np.int64))
    if fill is not None:
        fill = _as_real(fill, "fill", (n,), np.float32)
    tot = cost_totals(cost, Q, N, n)
    k = min(positive_int(top_k, "top_k", none_as=0, maximum=None), N)  # k >= N: all pairs, as k = N
    T = 0.0
    if kl_temperature is not None:
        if (not isinstance(kl_temperature, numbers.Real) or isinstance(kl_temperature, bool)
                or not np.isfinite(kl_temperature) or kl_temperature <= 0):
            raise ValueError(f"kl_temperature: must be None or a finite number > 0, got {kl_temperature!r}")
        T = float(kl_temperature)
    loss, total, sub, full, used_fill, kl = _core.feature_cost.subset_eval(
        X, w, layers, mask, qi, fill, tot, k, thread_count(threads), bool(return_scores),
        bool(return_scores), bool(simd), T,
    )
    return SubsetEvalResult(
        loss=loss, cost=total, pairs=int(_core.feature_cost.pair_count(N, k)), fill=used_fill,
        scores=sub, full_scores=full, kl=kl,
    )


def feature_mean(X: np.ndarray, threads: int | None = None) -> np.ndarray:
    """float32 (n,): per-feature mean of X float32 (Q, N, n) over all candidates
    (float64 sums in a fixed order: the same at any thread count)."""
    return _core.feature_cost.feature_mean(_as_X(X), thread_count(threads))


def pair_count(N: int, top_k: int | None = None) -> int:
    """Pairs the loss counts over: N(N-1)/2, or k(k-1)/2 + k(N-k) when top_k = k < N."""
    if not isinstance(N, numbers.Integral) or isinstance(N, bool) or N < 0:
        raise ValueError(f"N: must be a non-negative integer, got {N!r}")
    N = int_in_range(N, "N", 0, INT64_MAX)
    k = min(positive_int(top_k, "top_k", none_as=0, maximum=None), N)
    # OverflowError naming N when the count does not fit in int64 (N >= ~2^32).
    return int(_core.feature_cost.pair_count(N, k))
