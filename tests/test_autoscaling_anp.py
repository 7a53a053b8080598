"""The CPU meta-predictor (domains/autoscaling/anp.py): the ELBO improves on a toy family
of functions and the fitted model uses its context, determinism, checkpoints, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simcore.domains.autoscaling.anp import ANP, ANPConfig, features, linear_per_zone

torch.set_num_threads(1)


def _family(n_tasks: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Tasks y = a + b sigmoid(k (x - x0)) + noise, x uniform in [-2, 2]^1 (a, b, k, x0 per task)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (n_tasks, n, 1))
    a, b = rng.uniform(0.0, 0.3, (n_tasks, 1)), rng.uniform(0.3, 0.7, (n_tasks, 1))
    k, x0 = rng.uniform(1, 4, (n_tasks, 1)), rng.uniform(-1, 1, (n_tasks, 1))
    y = a + b / (1 + np.exp(-k * (x[..., 0] - x0))) + 0.01 * rng.standard_normal((n_tasks, n))
    return x.astype(np.float32), np.clip(y, 0, 1).astype(np.float32)


SMALL = ANPConfig(x_dim=1, hidden=16, latent=4, heads=2, steps=250, batch_tasks=16, context_min=8, context_max=24,
                  extra_targets=16, lr=3e-3, seed=3)


def test_elbo_improves_and_context_is_used():
    x, y = _family(64, 48, 0)
    m = ANP(SMALL)
    hist = m.fit(x, y)
    assert len(hist) == SMALL.steps
    assert np.mean(hist[-25:]) < np.mean(hist[:25]) - 0.5          # the negative ELBO falls
    xt, yt = _family(32, 48, 1)                                        # held-out tasks of the family
    mu, sd = m.predict(xt[:, :24], yt[:, :24], xt[:, 24:])
    rmse = np.sqrt(np.mean((mu - yt[:, 24:]) ** 2))
    spread = np.sqrt(np.mean((yt[:, 24:] - yt[:, 24:].mean()) ** 2))
    assert rmse < 0.5 * spread
    assert sd.shape == mu.shape and np.all(sd >= SMALL.min_sd)
    # the same model without context information (global, no z, no attention) does worse
    g = ANP(ANPConfig(**{**SMALL.__dict__, "deterministic": False, "latent_path": False}))
    g.fit(x, y)
    mu_g, _ = g.predict(xt[:, :24], yt[:, :24], xt[:, 24:])
    assert rmse < np.sqrt(np.mean((mu_g - yt[:, 24:]) ** 2))
    z = m.encode(xt[:, :24], yt[:, :24])
    assert z.shape == (32, SMALL.latent) and np.all(np.isfinite(z))


def test_determinism_and_seeds():
    x, y = _family(16, 40, 2)
    cfg = ANPConfig(**{**SMALL.__dict__, "steps": 20})
    a, b = ANP(cfg), ANP(cfg)
    ha, hb = a.fit(x, y), b.fit(x, y)
    assert ha == hb
    pa, _ = a.predict(x[:, :10], y[:, :10], x[:, 10:])
    pb, _ = b.predict(x[:, :10], y[:, :10], x[:, 10:])
    np.testing.assert_array_equal(pa, pb)
    c = ANP(ANPConfig(**{**cfg.__dict__, "seed": 4}))
    assert c.fit(x, y) != ha


def test_checkpoint_round_trip(tmp_path):
    x, y = _family(16, 40, 5)
    m = ANP(ANPConfig(**{**SMALL.__dict__, "steps": 10}))
    m.fit(x, y)
    torch.save(m.state_dict(), tmp_path / "anp.pt")
    n = ANP(m.config)
    n.load_state_dict(torch.load(tmp_path / "anp.pt", weights_only=True))
    p1, s1 = m.predict(x[:, :10], y[:, :10], x[:, 10:])
    p2, s2 = n.predict(x[:, :10], y[:, :10], x[:, 10:])
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(s1, s2)


def test_linear_per_zone_recovers_a_line():
    rng = np.random.default_rng(0)
    u = rng.uniform(0, 100, (3, 20, 2))
    y = 0.1 + u @ np.array([0.002, 0.001])
    p = linear_per_zone(u[:, :10], y[:, :10], u[:, 10:])
    np.testing.assert_allclose(p, y[:, 10:], atol=1e-4)


def test_bad_input():
    m = ANP(ANPConfig(**{**SMALL.__dict__, "steps": 1}))
    x, y = _family(4, 40, 0)
    with pytest.raises(ValueError, match="x: expected shape"):
        m.fit(x[..., 0], y)
    with pytest.raises(ValueError, match="y: CPU"):
        m.fit(x, y + 2)
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="x: must be finite"):
        m.fit(bad, y)
    with pytest.raises(ValueError, match="need n >="):
        m.fit(x[:, :10], y[:, :10])
    with pytest.raises(ValueError, match="x_target"):
        m.predict(x[:, :10], y[:, :10], x[:2, 10:])
    with pytest.raises(ValueError, match="encode"):
        ANP(ANPConfig(x_dim=1, latent_path=False)).encode(x, y)
    with pytest.raises(ValueError, match="traffic"):
        features(-np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="vms"):
        features(np.ones((2, 2)), np.zeros(2))
    for kw, name in (({"hidden": 30, "heads": 4}, "hidden"), ({"steps": 0}, "steps"), ({"lr": 0.0}, "lr"),
                     ({"context_max": 2, "context_min": 5}, "context_max"), ({"min_sd": 1.5}, "min_sd")):
        with pytest.raises(ValueError, match=name):
            ANPConfig(**kw)
    with pytest.raises(TypeError, match="config"):
        ANP({"x_dim": 1})  # type: ignore[arg-type]
