"""The ranking article's gradient fusion (section DDPG与梯度融合): an LTR cross-entropy
term added to DDPG's actor loss, as a :class:`simcore.algos.hooks.ActorTerm`.

The actor minimises

    -1/N sum_i Q(s_i, mu(s_i))  +  lambda * 1/N sum_i CE(mu(s_i), X_i, Y_i),

with CE the pointwise LTR cross entropy of the page shown in s_i:
CE(a, X, Y) = -1/n sum_k [y_k log sigmoid(z_k) + (1 - y_k) log(1 - sigmoid(z_k))],
z_k = kappa a.x_k + b, so its gradient is the article's
-grad_a Q grad mu + lambda grad_a L grad mu  (the article writes L as the
log-likelihood; we descend the cross entropy, its negative, which is the only reading
under which the LTR term pulls towards the labels).  ``weight=0`` is plain DDPG (the
term still reports ``ltr_ce = 0``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F

from simcore.algos.base import check_config, check_positive

LTR_LABELS = ("click", "purchase", "click_or_purchase")


@dataclass(frozen=True)
class LTRFusionConfig:
    """Settings of :class:`LTRFusion`.

    Attributes:
        weight: lambda >= 0 of the LTR cross-entropy term (0: plain DDPG).
        label: label Y of the LTR term: "click", "purchase" or "click_or_purchase".
        intercept: give the LTR logistic model a learned intercept b (sigmoid(a.x + b)).
            Without it (the article's formula) the mostly-negative labels can only be
            fitted by pushing every weight negative, which distorts the ranking
            direction; b absorbs the base rate and does not affect the ranking.
        scale: give the LTR logistic model a learned scale kappa > 0
            (sigmoid(kappa a.x + b)).  The ranking is invariant to the scale of a, and
            the actor's tanh bounds |a_i| <= 1, so without kappa the term pulls a
            towards the box-constrained fit, whose direction differs from the
            unconstrained LTR model's; with kappa only a's direction is fitted.
    """

    weight: float = 0.0
    label: str = "click_or_purchase"
    intercept: bool = True
    scale: bool = True

    def __post_init__(self) -> None:
        check_positive("weight", self.weight, allow_zero=True)
        if self.label not in LTR_LABELS:
            raise ValueError(f"label: expected one of {LTR_LABELS}, got {self.label!r}")


def ltr_cross_entropy(
    action: torch.Tensor,
    features: torch.Tensor,
    mask: torch.Tensor,
    labels: torch.Tensor,
    intercept: torch.Tensor | float = 0.0,
    scale: torch.Tensor | float = 1.0,
) -> torch.Tensor:
    """Pointwise LTR cross entropy per row: float (n,).

    Args:
        action: (n, m) weights a.  features: (n, K, m) items X.  mask: bool (n, K) real
        items.  labels: (n, K) Y in {0, 1}.  intercept: b.  scale: kappa (scalars).

    Returns:
        -1/n_i sum_k mask [y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))],
        z = kappa a.x + b.
    """
    s = scale * torch.einsum("nkm,nm->nk", features, action) + intercept
    ce = F.binary_cross_entropy_with_logits(s, labels, reduction="none")
    maskf = mask.to(ce.dtype)
    return (ce * maskf).sum(dim=1) / maskf.sum(dim=1).clamp_min(1.0)


class LTRFusion:
    """lambda * mean CE of the shown pages under the actor's weights (module docstring).

    Reads the batch columns ``page_features`` float32 (n, K, m), ``page_mask`` bool
    (n, K), ``clicks`` and ``purchased`` bool (n, K).  Owns the LTR model's intercept
    b and log-scale log kappa (scalars, trained with the actor when enabled).

    Args:
        config: :class:`LTRFusionConfig`.
    """

    columns = ("page_features", "page_mask", "clicks", "purchased")

    def __init__(self, config: LTRFusionConfig | None = None) -> None:
        self.config = cfg = config if config is not None else LTRFusionConfig()
        #: intercept b of the LTR logistic model
        self.bias = torch.zeros((), requires_grad=cfg.intercept)
        #: log of the LTR model's scale kappa
        self.log_scale = torch.zeros((), requires_grad=cfg.scale)

    def parameters(self) -> list[torch.Tensor]:
        """The trainable scalars (b and/or log kappa, as enabled)."""
        cfg = self.config
        return [p for p, used in ((self.bias, cfg.intercept), (self.log_scale, cfg.scale)) if used]

    def labels(self, t: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Y: float32 (n, K) per ``config.label``."""
        lab = self.config.label
        if lab == "click":
            y = t["clicks"]
        elif lab == "purchase":
            y = t["purchased"]
        else:
            y = t["clicks"] | t["purchased"]
        return y.to(torch.float32)

    def __call__(
        self, t: Mapping[str, torch.Tensor], action: torch.Tensor
    ) -> tuple[torch.Tensor | None, dict[str, float]]:
        w = self.config.weight
        if w <= 0:
            return None, {"ltr_ce": 0.0}
        ltr = ltr_cross_entropy(action, t["page_features"], t["page_mask"], self.labels(t), self.bias,
                                self.log_scale.exp()).mean()
        return w * ltr, {"ltr_ce": float(ltr.detach())}

    def state_dict(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "bias": self.bias.detach().clone(),
                "log_scale": self.log_scale.detach().clone()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_config(state.get("config"), asdict(self.config))
        with torch.no_grad():
            self.bias.copy_(state["bias"])
            self.log_scale.copy_(state["log_scale"])
