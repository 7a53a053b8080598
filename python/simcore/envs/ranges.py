"""Range checks for config fields, shared by every domain's configs (no Gymnasium
import).  Each raises TypeError for a value of the wrong kind (bool, None, str where
a number is expected) and ValueError for one out of range, both naming the field."""

from __future__ import annotations

import math
import numbers

__all__ = ["check_real", "check_int"]


def check_real(name: str, value: object, lo: float, hi: float, *, lo_open: bool = False,
               hi_open: bool = False) -> None:
    """``value`` is a finite real number (not bool) in [lo, hi] (open ends optional)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}: expected a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name}: must be finite, got {value!r}")
    if v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi):
        lb, rb = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ValueError(f"{name}: must lie in {lb}{lo:g}, {hi:g}{rb}, got {value!r}")


def check_int(name: str, value: object, lo: int, hi: int) -> None:
    """``value`` is an int (Python or NumPy, not bool) in [lo, hi]."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an integer, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name}: must be an integer in [{lo}, {hi}], got {value!r}")
