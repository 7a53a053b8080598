"""Statistics for reports: confidence intervals, paired differences, Welch tests."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np


def mean_ci(x: Iterable[float], z: float = 1.959963984540054) -> tuple[float, float]:
    """Mean and half-width of its normal-approximation 95% confidence interval."""
    a = np.asarray(list(x) if not isinstance(x, np.ndarray) else x, dtype=np.float64).ravel()
    if a.size == 0:
        return float("nan"), float("nan")
    if a.size == 1:
        return float(a[0]), float("nan")
    return float(a.mean()), float(z * a.std(ddof=1) / math.sqrt(a.size))
