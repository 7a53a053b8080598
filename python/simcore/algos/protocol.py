"""The one agent protocol and the named-array batch it learns from (torch-free).

Every agent of every domain, learning or not, implements :class:`AgentProtocol`:

* ``act(obs, explore) -> actions``: (B, D) observations -> (B, ...) actions, one row
  per env slot (float ranking weights, int action indices, ... as the env's action
  space says);
* ``update(batch) -> metrics``: learn from a :class:`Batch` of valid rows and return
  float metrics;
* ``end_iteration() -> metrics``: called by the training loop at every iteration
  boundary (for example CEM refits and RNEU is computed here);
* ``state_dict()`` / ``load_state_dict(d)``: everything needed to continue exactly
  (parameters, optimiser states, replay contents, RNG states) as tensors and plain
  Python values, so that ``torch.load(..., weights_only=True)`` reads it back.

Algorithms know no env and no domain: what a batch holds is declared by the
collector that builds it (its keys follow the env's step spec), and domain-specific
terms (an LTR fusion loss, a full expected backup, reward shaping) enter as hooks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


class Batch:
    """n rows of named arrays sharing their first axis (a column store).

    Columns are read as attributes or items (``batch.reward``, ``batch["reward"]``);
    ``len(batch)`` is the number of rows n.

    Args:
        **columns: name -> array of shape (n, ...); every column has the same n.
    """

    __slots__ = ("_cols", "_n")
    _cols: dict[str, np.ndarray]
    _n: int

    def __init__(self, **columns: Any) -> None:
        cols = {k: np.asarray(v) for k, v in columns.items()}
        sizes = {k: (v.shape[0] if v.ndim else None) for k, v in cols.items()}
        if any(s is None for s in sizes.values()):
            bad = sorted(k for k, s in sizes.items() if s is None)
            raise ValueError(f"columns: need at least one axis, got scalars {bad}")
        if len(set(sizes.values())) > 1:
            raise ValueError(f"columns: first axes differ: {sizes}")
        object.__setattr__(self, "_cols", cols)
        object.__setattr__(self, "_n", next(iter(sizes.values()), 0))

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self._cols[name]
        except KeyError:
            raise AttributeError(f"Batch has no column {name!r} (columns: {sorted(self._cols)})") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Batch is read-only: build a new one (Batch(**batch.columns(), name=...))")

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name]

    def __contains__(self, name: object) -> bool:
        return name in self._cols

    def __iter__(self) -> Iterator[str]:
        return iter(self._cols)

    def __len__(self) -> int:
        return int(self._n)

    def __repr__(self) -> str:
        cols = ", ".join(f"{k}: {v.dtype}{tuple(v.shape[1:])}" for k, v in self._cols.items())
        return f"Batch(n={self._n}; {cols})"

    def keys(self) -> list[str]:
        """Column names, in insertion order."""
        return list(self._cols)

    def columns(self) -> dict[str, np.ndarray]:
        """A new dict name -> array (the arrays themselves, not copies)."""
        return dict(self._cols)

    def select(self, rows: Any) -> Batch:
        """The sub-batch of ``rows`` (bool mask or int indices); arrays are copies."""
        return Batch(**{k: v[rows] for k, v in self._cols.items()})

    @staticmethod
    def concat(parts: Sequence[Batch]) -> Batch:
        """Rows of several batches with the same columns, in order."""
        if not parts:
            raise ValueError("parts: needs at least one Batch")
        keys = parts[0].keys()
        for p in parts[1:]:
            if p.keys() != keys:
                raise ValueError(f"parts: columns differ ({keys} vs {p.keys()})")
        return Batch(**{k: np.concatenate([p[k] for p in parts]) for k in keys})


@runtime_checkable
class AgentProtocol(Protocol):
    """What the training loop, the runner and the evaluators need of an agent."""

    name: str

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray: ...

    def update(self, batch: Batch) -> dict[str, float]: ...

    def end_iteration(self) -> dict[str, float]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


class AgentBase:
    """Convenience base: no-op ``update`` and ``end_iteration``; subclasses provide
    ``act``, ``state_dict`` and ``load_state_dict``."""

    #: short name used in reports and checkpoints
    name: str = "agent"

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def update(self, batch: Batch) -> dict[str, float]:
        """Learns from valid rows; returns scalar metrics (default: nothing)."""
        return {}

    def end_iteration(self) -> dict[str, float]:
        """Called at every iteration boundary; returns metrics (default: nothing)."""
        return {}

    def state_dict(self) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def load_state_dict(self, state: Mapping[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError
