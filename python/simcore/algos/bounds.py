"""Movable per-dimension action bounds [L, U] and the sigmoid-output map into them.

A bounded actor outputs o in [0, 1]^m (a sigmoid last layer) and acts with

    a^k = L^k + (U^k - L^k) o^k,   k = 1..m                         (the article's 分层流量调控, 问题建模)

:class:`ActionBounds` holds L and U (float64 (m,)), validates every change and maps
o to a in NumPy and in torch (differentiably, with the bounds as constants).  The
bounds may be moved while an agent trains (e.g. by :class:`simcore.algos.cem_bounds.CEMBounds`);
``version`` counts the changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def check_vector(name: str, value: Any, m: int | None) -> np.ndarray:
    """A finite float64 (m,) copy of ``value`` or ValueError naming ``name``."""
    try:
        v = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers, got {value!r}") from None
    if v.ndim == 0 and m is not None:
        v = np.full(m, float(v))
    if v.ndim != 1 or v.size < 1:
        raise ValueError(f"{name}: expected a 1-D vector, got shape {v.shape}")
    if m is not None and v.size != m:
        raise ValueError(f"{name}: expected length {m}, got {v.size}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name}: contains NaN or inf ({v.tolist()})")
    return v


def check_bounds(low: Any, high: Any, m: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validated float64 (m,) copies of (L, U): finite, equal lengths (``m`` if given;
    a scalar is broadcast to ``m``), L <= U in every dimension; else ValueError naming
    ``low``/``high``."""
    lo = check_vector("low", low, m)
    hi = check_vector("high", high, lo.size if m is None else m)
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"low, high: need L <= U, got L[{k}] = {lo[k]:g} > U[{k}] = {hi[k]:g}")
    return lo, hi


class ActionBounds:
    """Per-dimension bounds L <= U of an m-dimensional action (module docstring).

    Args:
        low, high: L and U, float (m,) or scalars (with ``m``).  m: the action size
            (default: the length of ``low``).
    """

    def __init__(self, low: Any, high: Any, m: int | None = None) -> None:
        self.low, self.high = check_bounds(low, high, m)
        self.m = int(self.low.size)
        #: number of :meth:`set` calls so far
        self.version = 0

    def set(self, low: Any, high: Any) -> None:
        """Moves the bounds (validated as in :func:`check_bounds`; same m)."""
        self.low, self.high = check_bounds(low, high, self.m)
        self.version += 1

    @property
    def width(self) -> np.ndarray:
        """U - L: float64 (m,)."""
        return self.high - self.low

    def scale(self, o: np.ndarray) -> np.ndarray:
        """a = L + (U - L) o for o float (..., m) in [0, 1] (not checked): float64."""
        return self.low + self.width * np.asarray(o, dtype=np.float64)

    def unscale(self, a: np.ndarray) -> np.ndarray:
        """o = (a - L) / (U - L), 0.5 where U = L: float64 (..., m) (not clipped)."""
        w = self.width
        safe = np.where(w > 0, w, 1.0)
        return np.where(w > 0, (np.asarray(a, dtype=np.float64) - self.low) / safe, 0.5)

    def scale_torch(self, o: Any) -> Any:
        """a = L + (U - L) o for a torch tensor o (..., m), differentiable in o; the
        bounds enter as constants of o's dtype."""
        import torch

        lo = torch.as_tensor(self.low, dtype=o.dtype)
        return lo + torch.as_tensor(self.width, dtype=o.dtype) * o

    def state_dict(self) -> dict[str, Any]:
        """L, U (lists of floats) and the version."""
        return {"low": self.low.tolist(), "high": self.high.tolist(), "version": self.version}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restores :meth:`state_dict` (validated)."""
        self.low, self.high = check_bounds(state["low"], state["high"], self.m)
        self.version = int(state.get("version", 0))

    def __repr__(self) -> str:
        return f"ActionBounds(low={self.low.tolist()}, high={self.high.tolist()})"
