"""The standard keywords Gymnasium and its clients pass to an env, checked one way
for every simcore env: ``render_mode``, ``max_episode_steps``, per-sub-env seeds and
integer actions."""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = ["check_render_mode", "check_max_episode_steps", "per_env_seeds", "fresh_seed", "discrete_action"]


def check_render_mode(render_mode: object, modes: Sequence[str]) -> str | None:
    """``render_mode`` if it is None or one of ``modes``.

    Raises TypeError otherwise (not ValueError): an env that does not implement a mode
    takes no such keyword, and clients (SB3's ``make_vec_env``, which asks for
    "rgb_array" first) retry without it on TypeError.
    """
    if render_mode is None or (isinstance(render_mode, str) and render_mode in modes):
        return render_mode
    raise TypeError(f"render_mode: expected None or one of {list(modes)}, got {render_mode!r}")


def check_max_episode_steps(value: object) -> int | None:
    """None, or an integer >= 1 (TypeError/ValueError naming max_episode_steps)."""
    if value is None:
        return None
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"max_episode_steps: expected None or an integer >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"max_episode_steps: must be >= 1, got {value}")
    return int(value)


C = TypeVar("C")


def config_from(cls: type[C], config: C | Mapping[str, Any] | None, overrides: Mapping[str, Any],
                max_episode_steps: object = None, horizon_field: str | None = None) -> C:
    """An env's config from a config object, a (nested) dict or None, and keyword
    overrides of its top-level fields (``cls`` is a dataclass with ``from_dict``);
    ``max_episode_steps`` (Gymnasium's keyword) lowers the field ``horizon_field`` to it."""
    limit = check_max_episode_steps(max_episode_steps)
    if isinstance(config, cls):
        cfg = dataclasses.replace(config, **overrides) if overrides else config  # type: ignore[type-var]
    elif config is None or isinstance(config, Mapping):
        d = dict(config or {})
        d.update(overrides)
        cfg = cls.from_dict(d)  # type: ignore[attr-defined]
    else:
        raise TypeError(f"config: expected {cls.__name__}, dict or None, got {type(config).__name__}")
    if limit is not None and horizon_field is not None and limit < getattr(cfg, horizon_field):
        cfg = dataclasses.replace(cfg, **{horizon_field: limit})  # type: ignore[type-var]
    return cfg


def fresh_seed() -> int:
    """A 63-bit seed from fresh OS entropy."""
    return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)


def _one_seed(s: object, where: str) -> int | None:
    if s is None:
        return None
    if not isinstance(s, numbers.Integral) or isinstance(s, bool):
        raise TypeError(f"{where}: expected an int >= 0 or None, got {s!r}")
    if s < 0:
        raise ValueError(f"{where}: must be non-negative, got {s}")
    return int(s)


def per_env_seeds(seed: object, num_envs: int) -> list[int | None]:
    """Gymnasium's vector seed convention: ``seed`` is a list (or tuple / int array)
    of ``num_envs`` entries, sub-env i taking ``seed[i]`` (None: fresh entropy).

    Returns the entries as ints or None.  Raises ValueError naming seed when the
    length is not ``num_envs``, TypeError for a non-integer entry.
    """
    if isinstance(seed, np.ndarray):
        seed = seed.tolist()
    if not isinstance(seed, (list, tuple)):
        raise TypeError(f"seed: expected an int, a list of {num_envs} ints (or None) or None, got {seed!r}")
    if len(seed) != num_envs:
        raise ValueError(f"seed: expected one seed per sub-env ({num_envs}), got a list of {len(seed)}")
    return [_one_seed(s, f"seed[{i}]") for i, s in enumerate(seed)]


def discrete_action(action: object, n: int, name: str = "action") -> int:
    """The int index of a Discrete(n) action: a Python or NumPy integer (or a 0-d or
    one-element integer array); bool, float and str raise TypeError, out-of-range
    ValueError, both naming ``name``."""
    a = action
    if isinstance(a, np.ndarray):
        if a.dtype.kind not in "iu" or a.size != 1 or a.ndim > 1:
            raise TypeError(
                f"{name}: expected an integer in [0, {n}), got an array of dtype {a.dtype}, shape {a.shape}"
            )
        a = a.reshape(()).item()
    if not isinstance(a, (numbers.Integral)) or isinstance(a, (bool, np.bool_)):
        raise TypeError(f"{name}: expected an integer in [0, {n}), got {action!r}")
    if not 0 <= a < n:
        raise ValueError(f"{name}: must lie in [0, {n}), got {action!r}")
    return int(a)
