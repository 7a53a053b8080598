"""The common agent interface, the transition batch the training loop hands to agents,
and helpers for exact (bit-identical) checkpoints of NumPy/torch random state.

Every agent (learning or not) implements

* ``act(obs, explore) -> actions``: float32 (B, D) observations -> float32 (B, m)
  ranking weight vectors, one row per session slot of the vector env;
* ``update(batch) -> metrics``: learn from a :class:`Transition` batch (only valid
  rows: the loop drops NEXT_STEP autoreset rows) and return float metrics;
* ``end_iteration() -> metrics``: called by the loop at every iteration boundary
  (RNEU is computed here; CEM refits here);
* ``state_dict()`` / ``load_state_dict(d)``: everything needed to continue exactly,
  parameters, optimiser states, replay contents and RNG states, as torch tensors and
  plain Python values so that ``torch.load(..., weights_only=True)`` can read it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import Any, Mapping

import numpy as np
import torch


@dataclass
class Transition:
    """A batch of n valid transitions (s, a, r, s') of the search-session MDP.

    Attributes (n rows, D observation size, m features, K page size):
        obs: float32 (n, D) state s the action was taken in.
        action: float32 (n, m) ranking weights actually used (with exploration).
        reward: float64 (n,) env reward (``reward="clicks"``: price on purchase, else
            the number of clicks on the page).
        next_obs: float32 (n, D) observation after the page.  After a purchase or
            leave it is still the state the user would be in had they continued.
        terminated: bool (n,) the user bought or left.
        truncated: bool (n,) the session reached its horizon without ending.
        last_page: bool (n,) this page was the horizon's last (no continuation is
            possible, whatever the outcome).
        outcome: int8 (n,) 0 continue, 1 buy, 2 leave.
        price: float64 (n,) purchase price (0 without purchase).
        page_features: float32 (n, K, m) features of the shown items (0 on padding).
        page_mask: bool (n, K) True where a real item was shown.
        clicks: bool (n, K) click labels of the shown items.
        purchased: bool (n, K) True for the bought item when it is on this page.
        item_prices: float64 (n, K) prices of the shown items (0 on padding).
        b, l, c, m: float64 (n,) exact buy / leave / continue probabilities and the
            expected purchase price of the page history just shown (simulator truth).
        expected_clicks: float64 (n,) exact expected clicks on the page.
        slot: int64 (n,) session slot (row of ``act``'s input) of each transition.
        segment: int64 (n,) user segment of each transition.
    """

    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    last_page: np.ndarray
    outcome: np.ndarray
    price: np.ndarray
    page_features: np.ndarray
    page_mask: np.ndarray
    clicks: np.ndarray
    purchased: np.ndarray
    item_prices: np.ndarray
    b: np.ndarray
    l: np.ndarray  # noqa: E741
    c: np.ndarray
    m: np.ndarray
    expected_clicks: np.ndarray
    slot: np.ndarray
    segment: np.ndarray

    @property
    def done(self) -> np.ndarray:
        """bool (n,): the session ended (bought, left or reached the horizon)."""
        return self.terminated | self.truncated

    def __len__(self) -> int:
        return int(self.reward.shape[0])

    def select(self, rows: np.ndarray) -> "Transition":
        """The sub-batch of ``rows`` (bool mask or int indices); arrays are copies."""
        return Transition(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @staticmethod
    def concat(parts: list["Transition"]) -> "Transition":
        """Rows of several batches, in order."""
        if not parts:
            raise ValueError("parts: needs at least one Transition")
        return Transition(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Transition)}
        )


class Agent(ABC):
    """A ranking-control agent: maps observations to ranking weight vectors."""

    #: short name used in reports
    name: str = "agent"

    @abstractmethod
    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """float32 (B, D) observations -> float32 (B, m) weights (one row per slot)."""

    def update(self, batch: Transition) -> dict[str, float]:
        """Learns from valid transitions; returns scalar metrics (default: nothing)."""
        return {}

    def end_iteration(self) -> dict[str, float]:
        """Called at every iteration boundary; returns metrics such as ``rneu``."""
        return {}

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly (tensors and plain Python values)."""

    @abstractmethod
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restores :meth:`state_dict`."""


# ----------------------------------------------------------------- checkpoint helpers


def np_to_tensor(a: np.ndarray) -> torch.Tensor:
    """An exact torch copy of a NumPy array (any numeric or bool dtype)."""
    return torch.from_numpy(np.array(a, copy=True))


def tensor_to_np(t: Any) -> np.ndarray:
    """The NumPy array saved by :func:`np_to_tensor` (a copy)."""
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy().copy()
    return np.array(t, copy=True)


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """The bit-generator state of a NumPy Generator (plain Python values)."""
    return dict(rng.bit_generator.state)


def set_rng_state(rng: np.random.Generator, state: Mapping[str, Any]) -> None:
    """Restores :func:`rng_state` in place."""
    rng.bit_generator.state = dict(state)


def check_config(saved: Mapping[str, Any] | None, current: Mapping[str, Any]) -> None:
    """Raises ValueError if a checkpoint's agent config differs from the agent's own
    (``seed`` excepted: the RNG state is restored from the checkpoint)."""
    if saved is None:
        return

    def norm(d: Mapping[str, Any]) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if k != "seed"}

    a, b = norm(saved), norm(current)
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    if diff:
        raise ValueError(f"state: saved with a different config ({', '.join(diff)} differ)")


def check_obs(obs: object, dim: int | None = None) -> np.ndarray:
    """A float32 (B, D) observation array or ValueError/TypeError naming ``obs``."""
    if not isinstance(obs, np.ndarray):
        raise TypeError(f"obs: expected a numpy array, got {type(obs).__name__}")
    if obs.ndim != 2:
        raise ValueError(f"obs: expected shape (B, D), got {obs.shape}")
    if dim is not None and obs.shape[1] != dim:
        raise ValueError(f"obs: expected {dim} columns, got {obs.shape[1]}")
    if obs.dtype.kind != "f":
        raise TypeError(f"obs: expected floating observations, got dtype {obs.dtype}")
    if not np.all(np.isfinite(obs)):
        raise ValueError("obs: contains NaN or inf")
    return obs


def check_positive(name: str, value: float, allow_zero: bool = False) -> None:
    """Raises ValueError unless ``value`` is a finite number > 0 (>= 0 if allowed)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        raise ValueError(f"{name}: must be a number, got {value!r}")
    if value == float("inf") or (value < 0 if allow_zero else value <= 0):
        raise ValueError(f"{name}: must be {'>= 0' if allow_zero else '> 0'} and finite, got {value!r}")
