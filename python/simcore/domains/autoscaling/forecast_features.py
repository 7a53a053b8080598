"""The forecasters' shared inputs (docs/autoscaling_forecast.md, "Inputs"): input
checks, calendar features, and the windows a forecaster reads from a traffic history.

A traffic array is float64 (B, T, D): B series (zones), T 10-minute steps, D traffic
dimensions (RPC calls, messages, ...), finite and >= 0.  Time is counted in steps
from a week's start (step 0 = Monday 00:00 of the simulator's week): a series whose
first step has calendar index c0 has step j at calendar index c0 + j.

For a forecast of the H steps at calendar indices t0 .. t0 + H - 1 from a history
ending at t0 - 1 (position p = the history's length, or any position of a longer
series), :func:`windows` gathers, per sample and dimension, all scaled by the
sample's level s = the mean of the last min(scale_window, p) steps (floor 1e-9):

* ``recent`` (N, W, D): x[p - W .. p - 1] / s (missing steps before the series' start:
  the first available value);
* ``lag_day_w``, ``lag_week_w`` (N, W, D): the values one day (144 steps) and one week
  (1008 steps) before each recent step; ``lag_day``, ``lag_week`` (N, H, D): the same
  for each forecast step.  A missing lag is filled with the last value (day) or the day
  lag (week), and flagged in ``mask_*`` (1 = available);
* ``cal_w`` (N, W, 4), ``cal`` (N, H, 4): sin/cos of the time of day and of the week;
* ``last`` (N, D): x[p - 1] / s; ``scale`` (N, D): s.

Every array is float64; a model takes float32 copies.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from simcore.domains.autoscaling.config import STEPS_PER_DAY, STEPS_PER_WEEK

__all__ = ["Windows", "windows", "running_sum", "calendar", "check_traffic", "check_t0", "LAGS"]

#: The explicit periods (steps): one day, one week.
LAGS = (STEPS_PER_DAY, STEPS_PER_WEEK)
_FLOOR = 1e-9


def check_traffic(traffic: object, name: str = "traffic", min_steps: int = 1) -> np.ndarray:
    """float64 (B, T, D) traffic, finite and >= 0, T >= ``min_steps`` (TypeError /
    ValueError naming ``name`` otherwise)."""
    if isinstance(traffic, (str, bytes)) or traffic is None:
        raise TypeError(f"{name}: expected a real array (B, T, D), got {type(traffic).__name__}")
    a = np.asarray(traffic)
    if a.dtype.kind not in "fiu" or a.dtype == np.bool_:
        raise TypeError(f"{name}: expected real values, got dtype {a.dtype}")
    if a.ndim != 3 or min(a.shape) < 1:
        raise ValueError(f"{name}: expected shape (B, T, D) with B, T, D >= 1, got {a.shape}")
    if a.shape[1] < min_steps:
        raise ValueError(f"{name}: needs at least {min_steps} steps, got T = {a.shape[1]}")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or infinite values (first at index "
                         f"{tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])})")
    if a.min() < 0:
        raise ValueError(f"{name}: traffic must be >= 0 (negative traffic at index "
                         f"{tuple(int(i) for i in np.argwhere(a < 0)[0])})")
    return a


def check_t0(t0: object, n: int, name: str = "t0") -> np.ndarray:
    """int64 (n,) calendar indices >= 0 from an int or an (n,) integer array."""
    if isinstance(t0, numbers.Integral) and not isinstance(t0, bool):
        t = np.full(n, int(t0), dtype=np.int64)
    else:
        a = np.asarray(t0)
        if a.dtype.kind not in "iu" or a.shape != (n,):
            raise ValueError(f"{name}: expected an integer or {n} integers, got {a.dtype} of shape {a.shape}")
        t = a.astype(np.int64)
    if np.any(t < 0):
        raise ValueError(f"{name}: calendar indices must be >= 0, got {int(t.min())}")
    return t


def calendar(steps: np.ndarray) -> np.ndarray:
    """(..., 4) float64: sin, cos of 2 pi (s mod 144) / 144 and of 2 pi (s mod 1008) / 1008."""
    s = np.asarray(steps, dtype=np.int64)
    d = 2 * np.pi * (s % STEPS_PER_DAY) / STEPS_PER_DAY
    w = 2 * np.pi * (s % STEPS_PER_WEEK) / STEPS_PER_WEEK
    return np.stack([np.sin(d), np.cos(d), np.sin(w), np.cos(w)], axis=-1)


@dataclass
class Windows:
    """What a forecaster reads for N samples (the module docstring gives the meanings)."""

    recent: np.ndarray
    lag_day_w: np.ndarray
    lag_week_w: np.ndarray
    mask_day_w: np.ndarray
    mask_week_w: np.ndarray
    cal_w: np.ndarray
    lag_day: np.ndarray
    lag_week: np.ndarray
    mask_day: np.ndarray
    mask_week: np.ndarray
    cal: np.ndarray
    last: np.ndarray
    scale: np.ndarray

    @property
    def n(self) -> int:
        return int(self.recent.shape[0])

    def candidates(self) -> np.ndarray:
        """(N, H, D, 3) the explicit-periodicity candidates: the last value, the day lag,
        the week lag (filled as above), scaled."""
        H = self.lag_day.shape[1]
        last = np.repeat(self.last[:, None, :], H, axis=1)
        return np.stack([last, self.lag_day, self.lag_week], axis=-1)


def _gather(series: np.ndarray, rows: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """series[rows, idx] (N, L, D) with idx < 0 clipped to 0, and the availability mask (N, L)."""
    ok = idx >= 0
    return series[rows[:, None], np.maximum(idx, 0)], ok


def running_sum(series: np.ndarray) -> np.ndarray:
    """(B, T + 1, D) cumulative sums along time with a leading zero (for :func:`windows`)."""
    return np.concatenate([np.zeros((series.shape[0], 1, series.shape[2])), np.cumsum(series, axis=1)], axis=1)


def windows(series: np.ndarray, rows: np.ndarray, pos: np.ndarray, cal0: np.ndarray, W: int, H: int,
            scale_window: int = STEPS_PER_DAY, cumsum: np.ndarray | None = None) -> Windows:
    """The windows of samples (rows[i], pos[i]) of ``series`` (B, T, D) (checked by the
    caller): a forecast of steps pos .. pos + H - 1 of row ``rows[i]`` from its steps
    before ``pos`` (1 <= pos <= T), whose calendar index is ``cal0[i]`` (int64 (N,)).
    ``cumsum``: :func:`running_sum` of ``series`` when the caller has it."""
    rows, pos, cal0 = (np.asarray(v, dtype=np.int64) for v in (rows, pos, cal0))
    if np.any(pos < 1) or np.any(pos > series.shape[1]):
        raise ValueError("pos: every sample needs at least one step of history (1 <= pos <= T)")
    back = np.arange(-W, 0, dtype=np.int64)             # recent steps relative to pos
    ahead = np.arange(H, dtype=np.int64)                # forecast steps relative to pos
    recent, ok_r = _gather(series, rows, pos[:, None] + back)
    first = series[rows, 0][:, None, :]
    recent = np.where(ok_r[:, :, None], recent, first)
    # the level: the mean of the last min(scale_window, pos) steps, from a running sum
    lo = np.maximum(pos - scale_window, 0)
    if cumsum is None and np.all(pos == pos[0]):  # one position (a forecast from each history's end)
        scale = series[rows, int(lo[0]):int(pos[0])].mean(axis=1)
    else:
        cs = running_sum(series) if cumsum is None else cumsum
        scale = (cs[rows, pos] - cs[rows, lo]) / (pos - lo)[:, None]
    scale = np.maximum(scale, _FLOOR)
    s3 = scale[:, None, :]
    last = series[rows, pos - 1] / scale

    def lags(offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        idx = pos[:, None] + offsets
        d, okd = _gather(series, rows, idx - STEPS_PER_DAY)
        w, okw = _gather(series, rows, idx - STEPS_PER_WEEK)
        d = np.where(okd[:, :, None], d / s3, last[:, None, :])
        w = np.where(okw[:, :, None], w / s3, d)
        return d, w, okd.astype(np.float64), okw.astype(np.float64)

    dw, ww, mdw, mww = lags(back)
    dh, wh, mdh, mwh = lags(ahead)
    return Windows(recent / s3, dw, ww, mdw, mww, calendar(cal0[:, None] + back), dh, wh, mdh, mwh,
                   calendar(cal0[:, None] + ahead), last, scale)
