"""Checkpoints of a training run: the agent's state_dict (parameters, optimiser states,
replay contents, RNG states), the iteration reached and the history so far.

Written with ``torch.save`` to a temporary file of a unique name in the target's
directory, flushed and fsync'ed, then renamed over the target (``os.replace`` is
atomic), and the directory fsync'ed: a crash never leaves a half-written checkpoint,
several processes may save to the same path at once (the last rename wins, each
reader sees one complete checkpoint), and temporary files left by savers that died
are removed by the next save.  Read back with ``torch.load(..., weights_only=True)``:
everything stored is a tensor or a plain Python value.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from simcore.util.plain import to_plain

FORMAT_VERSION = 1


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}.tmp."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _clean_stale(path: Path) -> None:
    """Removes temporary files of dead savers of ``path`` (names carry the saver's pid)."""
    prefix = _tmp_prefix(path)
    for p in path.parent.glob(prefix + "*"):
        pid = p.name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            try:
                p.unlink()
            except FileNotFoundError:  # another saver cleaned it first
                pass


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. platforms without directory descriptors
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
    _clean_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{_tmp_prefix(path)}{os.getpid()}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads a checkpoint (``weights_only=True``); raises ValueError on a foreign file."""
    data = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        raise ValueError(f"path: {path} is not a simcore training checkpoint (format {FORMAT_VERSION})")
    return data
