"""Small torch networks with explicitly seeded initialisation (no global RNG)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


def mlp(
    sizes: Sequence[int],
    generator: torch.Generator,
    out_activation: nn.Module | None = None,
    final_init: float | None = 3e-3,
) -> nn.Sequential:
    """A ReLU MLP sizes[0] -> ... -> sizes[-1] (float32).

    Hidden layers are initialised uniform(+-1/sqrt(fan_in)) from ``generator``; the last
    layer uniform(+-final_init) (DDPG's small output init; None: like the others).
    """
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"sizes: need at least two positive layer sizes, got {list(sizes)}")
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(int(sizes[i]), int(sizes[i + 1]))
        last = i == len(sizes) - 2
        bound = final_init if (last and final_init is not None) else 1.0 / math.sqrt(sizes[i])
        with torch.no_grad():
            nn.init.uniform_(lin.weight, -bound, bound, generator=generator)
            nn.init.uniform_(lin.bias, -bound, bound, generator=generator)
        layers.append(lin)
        if not last:
            layers.append(nn.ReLU())
    if out_activation is not None:
        layers.append(out_activation)
    return nn.Sequential(*layers)


class Critic(nn.Module):
    """Q(s, a): an MLP on the concatenation [s, a] -> float32 (n,)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int], generator: torch.Generator) -> None:
        super().__init__()
        self.net = mlp([obs_dim + act_dim, *hidden, 1], generator)

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([obs, action], dim=-1)).squeeze(-1)


def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """target <- (1 - tau) target + tau source, in place."""
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters()):
            t.mul_(1.0 - tau).add_(s, alpha=tau)
