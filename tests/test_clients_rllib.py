"""RLlib's remote env runners build simcore envs in fresh processes that never
imported simcore: via ``simcore.envs.rllib.register_rllib_envs`` (tune registry) or
the module-qualified id ``simcore:simcore/...``."""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.rllib")

from simcore.envs.rllib import make_env, module_qualified_id, register_rllib_envs  # noqa: E402

SMALL = {"config": {"world": {"n_queries": 4, "n_items": 60}}}


def test_creator_modes():
    single = make_env("simcore/SearchSession-v0", dict(SMALL))
    assert single.observation_space.shape == (46,)
    vec = make_env("simcore/SearchSessionDiscrete-v0", {**SMALL, "num_envs": 3})
    assert vec.num_envs == 3
    assert module_qualified_id("simcore/FeatureSelection-v0") == "simcore:simcore/FeatureSelection-v0"


def _ppo(env: str, env_config: dict, vectorize_mode: str = "sync"):
    from ray.rllib.algorithms.ppo import PPOConfig

    cfg = (
        PPOConfig()
        .environment(env, env_config=env_config)
        .env_runners(num_env_runners=1, num_envs_per_env_runner=2, gym_env_vectorize_mode=vectorize_mode,
                     rollout_fragment_length=32)
        .training(train_batch_size_per_learner=64, minibatch_size=32, num_epochs=1)
        .learners(num_learners=0)
    )
    algo = cfg.build_algo()
    try:
        return algo.train()
    finally:
        algo.stop()


@pytest.mark.slow
@pytest.mark.parametrize(
    "env, mode",
    [
        ("simcore/SearchSession-v0", "sync"),  # tune-registered creator, SyncVectorEnv
        ("simcore/SearchSessionDiscrete-v0", "vector_entry_point"),  # creator's num_envs -> C++-batched env
        ("simcore:simcore/SearchSession-v0", "sync"),  # no registration: gymnasium imports simcore
    ],
)
def test_ppo_remote_runners(local_ray, env, mode):
    if not env.startswith("simcore:"):
        register_rllib_envs()
    result = _ppo(env, dict(SMALL), mode)
    assert result["env_runners"]["num_env_steps_sampled"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("env_id, env_config, mode", [
    ("simcore/SearchSession-v0", dict(SMALL), "sync"),
    ("simcore/SearchSession-v0", dict(SMALL), "vector_entry_point"),  # the C++-batched vector env
    ("simcore/FeatureSelection-v0", {}, "sync"),
])
def test_ppo_episode_returns_equal_the_envs_own(local_ray, tmp_path, env_id, env_config, mode):
    """PPO for a few iterations on a remote env runner: the episode returns RLlib
    reports are those the env's own rewards add up to (every finished episode logged
    by a wrapper in the worker; with ``vector_entry_point`` the C++ vector env steps
    both sub-envs in one call and autoresets NEXT_STEP)."""
    import numpy as np
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env
    from tests.rllib_helpers import logged_env

    log = tmp_path / "episodes.txt"
    register_env("simcore-logged", logged_env)
    cfg = (
        PPOConfig()
        .environment("simcore-logged", env_config={"env_id": env_id, "episode_log": str(log), **env_config})
        .env_runners(num_env_runners=1, num_envs_per_env_runner=2, rollout_fragment_length=64,
                     gym_env_vectorize_mode=mode)
        .training(train_batch_size_per_learner=128, minibatch_size=64, num_epochs=1)
        .reporting(metrics_num_episodes_for_smoothing=100_000)
        .learners(num_learners=0)
    )
    def logged() -> np.ndarray:
        return np.array([float(line.split()[1]) for line in log.read_text().splitlines()]) if log.exists() else \
            np.zeros(0)

    algo = cfg.build_algo()
    try:
        seen = 0
        for _ in range(3):
            runner = algo.train()["env_runners"]  # metrics of this iteration's finished episodes
            rets = logged()
            kinds = {line.split()[2] for line in log.read_text().splitlines()}
            assert kinds == {"SearchSessionVectorEnv" if mode == "vector_entry_point" else "single"}  # which env stepped
            new = rets[seen:]
            seen = rets.size
            assert new.size > 0 and runner["num_episodes"] == new.size
            assert runner["num_episodes_lifetime"] == rets.size
            np.testing.assert_allclose(runner["episode_return_mean"], new.mean(), rtol=1e-5)
            np.testing.assert_allclose([runner["episode_return_min"], runner["episode_return_max"]],
                                       [new.min(), new.max()], rtol=1e-5)
    finally:
        algo.stop()
