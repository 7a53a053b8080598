"""Models of a page's outcome fitted from logged sessions, for DPG-FBE without access to
the simulator's exact b, c, m.

Inputs are the post-page observation z (it holds the mean features of the page just
shown and of the remembered ones, clicked-item features, power, segment, time) expanded
to f(z) = [z, z^2, z * z_j for j in ``interactions``, 1] (e.g. the purchasing-power
column, whose interaction with the page's price level drives the price fit):

* b, l, c: multinomial logistic regression of the logged outcome (continue / buy /
  leave) on f(z), L2-penalised, fitted by L-BFGS in float64 (deterministic);
* m: E[price | buy] = exp(f(z).beta + s^2 / 2), beta the ridge regression of the log
  purchase price on f(z) over purchases, s^2 its residual variance (log-normal);
* expected clicks: ridge regression of the page's click count on f(z), clipped >= 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from simcore.algos.base import np_to_tensor, tensor_to_np
from simcore.algos.protocol import Batch


def _expand(z: np.ndarray, interactions: tuple[int, ...] = ()) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    cross = [z * z[:, j : j + 1] for j in interactions]
    return np.concatenate([z, z * z, *cross, np.ones((z.shape[0], 1))], axis=1)


def _ridge(X: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    A = X.T @ X + l2 * np.eye(X.shape[1])
    return np.linalg.solve(A, X.T @ y)


class OutcomeModel:
    """b, l, c, m and expected clicks of a page from the observation after it.

    Args:
        l2: ridge / L2 penalty (per row average loss + l2 * ||W||^2 for the logit).
        interactions: observation columns j whose products z * z_j are added.
    """

    def __init__(self, l2: float = 1e-4, interactions: tuple[int, ...] = ()) -> None:
        if not l2 >= 0:
            raise ValueError(f"l2: must be >= 0, got {l2!r}")
        self.l2 = float(l2)
        self.interactions = tuple(int(j) for j in interactions)
        self.logit_w: np.ndarray | None = None  # (F, 3): continue, buy, leave
        self.price_w: np.ndarray | None = None  # (F,)
        self.price_var = 0.0
        self.clicks_w: np.ndarray | None = None  # (F,)

    @property
    def fitted(self) -> bool:
        return self.logit_w is not None

    def fit(self, logs: Batch, max_iter: int = 200) -> OutcomeModel:
        """Fits on logged transitions (``next_obs``, ``outcome``, ``price``, ``clicks``)."""
        n = len(logs)
        if n == 0:
            raise ValueError("logs: empty")
        buys = logs.outcome == 1
        if buys.sum() < 2:
            raise ValueError("logs: need at least two purchases to fit the price model")
        X = _expand(logs.next_obs, self.interactions)
        Xt = torch.as_tensor(X)
        yt = torch.as_tensor(logs.outcome.astype(np.int64))
        W = torch.zeros((X.shape[1], 3), dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([W], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(Xt @ W, yt) + self.l2 * (W[:-1] ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        self.logit_w = W.detach().numpy().copy()
        lp = np.log(logs.price[buys])
        Xb = X[buys]
        self.price_w = _ridge(Xb, lp, self.l2 * len(lp))
        resid = lp - Xb @ self.price_w
        self.price_var = float(resid.var())
        nclk = logs.clicks.sum(axis=1).astype(np.float64)
        self.clicks_w = _ridge(X, nclk, self.l2 * n)
        return self

    def predict(self, next_obs: np.ndarray) -> dict[str, np.ndarray]:
        """float64 (n,) arrays b, l, c, m, expected_clicks for post-page observations."""
        if not self.fitted:
            raise RuntimeError("OutcomeModel: call fit() first")
        X = _expand(next_obs, self.interactions)
        z = X @ self.logit_w
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        m = np.exp(np.clip(X @ self.price_w + 0.5 * self.price_var, -50, 50))
        ec = np.maximum(X @ self.clicks_w, 0.0)
        return {"c": p[:, 0], "b": p[:, 1], "l": p[:, 2], "m": m, "expected_clicks": ec}

    def state_dict(self) -> dict[str, Any]:
        if not self.fitted:
            raise RuntimeError("OutcomeModel: not fitted")
        return {
            "l2": self.l2,
            "interactions": list(self.interactions),
            "logit_w": np_to_tensor(self.logit_w),
            "price_w": np_to_tensor(self.price_w),
            "price_var": self.price_var,
            "clicks_w": np_to_tensor(self.clicks_w),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.l2 = float(state["l2"])
        self.interactions = tuple(int(j) for j in state["interactions"])
        self.logit_w = tensor_to_np(state["logit_w"])
        self.price_w = tensor_to_np(state["price_w"])
        self.price_var = float(state["price_var"])
        self.clicks_w = tensor_to_np(state["clicks_w"])
