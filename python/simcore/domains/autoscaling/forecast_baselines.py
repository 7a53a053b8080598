"""The forecasters the workload forecaster is measured against (docs/autoscaling_forecast.md),
with the same ``predict(history, t0) -> (B, H, D)`` face, and the error measures.

* :class:`SeasonalNaive`: the value one day (``lag="day"``) or one week (``lag="week"``)
  earlier, x_hat[t] = x[t - 144] (x[t - 1008]); without that much history the day lag,
  then the last value.
* :class:`RidgeForecaster`: a global linear autoregression fitted by ridge least squares
  across all training series: per forecast step h, y_hat[h] / s = Theta_h^T phi_h with
  phi_h = (the scaled recent window, the day and week lags of step h, the last value, the
  lags' flags, the calendar features of step h, 1) (:mod:`.forecast_features`), Theta_h =
  (Phi^T Phi + ridge I)^-1 Phi^T Y on ``samples`` (series, position) pairs.
* :func:`forecast_errors`: MAPE, sMAPE and the RMSE of the scaled series (nRMSE, the RMSE of
  y / s, s the sample's level), over every sample, step and dimension.
"""

from __future__ import annotations

import numpy as np

from simcore.domains.autoscaling.baselines import Forecaster
from simcore.domains.autoscaling.config import STEPS_PER_DAY
from simcore.domains.autoscaling.forecast_features import Windows, check_t0, check_traffic, running_sum, windows
from simcore.util.seeds import SeedTree

__all__ = ["Forecaster", "SeasonalNaive", "RidgeForecaster", "forecast_errors", "ERRORS"]

ERRORS = ("mape", "smape", "nrmse")


def _prepared(history: np.ndarray, t0: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    h = check_traffic(history, "history")
    return h, check_t0(t0, h.shape[0])


def _check_int(name: str, v: object, lo: int, hi: int) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ValueError(f"{name}: must be an integer in [{lo}, {hi}], got {v!r}")


class SeasonalNaive:
    """x_hat[t] = x[t - period] (period one day or one week), the fall-backs above."""

    def __init__(self, horizon: int = 12, lag: str = "day") -> None:
        _check_int("horizon", horizon, 1, STEPS_PER_DAY)
        if lag not in ("day", "week"):
            raise ValueError(f"lag: expected 'day' or 'week', got {lag!r}")
        self.horizon, self.lag = horizon, lag

    def predict(self, history: np.ndarray, t0: np.ndarray | int) -> np.ndarray:
        h, t = _prepared(history, t0)
        B, T, _ = h.shape
        w = windows(h, np.arange(B), np.full(B, T), t, 1, self.horizon)
        return (w.lag_day if self.lag == "day" else w.lag_week) * w.scale[:, None, :]


def _design(w: Windows) -> np.ndarray:
    """(N, H, F) the ridge features phi_h."""
    N, H, _ = w.lag_day.shape
    rec = np.repeat(w.recent.reshape(N, 1, -1), H, axis=1)
    last = np.repeat(w.last[:, None, :], H, axis=1)
    return np.concatenate([rec, w.lag_day, w.lag_week, last, w.mask_day[..., None], w.mask_week[..., None], w.cal,
                           np.ones((N, H, 1))], axis=-1)


class RidgeForecaster:
    """The global ridge autoregression (module docstring)."""

    def __init__(self, horizon: int = 12, window: int = 24, ridge: float = 1.0, samples: int = 20_000,
                 min_history: int = 1, scale_window: int = STEPS_PER_DAY) -> None:
        _check_int("horizon", horizon, 1, STEPS_PER_DAY)
        _check_int("window", window, 1, 7 * STEPS_PER_DAY)
        _check_int("samples", samples, 1, 10**7)
        _check_int("min_history", min_history, 1, 2016)
        _check_int("scale_window", scale_window, 1, 2016)
        if not isinstance(ridge, (int, float)) or not 0 < ridge <= 1e9:
            raise ValueError(f"ridge: must be a number in (0, 1e9], got {ridge!r}")
        self.horizon, self.window, self.ridge, self.samples = horizon, window, float(ridge), samples
        self.min_history, self.scale_window = min_history, scale_window
        self.theta: np.ndarray | None = None  # (H, F, D)

    def fit(self, traffic: np.ndarray, seed: int, t_start: int = 0) -> RidgeForecaster:
        """Fits on traffic (B, T, D) whose first step has calendar index ``t_start``."""
        x = check_traffic(traffic, "traffic", self.min_history + self.horizon)
        B, T, D = x.shape
        rng = SeedTree(int(seed)).generator("samples")
        rows = rng.integers(0, B, self.samples)
        pos = rng.integers(self.min_history, T - self.horizon + 1, self.samples)
        w = windows(x, rows, pos, int(t_start) + pos, self.window, self.horizon, self.scale_window, running_sum(x))
        phi = _design(w)
        y = x[rows[:, None], pos[:, None] + np.arange(self.horizon)] / w.scale[:, None, :]
        F = phi.shape[-1]
        theta = np.empty((self.horizon, F, D))
        for h in range(self.horizon):
            A = phi[:, h].T @ phi[:, h] + self.ridge * np.eye(F)
            theta[h] = np.linalg.solve(A, phi[:, h].T @ y[:, h])
        self.theta = theta
        return self

    def predict(self, history: np.ndarray, t0: np.ndarray | int) -> np.ndarray:
        if self.theta is None:
            raise RuntimeError("RidgeForecaster: call fit() before predict()")
        h, t = _prepared(history, t0)
        B, T, D = h.shape
        if D != self.theta.shape[2]:
            raise ValueError(f"history: expected {self.theta.shape[2]} traffic dimensions (as fitted), got {D}")
        w = windows(h, np.arange(B), np.full(B, T), t, self.window, self.horizon, self.scale_window)
        y = np.einsum("nhf,hfd->nhd", _design(w), self.theta)
        return np.maximum(y * w.scale[:, None, :], 0.0)


def forecast_errors(y_true: np.ndarray, y_pred: np.ndarray, scale: np.ndarray) -> dict[str, float]:
    """MAPE, sMAPE (both as shares, not %) and nRMSE of forecasts (N, H, D) with levels s (N, D).

    MAPE = mean |y - y_hat| / y over entries with y > 1e-6 s; sMAPE = mean 2 |y - y_hat| /
    (|y| + |y_hat|) (0 where both are 0); nRMSE = sqrt(mean ((y - y_hat) / s)^2)."""
    y, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y.shape != p.shape or y.ndim != 3:
        raise ValueError(f"y_pred: expected the shape of y_true {y.shape}, got {p.shape}")
    s = np.asarray(scale, dtype=np.float64)[:, None, :]
    err = np.abs(y - p)
    ok = y > 1e-6 * s
    den = np.abs(y) + np.abs(p)
    sm = np.where(den > 0, 2 * err / np.where(den > 0, den, 1.0), 0.0)
    return {"mape": float((err / np.where(ok, y, 1.0))[ok].mean()) if ok.any() else float("nan"),
            "smape": float(sm.mean()), "nrmse": float(np.sqrt((((y - p) / s) ** 2).mean()))}
