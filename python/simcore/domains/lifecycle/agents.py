"""The lifecycle agents' context-aware input (the slides' "DRL model settings" figure):
an obs encoder in front of A2C/A3C's 3 x 256 tanh policy and value networks.

The slides feed five inputs to an embedding layer; we build each from the
observation's named slices (:data:`~simcore.domains.lifecycle.spec.LIFECYCLE_STEP_SPEC`)::

    user feature            features (4)                          -> Linear(4, 16)
    event embedding         the stage (argmax of the one-hot) x club membership
                            (8 categories)                        -> Embedding(8, 8)
    time-sequence emb.      day / horizon -> [sin, cos](2 pi f t), f = 1, 2, 4, 8
                            and the budget state (budget left, customer spent vs cap)
                                                                  -> Linear(10, 8)
    time since last event   recency (1)                           -> Linear(1, 4)
    history response        decayed touches per channel (3), clicks, conversions,
                            purchases so far (6)                  -> Linear(6, 16)

The five parts are concatenated (52 = ``out_dim``) and passed through tanh; the
learner's MLP follows.  Everything the encoder sees is in the observation (no latent
state).  Initialisation is drawn from the agent's generator, so the encoder is as
deterministic as the rest of the agent.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from simcore.algos.a2c import A2C, A2CConfig
from simcore.algos.a3c import A3C, A3CConfig
from simcore.domains.lifecycle.spec import LIFECYCLE_DIMS, LIFECYCLE_STEP_SPEC, OBS_DIM

__all__ = ["ContextEncoder", "obs_slices", "make_a2c", "make_a3c"]

#: frequencies of the day's sinusoidal time-sequence embedding
FREQUENCIES = (1.0, 2.0, 4.0, 8.0)


def obs_slices() -> dict[str, slice]:
    """Name -> columns of the lifecycle observation (from the step spec's layout)."""
    out: dict[str, slice] = {}
    start = 0
    for part in LIFECYCLE_STEP_SPEC.obs_layout:
        size = int(part.size if isinstance(part.size, int) else LIFECYCLE_DIMS[str(part.size)])
        out[part.name] = slice(start, start + size)
        start += size
    if start != OBS_DIM:
        raise RuntimeError(f"the lifecycle obs layout sums to {start}, not {OBS_DIM}")
    return out


def _seeded(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-initialises ``module``'s parameters uniform(+-1/sqrt(fan_in)) (N(0, 1) for
    embeddings) from ``generator``."""
    with torch.no_grad():
        if isinstance(module, nn.Embedding):
            module.weight.normal_(0.0, 1.0, generator=generator)
        elif isinstance(module, nn.Linear):
            bound = 1.0 / math.sqrt(module.in_features)
            module.weight.uniform_(-bound, bound, generator=generator)
            module.bias.uniform_(-bound, bound, generator=generator)
    return module


class ContextEncoder(nn.Module):
    """obs float32 (n, 19) -> tanh(concat of the five embeddings) float32 (n, 52)."""

    out_dim = 52

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        s = obs_slices()
        self.s = s
        self.user = _seeded(nn.Linear(4, 16), generator)
        self.event = _seeded(nn.Embedding(8, 8), generator)
        self.time = _seeded(nn.Linear(2 * len(FREQUENCIES) + 2, 8), generator)
        self.since = _seeded(nn.Linear(1, 4), generator)
        self.history = _seeded(nn.Linear(6, 16), generator)
        self.register_buffer("freq", torch.tensor(FREQUENCIES, dtype=torch.float32) * 2 * math.pi)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        s = self.s
        stage = obs[:, s["stage"]].argmax(dim=1)
        member = (obs[:, s["member"]].squeeze(1) > 0.5).to(torch.int64)
        day = obs[:, s["progress"]]
        phase = day * self.freq  # type: ignore[operator]
        budget = torch.cat([obs[:, s["budget"]], obs[:, s["user_spent"]]], dim=1)
        hist = torch.cat([obs[:, s["touches"]], obs[:, s["clicks"]], obs[:, s["conversions"]],
                          obs[:, s["purchases"]]], dim=1)
        parts = [
            self.user(obs[:, s["features"]]),
            self.event(stage * 2 + member),
            self.time(torch.cat([torch.sin(phase), torch.cos(phase), budget], dim=1)),
            self.since(obs[:, s["recency"]]),
            self.history(hist),
        ]
        return torch.tanh(torch.cat(parts, dim=1))


def encoder(generator: torch.Generator) -> nn.Module:
    """The :data:`~simcore.algos.a2c.EncoderFactory` of :class:`ContextEncoder`."""
    return ContextEncoder(generator)


def make_a2c(n_actions: int, config: A2CConfig, context: bool = True) -> A2C:
    """A2C on the lifecycle observation (with the context-aware encoder if ``context``)."""
    return A2C(OBS_DIM, n_actions, config, encoder if context else None)


def make_a3c(n_actions: int, config: A3CConfig, context: bool = True) -> A3C:
    """A3C on the lifecycle observation (with the context-aware encoder if ``context``)."""
    return A3C(OBS_DIM, n_actions, config, encoder if context else None)
