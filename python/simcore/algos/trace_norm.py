"""Tensor trace norms for deep multi-task learning (Yang & Hospedales, "Trace Norm
Regularised Deep Multi-Task Learning", ICLR 2017 workshop; the slides' "Experimental
Design for ABTest (1)").

The layer-l weights of T task towers, each (d_in, d_out), are stacked along a last
*task* axis into W of shape (d_1, ..., d_N) = (d_in, d_out, T), N = 3.  With
||M||_* = sum of singular values (nuclear norm)::

    LAF     ||W||_* = gamma ||W_(N)||_*                       last-axis flattening
    Tucker  ||W||_* = sum_{i=1}^{N} gamma_i ||W_(i)||_*       every mode unfolding
    TT      ||W||_* = sum_{i=1}^{N-1} gamma_i ||W_[i]||_*     tensor-train unfoldings

W_(i) is the mode-i unfolding (d_i, prod_{j != i} d_j) (axis i moved first, the others
flattened in order) and W_[i] the TT unfolding (d_1 ... d_i, d_{i+1} ... d_N) (a plain
reshape).  We use gamma = 1 for LAF and equal weights summing to 1 for Tucker (1/N)
and TT (1/(N-1)), so the three penalties are on one scale (the paper leaves gamma_i
free; the slides give one overall weight, 5e-4).  Gradients flow through
``torch.linalg.svdvals`` (defined where the singular values are distinct, which holds
almost surely for trained weights).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

#: the norm names
NORMS = ("laf", "tucker", "tt")


def mode_unfold(w: torch.Tensor, mode: int) -> torch.Tensor:
    """Mode-``mode`` unfolding W_(mode): (d_mode, prod of the other sizes)."""
    if not 0 <= mode < w.ndim:
        raise ValueError(f"mode: must lie in [0, {w.ndim}), got {mode}")
    return torch.movedim(w, mode, 0).reshape(w.shape[mode], -1)


def tt_unfold(w: torch.Tensor, i: int) -> torch.Tensor:
    """TT unfolding W_[i]: (d_1 ... d_i, d_{i+1} ... d_N), i in [1, N)."""
    if not 1 <= i < w.ndim:
        raise ValueError(f"i: must lie in [1, {w.ndim}), got {i}")
    return w.reshape(math.prod(w.shape[:i]), -1)


def nuclear(m: torch.Tensor) -> torch.Tensor:
    """||M||_*: the sum of the singular values of a matrix (differentiable)."""
    return torch.linalg.svdvals(m).sum()


def tensor_trace_norm(w: torch.Tensor, kind: str) -> torch.Tensor:
    """The ``kind`` norm of a stacked weight tensor W (module docstring; N = w.ndim >= 2)."""
    if w.ndim < 2:
        raise ValueError(f"w: needs at least 2 axes, got shape {tuple(w.shape)}")
    n = w.ndim
    if kind == "laf":
        return nuclear(mode_unfold(w, n - 1))
    if kind == "tucker":
        return sum((nuclear(mode_unfold(w, i)) for i in range(n)), torch.zeros(())) / n
    if kind == "tt":
        return sum((nuclear(tt_unfold(w, i)) for i in range(1, n)), torch.zeros(())) / (n - 1)
    raise ValueError(f"kind: expected one of {NORMS}, got {kind!r}")


def stack_tasks(weights: Sequence[torch.Tensor]) -> torch.Tensor:
    """T torch Linear weights (d_out, d_in) -> W (d_in, d_out, T)."""
    if not weights or any(w.shape != weights[0].shape for w in weights):
        raise ValueError("weights: need one or more tensors of one shape")
    return torch.stack([w.t() for w in weights], dim=-1)
