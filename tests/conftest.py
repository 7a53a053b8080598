"""Shared fixtures: small worlds that keep the suite fast."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.search.config import SessionConfig, WorldConfig


@pytest.fixture
def small_config() -> SessionConfig:
    """6 queries x 55 items (last page has 5 items), horizon 6 pages."""
    return SessionConfig(world=WorldConfig(n_queries=6, n_items=55), max_steps=8)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def _processes_under(path: str) -> list[str]:
    """Command lines of live processes that mention ``path`` (Ray's session dir)."""
    import os

    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if path in cmd and int(pid) != os.getpid():
            found.append(f"{pid}: {cmd[:120]}")
    return found


@pytest.fixture(scope="session")
def local_ray():
    """One local 2-CPU Ray for every test that needs it (started on first use), shut
    down at the end of the session; teardown fails if any of its processes (raylet,
    GCS, workers) outlives the shutdown.  Workers see the test session's PYTHONPATH
    (``tests.*`` job functions) and ``SIMCORE_TEST_IN_RAY=1``."""
    import os
    import shutil
    import sys
    import tempfile
    import time

    ray = pytest.importorskip("ray")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    temp = tempfile.mkdtemp(prefix="scray-")  # AF_UNIX socket paths must stay under 108 bytes
    env = {"env_vars": {"SIMCORE_TEST_IN_RAY": "1", "PYTHONPATH": os.pathsep.join(sys.path)}}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=env, _temp_dir=temp)
    yield ray
    ray.shutdown()
    deadline = time.monotonic() + 30.0
    while (left := _processes_under(temp)) and time.monotonic() < deadline:
        time.sleep(0.2)
    shutil.rmtree(temp, ignore_errors=True)
    assert not left, f"Ray processes outlived ray.shutdown(): {left}"


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for the tests of a module (restored after): small models run
    faster and reproducibly so next to other processes.  Use with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
