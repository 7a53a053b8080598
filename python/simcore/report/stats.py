"""Statistics for reports: confidence intervals, paired differences, Welch tests."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def mean_ci(x: Iterable[float], z: float = 1.959963984540054) -> tuple[float, float]:
    """Mean and half-width of its normal-approximation 95% confidence interval."""
    a = np.asarray(list(x) if not isinstance(x, np.ndarray) else x, dtype=np.float64).ravel()
    if a.size == 0:
        return float("nan"), float("nan")
    if a.size == 1:
        return float(a[0]), float("nan")
    return float(a.mean()), float(z * a.std(ddof=1) / math.sqrt(a.size))


def _arr(x: Iterable[float], name: str) -> np.ndarray:
    """float64 1-d values; NaN propagates to the results (never reported as a number)."""
    return np.asarray(list(x) if not isinstance(x, np.ndarray) else x, dtype=np.float64).ravel()


def t_ci(x: Iterable[float], level: float = 0.95) -> tuple[float, float]:
    """Mean and the half-width of its Student-t confidence interval (for few seeds).

    half = t_{(1+level)/2, n-1} * s / sqrt(n); NaN half-width for n < 2.
    """
    from scipy import stats as st

    a = _arr(x, "x")
    if a.size == 0:
        return float("nan"), float("nan")
    if a.size == 1:
        return float(a[0]), float("nan")
    q = float(st.t.ppf(0.5 + level / 2, a.size - 1))
    return float(a.mean()), float(q * a.std(ddof=1) / math.sqrt(a.size))


def paired(a: Iterable[float], b: Iterable[float], level: float = 0.95) -> dict[str, float]:
    """Paired difference a - b over matched units (seeds, users): mean, Student-t
    half-width, t statistic and two-sided p-value.

    Returns:
        ``{"mean", "half", "n", "t", "p"}`` (half/t/p NaN for n < 2 or zero spread).
    """
    from scipy import stats as st

    x, y = _arr(a, "a"), _arr(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"b: expected {x.size} values matching a, got {y.size}")
    d = x - y
    mean, half = t_ci(d, level) if d.size else (float("nan"), float("nan"))
    sd = float(d.std(ddof=1)) if d.size > 1 else float("nan")
    if d.size > 1 and sd > 0:
        t = mean / (sd / math.sqrt(d.size))
        p = float(2 * st.t.sf(abs(t), d.size - 1))
    else:
        t = p = float("nan")
    return {"mean": mean, "half": half, "n": int(d.size), "t": float(t), "p": p}


def welch(a: Iterable[float], b: Iterable[float], level: float = 0.95) -> dict[str, float]:
    """Difference of means mean(a) - mean(b) of independent samples, with Welch's
    t interval (Welch-Satterthwaite degrees of freedom) and two-sided p-value.

    Returns:
        ``{"mean", "half", "df", "t", "p"}`` (NaN where a sample has < 2 values).
    """
    from scipy import stats as st

    x, y = _arr(a, "a"), _arr(b, "b")
    nan = float("nan")
    if x.size < 2 or y.size < 2:
        diff = float(x.mean() - y.mean()) if x.size and y.size else nan
        return {"mean": diff, "half": nan, "df": nan, "t": nan, "p": nan}
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(vx + vy)
    diff = float(x.mean() - y.mean())
    if se == 0:
        return {"mean": diff, "half": 0.0, "df": nan, "t": nan, "p": nan}
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    t = diff / se
    return {
        "mean": diff,
        "half": float(st.t.ppf(0.5 + level / 2, df) * se),
        "df": float(df),
        "t": float(t),
        "p": float(2 * st.t.sf(abs(t), df)),
    }


def plus_minus(mean: float, half: float, digits: int = 2, scale: float = 1.0, suffix: str = "") -> str:
    """``"m ± h"`` for a table cell (``"m"`` alone when h is NaN)."""
    m, h = mean * scale, half * scale
    if m != m:
        return "–"
    if h != h:
        return f"{m:.{digits}f}{suffix}"
    return f"{m:.{digits}f} ± {h:.{digits}f}{suffix}"
