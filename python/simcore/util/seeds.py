"""Named seeds: one tree per experiment, one path per random stream.

A :class:`SeedTree` turns the experiment's root seed and a path of names and
integers into a 63-bit seed with NumPy's :class:`~numpy.random.SeedSequence`
(``entropy = root``, ``spawn_key = path``), so that

* streams with different paths are statistically independent (SeedSequence's
  guarantee), whatever the names, and never collide by arithmetic (``seed + 101``);
* a seed depends only on (root, path): not on the order jobs are built or run, nor
  on the backend or process, nor on how many other streams exist;
* each job's path is written into results.json, so any number can be re-derived.

Names are hashed with BLAKE2b (stable across processes, unlike ``hash``).
"""

from __future__ import annotations

import hashlib
import numbers
from typing import Union

import numpy as np

PathPart = Union[str, int]


def _key(part: PathPart) -> int:
    if isinstance(part, bool):
        raise TypeError(f"seed path: expected str or int parts, got bool {part!r}")
    if isinstance(part, numbers.Integral):
        if part < 0 or part >= 2**32:
            raise ValueError(f"seed path: integer parts must lie in [0, 2**32), got {part}")
        return int(part)
    if isinstance(part, str):
        # strings and integers live in disjoint key ranges ("3" != 3)
        return int.from_bytes(hashlib.blake2b(part.encode(), digest_size=8).digest(), "little") | (1 << 64)
    raise TypeError(f"seed path: expected str or int parts, got {type(part).__name__}")


class SeedTree:
    """The seeds of one experiment.

    Args:
        root: the experiment's seed (an int >= 0; the ``--seed`` flag).
        path: the prefix this (sub)tree stands for.
    """

    __slots__ = ("root", "path")
    root: int
    path: tuple[PathPart, ...]

    def __init__(self, root: int, path: tuple[PathPart, ...] = ()) -> None:
        if not isinstance(root, numbers.Integral) or isinstance(root, bool) or root < 0:
            raise ValueError(f"root: expected an integer >= 0, got {root!r}")
        for p in path:
            _key(p)
        self.root = int(root)
        self.path = tuple(path)

    def child(self, *parts: PathPart) -> SeedTree:
        """The subtree at ``path + parts``."""
        return SeedTree(self.root, self.path + tuple(parts))

    def sequence(self, *parts: PathPart) -> np.random.SeedSequence:
        """The SeedSequence of ``path + parts``."""
        keys = tuple(_key(p) for p in self.path + tuple(parts))
        return np.random.SeedSequence(entropy=self.root, spawn_key=keys)

    def seed(self, *parts: PathPart) -> int:
        """A 63-bit int seed (for the C++ simulators and ``env.reset(seed=...)``)."""
        state = self.sequence(*parts).generate_state(1, np.uint64)[0]
        return int(state >> np.uint64(1))

    def generator(self, *parts: PathPart) -> np.random.Generator:
        """A NumPy Generator (PCG64) on the stream of ``path + parts``."""
        return np.random.default_rng(self.sequence(*parts))

    def describe(self, *parts: PathPart) -> dict[str, object]:
        """What results.json records of a stream: root, path and the derived seed."""
        return {"root": self.root, "path": list(self.path + tuple(parts)), "seed": self.seed(*parts)}

    def __repr__(self) -> str:
        return f"SeedTree(root={self.root}, path={self.path})"
