"""The learned policies of the engine-cost run, one runner job per policy and training
seed: train a learner on the training requests, then read its greedy subsets on the
held-out requests.  Each job sets torch to one thread and deterministic algorithms, so
a job's result depends only on its kwargs (not on the worker, the backend or the
order jobs run in)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simcore.domains.feature_cost.data import FeatureCostData
from simcore.domains.feature_cost.env import FeatureSelectionConfig
from simcore.experiments.engine_cost.analysis import thin
from simcore.experiments.engine_cost.config import EngineCostConfig
from simcore.runner import Job, SeedTree

__all__ = ["LearnerSpec", "learner_jobs", "train_learner", "job_key"]

#: the training-curve fields kept in results.json
HISTORY_KEYS = ("return", "loss", "cost", "penalized")


@dataclass(frozen=True)
class LearnerSpec:
    """One learned policy.

    Attributes:
        key: its results key (e.g. ``"actor-critic pairs C=0.05"``).
        agent: the learner's name (``AGENTS`` key).
        env: the reward of its training env (loss definition, threshold C or relaxed
            lambda).
        loss: the loss definition it is trained and measured with (``"pairs"``,
            ``"top-k"``, ``"kl"``).
        C: the threshold it is measured at (None for a lambda run).
        lam: the lambda it is measured at (None for a threshold run).
        seeds: one seed per training seed (network init, sampling, training env);
            seed i is the named path ``("learner", key, i)``.
    """

    key: str
    agent: str
    env: FeatureSelectionConfig
    loss: str = "pairs"
    C: float | None = None
    lam: float | None = None
    seeds: tuple[int, ...] = ()


def train_learner(
    agent: str,
    agent_config: Any,
    env_config: FeatureSelectionConfig,
    train_data: FeatureCostData,
    test: FeatureCostData,
    fill: np.ndarray,
    num_envs: int,
    iterations: int,
    seed: int,
    progress: Callable[[float], None] | None = None,
) -> tuple[np.ndarray, dict[str, list[float]]]:
    """Trains one learner and returns its greedy subsets and thinned training curves.

    The training env (``num_envs`` slots over ``train_data``) is reset once with
    ``seed``; every iteration plays one episode per slot and makes one update
    (the shared loop :func:`simcore.train.loop.train` over
    :func:`simcore.domains.feature_cost.training.make_collector`).  The learner is seeded with
    ``seed`` and has one policy head per feature.

    Returns:
        bool (Q, n) greedy masks on the Q ``test`` requests, and the history thinned
        to :data:`HISTORY_KEYS` (see :func:`~simcore.experiments.engine_cost.analysis.thin`).
    """
    import torch

    from simcore.domains.feature_cost.agents import AGENTS
    from simcore.domains.feature_cost.env import FeatureSelectionVectorEnv
    from simcore.domains.feature_cost.training import greedy_masks, make_collector
    from simcore.train.loop import LoopConfig, train

    threads_before = torch.get_num_threads()
    det_before = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)  # small networks: one thread is fastest and deterministic
    torch.use_deterministic_algorithms(True)
    try:
        env = FeatureSelectionVectorEnv(num_envs, env_config, data=train_data, fill=fill)
        env.reset(seed=seed)
        learner = AGENTS[agent](env.core.obs_dim, dataclasses.replace(agent_config, seed=seed, heads=env.core.n))
        tick = (lambda rec: progress(1.0)) if progress is not None else None
        hist = train(learner, make_collector(env), LoopConfig(iterations=iterations), on_iteration=tick)
        test_env = FeatureSelectionVectorEnv(min(num_envs, len(test)), env_config, data=test, fill=fill)
        test_env.reset(seed=SeedTree(seed).seed("greedy"))
        masks = greedy_masks(test_env, learner, np.arange(len(test)))
        return masks, thin(hist, HISTORY_KEYS)
    finally:
        torch.set_num_threads(threads_before)
        torch.use_deterministic_algorithms(det_before)


def job_key(spec: LearnerSpec, i: int) -> str:
    """The runner key of training seed i of a learner."""
    return f"{spec.key} seed={i}"


def learner_jobs(cfg: EngineCostConfig, specs: Sequence[LearnerSpec], train_data: FeatureCostData,
                 test: FeatureCostData, fill: np.ndarray) -> list[Job]:
    """One :class:`~simcore.runner.Job` of :func:`train_learner` per spec and training
    seed, spec-major (its work: ``cfg.iterations`` ticks)."""
    return [
        Job(
            key=job_key(s, i),
            fn=train_learner,
            kwargs=dict(agent=s.agent, agent_config=cfg.agent, env_config=s.env, train_data=train_data, test=test,
                        fill=fill, num_envs=cfg.num_envs, iterations=cfg.iterations, seed=seed),
            seed_path=("learner", s.key, i),
            work=float(cfg.iterations),
            ticks=True,
        )
        for s in specs
        for i, seed in enumerate(s.seeds)
    ]
