"""A ring-buffer replay memory of :class:`Transition` fields, checkpointable exactly."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping, Sequence

import numpy as np

from simcore.algos.base import Transition, np_to_tensor, tensor_to_np


class Replay:
    """Keeps the last ``capacity`` transitions (the listed Transition fields only).

    Args:
        capacity: rows kept (>= 1).
        keys: Transition field names to store (default: all).
    """

    def __init__(self, capacity: int, keys: Sequence[str] | None = None) -> None:
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity: must be an integer >= 1, got {capacity!r}")
        names = [f.name for f in fields(Transition)]
        self.keys = list(keys) if keys is not None else names
        unknown = set(self.keys) - set(names)
        if unknown:
            raise ValueError(f"keys: unknown Transition fields {sorted(unknown)}")
        self.capacity = capacity
        self.data: dict[str, np.ndarray] = {}
        self.size = 0
        self.pos = 0

    def __len__(self) -> int:
        return self.size

    def add(self, batch: Transition) -> None:
        """Appends the batch's rows (overwriting the oldest when full)."""
        n = len(batch)
        if n == 0:
            return
        if not self.data:
            for k in self.keys:
                a = getattr(batch, k)
                self.data[k] = np.zeros((self.capacity, *a.shape[1:]), dtype=a.dtype)
        if n > self.capacity:
            batch = batch.select(np.arange(n - self.capacity, n))
            n = self.capacity
        idx = (self.pos + np.arange(n)) % self.capacity
        for k in self.keys:
            self.data[k][idx] = getattr(batch, k)
        self.pos = int((self.pos + n) % self.capacity)
        self.size = int(min(self.size + n, self.capacity))

    def sample(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """n rows drawn uniformly with replacement using ``rng``."""
        if self.size == 0:
            raise ValueError("replay: empty")
        idx = rng.integers(0, self.size, size=n)
        return {k: v[idx] for k, v in self.data.items()}

    def state_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "size": self.size,
            "pos": self.pos,
            "data": {k: np_to_tensor(v[: self.size]) for k, v in self.data.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if int(state["capacity"]) != self.capacity:
            raise ValueError(f"state: replay capacity {state['capacity']} != {self.capacity}")
        self.size, self.pos = int(state["size"]), int(state["pos"])
        self.data = {}
        for k, t in state["data"].items():
            a = tensor_to_np(t)
            full = np.zeros((self.capacity, *a.shape[1:]), dtype=a.dtype)
            full[: self.size] = a
            self.data[k] = full
