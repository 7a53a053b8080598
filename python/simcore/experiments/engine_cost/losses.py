"""The loss definitions t of the engine-cost sweep, as the kernel, the env and the
NumPy reference see them.

For a request with full scores F_o and subset scores F_a over its N candidates:

* ``"pairs"``: the share of the N (N - 1) / 2 unordered pairs the two rankings order
  differently (the Kendall distance; the article's pairwise loss t);
* ``"top-k"``: the same count over the k (k - 1) / 2 + k (N - k) pairs with at least
  one member among the full ranking's first k, divided by that number;
* ``"kl"``: eq. 2's D(F_o || F_a) = sum_i p_i (log p_i - log q_i) with
  p = softmax(F_o / T), q = softmax(F_a / T), in nats.

Rankings order by score descending, ties by lower index (both strict orders).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from simcore.domains.feature_cost import reference as R
from simcore.domains.feature_cost.env_config import FeatureSelectionConfig
from simcore.domains.feature_cost.kernels import SubsetEvalResult, subset_eval
from simcore.experiments.engine_cost.config import LOSS_NAMES, EngineCostConfig

__all__ = ["LOSS_NAMES", "kernel_kwargs", "env_kwargs", "env_config", "from_result", "loss_values",
           "reference_loss_values", "label", "unit"]


def _check(loss: str) -> None:
    if loss not in LOSS_NAMES:
        raise ValueError(f"loss: expected one of {LOSS_NAMES}, got {loss!r}")


def kernel_kwargs(cfg: EngineCostConfig, loss: str) -> dict[str, Any]:
    """``top_k`` and ``kl_temperature`` of :func:`subset_eval` for a loss definition."""
    _check(loss)
    return {"top_k": cfg.top_k if loss == "top-k" else None,
            "kl_temperature": cfg.kl_temperature if loss == "kl" else None}


def env_kwargs(cfg: EngineCostConfig, loss: str) -> dict[str, Any]:
    """The :class:`FeatureSelectionConfig` fields that make the env's t this loss."""
    _check(loss)
    if loss == "kl":
        return {"loss": "kl", "kl_temperature": cfg.kl_temperature, "top_k": None}
    return {"loss": "pairwise", "top_k": cfg.top_k if loss == "top-k" else None}


def env_config(cfg: EngineCostConfig, loss: str, **fields: Any) -> FeatureSelectionConfig:
    """The training env's config for a loss definition plus reward ``fields``."""
    return FeatureSelectionConfig(**env_kwargs(cfg, loss), num_threads=cfg.threads, **fields)


def from_result(res: SubsetEvalResult, loss: str) -> np.ndarray:
    """float64 (R,) the loss t of each row of a kernel result computed with
    :func:`kernel_kwargs`."""
    if loss == "kl":
        if res.kl is None:
            raise ValueError("res: computed without kl_temperature")
        return res.kl
    return res.loss_fraction


def loss_values(cfg: EngineCostConfig, loss: str, X: np.ndarray, masks: np.ndarray, cost: np.ndarray,
                weights: np.ndarray, fill: np.ndarray, threads: int | None = None) -> np.ndarray:
    """float64 (Q,) loss t of bool (Q, n) ``masks`` on the requests X float32 (Q, N, n)
    (the C++ kernel)."""
    res = subset_eval(X, masks, cost, weights, fill=fill, threads=threads, **kernel_kwargs(cfg, loss))
    return from_result(res, loss)


def reference_loss_values(cfg: EngineCostConfig, loss: str, X: np.ndarray, masks: np.ndarray, cost: np.ndarray,
                          weights: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """The NumPy twin of :func:`loss_values` (:mod:`simcore.domains.feature_cost.reference`)."""
    kw = kernel_kwargs(cfg, loss)
    out = R.subset_eval(X, masks, cost, weights, fill=fill, **kw)
    if loss == "kl":
        return out["kl"]
    N = X.shape[1]
    return out["loss"] / R.pair_count(N, kw["top_k"])


def label(cfg: EngineCostConfig | dict[str, Any], loss: str) -> str:
    """A human name of a loss definition (plots, tables)."""
    get: Callable[[str], Any] = cfg.get if isinstance(cfg, dict) else (lambda k: getattr(cfg, k))
    return {"pairs": "all pairs", "top-k": f"top-{get('top_k')} pairs",
            "kl": f"KL, T={get('kl_temperature'):g}"}[loss]


def unit(loss: str) -> str:
    """The unit of the threshold C of a loss definition."""
    return "nats" if loss == "kl" else "fraction of pairs"
