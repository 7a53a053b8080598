"""Argument checks shared by the Python wrappers of the C++ kernels.

Each raises TypeError (wrong kind of value) or ValueError (wrong value) naming the
argument and the expected range, and returns the value in the form the bindings take.
Integers are bounded here so that no value reaches a binding that its C++ type cannot
hold (which would otherwise surface as pybind11's anonymous "incompatible function
arguments").
"""

from __future__ import annotations

import numbers

import numpy as np

INT32_MAX = (1 << 31) - 1
INT64_MAX = (1 << 63) - 1


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def thread_count(threads: object) -> int:
    """None -> 0 (all cores), else an integer in [1, 2^31 - 1] (the C++ side caps the
    threads it starts at min(threads, 4 * hardware threads, 256, work items))."""
    if threads is None:
        return 0
    if not _is_int(threads) or not 1 <= threads <= INT32_MAX:
        raise ValueError(f"threads: must be None or an integer in [1, {INT32_MAX}], got {threads!r}")
    return int(threads)


def positive_int(value: object, name: str, *, none_as: int | None = None,
                 maximum: int | None = INT64_MAX) -> int:
    """An integer in [1, maximum] (maximum None: unbounded, for counts the caller clamps);
    with ``none_as`` given, None is accepted and mapped to it."""
    if value is None and none_as is not None:
        return none_as
    if not _is_int(value):
        allowed = "an integer or None" if none_as is not None else "an integer"
        raise TypeError(f"{name}: expected {allowed}, got {type(value).__name__}")
    if value <= 0:
        extra = " (or None)" if none_as is not None else ""
        raise ValueError(f"{name}: must be positive{extra}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}: must be at most {maximum}, got {value}")
    return int(value)


def int_in_range(value: object, name: str, lo: int, hi: int) -> int:
    """An integer in [lo, hi] (TypeError for non-integers, ValueError outside)."""
    if not _is_int(value):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise ValueError(f"{name}: must lie in [{lo}, {hi}], got {value}")
    return int(value)


def aligned(a: np.ndarray) -> np.ndarray:
    """``a`` as a C-contiguous, aligned array (copied only when it is not)."""
    return np.require(a, requirements=("C", "A"))
