"""Batched table updates and row helpers of the vectorised tabular learners.

:class:`BatchedUpdater` applies the averaged update of
:mod:`~simcore.domains.search.tabular.learners` (k visits of one cell in a step move it
as k sequential updates with the mean target):
``Q <- Q + (1 - prod_{i=n}^{n+k-1} (1 - alpha(i))) (mean(y) - Q)``,
``alpha(i) = max(alpha_min, (i + 1)^-omega)``, ``alpha(0) = 1``.  The row helpers work
on float64 (n, A) arrays with small A by column loops (faster than axis reductions).
"""

from __future__ import annotations

import numpy as np


class BatchedUpdater:
    """Applies batched averaged updates to one flat table (see the module docstring).

    Duplicate cells in a batch are summed with ``np.add.at`` into scratch
    accumulators (no sorting); each lane then computes its cell's new value, and the
    duplicates write identical values.  The k sequential step sizes of a cell with n
    earlier updates compound to beta = 1 - prod_{i<k} (1 - alpha(n + i)), read from a
    table of cumulative log(1 - alpha) (exact up to n = 2**20 updates, beyond which
    alpha is held at alpha(2**20)).
    """

    NMAX = 1 << 20

    def __init__(self, size: int, step_exponent: float, step_min: float) -> None:
        self.acc_y = np.zeros(size)
        self.acc_k = np.zeros(size, dtype=np.int32)
        self.counts = np.zeros(size, dtype=np.int32)
        for arr in (self.acc_y, self.acc_k, self.counts):
            arr.fill(0)  # fault the pages in now, sequentially, not one by one at random
        self._ones = np.ones(0, dtype=np.int32)
        i = np.arange(1, self.NMAX + 1, dtype=np.float64)  # alpha(i) for i >= 1
        alpha = np.maximum(step_min, (i + 1.0) ** (-step_exponent))
        self.alpha_last = float(alpha[-1])
        log1m = np.log1p(-np.minimum(alpha, 1.0 - 1e-16))
        # cl[j] = sum_{1 <= i < j} log(1 - alpha(i)),  j = 1 .. NMAX + 1 (cl[0] unused)
        self.cl = np.zeros(self.NMAX + 2)
        self.cl[2:] = np.cumsum(log1m)
        self.log_last = float(log1m[-1])

    def _cumlog(self, j: np.ndarray) -> np.ndarray:
        jj = np.minimum(j, self.NMAX + 1)
        return self.cl[jj] + (j - jj) * self.log_last

    def __call__(self, table: np.ndarray, keys: np.ndarray, targets: np.ndarray) -> None:
        """Moves float64 ``table[keys]`` (int64 (n,) flat cells, duplicates allowed)
        towards the float64 (n,) ``targets`` in place, one batched step per cell."""
        np.add.at(self.acc_y, keys, targets)
        if self._ones.size < keys.size:
            self._ones = np.ones(keys.size, dtype=np.int32)
        np.add.at(self.acc_k, keys, self._ones[: keys.size])  # (a scalar 1 hits a slow path)
        k = self.acc_k[keys]
        n = self.counts[keys]
        ybar = self.acc_y[keys] / k
        # prod_{i=n}^{n+k-1} (1 - alpha(i)) with alpha(0) = 1 (the first update sets the target)
        first = n == 0
        lo = np.where(first, 1, n)
        keep = np.exp(self._cumlog(lo + k - first) - self._cumlog(lo))
        keep = np.where(first, 0.0, keep)
        old = table[keys]
        table[keys] = old + (1.0 - keep) * (ybar - old)
        self.counts[keys] = n + k
        self.acc_y[keys] = 0.0
        self.acc_k[keys] = 0


def argmax_rows(x: np.ndarray) -> np.ndarray:
    """argmax over the (small) last axis of a 2-d array, ties to the lowest index."""
    best = x[:, 0].copy()
    idx = np.zeros(x.shape[0], dtype=np.int64)
    for j in range(1, x.shape[1]):
        better = x[:, j] > best
        best = np.where(better, x[:, j], best)
        idx[better] = j
    return idx


def max_rows(x: np.ndarray) -> np.ndarray:
    """max over the (small) last axis of a 2-d array."""
    best = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        np.maximum(best, x[:, j], out=best)
    return best


def sample_softmax(x: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draws a ~ softmax(x[i]) per row by inverse CDF with uniforms u; returns
    (int64 actions, float64 (n, A) probabilities).  Column loops: A is small."""
    z = np.exp(x - max_rows(x)[:, None])
    total = z[:, 0].copy()
    for j in range(1, z.shape[1]):
        total += z[:, j]
    pi = z / total[:, None]
    target = u * total
    a = np.zeros(x.shape[0], dtype=np.int64)
    acc = z[:, 0].copy()
    for j in range(1, z.shape[1]):
        a += target >= acc
        acc += z[:, j]
    return a, pi


def softmax_rows(x: np.ndarray) -> np.ndarray:
    """softmax over the last axis (float64, rows sum to 1)."""
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)
