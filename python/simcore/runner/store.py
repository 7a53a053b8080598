"""Per-job results on disk, written atomically as each job finishes, so that a run
interrupted and restarted with ``resume`` skips what is done.

One file per job key (``<safe key>.<hash>.pkl``) holding ``(fingerprint, result)``.
The fingerprint hashes the job's function (module and qualified name) and its pickled
keyword arguments: a resumed run reuses a stored result only for the very same job;
anything else is recomputed and overwritten.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import tempfile
from pathlib import Path
from typing import Any

#: a :class:`~simcore.runner.jobs.Job` (duck-typed: ``key``, ``fn``, ``kwargs``)
Job = Any

_MISSING = object()


def fingerprint(job: Job) -> str:
    """sha256 of (function, keyword arguments) of a job."""
    fn = job.fn
    ident = (getattr(fn, "__module__", ""), getattr(fn, "__qualname__", repr(fn)))
    blob = pickle.dumps((ident, sorted(job.kwargs.items())), protocol=4)
    return hashlib.sha256(blob).hexdigest()


class ResultStore:
    """A directory of finished job results (created on first use)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The file of job ``key`` (its name stays readable and unique)."""
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", key)[:80]
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        return self.root / f"{safe}.{digest}.pkl"

    def load(self, job: Job) -> Any:
        """The stored result of ``job``, or :data:`MISSING` (absent, unreadable or
        stored for a different fingerprint)."""
        p = self.path(job.key)
        try:
            with open(p, "rb") as f:
                fp, result = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError):
            return _MISSING
        return result if fp == fingerprint(job) else _MISSING

    def save(self, job: Job, result: Any) -> None:
        """Writes ``job``'s result atomically (temp file, fsync, rename)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".job-", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump((fingerprint(job), result), f, protocol=4)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path(job.key))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


#: returned by :meth:`ResultStore.load` when there is nothing to reuse
MISSING: Any = _MISSING
