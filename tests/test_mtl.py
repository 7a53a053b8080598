"""Multi-task baselines: the tensor trace norms against a direct NumPy SVD computation,
their gradients, cross-stitch shapes and gradients, fitting a synthetic logged data set,
checkpoints and bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from simcore.algos.mtl import MTLConfig, MTLPolicy, TaskNet, mtl_loss
from simcore.algos.trace_norm import mode_unfold, stack_tasks, tensor_trace_norm, tt_unfold


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Small matrices: more threads only contend (the suite's other jobs share the cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _nuc(m: np.ndarray) -> float:
    return float(np.linalg.svd(m, compute_uv=False).sum())


def _np_norms(w: np.ndarray) -> dict[str, float]:
    d1, d2, d3 = w.shape
    # explicit unfoldings: W_(1)[i, (j, k)], W_(2)[j, (i, k)], W_(3)[k, (i, j)]
    u1 = np.array([[w[i, j, k] for j in range(d2) for k in range(d3)] for i in range(d1)])
    u2 = np.array([[w[i, j, k] for i in range(d1) for k in range(d3)] for j in range(d2)])
    u3 = np.array([[w[i, j, k] for i in range(d1) for j in range(d2)] for k in range(d3)])
    t1 = np.array([[w[i, j, k] for j in range(d2) for k in range(d3)] for i in range(d1)])
    t2 = np.array([[w[i, j, k] for k in range(d3)] for i in range(d1) for j in range(d2)])
    return {"laf": _nuc(u3), "tucker": (_nuc(u1) + _nuc(u2) + _nuc(u3)) / 3, "tt": (_nuc(t1) + _nuc(t2)) / 2}


@pytest.mark.parametrize("shape", [(5, 4, 2), (3, 7, 2), (6, 6, 3), (1, 4, 2)])
def test_trace_norms_match_numpy_svd(shape: tuple[int, int, int]) -> None:
    w = np.random.default_rng(sum(shape)).normal(size=shape)
    want = _np_norms(w)
    for kind, v in want.items():
        got = float(tensor_trace_norm(torch.as_tensor(w), kind))
        assert got == pytest.approx(v, rel=1e-10), kind


def test_unfoldings_and_rank_one_tasks() -> None:
    w = torch.arange(24, dtype=torch.float64).reshape(2, 3, 4)
    assert mode_unfold(w, 1).shape == (3, 8) and tt_unfold(w, 2).shape == (6, 4)
    assert torch.equal(mode_unfold(w, 0), w.reshape(2, 12))
    # identical towers: the task unfolding has rank 1, so LAF = ||[w; w]||_* = sqrt(2) ||w||_F
    a = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    laf = tensor_trace_norm(stack_tasks([a, a]), "laf")
    assert float(laf) == pytest.approx(float(np.sqrt(2) * a.norm()), rel=1e-10)


def test_trace_norm_gradient_matches_finite_differences() -> None:
    w = torch.randn(4, 3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    for kind in ("laf", "tucker", "tt"):
        assert torch.autograd.gradcheck(lambda t, k=kind: tensor_trace_norm(t, k), (w,))


def test_cross_stitch_shapes_and_gradients() -> None:
    cfg = MTLConfig(kind="cross-stitch", width=8, layers=3)
    net = TaskNet(5, 4, cfg)
    x = torch.randn(7, 5, generator=torch.Generator().manual_seed(2))
    out = net(x)
    assert out.shape == (2, 7, 4)
    assert net.stitch is not None and net.stitch.shape == (3, 2, 2)
    loss = mtl_loss(net, cfg, x, torch.tensor([0, 1, 2, 3, 0, 1, 2]), torch.ones(7, 2))
    loss.backward()
    assert net.stitch.grad is not None and torch.isfinite(net.stitch.grad).all()
    assert float(net.stitch.grad.abs().sum()) > 0
    # the click loss reaches the sign tower only through the stitches
    cfg0 = MTLConfig(kind="trace-norm", width=8, layers=3, norm_weight=0.0)
    plain = TaskNet(5, 4, cfg0)
    logits = plain(x)
    logits[1].sum().backward()
    g = plain.towers[0][0].weight.grad
    assert g is None or float(g.abs().sum()) == 0.0
    stitched = TaskNet(5, 4, cfg)
    stitched(x)[1].sum().backward()
    assert float(stitched.towers[0][0].weight.grad.abs().sum()) > 0
    assert TaskNet(5, 4, MTLConfig(kind="single", width=8))(x).shape == (1, 7, 4)


def _logged(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    a = rng.integers(0, 3, n)
    best = (x[:, 0] > 0).astype(int)  # sign is likelier under action 0 or 1 by feature 0; click always for 2
    p_sign = np.where(a == best, 0.6, 0.1)
    p_click = np.where(a == 2, 0.7, 0.2)
    y = np.stack([rng.random(n) < p_sign, rng.random(n) < p_click], axis=1).astype(np.float32)
    return x, a, y


@pytest.mark.parametrize("cfg", [MTLConfig(kind="single", width=16, epochs=6, lr=1e-2),
                                 MTLConfig(kind="cross-stitch", width=16, epochs=6, lr=1e-2),
                                 MTLConfig(kind="trace-norm", norm="tt", width=16, epochs=6, lr=1e-2,
                                           norm_weight=1e-5)])
def test_fit_finds_the_best_actions(cfg: MTLConfig) -> None:
    x, a, y = _logged(3000, 0)
    pol = MTLPolicy(4, 3, cfg)
    hist = pol.fit(x, a, y)
    assert hist[-1] < hist[0]
    xt, _, _ = _logged(500, 1)
    acc = float(np.mean(pol.act(xt) == (xt[:, 0] > 0)))
    assert acc > 0.85
    if cfg.kind != "single":
        assert np.mean(pol.predict(xt)[1].argmax(1) == 2) > 0.9


def test_trace_norm_weight_shrinks_the_norm() -> None:
    x, a, y = _logged(1000, 2)

    def norm_after(weight: float) -> float:
        pol = MTLPolicy(4, 3, MTLConfig(kind="trace-norm", norm="laf", width=16, epochs=3, lr=1e-2,
                                        norm_weight=weight))
        pol.fit(x, a, y)
        with torch.no_grad():
            return sum(float(tensor_trace_norm(stack_tasks(ws), "laf")) for ws in pol.net.layer_weights())

    assert norm_after(5e-2) < 0.5 * norm_after(0.0)


def test_deterministic_and_weights_only_checkpoint() -> None:
    x, a, y = _logged(400, 3)
    cfg = MTLConfig(kind="trace-norm", norm="tucker", width=8, epochs=1, seed=5)
    p1, p2 = MTLPolicy(4, 3, cfg), MTLPolicy(4, 3, cfg)
    p1.fit(x, a, y)
    p2.fit(x, a, y)
    np.testing.assert_array_equal(p1.predict(x), p2.predict(x))
    p3 = MTLPolicy(4, 3, MTLConfig(kind="trace-norm", norm="tucker", width=8, epochs=1, seed=6))
    p3.fit(x, a, y)
    assert not np.array_equal(p1.predict(x), p3.predict(x))
    buf = io.BytesIO()
    torch.save(p1.state_dict(), buf)
    buf.seek(0)
    p4 = MTLPolicy(4, 3, cfg)
    p4.load_state_dict(torch.load(buf, weights_only=True))
    np.testing.assert_array_equal(p1.predict(x), p4.predict(x))
    assert cfg.label == "MTL-TN-Tucker" and MTLConfig(width=525).label == "MTL-CS-525"


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="kind"):
        MTLConfig(kind="hard-sharing")
    with pytest.raises(ValueError, match="norm"):
        MTLConfig(norm="frobenius")
    with pytest.raises(ValueError, match="norm_weight"):
        MTLConfig(norm_weight=-1.0)
    with pytest.raises(ValueError, match="task"):
        MTLPolicy(4, 3, MTLConfig(kind="single"), task=1)
    pol = MTLPolicy(4, 3, MTLConfig(width=4, epochs=1))
    x, a, y = _logged(50, 0)
    with pytest.raises(ValueError, match="action"):
        pol.fit(x, a + 5, y)
    with pytest.raises(ValueError, match="labels"):
        pol.fit(x, a, y * 2)
    with pytest.raises(ValueError, match="labels: expected shape"):   # regression: (2n,) was read as (n, 2)
        pol.fit(x, a, y.T.reshape(-1))
    with pytest.raises(ValueError, match="obs"):
        pol.fit(np.full_like(x, np.nan), a, y)
    with pytest.raises(ValueError, match="kind"):
        tensor_trace_norm(torch.ones(2, 2, 2), "nuclear")


def test_trained_policy_is_not_constant_and_finds_each_contexts_best_action() -> None:
    """The review's failure mode (a constant policy): 4 observable contexts with offset,
    unscaled features, a rare label (5 % vs 30 % under the context's best action), the
    slides' lr 1e-3 / batch 100 / sigmoid, early stopping on a validation split."""
    rng = np.random.default_rng(11)
    n, k = 6000, 4
    ctx = rng.integers(0, k, n)
    x = np.concatenate([np.eye(k)[ctx] * 50.0 + 100.0, rng.normal(size=(n, 2))], axis=1).astype(np.float32)
    a = rng.integers(0, k, n)
    p = np.where(a == ctx, 0.3, 0.05)
    y = np.stack([rng.random(n) < p, rng.random(n) < 0.1], axis=1).astype(np.float32)
    cfg = MTLConfig(kind="cross-stitch", width=32, epochs=20, val_fraction=0.2, patience=5, seed=1)
    pol = MTLPolicy(x.shape[1], k, cfg)
    pol.fit(x, a, y, groups=np.arange(n) // 3)
    assert len(pol.val_history) == len(pol.history) and 0 <= pol.best_epoch < len(pol.history)
    chosen = pol.act(x)
    assert len(np.unique(chosen)) == k
    assert float(np.mean(chosen == ctx)) > 0.9
    quality = pol.evaluate(x, a, y)
    assert quality["auc"][0] > 0.6 and quality["log_loss"][0] < quality["base_log_loss"][0]


def test_binary_auc_and_log_loss() -> None:
    from simcore.algos.mtl import binary_auc, log_loss

    assert binary_auc(np.array([0.1, 0.2, 0.3, 0.4]), np.array([0, 0, 1, 1])) == 1.0
    assert binary_auc(np.array([0.5, 0.5, 0.5]), np.array([0, 1, 0])) == 0.5
    assert binary_auc(np.array([0.9, 0.1, 0.5]), np.array([0, 1, 1])) == 0.0
    assert np.isnan(binary_auc(np.ones(3), np.zeros(3)))
    assert log_loss(np.array([0.5, 0.5]), np.array([0, 1])) == pytest.approx(np.log(2))
    with pytest.raises(ValueError, match="val_fraction"):
        MTLConfig(val_fraction=0.95)
