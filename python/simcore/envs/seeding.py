"""Seed conventions shared by every simcore env."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from gymnasium.utils import seeding

from simcore.envs.standard import fresh_seed, per_env_seeds


def seed_to_int(seed: object) -> int:
    """An int seed, or a sequence of ints hashed into one 63-bit seed."""
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed: must be non-negative, got {seed}")
        return int(seed)
    if isinstance(seed, (list, tuple)) and seed and all(isinstance(s, numbers.Integral) for s in seed):
        return int(np.random.SeedSequence([int(s) for s in seed]).generate_state(1, np.uint64)[0] >> 1)
    raise TypeError(f"seed: expected an int, a list of ints or None, got {seed!r}")


def fold_seeds(seeds: Sequence[int | None]) -> int:
    """One batch seed from per-sub-env seeds (None entries: fresh entropy).

    ``[s] * B`` folds to s itself (so it equals the int seed s); any other list to a
    63-bit SeedSequence hash of its entries, the same list always to the same seed.
    """
    filled = [fresh_seed() if s is None else int(s) for s in seeds]
    if filled and all(s == filled[0] for s in filled):
        return filled[0]
    return int(np.random.SeedSequence(filled).generate_state(1, np.uint64)[0] >> 1)


def batch_reset_seed(env: object, seed: object) -> int | None:
    """Gymnasium's int/None reset-seed convention for a batched env: the batch seed to
    apply at this reset, or None to continue the current streams.

    An int ``seed`` re-seeds ``env.np_random`` with it and is returned; with no seed,
    the first reset of an env never seeded draws a fresh batch seed from
    ``env.np_random``; later unseeded resets continue (None).  Sets ``env._seeded``.
    (A per-sub-env seed list is each env's own business: its streams differ.)
    """
    out: int | None = None
    if seed is not None:
        out = seed_to_int(seed)
        env._np_random, env._np_random_seed = np.random.default_rng(out), out  # type: ignore[attr-defined]
    elif not getattr(env, "_seeded", False):
        out = int(env.np_random.integers(0, 2**63 - 1))  # type: ignore[attr-defined]
    env._seeded = True  # type: ignore[attr-defined]
    return out


def single_env_seeds(seed: object, num_envs: int) -> list[int]:
    """The simulator seed of each sub-env for a Gymnasium seed list: entry i (an int in
    [0, 2**64 - 1], or None for fresh entropy) gives what a single env's
    ``reset(seed=seed[i])`` passes to its one-slot simulator,
    ``np_random(seed[i]).integers(0, 2**63 - 1)`` (gymnasium.utils.seeding), so that
    sub-env i of a vector env replays the single env seeded with seed[i].

    Raises ValueError naming seed for a wrong length or an out-of-range entry, TypeError
    naming ``seed[i]`` for a non-integer entry."""
    out = []
    for i, s in enumerate(per_env_seeds(seed, num_envs)):
        if s is not None and s >= 1 << 64:
            raise ValueError(f"seed[{i}]: must lie in [0, 2**64 - 1], got {s}")
        rng, _ = seeding.np_random(s)
        out.append(int(rng.integers(0, 2**63 - 1)))
    return out


def apply_vector_reset_seed(env: object, sim: object, seed: object) -> None:
    """Gymnasium's reset seed for a vector env over one batched simulator with
    ``seed(int)`` and ``seed_slots(list)``: a per-sub-env seed list gives each slot the
    stream of the single env seeded with its entry (:func:`single_env_seeds`) and
    re-seeds ``env.np_random`` with their fold; an int or None follows
    :func:`batch_reset_seed`."""
    if isinstance(seed, (list, tuple, np.ndarray)):
        slot_seeds = single_env_seeds(seed, env.num_envs)  # type: ignore[attr-defined]
        folded = fold_seeds(slot_seeds)
        env._np_random, env._np_random_seed = np.random.default_rng(folded), folded  # type: ignore[attr-defined]
        sim.seed_slots(slot_seeds)  # type: ignore[attr-defined]
        env._seeded = True  # type: ignore[attr-defined]
    elif (s := batch_reset_seed(env, seed)) is not None:
        sim.seed(s)  # type: ignore[attr-defined]
