"""Baseline: a pointwise learning-to-rank model, logistic regression of the logged
click / purchase labels of shown items on their features, used as static weights.

P(y = 1 | x) = sigmoid(w . x + b) is fitted by Newton's method (IRLS) with an L2
penalty on w; ranking by w . x is invariant to the positive scale of w and to b, so
the policy is w / max|w| (inside the action box [-1, 1]^m).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simcore.algos.base import check_obs, np_to_tensor, tensor_to_np
from simcore.algos.protocol import AgentBase, Batch

LABELS = ("click", "purchase", "click_or_purchase")


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    l2: float = 1e-6,
    max_iter: int = 50,
    tol: float = 1e-10,
) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression by Newton's method.

    Minimises  sum_i s_i [log(1 + exp(z_i)) - y_i z_i] / sum_i s_i + l2 ||w||^2,
    z_i = x_i . w + b (the intercept b is not penalised).

    Args:
        X: float (n, m).  y: {0, 1} (n,).  sample_weight: float (n,) >= 0 or None.

    Returns:
        (w float64 (m,), b float).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],) or X.shape[0] == 0:
        raise ValueError(f"X, y: expected (n, m) and (n,) with n >= 1, got {X.shape}, {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all((y == 0) | (y == 1))):
        raise ValueError("X, y: X must be finite and y in {0, 1}")
    s = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if s.shape != y.shape or np.any(s < 0) or not np.all(np.isfinite(s)) or s.sum() <= 0:
        raise ValueError("sample_weight: expected finite non-negative weights with a positive sum")
    s = s / s.sum()
    A = np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)
    m = X.shape[1]
    reg = np.full(m + 1, 2.0 * l2)
    reg[-1] = 1e-12
    beta = np.zeros(m + 1)
    for _ in range(max_iter):
        z = A @ beta
        p = 1.0 / (1.0 + np.exp(-z))
        grad = A.T @ (s * (p - y)) + reg * beta
        H = (A * (s * p * (1 - p))[:, None]).T @ A + np.diag(reg)
        step = np.linalg.solve(H, grad)
        beta -= step
        if np.abs(step).max() < tol:
            break
    return beta[:m], float(beta[m])


def ltr_dataset(
    logs: Batch, label: str = "click_or_purchase", purchase_weight: float | str = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X (n_items, m), y (n_items,), weights) of every shown item in the logs.

    ``purchase_weight`` multiplies the sample weight of purchased items: a number, or
    "price" (the item's price over the mean purchase price: a GMV-weighted model).
    """
    if label not in LABELS:
        raise ValueError(f"label: expected one of {LABELS}, got {label!r}")
    mask = logs.page_mask
    X = logs.page_features[mask]
    clicks, bought = logs.clicks[mask], logs.purchased[mask]
    y = {"click": clicks, "purchase": bought, "click_or_purchase": clicks | bought}[label]
    if purchase_weight == "price":
        prices = logs.item_prices[mask]
        pw = prices / prices[bought].mean() if bought.any() else np.ones_like(prices)
    elif isinstance(purchase_weight, (int, float)) and purchase_weight > 0:
        pw = np.full(X.shape[0], float(purchase_weight))
    else:
        raise ValueError(f"purchase_weight: expected a number > 0 or 'price', got {purchase_weight!r}")
    w = np.where(bought, pw, 1.0)
    return X, y.astype(np.float64), w


class FittedLTR(AgentBase):
    """Static weights from a logistic LTR model (fit with :meth:`fit` first).

    Args:
        n_features: m.  label: "click", "purchase" or "click_or_purchase".
        purchase_weight: sample weight of purchased items, a number or "price"
            (see :func:`ltr_dataset`).  l2: penalty on w.
    """

    name = "ltr-fit"

    def __init__(
        self,
        n_features: int,
        label: str = "click_or_purchase",
        purchase_weight: float | str = 1.0,
        l2: float = 1e-6,
    ) -> None:
        if label not in LABELS:
            raise ValueError(f"label: expected one of {LABELS}, got {label!r}")
        if purchase_weight != "price" and not (
            isinstance(purchase_weight, (int, float)) and purchase_weight > 0
        ):
            raise ValueError(f"purchase_weight: expected a number > 0 or 'price', got {purchase_weight!r}")
        self.m, self.label, self.purchase_weight, self.l2 = int(n_features), label, purchase_weight, float(l2)
        self.coef = np.zeros(self.m)
        self.intercept = 0.0
        self.weights = np.zeros(self.m, dtype=np.float32)
        self.fitted = False

    def fit(self, logs: Batch) -> FittedLTR:
        """Fits on logged transitions (shown items and their labels)."""
        X, y, w = ltr_dataset(logs, self.label, self.purchase_weight)
        if X.shape[0] == 0 or y.min() == y.max():
            raise ValueError("logs: need shown items with both positive and negative labels")
        self.coef, self.intercept = fit_logistic(X, y, w, l2=self.l2)
        scale = np.abs(self.coef).max()
        self.weights = (self.coef / scale if scale > 0 else self.coef).astype(np.float32)
        self.fitted = True
        return self

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        if not self.fitted:
            raise RuntimeError("FittedLTR: call fit() first")
        obs = check_obs(obs)
        return np.tile(self.weights, (obs.shape[0], 1))

    def state_dict(self) -> dict[str, Any]:
        return {"coef": np_to_tensor(self.coef), "intercept": self.intercept, "fitted": self.fitted}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.coef = tensor_to_np(state["coef"])
        self.intercept = float(state["intercept"])
        self.fitted = bool(state["fitted"])
        scale = np.abs(self.coef).max()
        self.weights = (self.coef / scale if scale > 0 else self.coef).astype(np.float32)
