"""Configuration of ``simcore/FeatureSelection-v0`` (see :mod:`simcore.domains.feature_cost.env`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simcore.domains.feature_cost.data import FeatureCostDataConfig
from simcore.envs.ranges import check_int, check_real


@dataclass(frozen=True)
class FeatureSelectionConfig:
    """The feature-selection task.

    Attributes:
        data: how to generate the pool of requests (ignored when a data set is passed
            to the env); a FeatureCostDataConfig (checks its own fields).
        loss_threshold: C, the largest tolerated loss: a fraction of pairs in [0, 1]
            for ``loss="pairwise"``, nats, finite, in [0, 1e6] for ``loss="kl"``.
        penalty: r_p, charged when the loss exceeds C; finite, in [0, 1e6].  Above
            1 (the cost of all features) breaking the ranking is never worth it.
        loss_weight: lambda, weight of the loss itself in the reward; finite, in
            [0, 1e6].
        penalty_mode: "step" (charged when the loss of the decisions so far crosses
            C) or "final" (charged at the last step); the same episode return.
        top_k: None: the loss counts all pairs; k: only pairs touching the full top-k
            (pairwise loss only); integer in [1, 10**6].
        loss: "pairwise" (the reward's t, default) or "kl" (eq. 2's D(F_o || F_a)).
        kl_temperature: T of the softmax distributions of the KL loss; finite, in
            (0, 1e6].
        num_threads: threads of the ranking kernel (None: all cores); else integer
            in [1, 1024].

    Checked at construction: TypeError for a value of the wrong kind (bool, None,
    str where a number is expected), ValueError out of range, both naming the field.
    """

    data: FeatureCostDataConfig = field(default_factory=FeatureCostDataConfig)
    loss_threshold: float = 0.05
    penalty: float = 2.0
    loss_weight: float = 0.0
    penalty_mode: str = "step"
    top_k: int | None = None
    loss: str = "pairwise"
    kl_temperature: float = 1.0
    num_threads: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.data, FeatureCostDataConfig):
            raise TypeError(f"data: expected a FeatureCostDataConfig, got {type(self.data).__name__}")
        if self.loss not in ("pairwise", "kl"):
            raise ValueError(f"loss: must be 'pairwise' or 'kl', got {self.loss!r}")
        check_real("kl_temperature", self.kl_temperature, 0.0, 1e6, lo_open=True)
        check_real("loss_threshold", self.loss_threshold, 0.0, 1.0 if self.loss == "pairwise" else 1e6)
        check_real("penalty", self.penalty, 0.0, 1e6)
        check_real("loss_weight", self.loss_weight, 0.0, 1e6)
        if self.penalty_mode not in ("step", "final"):
            raise ValueError(f"penalty_mode: must be 'step' or 'final', got {self.penalty_mode!r}")
        if self.top_k is not None:
            check_int("top_k", self.top_k, 1, 10**6)
        if self.num_threads is not None:
            check_int("num_threads", self.num_threads, 1, 1024)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> FeatureSelectionConfig:
        """From a (nested) dict; ``data`` may be a dict; unknown keys raise ValueError
        naming the dotted path (:func:`simcore.util.config.from_dict`)."""
        from simcore.util.config import from_dict

        return from_dict(cls, d)


def _resolve(
    config: FeatureSelectionConfig | Mapping[str, Any] | None, overrides: Mapping[str, Any]
) -> FeatureSelectionConfig:
    if isinstance(config, FeatureSelectionConfig):
        return dataclasses.replace(config, **overrides) if overrides else config
    if config is not None and not isinstance(config, Mapping):
        raise TypeError(f"config: expected FeatureSelectionConfig, dict or None, got {type(config).__name__}")
    return FeatureSelectionConfig.from_dict({**dict(config or {}), **overrides})
