"""A log-barrier actor term that keeps the bounded DDPG actor's sigmoid unsaturated.

The article's actor maps sigmoid outputs o in (0, 1)^m into the CEM's bounds,
a = L + (U - L) o.  Trained on a noisy critic, plain DDPG drives the sigmoid's
pre-activations z to large |z| within a few hundred gradient steps (measured by
:mod:`.diagnose` on the default config: 80 % of the outputs within 1e-3 of 0 or 1 after
150 gradient steps, 100 % after 630), where do/dz = o (1 - o) ~ 0: the actor is then a
bang-bang policy on the corners of [L, U] and stops learning.

:class:`SigmoidBarrier` adds to the actor loss

    beta * mean_{n, k} [ -log o_nk - log(1 - o_nk) ],   o = (a - L) / (U - L),

whose gradient with respect to z_nk is beta (2 o_nk - 1) / (n m): it never vanishes,
pulls o toward 1/2 (the middle of the current bounds, i.e. toward the CEM's mean mu)
with a force bounded by beta / (n m), and lets the critic's action gradient
-dQ/dz = -(U - L) o (1 - o) dQ/da move o wherever it is strong enough.  o is clamped
to [1e-6, 1 - 1e-6] before the logs (only reached if the actor saturates anyway).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from simcore.algos.bounds import ActionBounds

__all__ = ["SigmoidBarrier"]

_EPS = 1e-6


class SigmoidBarrier:
    """DDPG ActorTerm (:class:`simcore.algos.hooks.ActorTerm`): the module docstring's
    barrier on the actions of a bounded actor.

    Args:
        bounds: the agent's :class:`~simcore.algos.bounds.ActionBounds` (read at every
            call: the CEM may move them).  beta: weight (>= 0; 0 turns it off).
    """

    columns: Sequence[str] = ()

    def __init__(self, bounds: ActionBounds, beta: float) -> None:
        if not isinstance(bounds, ActionBounds):
            raise ValueError(f"bounds: expected an ActionBounds, got {type(bounds).__name__}")
        if not isinstance(beta, (int, float)) or isinstance(beta, bool) or not 0.0 <= float(beta) < 1e6:
            raise ValueError(f"beta: must be a number in [0, 1e6), got {beta!r}")
        self.bounds, self.beta = bounds, float(beta)

    def __call__(self, t: Mapping[str, Any], action: Any) -> tuple[Any, dict[str, float]]:
        """(beta * barrier, {"barrier": barrier}) for actions float32 (n, m) with gradient."""
        lo = torch.as_tensor(self.bounds.low, dtype=action.dtype)
        width = torch.as_tensor(self.bounds.high - self.bounds.low, dtype=action.dtype)
        o = torch.where(width > 0, (action - lo) / torch.clamp(width, min=1e-30), torch.full_like(action, 0.5))
        o = o.clamp(_EPS, 1.0 - _EPS)
        pen = -(torch.log(o) + torch.log1p(-o)).mean()
        return self.beta * pen, {"barrier": float(pen.detach())}

    def parameters(self) -> list[Any]:
        """No trainable parameters."""
        return []

    def state_dict(self) -> dict[str, Any]:
        return {"beta": self.beta}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.beta = float(state["beta"])
