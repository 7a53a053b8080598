"""How the jobs of a run execute, chosen once for a whole run (the CLI's ``--backend``,
``--address`` and ``--resume``) without threading arguments through every experiment.

:func:`execution` sets it for a ``with`` block (a :class:`contextvars.ContextVar`, so
concurrent runs in other threads or tasks are not affected); :func:`run_jobs` reads it:

* ``backend``: when set, replaces the backend an experiment asked for (all three give
  identical results, so the choice is only where the work runs);
* ``store``: a directory under which each ``run_jobs`` call of the run keeps its job
  results (``<call index>-<desc>/``, the index counting calls in order, which a
  deterministic experiment repeats exactly);
* ``resume``: reuse stored results of the same jobs.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

#: where jobs can run (identical results on each)
BACKENDS = ("inline", "process", "ray")


@dataclass(frozen=True)
class Execution:
    """Run-wide execution settings (see the module docstring).

    Attributes:
        backend: None (each call's own choice) or "inline", "process", "ray".
        address: Ray cluster address (None: a local Ray).
        store: directory for per-call job stores (None: results not stored).
        resume: reuse stored results.
    """

    backend: str | None = None
    address: str | None = None
    store: Path | None = None
    resume: bool = False
    _calls: itertools.count = field(default_factory=itertools.count, compare=False, repr=False)

    def call_store(self, desc: str) -> Path | None:
        """The store directory of the next ``run_jobs`` call (None without a store)."""
        if self.store is None:
            return None
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", desc)[:40]
        return self.store / f"{next(self._calls):02d}-{safe}"


_CURRENT: ContextVar[Execution | None] = ContextVar("simcore_execution", default=None)


def current() -> Execution:
    """The execution settings in force (defaults outside any :func:`execution`)."""
    ex = _CURRENT.get()
    return ex if ex is not None else Execution()


@contextmanager
def execution(backend: str | None = None, address: str | None = None,
              store: str | os.PathLike[str] | None = None, resume: bool = False) -> Iterator[Execution]:
    """Sets the execution settings for the ``with`` block."""
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    if resume and store is None:
        raise ValueError("resume: needs a store directory")
    ex = Execution(backend=backend, address=address, store=Path(store) if store is not None else None,
                   resume=resume)
    token = _CURRENT.set(ex)
    try:
        yield ex
    finally:
        _CURRENT.reset(token)
