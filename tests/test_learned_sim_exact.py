"""The learned simulator's outputs pinned BIT-EXACTLY against the implementation before
the second speed pass of issue 12 (commit ff459df), on larger configurations than
tests/test_learned_sim_pinned.py: B = 256, 20 steps, mixed autoresets, sampled and
expectation mode, 1 and 2 kernel threads, the clicks reward, and a small world whose
last page is short (N = 35, K = 10: horizon 4, truncations) with a window of W = 2,
users set by ``reset_to`` and the sample flag alternating per step.

The speed work may change copies, layout, allocation and integer work only, never
the float operations (the recorded runs in docs/runs/virtual_taobao must reproduce),
so every output must be equal byte for byte.  ``tests/data/learned_sim_exact.json``
holds, per run and per array (initial observations and every StepResult field of every
step), the SHA-256 of its bytes with its dtype and shape, and its float64 sum (only to
say how far off a failing array is).  Regenerate (only for an intended change of the
outputs): ``PYTHONPATH=python python tests/test_learned_sim_exact.py --write``.
The digests are of one machine's torch / NumPy builds (x86-64, torch 2.13.0+cpu,
NumPy 2.4.6, an Intel CPU with AVX-512): MKL picks its sgemm code path by CPU, so the
torch linear layers round differently on another CPU family (measured: AMD EPYC vs
Intel Xeon, docs/ranking.md and DESIGN-NOTES).  The file records that machine's
signature (:func:`machine_signature`); on a machine with another signature the test is
skipped, and tests/test_learned_sim_pinned.py (floats to rtol 1e-5) still runs.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig  # noqa: E402
from simcore.domains.search.world import default_action_set  # noqa: E402
from simcore.domains.virtual_taobao.model import BehaviourConfig, seeded_model  # noqa: E402
from simcore.domains.virtual_taobao.sim import LearnedSimulator  # noqa: E402

PINNED = Path(__file__).parent / "data" / "learned_sim_exact.json"
FIELDS = ["obs", "reward", "terminated", "truncated", "outcome", "item", "price", "page", "clicks",
          "b", "l", "c", "m", "expected_clicks"]
SMALL = {"world": WorldConfig(n_items=35), "user": UserModelConfig(window=2)}
RUNS: dict[str, dict[str, Any]] = {
    "sample": {},
    "expect": {"sample": False},
    "t2-clicks": {"threads": 2, "seed": 22, "reward": "clicks"},
    "small-mixed": {"B": 64, "small": True, "sample": None, "reset_to": True, "seed": 23},
}


def run(B: int = 256, steps: int = 20, seed: int = 21, threads: int = 1, sample: bool | None = True,
        reward: str = "gmv", small: bool = False, reset_to: bool = False) -> dict[str, np.ndarray]:
    """Initial observations and every StepResult field of ``steps`` steps under random
    rankings; ``sample=None`` alternates sampled and expectation steps."""
    cfg = SessionConfig(num_threads=threads, reward=reward, **(SMALL if small else {}))
    W, m = cfg.user.window, cfg.world.n_features
    model = seeded_model(BehaviourConfig(window=W, num_features=m), 3)
    sim = LearnedSimulator(model, cfg, B, seed=seed)
    rng = np.random.default_rng(seed + 100)
    base = default_action_set(m)
    if reset_to:
        users = {"query": rng.integers(0, cfg.world.n_queries, B), "segment": rng.integers(0, 4, B).astype(np.int32),
                 "power": rng.random(B)}
        out = {"obs0": sim.reset_to(users)}
    else:
        out = {"obs0": sim.reset()}
    for t in range(steps):
        a = (base[rng.integers(0, len(base), B)] + 0.3 * rng.standard_normal((B, m))).astype(np.float32)
        r = sim.step(a, sample=(t % 2 == 0) if sample is None else sample)
        for f in FIELDS:
            out[f"{t}/{f}"] = getattr(r, f)
    return out


def machine_signature() -> dict[str, Any]:
    """What decides the float results of the pinned runs: CPU vendor and the vector
    extensions MKL dispatches on, torch and NumPy versions."""
    vendor, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("vendor_id") and vendor == "unknown":
                    vendor = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {"vendor": vendor, "avx2": "avx2" in flags, "avx512f": "avx512f" in flags,
            "torch": str(torch.__version__), "numpy": str(np.__version__)}


def digest(a: np.ndarray) -> dict[str, Any]:
    """SHA-256 of the bytes, dtype, shape and the float64 sum of an array."""
    a = np.ascontiguousarray(a)
    return {"sha256": hashlib.sha256(a.tobytes()).hexdigest(), "dtype": a.dtype.str, "shape": list(a.shape),
            "sum": float(a.astype(np.float64).sum())}


def _run_1thread(name: str) -> dict[str, np.ndarray]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return run(**RUNS[name])
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_learned_simulator_bit_exact(name):
    pinned = json.loads(PINNED.read_text())
    here = machine_signature()
    if pinned["_machine"] != here:
        pytest.skip(f"digests pinned on {pinned['_machine']}, this machine is {here}")
    got = _run_1thread(name)
    want = pinned[name]
    assert sorted(got) == sorted(want)
    bad = [f"{k}: sum {digest(v)['sum']!r} want {want[k]['sum']!r}" for k, v in got.items() if digest(v) != want[k]]
    assert not bad, "outputs differ from the pinned ones:\n" + "\n".join(bad[:20])
    n_end = sum(int(got[f"{t}/terminated"].sum() + got[f"{t}/truncated"].sum()) for t in range(20))
    if name == "expect":
        assert n_end == 0
    else:  # many autoresets (and truncations in the small world)
        assert n_end > 50
        if name == "small-mixed":
            assert sum(int(got[f"{t}/truncated"].sum()) for t in range(20)) > 10
            assert (got["3/page"] < 0).any()  # a short page


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: tests/test_learned_sim_exact.py --write")
    rec: dict[str, Any] = {name: {k: digest(v) for k, v in _run_1thread(name).items()} for name in RUNS}
    rec["_machine"] = machine_signature()
    PINNED.write_text(json.dumps(rec, indent=0, sort_keys=True) + "\n")
    print(f"wrote {PINNED}")
