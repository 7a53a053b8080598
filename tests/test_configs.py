"""Config ranges: every field of WorldConfig, UserModelConfig, SessionConfig and
FeatureSelectionConfig is checked at construction, naming the field; the ranges keep
the simulator's probabilities finite at their extremes; the step specs agree with
the envs."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from simcore.domains.feature_cost.env import FEATURE_SELECTION_STEP_SPEC, FeatureSelectionConfig, FeatureSelectionEnv
from simcore.domains.search.config import _USER_RANGES, SessionConfig, UserModelConfig, WorldConfig
from simcore.domains.search.envs import SearchSessionEnv, SearchSessionVectorEnv
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.spec import SEARCH_STEP_SPEC

BAD_KINDS = [True, None, "1", math.inf, -math.inf, math.nan]


def _raises_naming(make, name):
    with pytest.raises((TypeError, ValueError), match=name.replace("[", r"\[")):
        make()


@pytest.mark.parametrize("cls", [WorldConfig, UserModelConfig, FeatureSelectionConfig])
def test_every_numeric_field_rejects_bad_kinds(cls):
    for f in dataclasses.fields(cls):
        default = getattr(cls(), f.name)
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            continue
        for bad in BAD_KINDS:
            if bad is None and f.name in ("top_k", "num_threads"):
                continue  # None is a valid value there
            _raises_naming(lambda: cls(**{f.name: bad}), f.name)


def test_session_config_fields():
    for name in ("page_size", "max_steps", "num_threads"):
        for bad in (True, "3", 0, 2.0, 10**7):
            _raises_naming(lambda: SessionConfig(**{name: bad}), name)
    _raises_naming(lambda: SessionConfig(page_size=129), "page_size")
    _raises_naming(lambda: SessionConfig(world={"n_items": 3}), "world")
    _raises_naming(lambda: SessionConfig(user=None), "user")
    _raises_naming(lambda: SessionConfig(world=WorldConfig(n_features=2), user=UserModelConfig(price_feature=2)),
                   "price_feature")


def test_user_ranges_documented_and_enforced():
    doc = UserModelConfig.__doc__
    for name, (lo, hi) in _USER_RANGES.items():
        assert f"{name}:" in doc and f"[{lo:g}, {hi:g}]" in doc.replace(".0", "")
        UserModelConfig(**{name: lo})
        UserModelConfig(**{name: hi})
        _raises_naming(lambda: UserModelConfig(**{name: hi + 1}), name)
        _raises_naming(lambda: UserModelConfig(**{name: lo - 1}), name)
    _raises_naming(lambda: UserModelConfig(window=65), "window")
    _raises_naming(lambda: UserModelConfig(recency=0.0), "recency")
    _raises_naming(lambda: UserModelConfig(anchor=math.inf), "anchor")
    _raises_naming(lambda: UserModelConfig(buy_bias=math.inf), "buy_bias")
    _raises_naming(lambda: UserModelConfig(price_fit=math.inf), "price_fit")


def test_world_ranges():
    _raises_naming(lambda: WorldConfig(seed=None), "seed")
    _raises_naming(lambda: WorldConfig(seed=-1), "seed")
    _raises_naming(lambda: WorldConfig(n_features=65), "n_features")
    _raises_naming(lambda: WorldConfig(segment_probs=(0.5, 0.5, True, 0.0)), r"segment_probs")
    _raises_naming(lambda: WorldConfig(segment_probs="abcd"), "segment_probs")
    _raises_naming(lambda: WorldConfig(price_log_mean=1e9), "price_log_mean")
    assert WorldConfig(n_items=np.int64(7)).n_items == 7 and type(WorldConfig(n_items=np.int64(7)).n_items) is int


def test_defaults_and_experiment_values_accepted():
    SessionConfig()
    FeatureSelectionConfig()
    UserModelConfig(leave_frustration=12.0)
    UserModelConfig(buy_bias=-4.5, price_fit=1.0, anchor=0.0)  # the ranking study's shift
    WorldConfig(price_log_sd_item=0.4)  # the discount study's catalogue


@pytest.mark.parametrize("extreme", ["lo", "hi"])
def test_probabilities_finite_at_range_extremes(extreme):
    """Every user-model field at an end of its range (others default), on a world at
    the ends of its ranges: b, l, c, m, clicks and rewards stay finite."""
    world = WorldConfig(n_queries=2, n_items=40, n_features=16, pref_scale=5.0, price_log_mean=20.0 if extreme == "hi"
                        else -20.0, price_log_sd_query=3.0, price_log_sd_item=3.0)
    every = {n: (lo if extreme == "lo" else hi) for n, (lo, hi) in _USER_RANGES.items()}
    for name, (lo, hi) in [*_USER_RANGES.items(), ("all", (None, None))]:
        user = UserModelConfig(**(every if name == "all" else {"pref_noise": 5.0, name: lo if extreme == "lo" else hi}))
        sim = SearchSimulator(SessionConfig(world=world, user=user, max_steps=4, num_threads=1), 16, seed=1)
        sim.reset()
        for _ in range(4):  # the exact expectations, then sampled steps
            r = sim.step(np.ones((16, 16)), sample=False)
            assert all(np.all(np.isfinite(getattr(r, k))) for k in ("reward", "b", "l", "c", "m")), (name, extreme)
        sim.reset()
        rng = np.random.default_rng(0)
        for _ in range(4):
            r = sim.step(rng.uniform(-1, 1, (16, 16)))
            for k in ("reward", "b", "l", "c", "m", "expected_clicks", "obs"):
                assert np.all(np.isfinite(getattr(r, k))), (name, extreme, k)


def test_feature_selection_config():
    _raises_naming(lambda: FeatureSelectionConfig(loss_threshold=1.5), "loss_threshold")
    FeatureSelectionConfig(loss="kl", loss_threshold=3.0)
    _raises_naming(lambda: FeatureSelectionConfig(kl_temperature=0.0), "kl_temperature")
    _raises_naming(lambda: FeatureSelectionConfig(top_k=True), "top_k")
    _raises_naming(lambda: FeatureSelectionConfig(data=None), "data")


def test_search_spec_matches_env_and_simulator():
    env = SearchSessionEnv({"world": {"n_queries": 4, "n_items": 60}})
    obs, info = env.reset(seed=0)
    parts = SEARCH_STEP_SPEC.split_obs(obs, env.dims)
    assert parts["power"][0] == np.float32(info["power"])
    assert parts["segment"].argmax() == info["segment"] and parts["segment"].sum() == 1
    assert parts["progress"][0] == 0 and not parts["pages"].any()
    _, _, _, _, step_info = env.step(env.action_space.sample())
    assert tuple(step_info) == SEARCH_STEP_SPEC.info_keys
    vec = SearchSessionVectorEnv(3, {"world": {"n_queries": 4, "n_items": 60}})
    vec.reset(seed=0)
    out = vec.step(vec.action_space.sample())
    bufs = SEARCH_STEP_SPEC.buffers(3, vec.dims)
    for k, v in out[4].items():
        assert v.dtype == bufs[k].dtype and v.shape == bufs[k].shape, k
    for k, v in zip(("obs", "reward", "terminated", "truncated"), out[:4]):
        assert v.dtype == bufs[k].dtype and v.shape == bufs[k].shape, k


def test_feature_selection_spec_matches_env():
    env = FeatureSelectionEnv({"data": {"n_contexts": 10, "n_items": 20}})
    obs, info = env.reset(seed=0)
    parts = FEATURE_SELECTION_STEP_SPEC.split_obs(obs, env.core.dims)
    assert np.array_equal(parts["context"], env.core.data.context[info["context"]])
    assert parts["step"][0] == 1 and parts["progress"][0] == 0
    for _ in range(env.core.n):
        *_, info = env.step(1)
    assert tuple(info) == FEATURE_SELECTION_STEP_SPEC.info_keys
