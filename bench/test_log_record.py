"""Page views per second of the search logger (issue 12 asks >= 1M page views per
minute) against the bare simulator stepping the same sessions, measured in the same run.

Run: python -m pytest bench/test_log_record.py --benchmark-only
``simcore`` records 20,000 sessions of LTR + N(0, 0.1^2) exploration (B = 1024 slots,
default world, 2 threads) to Parquet (zstd), exact values and latent traits included,
with every chunk checked against the schema before it is written; ``csv`` the same to
CSV; ``step-only`` steps the simulator and draws the policy's actions for the same
number of pages without building or writing any row (the cost floor of logging).
``items`` is the page views written, so the summary prints page views per second.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyarrow")

from simcore.domains.search import SearchSimulator, SessionConfig  # noqa: E402
from simcore.domains.search.logs import GaussianPolicy, record  # noqa: E402
from simcore.domains.search.world import default_action_set  # noqa: E402

SESSIONS, SLOTS = 20_000, 1024
LTR = default_action_set(8)[0]


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    s = record(tmp_path_factory.mktemp("log") / "probe.parquet", GaussianPolicy(LTR, 0.1, seed=1),
               sessions=SESSIONS, config=SessionConfig(num_threads=2), seed=3, num_slots=SLOTS)
    return s.rows


@pytest.mark.parametrize("impl", ["simcore", "csv", "step-only"])
def test_log_record(benchmark, tmp_path, rows, impl):
    cfg = SessionConfig(num_threads=2)

    def run():
        if impl == "step-only":
            sim = SearchSimulator(cfg, SLOTS, 3)
            policy = GaussianPolicy(LTR, 0.1, seed=1)
            obs = sim.reset()
            for _ in range(int(np.ceil(rows / SLOTS))):
                obs = sim.step(policy(obs)[0]).obs
            return
        path = tmp_path / ("log.parquet" if impl == "simcore" else "log.csv")
        s = record(path, GaussianPolicy(LTR, 0.1, seed=1), sessions=SESSIONS, config=cfg, seed=3, num_slots=SLOTS)
        assert s.rows == rows

    benchmark.group = "search log record (20k sessions, B=1024)"
    benchmark.extra_info.update(impl=impl, items=rows)
    benchmark.pedantic(run, rounds=3 if impl != "csv" else 1, iterations=1)
