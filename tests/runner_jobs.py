"""Module-level job functions for the runner tests (picklable by reference)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from simcore.util.seeds import SeedTree


def draw(seed: int, n: int) -> np.ndarray:
    """n uniforms from the job's own named stream."""
    return SeedTree(seed).generator("job").random(n)


def draw_shared(shared: np.ndarray, seed: int, progress=None) -> float:
    """A job with a shared array and progress ticks."""
    x = float(shared.sum() + SeedTree(seed).generator("job").random())
    if progress is not None:
        progress(2.0)
    return x


def counted(seed: int, log: str) -> float:
    """Appends one line to ``log`` per call (to count executions)."""
    with open(log, "a") as f:
        f.write(f"{seed}\n")
    return float(SeedTree(seed).generator("job").random())


def dies_once(seed: int, marker: str) -> float:
    """Kills its own worker process on the first attempt inside a Ray worker, then
    returns the same as :func:`counted` would."""
    m = Path(marker)
    if os.environ.get("SIMCORE_TEST_IN_RAY") == "1" and not m.exists():
        m.write_text("died")
        os._exit(1)
    return float(SeedTree(seed).generator("job").random())


# ---------------------------------------------------------------- a tiny experiment


def where(seed: int, log: str) -> dict:
    """A job that says whether it ran inside a Ray worker, and counts its calls."""
    with open(log, "a") as f:
        f.write(f"{seed}\n")
    return {"x": float(SeedTree(seed).generator("job").random()),
            "in_ray": os.environ.get("SIMCORE_TEST_IN_RAY") == "1"}


def tiny_run(cfg, progress: bool = True) -> dict:
    """``run`` of the tiny experiment: 4 jobs that ask for the process backend."""
    from simcore.runner import Job, run_jobs

    root = SeedTree(cfg.seed)
    jobs = [Job(key=f"j/{k}", fn=where, kwargs={"seed": root.seed("job", k), "log": cfg.log}) for k in range(4)]
    out = run_jobs(jobs, backend="process", workers=2, progress=progress)
    return {"x": [o["x"] for o in out], "in_ray": [o["in_ray"] for o in out]}


def tiny_report(results: dict, out_dir, command: str = "") -> list:
    import json
    from pathlib import Path

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "results.json").write_text(json.dumps(results))
    return ["results.json"]


def waits_to_be_killed(seed: int, pid_file: str, victim: bool, timeout: float = 120.0) -> float:
    """A job whose first attempt in a Ray worker (when ``victim``) writes its pid to
    ``pid_file`` and waits to be SIGKILLed from outside; the killer writes
    ``pid_file + ".killed"`` first, so the retry finds it, records its own pid in
    ``pid_file + ".retry"`` and returns what every other attempt returns."""
    import time

    killed = Path(pid_file + ".killed")
    if victim and os.environ.get("SIMCORE_TEST_IN_RAY") == "1":
        if not killed.exists():
            tmp = Path(pid_file + ".tmp")
            tmp.write_text(str(os.getpid()))
            tmp.replace(pid_file)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                time.sleep(0.05)
            raise RuntimeError(f"job was not killed within {timeout} s")
        Path(pid_file + ".retry").write_text(str(os.getpid()))
    return float(SeedTree(seed).generator("job").random())
