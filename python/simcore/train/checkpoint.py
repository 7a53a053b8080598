"""Checkpoints of a training run: the agent's state_dict (parameters, optimiser states,
replay contents, RNG states), the iteration reached and the history so far.

Written with ``torch.save`` to a temporary file then renamed (a crash never leaves a
half-written checkpoint) and read back with ``torch.load(..., weights_only=True)``:
everything stored is a tensor or a plain Python value.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from simcore.util.plain import to_plain

FORMAT_VERSION = 1


def save_checkpoint(
    path: str | os.PathLike[str], agent: Any, iteration: int, history: list[dict[str, Any]]
) -> None:
    """Saves ``agent.state_dict()``, the number of iterations done and the history."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "format": FORMAT_VERSION,
        "agent_name": agent.name,
        "iteration": int(iteration),
        "agent": agent.state_dict(),
        "history": to_plain(history),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(data, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads a checkpoint (``weights_only=True``); raises ValueError on a foreign file."""
    data = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        raise ValueError(f"path: {path} is not a simcore training checkpoint (format {FORMAT_VERSION})")
    return data
