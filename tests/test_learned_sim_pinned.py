"""The learned simulator's outputs pinned against the implementation before the speed
work of issue 12 (commit 438a643: per-slot catalogue copies and ``topk_batch``).

``tests/data/learned_sim_pinned.npz`` holds every StepResult field of 6 steps of a
:class:`LearnedSimulator` (B = 32, an untrained seeded model, mixed autoresets, random
rankings) in three runs: sampled, expectation mode, and sampled with 2 kernel threads
and another seed; :func:`run` below is the script that wrote it.  Discrete outputs
(pages, outcomes, items, clicks, flags) must be equal; float outputs equal up to
float32 rounding (rtol 1e-5), since fused torch ops may sum in another order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from simcore.domains.search.config import SessionConfig  # noqa: E402
from simcore.domains.search.world import default_action_set  # noqa: E402
from simcore.domains.virtual_taobao.model import BehaviourConfig, seeded_model  # noqa: E402
from simcore.domains.virtual_taobao.sim import LearnedSimulator  # noqa: E402

PINNED = Path(__file__).parent / "data" / "learned_sim_pinned.npz"
FIELDS = ["obs", "reward", "terminated", "truncated", "outcome", "item", "price", "page", "clicks",
          "b", "l", "c", "m", "expected_clicks"]
RUNS = {"sample": {}, "expect": {"sample": False}, "t2": {"threads": 2, "seed": 12}}


def run(B: int = 32, steps: int = 6, seed: int = 11, threads: int = 1, sample: bool = True,
        model_seed: int = 3) -> dict[str, np.ndarray]:
    """Initial observations and every StepResult field of ``steps`` steps."""
    model = seeded_model(BehaviourConfig(), model_seed)
    sim = LearnedSimulator(model, SessionConfig(num_threads=threads), B, seed=seed)
    rng = np.random.default_rng(5)
    base = default_action_set(8)
    out = {"obs0": sim.reset()}
    for t in range(steps):
        a = (base[rng.integers(0, len(base), B)] + 0.3 * rng.standard_normal((B, 8))).astype(np.float32)
        r = sim.step(a, sample=sample)
        for f in FIELDS:
            out[f"{t}/{f}"] = getattr(r, f)
    return out


@pytest.mark.parametrize("name", sorted(RUNS))
def test_learned_simulator_matches_pinned_outputs(name):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        got = run(**RUNS[name])
    finally:
        torch.set_num_threads(before)
    with np.load(PINNED) as pinned:
        keys = [k for k in pinned.files if k.startswith(name + "/")]
        assert len(keys) == len(got)
        n_end = 0
        for key in keys:
            want, have = pinned[key], got[key[len(name) + 1:]]
            assert have.dtype == want.dtype and have.shape == want.shape, key
            if want.dtype.kind == "f":
                np.testing.assert_allclose(have, want, rtol=1e-5, atol=1e-6, err_msg=key)
            else:
                np.testing.assert_array_equal(have, want, err_msg=key)
            if key.endswith("/terminated") or key.endswith("/truncated"):
                n_end += int(want.sum())
        assert n_end > 20 if name != "expect" else n_end == 0  # sampled runs include many autoresets


def test_fast_tanh_matches_torch_and_keeps_gradients():
    from simcore.domains.virtual_taobao.model import FastTanh

    f = FastTanh()
    x = torch.randn(300, 32) * 3
    with torch.no_grad():
        y = f(x)
    want = torch.tanh(x)
    ulps = (y.view(torch.int32).long() - want.view(torch.int32).long()).abs()
    assert int(ulps.max()) <= 2  # measured: at most 1
    with torch.inference_mode():
        np.testing.assert_array_equal(f(x).numpy(), y.numpy())
    xt = x[:, ::2]  # non-contiguous input
    with torch.no_grad():
        np.testing.assert_allclose(f(xt).numpy(), torch.tanh(xt).numpy(), rtol=1e-6, atol=1e-7)
    xg = x.clone().requires_grad_(True)
    out = f(xg)  # autograd on: torch's tanh, exact, with its gradient
    assert torch.equal(out, want) and out.requires_grad
    out.sum().backward()
    assert torch.allclose(xg.grad, 1 - want**2, atol=1e-6)
    xd = x.double()
    with torch.no_grad():
        assert torch.equal(f(xd), torch.tanh(xd))  # other dtypes: torch's
