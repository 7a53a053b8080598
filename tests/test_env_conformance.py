"""Every registered simcore env id (single and vector) against simcore.envs.conformance.

The id list comes from the Gymnasium registry: a new domain is covered by registering
its ids (add a small config to SMALL to keep it fast)."""

from __future__ import annotations

import pickle

import pytest

from simcore.envs import conformance as C
from simcore.envs.registration import simcore_env_ids

IDS = simcore_env_ids()
SMALL_SEARCH = {"config": {"world": {"n_queries": 4, "n_items": 60}}}
SMALL = {
    "simcore/SearchSession-v0": SMALL_SEARCH,
    "simcore/SearchSessionDiscrete-v0": SMALL_SEARCH,
    "simcore/FeatureSelection-v0": {"config": {"data": {"n_contexts": 40, "n_items": 60}}},
    "simcore/TieredTraffic-v0": {"config": {"session": SMALL_SEARCH["config"]}},
    "simcore/Lifecycle-v0": {"config": {"population": {"n_users": 500}, "horizon_days": 10}},
    "simcore/Autoscaling-v0": {"config": {"horizon": 20}},
}


def _kw(env_id):
    return SMALL.get(env_id, {})


def _search_sim_picklable() -> bool:
    from simcore.domains.search.simulator import SearchSimulator

    try:
        pickle.loads(pickle.dumps(SearchSimulator(num_sessions=1)))
    except Exception:
        return False
    return True


def test_ids_found():
    assert {"simcore/SearchSession-v0", "simcore/SearchSessionDiscrete-v0", "simcore/FeatureSelection-v0"} <= set(IDS)


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_checker(env_id):
    C.check_gymnasium(env_id, _kw(env_id))


@pytest.mark.parametrize("env_id", IDS)
def test_sb3_checker(env_id):
    pytest.importorskip("stable_baselines3")
    assert C.check_sb3(env_id, _kw(env_id))


@pytest.mark.parametrize("how", sorted(C.COPIERS))
@pytest.mark.parametrize("vector", [False, True], ids=["single", "vector"])
@pytest.mark.parametrize("env_id", IDS)
def test_copy_roundtrip(env_id, vector, how):
    if env_id.startswith("simcore/SearchSession") and not _search_sim_picklable():
        pytest.xfail("SearchSimulator pickling (__getstate__/__setstate__ with the C++ state) has not landed yet")
    C.check_copy_roundtrip(env_id, vector, how, _kw(env_id))


@pytest.mark.parametrize("vector", [False, True], ids=["single", "vector"])
@pytest.mark.parametrize("env_id", IDS)
def test_seeding(env_id, vector):
    C.check_seeding(env_id, vector, _kw(env_id))


@pytest.mark.parametrize("env_id", IDS)
def test_vector_seed_list(env_id):
    C.check_vector_seed_list(env_id, _kw(env_id))


@pytest.mark.parametrize("env_id", IDS)
def test_autoreset_next_step(env_id):
    C.check_autoreset(env_id, _kw(env_id))


@pytest.mark.parametrize("env_id", IDS)
def test_thread_independence(env_id):
    C.check_thread_independence(env_id, _kw(env_id))


@pytest.mark.parametrize("env_id", IDS)
def test_standard_kwargs(env_id):
    C.check_standard_kwargs(env_id, _kw(env_id))


@pytest.mark.parametrize("vector", [False, True], ids=["single", "vector"])
@pytest.mark.parametrize("env_id", IDS)
def test_bad_actions(env_id, vector):
    C.check_bad_actions(env_id, vector, _kw(env_id))
