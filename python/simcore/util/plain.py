"""Conversion of nested results (dicts, lists, NumPy arrays and scalars) to plain Python
values, for JSON reports and for training checkpoints."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def to_plain(x: Any, *, nonfinite_as_none: bool = False) -> Any:
    """``x`` with dict keys as str, tuples as lists and NumPy values as Python ones.

    With ``nonfinite_as_none`` (for JSON, which has no NaN or inf) non-finite floats
    become None; otherwise they are kept.
    """
    if isinstance(x, dict):
        return {str(k): to_plain(v, nonfinite_as_none=nonfinite_as_none) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_plain(v, nonfinite_as_none=nonfinite_as_none) for v in x]
    if isinstance(x, np.ndarray):
        return to_plain(x.tolist(), nonfinite_as_none=nonfinite_as_none)
    if isinstance(x, np.generic):
        x = x.item()
    if nonfinite_as_none and isinstance(x, float) and not math.isfinite(x):
        return None
    return x
