"""PPO from RLlib on simcore's C++-batched search env, on a local Ray.

    pip install "simcore[clients]"        # torch 2.13.0, ray[rllib] 2.60.0
    python examples/rllib_ppo.py [--iterations 5] [--address ADDR]

``register_rllib_envs()`` makes every ``simcore/...`` id known to Ray's workers (which
never imported simcore); with ``gym_env_vectorize_mode="vector_entry_point"`` each env
runner steps all its sub-envs in one C++ call (NEXT_STEP autoreset, as RLlib assumes).
``env_config`` is the env's keyword arguments: here a smaller world and 10 pages.
"""

from __future__ import annotations

import argparse
import os


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--address", default=None, help="Ray cluster (default: a local Ray on 2 CPUs)")
    args = p.parse_args()

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray
    from ray.rllib.algorithms.ppo import PPOConfig

    from simcore.envs.rllib import register_rllib_envs

    ray.init(address=args.address) if args.address else ray.init(num_cpus=2, include_dashboard=False)
    register_rllib_envs()
    config = (
        PPOConfig()
        .environment("simcore/SearchSession-v0",
                     env_config={"config": {"world": {"n_queries": 16}}, "max_steps": 10})
        .env_runners(num_env_runners=1, num_envs_per_env_runner=64,
                     gym_env_vectorize_mode="vector_entry_point", rollout_fragment_length=32)
        .training(train_batch_size_per_learner=2048, minibatch_size=256, num_epochs=4)
    )
    algo = config.build_algo()
    try:
        for i in range(args.iterations):
            r = algo.train()["env_runners"]
            print(f"iteration {i + 1}: GMV per session {r['episode_return_mean']:.2f} "
                  f"over {r['num_episodes']} sessions, {r['num_env_steps_sampled']} pages")
    finally:
        algo.stop()
        ray.shutdown()


if __name__ == "__main__":
    main()
