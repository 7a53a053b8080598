"""Where a recorded run ran: the machine and software lines every report prints."""

from __future__ import annotations

import os
import platform
import subprocess
from typing import Any

__all__ = ["cpu_model", "machine_info"]


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else the platform's processor string."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            return next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        return cpu


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out or "unknown"


def machine_info(torch: bool = False) -> dict[str, Any]:
    """python, numpy (and torch when asked) versions, the CPU model and count, and the
    git commit of the package's source tree ("unknown" outside a checkout)."""
    import numpy

    info: dict[str, Any] = {"python": platform.python_version(), "numpy": str(numpy.__version__),
                            "cpu": cpu_model(), "cpus": os.cpu_count(), "git_commit": _git_commit()}
    if torch:
        import torch as _torch

        info["torch"] = str(_torch.__version__)
    return info
