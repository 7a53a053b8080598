"""A ring-buffer replay memory of named batch columns, checkpointable exactly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simcore.algos.base import np_to_tensor, tensor_to_np
from simcore.algos.protocol import Batch


class Replay:
    """Keeps the last ``capacity`` rows of the listed :class:`Batch` columns.

    Args:
        capacity: rows kept (>= 1).
        keys: column names to store (None: every column of the first batch added).
    """

    def __init__(self, capacity: int, keys: Sequence[str] | None = None) -> None:
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity: must be an integer >= 1, got {capacity!r}")
        if keys is not None and (not keys or not all(isinstance(k, str) for k in keys)):
            raise ValueError(f"keys: expected a non-empty sequence of column names, got {keys!r}")
        self.keys: list[str] | None = list(keys) if keys is not None else None
        self.capacity = capacity
        self.data: dict[str, np.ndarray] = {}
        self.size = 0
        self.pos = 0

    def __len__(self) -> int:
        return self.size

    def add(self, batch: Batch) -> None:
        """Appends the batch's rows (overwriting the oldest when full)."""
        n = len(batch)
        if n == 0:
            return
        if self.keys is None:
            self.keys = list(batch.keys())
        missing = [k for k in self.keys if k not in batch]
        if missing:
            raise ValueError(f"keys: the batch lacks the columns {missing} (has {batch.keys()})")
        if not self.data:
            for k in self.keys:
                a = batch[k]
                self.data[k] = np.zeros((self.capacity, *a.shape[1:]), dtype=a.dtype)
        if n > self.capacity:
            batch = batch.select(np.arange(n - self.capacity, n))
            n = self.capacity
        idx = (self.pos + np.arange(n)) % self.capacity
        for k in self.keys:
            self.data[k][idx] = batch[k]
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
        if self.data:
            self.keys = list(self.data)
