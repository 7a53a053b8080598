"""A simulator's step spec: its output fields and observation layout, declared once.

A :class:`StepSpec` names what one batched step returns (each :class:`Field`: name,
dtype, per-row shape, meaning) and how the observation vector is laid out (named
:class:`ObsSlice` s).  Sizes may be symbolic -- dimension names such as ``"K"`` or
products such as ``("W", "m")`` -- resolved against the simulator's dims (a mapping
name -> int).  From it follow the observation space, the info keys of the envs, the
output buffers of the simulator and the keys a training loop batches.

Example (B rows, dims = {"K": 10})::

    spec.buffers(B, dims)["page"].shape == (B, 10)
    spec.info_keys == ("outcome", "item", ...)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
from gymnasium import spaces

__all__ = ["Size", "Field", "ObsSlice", "StepSpec", "CORE_FIELDS"]

#: A size: an int, a dimension name, or a tuple of those multiplied together.
Size = Union[int, str, tuple[int | str, ...]]

#: Fields every step returns, outside ``info``: what ``VectorEnv.step`` returns first.
CORE_FIELDS = ("obs", "reward", "terminated", "truncated")


def resolve_size(size: Size, dims: Mapping[str, int]) -> int:
    """The int value of a symbolic size under ``dims`` (KeyError names a missing dim)."""
    if isinstance(size, bool):
        raise TypeError(f"size: expected an int, a dimension name or a tuple, got {size!r}")
    if isinstance(size, int):
        return size
    if isinstance(size, str):
        if size not in dims:
            raise KeyError(f"dims: missing dimension {size!r}")
        return int(dims[size])
    return math.prod(resolve_size(s, dims) for s in size)


@dataclass(frozen=True)
class Field:
    """One output of a step.

    Attributes:
        name: key (attribute of the step result; info key unless in CORE_FIELDS).
        dtype: numpy dtype name, e.g. "float64".
        shape: per-row shape (sizes, possibly symbolic); () for a scalar per row.
        doc: meaning, units and value range.
    """

    name: str
    dtype: str
    shape: tuple[Size, ...] = ()
    doc: str = ""

    def row_shape(self, dims: Mapping[str, int]) -> tuple[int, ...]:
        """The per-row shape with every size resolved."""
        return tuple(resolve_size(s, dims) for s in self.shape)


@dataclass(frozen=True)
class ObsSlice:
    """A named, contiguous part of the observation vector.

    Attributes:
        name: e.g. "power".
        size: its length (possibly symbolic).
        doc: meaning and value range.
    """

    name: str
    size: Size
    doc: str = ""


@dataclass(frozen=True)
class StepSpec:
    """What a simulator's step returns, declared once.

    Attributes:
        name: the simulator, for messages.
        fields: every output (the CORE_FIELDS first, then the info fields).
        obs_layout: the observation vector's parts, in order.
        obs_low, obs_high: bounds of every observation entry.
        obs_dtype: the observation dtype.
    """

    name: str
    fields: tuple[Field, ...]
    obs_layout: tuple[ObsSlice, ...]
    obs_low: float = 0.0
    obs_high: float = 1.0
    obs_dtype: str = "float32"

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"fields: duplicate names in {names}")
        missing = [c for c in CORE_FIELDS if c not in names]
        if missing:
            raise ValueError(f"fields: missing core fields {missing}")
        parts = [s.name for s in self.obs_layout]
        if len(set(parts)) != len(parts):
            raise ValueError(f"obs_layout: duplicate names in {parts}")
        # read on every env step: computed once
        object.__setattr__(self, "_info_keys", tuple(n for n in names if n not in CORE_FIELDS))
        object.__setattr__(self, "_info_scalar", tuple((f.name, f.shape == ()) for f in self.fields
                                                       if f.name not in CORE_FIELDS))

    # ---------------------------------------------------------------- fields
    @property
    def names(self) -> tuple[str, ...]:
        """Every field name, in declaration order."""
        return tuple(f.name for f in self.fields)

    @property
    def info_keys(self) -> tuple[str, ...]:
        """The fields an env returns in ``info`` (all but CORE_FIELDS)."""
        return self._info_keys  # type: ignore[attr-defined, no-any-return]

    @property
    def batch_keys(self) -> tuple[str, ...]:
        """The fields a training loop stacks per step: the CORE_FIELDS."""
        return CORE_FIELDS

    def row(self, result: Any, i: int = 0) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Row ``i`` of a batched step result (an object with one attribute per field) as
        one env's ``(obs, reward, terminated, truncated, info)``: obs a copy of (D,),
        reward a float, the flags bools, info the other fields (per-session scalars as
        Python numbers, rows as copies)."""
        info = {k: (getattr(result, k).item(i) if scalar else getattr(result, k)[i].copy())
                for k, scalar in self._info_scalar}  # type: ignore[attr-defined]
        return (result.obs[i].copy(), float(result.reward[i]), bool(result.terminated[i]),
                bool(result.truncated[i]), info)

    def field(self, name: str) -> Field:
        """The field called ``name`` (KeyError otherwise)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name}: no field {name!r}")

    def buffers(self, batch: int, dims: Mapping[str, int]) -> dict[str, np.ndarray]:
        """Zeroed output buffers: name -> array (batch, *row_shape) of the field's dtype."""
        return {f.name: np.zeros((batch, *f.row_shape(dims)), dtype=f.dtype) for f in self.fields}

    # ----------------------------------------------------------- observation
    def obs_dim(self, dims: Mapping[str, int]) -> int:
        """D, the length of the observation vector."""
        return sum(resolve_size(s.size, dims) for s in self.obs_layout)

    def obs_slices(self, dims: Mapping[str, int]) -> dict[str, slice]:
        """name -> slice of the observation vector, in layout order."""
        out, start = {}, 0
        for s in self.obs_layout:
            n = resolve_size(s.size, dims)
            out[s.name] = slice(start, start + n)
            start += n
        return out

    def observation_space(self, dims: Mapping[str, int]) -> spaces.Box:
        """The single-env observation space: Box(obs_low, obs_high, (D,), obs_dtype)."""
        return spaces.Box(self.obs_low, self.obs_high, shape=(self.obs_dim(dims),), dtype=np.dtype(self.obs_dtype))

    def split_obs(self, obs: np.ndarray, dims: Mapping[str, int]) -> dict[str, np.ndarray]:
        """Views of ``obs`` (..., D) per layout part: name -> (..., size)."""
        D = self.obs_dim(dims)
        if obs.shape[-1] != D:
            raise ValueError(f"obs: expected last dimension {D}, got shape {obs.shape}")
        return {name: obs[..., sl] for name, sl in self.obs_slices(dims).items()}

    def check_obs_dim(self, obs_dim: int, dims: Mapping[str, int]) -> None:
        """Raises RuntimeError when a simulator's obs_dim disagrees with the layout."""
        if obs_dim != self.obs_dim(dims):
            raise RuntimeError(
                f"{self.name}: simulator obs_dim {obs_dim} != spec's {self.obs_dim(dims)} for {dict(dims)}"
            )
