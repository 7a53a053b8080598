"""The old public paths keep working for this release, with a DeprecationWarning
naming the new home; the Gymnasium ids are registered on `import simcore`."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import simcore


@pytest.mark.parametrize("module, name, new_home", [
    ("simcore.core", "topk", "simcore.kernels.ranking"),
    ("simcore.core", "SearchSimulator", "simcore.domains.search.simulator"),
    ("simcore.reference", "topk", "simcore.kernels.reference"),
    ("simcore.reference", "ReferenceSessionBatch", "simcore.domains.search.reference"),
    ("simcore.config", "SessionConfig", "simcore.domains.search.config"),
    ("simcore.world", "make_world", "simcore.domains.search.world"),
    ("simcore.envs", "SearchSessionVectorEnv", "simcore.domains.search.envs"),
])
def test_old_paths_forward_with_a_warning(module, name, new_home):
    mod = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=new_home):
        obj = getattr(mod, name)
    assert obj is getattr(importlib.import_module(new_home), name)


def test_old_kernel_call_still_works():
    X = np.random.default_rng(0).random((50, 4), dtype=np.float32)
    with pytest.warns(DeprecationWarning):
        old = simcore.core.topk(X, np.ones(4), 5)
    assert np.array_equal(old, simcore.kernels.topk(X, np.ones(4), 5))


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError):
        importlib.import_module("simcore.core").nope  # noqa: B018


def test_ids_registered_on_import():
    import gymnasium as gym

    for env_id in ("simcore/SearchSession-v0", "simcore/SearchSessionDiscrete-v0", "simcore/FeatureSelection-v0"):
        assert env_id in gym.registry
