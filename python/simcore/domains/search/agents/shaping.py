"""Reward shaping of the ranking article (section 奖赏塑形): LTR log-likelihood potentials.

For a page of K items with features x_i and ranking weights a, the logistic model
p_i = sigmoid(x_i . a) gives the log-likelihood of the page's labels y_i

    Phi(a) = sum_i [ y_i x_i . a - ln(1 + exp(x_i . a)) ].

* Phi_clk uses the click labels, for pages without a purchase;
* Phi_pay uses the purchase labels, plus ln Price of the purchase, for pages with one.

The article writes ``+ ln Price_i`` inside the sum; we read it as the log price of the
purchased item (``price_term="bought"``, the log of the GMV the page produced); the
literal reading, ln of every shown item's price summed over the page, is
``price_term="page"``.  Pages without clicks get Phi_clk with all labels 0 (rule (3)
of the article gives them reward 0; leaving them unshaped would make a page nobody
clicks score better than one with clicks, since Phi <= 0 without the price term).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

PRICE_TERMS = ("bought", "page")


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def page_log_likelihood(
    action: np.ndarray, features: np.ndarray, mask: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """sum_i mask_i [y_i s_i - ln(1 + exp(s_i))], s_i = x_i . a, per row.

    Args:
        action: float (n, m) ranking weights.
        features: float (n, K, m) item features.
        mask: bool (n, K) real items.
        labels: bool or {0, 1} (n, K).

    Returns:
        float64 (n,).
    """
    s = np.einsum("nkm,nm->nk", features.astype(np.float64), action.astype(np.float64))
    ll = labels.astype(np.float64) * s - _softplus(s)
    return np.where(mask, ll, 0.0).sum(axis=1)


def potential(
    action: np.ndarray,
    features: np.ndarray,
    mask: np.ndarray,
    clicks: np.ndarray,
    purchased: np.ndarray,
    bought: np.ndarray,
    price: np.ndarray,
    item_prices: np.ndarray | None = None,
    price_term: str = "bought",
) -> np.ndarray:
    """Phi_pay on pages with a purchase, Phi_clk elsewhere, per row (float64 (n,)).

    Args:
        action, features, mask: as for :func:`page_log_likelihood`.
        clicks, purchased: bool (n, K) click / purchase labels.
        bought: bool (n,) a purchase ended this page (the item may sit on an earlier,
            remembered page; then every purchase label of this page is 0).
        price: float64 (n,) purchase price (used when ``price_term="bought"``).
        item_prices: float64 (n, K) prices of the shown items (``price_term="page"``).
        price_term: "bought" or "page" (see the module docstring).
    """
    if price_term not in PRICE_TERMS:
        raise ValueError(f"price_term: expected one of {PRICE_TERMS}, got {price_term!r}")
    clk = page_log_likelihood(action, features, mask, clicks)
    pay = page_log_likelihood(action, features, mask, purchased)
    if price_term == "bought":
        pay = pay + np.log(np.where(bought, np.maximum(price, 1e-12), 1.0))
    else:
        if item_prices is None:
            raise ValueError("item_prices: required when price_term='page'")
        pay = pay + np.where(mask, np.log(np.maximum(item_prices, 1e-12)), 0.0).sum(axis=1)
    return np.where(bought, pay, clk)


SHAPING_MODES = ("article", "centred")


class PotentialShaping:
    """The article's shaping as a :class:`simcore.algos.hooks.RewardShaping` for the
    linear DPG: F = beta Phi(a_t) ("article": Phi_clk / Phi_pay of the page under the
    executed action) or F = beta (Phi(a_t) - Phi(mu(s_t))) ("centred": only Phi's
    dependence on the action).

    Reads the batch columns ``action``, ``outcome`` (int8, 1 = buy), ``price``,
    ``page_features``, ``page_mask``, ``clicks``, ``purchased``, ``item_prices``.

    Args:
        mode: "article" or "centred".  weight: beta >= 0.  price_term: Phi_pay's price
            term, "bought" or "page" (see :func:`potential`).
    """

    columns = ("outcome", "price", "page_features", "page_mask", "clicks", "purchased", "item_prices")

    def __init__(self, mode: str = "article", weight: float = 1.0, price_term: str = "bought") -> None:
        if mode not in SHAPING_MODES:
            raise ValueError(f"mode: expected one of {SHAPING_MODES}, got {mode!r}")
        if not (isinstance(weight, (int, float)) and np.isfinite(weight) and weight >= 0):
            raise ValueError(f"weight: must be a finite number >= 0, got {weight!r}")
        if price_term not in PRICE_TERMS:
            raise ValueError(f"price_term: expected one of {PRICE_TERMS}, got {price_term!r}")
        self.mode, self.weight, self.price_term = mode, float(weight), price_term

    def __call__(self, batch: Any, mu: np.ndarray) -> np.ndarray:
        """float64 (n,) reward delta F (unscaled)."""
        bought = batch.outcome == 1
        args = (batch.page_features, batch.page_mask, batch.clicks, batch.purchased, bought,
                batch.price, batch.item_prices, self.price_term)
        phi_a = potential(batch.action, *args)
        if self.mode == "centred":
            phi_a = phi_a - potential(mu, *args)
        return self.weight * phi_a

    def state_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "weight": self.weight, "price_term": self.price_term}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if dict(state) != self.state_dict():
            raise ValueError(f"state: saved with shaping {dict(state)}, not {self.state_dict()}")
