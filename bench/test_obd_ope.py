"""The Open Bandit Dataset benchmark's estimators at scale: simcore's chunked, blocked
:func:`simcore.domains.bandits.obd_ope.evaluate` against the direct NumPy twin (the
five estimators of :mod:`simcore.algos.ope` on whole (n, A, L) arrays, round-level
bootstrap), on a synthetic log of the dataset's shape (A = 80 items, L = 3 positions).

Run: python -m pytest bench/test_obd_ope.py --benchmark-only
``n`` = 50,000 rounds (the twin's (n, A, L) arrays are 96 MB each; at the full
release's 12M rounds they would be 23 GB each, which is why ``evaluate`` chunks).
Both use 100 bootstrap resamples; with n <= MAX_BOOT_UNITS the two compute the same
numbers (asserted).  ``extra_info["peak_mb"]`` is the traced peak of NumPy allocations.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from simcore.algos import ope
from simcore.domains.bandits import obd, obd_ope, protocol
from simcore.util.seeds import SeedTree

N, A, L, BOOT = 50_000, 80, 3, 100


def _log(rng: np.random.Generator, dist: np.ndarray, behavior: str) -> obd.OBDLog:
    pos = rng.integers(0, L, N)
    item = np.minimum((rng.random(N)[:, None] > np.cumsum(dist[:, pos].T, axis=1)).sum(axis=1), A - 1)
    mu = 0.004 * (1 + np.arange(A * L).reshape(A, L) % 7)
    click = (rng.random(N) < mu[item, pos]).astype(np.int64)
    t = (np.arange(N) * 1_000_000).astype("datetime64[us]")
    return obd.OBDLog(behavior, "all", t, item, pos, click, dist[item, pos], np.empty((N, 0), dtype=str),
                      np.empty((N, 0)), A, L)


def _direct(log: obd.OBDLog, dist: np.ndarray, on: obd.OBDLog, seeds: SeedTree) -> dict[str, float]:
    """The twin: whole-array estimators (q_hat (n, A, L)) and the round-level bootstrap."""
    q = obd_ope.cross_fit_q(log, A, 2, seeds.generator("q_hat"))
    full = np.broadcast_to(dist, (N, A, L))
    args = (log.click.astype(float), log.item_id, log.pscore, full)
    ests = {"ips": ope.ips(*args, position=log.position), "snips": ope.snips(*args, position=log.position),
            "dm": ope.dm(*args, q, position=log.position), "dr": ope.dr(*args, q, position=log.position),
            "switch-dr": ope.switch_dr(*args, q, position=log.position, tau=100.0)}
    clicks = on.click.astype(float)
    out = {}
    for name, est in ests.items():
        rng = seeds.generator("bootstrap", name)
        draws = []
        for _ in range(BOOT):
            v = est.resample(rng.integers(0, N, size=N))
            draws.append(v - clicks[rng.integers(0, N, size=N)].mean())
        np.quantile(draws, [0.025, 0.975])  # the CI, as evaluate computes it
        out[name] = est.value
    return out


@pytest.fixture(scope="module")
def logs():
    seeds = SeedTree(0)
    target = protocol.bts_dist(np.linspace(1, 3, A), np.full(A, 200.0), L, 50_000, seeds.generator("bts"))
    target = np.where(target > 0, target, 1e-6)
    target /= target.sum(axis=0)
    rand = _log(seeds.generator("random"), protocol.uniform_dist(A, L), "random")
    bts = _log(seeds.generator("bts-log"), target, "bts")
    return rand, bts, target


@pytest.mark.parametrize("impl", ["simcore", "numpy"])
def test_obd_evaluate(benchmark, logs, impl):
    rand, bts, target = logs
    seeds = SeedTree(1)

    def run():
        if impl == "simcore":
            return {k: v["value"] for k, v in obd_ope.evaluate(rand, target, bts, seeds, n_boot=BOOT).items()
                    if k != "on_policy"}
        return _direct(rand, target, bts, seeds)

    tracemalloc.start()
    got = run()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert got == _direct(rand, target, bts, seeds) if impl == "simcore" else True
    benchmark.group = f"OBD estimators + {BOOT} bootstrap resamples (n={N}, A={A}, L={L})"
    benchmark.extra_info.update(impl=impl, items=N, peak_mb=round(peak, 1))
    benchmark.pedantic(run, rounds=3, iterations=1)
