"""Hook points through which a domain adds its own terms to a generic learner.

Algorithms know no domain: DDPG (:mod:`simcore.algos.ddpg`) and the linear DPG
(:mod:`simcore.algos.dpg`) read only the generic columns of a
:class:`~simcore.algos.protocol.Batch` (``obs``, ``action``, ``reward``, ``next_obs``,
``terminated``, ``truncated``).  A domain that knows more (page features and click
labels, exact outcome probabilities, a potential function) passes hook objects at
construction; each hook declares the extra batch columns it reads in ``columns`` so
that replay memories keep them.

* :class:`CriticTarget` (DDPG): the critic's regression target y from a minibatch
  and the target networks' next-state value Q'(s', mu'(s'));
* :class:`ActorTerm` (DDPG): an extra, differentiable term added to the actor loss
  (it may own trainable parameters, optimised with the actor);
* :class:`RewardShaping` (DPG): a reward delta F added to the env reward before
  learning (r + F).

Every hook has ``state_dict()`` / ``load_state_dict()`` (tensors and plain values) so
that an agent's checkpoint includes its hooks' settings and parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class CriticTarget(Protocol):
    """y = target(t, next_q, gamma, reward_scale): float32 (n,).

    Args (of ``__call__``):
        t: minibatch columns as torch tensors (float64 columns cast to float32).
        next_q: float32 (n,) Q'(s', mu'(s')) of the target networks (no gradient).
        gamma: discount rate.  reward_scale: the learner's reward scale.
    """

    columns: Sequence[str]

    def __call__(self, t: Mapping[str, Any], next_q: Any, gamma: float, reward_scale: float) -> Any: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class ActorTerm(Protocol):
    """loss, metrics = term(t, action): a scalar tensor added to the actor loss and float
    metrics; ``parameters()`` are trained with the actor's optimiser.

    Args (of ``__call__``):
        t: minibatch columns as torch tensors.  action: float32 (n, m) mu(s) (with
        gradient).
    """

    columns: Sequence[str]

    def parameters(self) -> list[Any]: ...

    def __call__(self, t: Mapping[str, Any], action: Any) -> tuple[Any, dict[str, float]]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class RewardShaping(Protocol):
    """F = shaping(batch, mu): float64 (n,) reward delta (unscaled: the learner adds it
    to the env reward, then multiplies by its reward scale).

    Args (of ``__call__``):
        batch: the transitions (a Batch).  mu: float64 (n, m) the greedy action mu(s)
        at the learner's current parameters.
    """

    columns: Sequence[str]

    def __call__(self, batch: Any, mu: np.ndarray) -> np.ndarray: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


def hook_columns(base: Sequence[str], *hooks: Any) -> tuple[str, ...]:
    """``base`` followed by every hook's extra columns, without duplicates (in order)."""
    cols = list(base)
    for h in hooks:
        if h is not None:
            cols += [c for c in h.columns if c not in cols]
    return tuple(cols)
