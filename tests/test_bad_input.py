"""Every kernel and the simulator reject bad input with a clear exception."""

from __future__ import annotations

import numpy as np
import pytest

from simcore import kernels
from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig
from simcore.domains.search.simulator import SearchSimulator

X = np.ones((5, 3), np.float32)
w = np.ones(3, np.float32)


@pytest.mark.parametrize(
    "args, exc, match",
    [
        ((X.astype(np.float64), w, 2), TypeError, "X: expected dtype float32"),
        ((X.tolist(), w, 2), TypeError, "X: expected a numpy"),
        ((X[0], w, 2), ValueError, "X: expected a 2-d"),
        ((np.ones((0, 3), np.float32), w, 2), ValueError, "N = 0"),
        ((X, np.ones(4), 2), ValueError, "w: expected shape"),
        ((X, np.array([1, np.nan, 0]), 2), ValueError, "w: contains NaN"),
        ((X, np.array(["a", "b", "c"]), 2), TypeError, "w: expected real"),
        ((X, w, 0), ValueError, "k: must be positive"),
        ((X, w, -3), ValueError, "k: must be positive"),
        ((X, w, 2.5), TypeError, "k: expected an integer"),
        ((X, w, 2, np.ones(5, np.int8)), TypeError, "exclude: expected a numpy bool"),
        ((X, w, 2, np.ones(4, bool)), ValueError, "exclude: expected shape"),
    ],
)
def test_topk_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        kernels.topk(*args)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_topk_non_finite_items(bad):
    Xb = X.copy()
    Xb[2, 1] = bad
    with pytest.raises(ValueError, match="X: contains NaN or inf"):
        kernels.topk(Xb, w, 2)
    with pytest.raises(ValueError, match="X: contains NaN or inf"):
        kernels.topk_batch(Xb[None], w[None], 2)


def test_topk_extreme_finite_values_do_not_overflow():
    # scores accumulate in float64: products of float32 maxima stay finite
    Xe = np.array([[3e38, 3e38], [-3e38, 3e38], [3e38, -3e38]], np.float32)
    np.testing.assert_array_equal(kernels.topk(Xe, np.array([3e38, 1.0], np.float32), 3), [0, 2, 1])


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((X, w[None], 2), {}, ValueError, "X: expected a 3-d"),
        ((X[None], np.ones((2, 3)), 2), {}, ValueError, "W: expected shape"),
        ((np.ones((0, 5, 3), np.float32), np.ones((0, 3)), 2), {}, ValueError, "B >= 1"),
        ((X[None], w[None], 0), {}, ValueError, "k: must be positive"),
        ((X[None], w[None], 2), {"threads": 0}, ValueError, "threads"),
        ((X[None], w[None], 2, np.ones((1, 4), bool)), {}, ValueError, "exclude"),
    ],
)
def test_topk_batch_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        kernels.topk_batch(*args, **kwargs)


@pytest.mark.parametrize(
    "a, b, exc, match",
    [
        ([], [], ValueError, "a: must not be empty"),
        ([1.0, np.nan], [1.0, 2.0], ValueError, "a: contains NaN"),
        ([1.0, 2.0], [1.0, np.inf], ValueError, "b: contains NaN"),
        ([1.0, 2.0], [1.0], ValueError, "b: expected the same length"),
        ([[1.0, 2.0]], [[1.0, 2.0]], ValueError, "a: expected a 1-d"),
        (["x", "y"], [1, 2], TypeError, "a: expected real"),
    ],
)
def test_discordant_pairs_bad_input(a, b, exc, match):
    with pytest.raises(exc, match=match):
        kernels.discordant_pairs(a, b)


def test_raw_binding_rejects_converted_outputs():
    """The C++ layer never copies: a wrong-dtype output buffer is an error, not a copy."""
    sim = SearchSimulator(SessionConfig(world=WorldConfig(n_queries=2, n_items=30)), 2)
    sim.reset()
    out = dict(sim._out)
    out["reward"] = np.zeros(2, np.float32)
    with pytest.raises(TypeError, match="reward: expected dtype float64"):
        sim._sim.step(np.zeros((2, 8), np.float32), out, True, 1)
    out = dict(sim._out)
    out["obs"] = np.zeros((2, sim.obs_dim), np.float32)[:, ::1].T.copy().T  # Fortran order
    with pytest.raises(ValueError, match="obs: must be C-contiguous"):
        sim._sim.step(np.zeros((2, 8), np.float32), out, True, 1)
    ro = np.zeros((2, sim.obs_dim), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="obs: output buffer must be writeable"):
        sim._sim.reset(ro, 1)


def test_simulator_bad_actions():
    sim = SearchSimulator(SessionConfig(world=WorldConfig(n_queries=2, n_items=30)), 3)
    sim.reset()
    with pytest.raises(ValueError, match="actions: expected shape"):
        sim.step(np.zeros((2, 8)))
    with pytest.raises(TypeError, match="actions: expected floating"):
        sim.step(np.zeros((3, 8), int))
    a = np.zeros((3, 8))
    a[1, 2] = np.nan
    with pytest.raises(ValueError, match="actions: contain NaN"):
        sim.step(a)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: WorldConfig(n_items=0), "n_items"),
        (lambda: WorldConfig(n_features=0), "n_features"),
        (lambda: WorldConfig(segment_probs=(0.5, 0.6, 0.0, 0.0)), "segment_probs"),
        (lambda: UserModelConfig(window=0), "window"),
        (lambda: UserModelConfig(recency=0.0), "recency"),
        (lambda: UserModelConfig(buy_bias=float("nan")), "buy_bias"),
        (lambda: SessionConfig(page_size=0), "page_size"),
        (lambda: SessionConfig(max_steps=0), "max_steps"),
        (lambda: SessionConfig(reward="ctr"), "reward"),
        (lambda: SessionConfig.from_dict({"pagesize": 3}), "pagesize: unknown field"),
        (lambda: SearchSimulator(num_sessions=0), "num_sessions"),
    ],
)
def test_bad_configs(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_world_arrays():
    from simcore.domains.search.world import make_world

    world = make_world(WorldConfig(n_queries=2, n_items=20))
    bad_prices = world.prices.copy()
    bad_prices[0, 3] = -1.0
    from dataclasses import replace

    with pytest.raises(ValueError, match="prices: must be finite and > 0"):
        SearchSimulator(world=replace(world, prices=bad_prices))
    bad_x = world.features.copy()
    bad_x[1, 1, 1] = 1.5
    with pytest.raises(ValueError, match=r"features: values must lie in \[0, 1\]"):
        SearchSimulator(world=replace(world, features=bad_x))


def test_bad_reset_to_users(small_config):
    sim = SearchSimulator(small_config, 2)
    users = sim.users()
    users["query"] = np.array([0, 99])
    with pytest.raises(ValueError, match=r'users\["query"\]: ids must lie'):
        sim.reset_to(users)
    users = sim.users()
    users["power"] = np.array([0.5, 2.0])
    with pytest.raises(ValueError, match=r'users\["power"\]: must lie'):
        sim.reset_to(users)


def test_shared_argument_checks():
    from simcore.util.checks import positive_int, thread_count

    assert thread_count(None) == 0 and thread_count(3) == 3
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="threads"):
            thread_count(bad)
    assert positive_int(5, "k") == 5
    assert positive_int(None, "top_k", none_as=0) == 0
    with pytest.raises(TypeError, match="k: expected an integer"):
        positive_int(None, "k")
    with pytest.raises(TypeError, match="top_k"):
        positive_int(1.0, "top_k", none_as=0)
    with pytest.raises(ValueError, match="k: must be positive"):
        positive_int(0, "k")


def test_to_plain_keeps_or_nulls_non_finite():
    import numpy as np

    from simcore.util.plain import to_plain

    data = {1: (np.float32(1.5), np.int64(2), np.bool_(True)), "a": np.array([np.nan, np.inf, 0.0])}
    kept = to_plain(data)
    assert kept["1"] == [1.5, 2, True] and kept["a"][1:] == [float("inf"), 0.0]
    assert isinstance(kept["a"][0], float) and kept["a"][0] != kept["a"][0]  # NaN kept
    assert to_plain(data, nonfinite_as_none=True) == {"1": [1.5, 2, True], "a": [None, None, 0.0]}
    assert type(to_plain(np.int64(2))) is int
