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

ENV_CONFIG = {"config": {"world": {"n_queries": 16}}, "max_steps": 10}
#: the search domain's fixed learning-to-rank weights (the ranking experiments' "ltr")
LTR = [0.0, 0.3, 0.3, 0.4, 0.0, 0.0, 0.0, 0.0]


def expected_gmv(policy, sessions: int = 20_000, seed: int = 0) -> tuple[float, float]:
    """GMV per session (mean, 95 % half-width) of ``policy`` (obs float32 (B, 46) ->
    weights float32 (B, 8)) on the same env, in C++ batches of 1,024 sessions.

    Sampled GMV is heavy-tailed (few sessions buy, prices vary a lot), so each session
    is scored by the simulator's exact expectation along its sampled path:
    sum over its pages of b_t * m_t (conversion probability times expected price of the
    page just shown), an unbiased estimate of its GMV with far less variance."""
    import gymnasium as gym
    import numpy as np

    import simcore  # noqa: F401  (registers the env ids)

    env = gym.make_vec("simcore/SearchSession-v0", num_envs=1024, vectorization_mode="vector_entry_point",
                       **ENV_CONFIG)
    obs, _ = env.reset(seed=seed)
    ret, scores = np.zeros(env.num_envs), []
    while len(scores) < sessions:
        obs, _, term, trunc, info = env.step(policy(obs))
        ret += np.where(info["outcome"] >= 0, info["b"] * info["m"], 0.0)  # outcome -1: an autoreset step
        done = term | trunc
        scores.extend(ret[done])
        ret[done] = 0.0
    x = np.array(scores[:sessions])
    return float(x.mean()), float(1.96 * x.std(ddof=1) / np.sqrt(x.size))


def fixed_policies(seed: int = 0) -> dict:
    """The references: constant LTR weights, and uniform random weights per page."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return {"fixed LTR weights": lambda obs: np.tile(np.float32(LTR), (obs.shape[0], 1)),
            "uniform random weights": lambda obs: rng.uniform(-1, 1, (obs.shape[0], 8)).astype(np.float32)}


def greedy_policy(algo):
    """The trained PPO policy's mean action (its Gaussian's mean, clipped to the Box)."""
    import numpy as np
    import torch

    module = algo.get_module()

    def act(obs):
        with torch.no_grad():
            out = module.forward_inference({"obs": torch.from_numpy(obs)})
        mean = out["action_dist_inputs"][:, :8].numpy()  # [mean, log_std] of the diagonal Gaussian
        return np.clip(mean, -1.0, 1.0).astype(np.float32)

    return act


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
        .environment("simcore/SearchSession-v0", env_config=ENV_CONFIG)
        .env_runners(num_env_runners=1, num_envs_per_env_runner=64,
                     gym_env_vectorize_mode="vector_entry_point", rollout_fragment_length=32)
        .training(train_batch_size_per_learner=2048, minibatch_size=256, num_epochs=4,
                  gamma=1.0, lr=1e-4, vf_clip_param=1e4)  # episodic GMV: rewards are prices, not O(1)
    )
    algo = config.build_algo()
    try:
        for i in range(args.iterations):
            r = algo.train()["env_runners"]
            print(f"iteration {i + 1}: GMV per session {r['episode_return_mean']:.2f} "
                  f"over {r['num_episodes']} sessions, {r['num_env_steps_sampled']} pages (sampled)")
        print("expected GMV per session, 20,000 sessions each (exact b*m along each path, 95 % CI):")
        for name, policy in {"PPO (mean action)": greedy_policy(algo), **fixed_policies()}.items():
            mean, half = expected_gmv(policy)
            print(f"  {name:<24} {mean:.3f} +- {half:.3f}")
    finally:
        algo.stop()
        ray.shutdown()


if __name__ == "__main__":
    main()
