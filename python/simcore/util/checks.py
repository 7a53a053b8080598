"""Argument checks shared by the Python wrappers of the C++ kernels.

Each raises TypeError (wrong kind of value) or ValueError (wrong value) naming the
argument, and returns the value in the form the bindings take.
"""

from __future__ import annotations

import numbers


def thread_count(threads: object) -> int:
    """None -> 0 (all cores), else an integer >= 1."""
    if threads is None:
        return 0
    if not isinstance(threads, numbers.Integral) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads: must be None or an integer >= 1, got {threads!r}")
    return int(threads)


def positive_int(value: object, name: str, *, none_as: int | None = None) -> int:
    """An integer >= 1; with ``none_as`` given, None is accepted and mapped to it."""
    if value is None and none_as is not None:
        return none_as
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        allowed = "an integer or None" if none_as is not None else "an integer"
        raise TypeError(f"{name}: expected {allowed}, got {type(value).__name__}")
    if value <= 0:
        extra = " (or None)" if none_as is not None else ""
        raise ValueError(f"{name}: must be positive{extra}, got {value}")
    return int(value)
