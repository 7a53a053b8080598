"""Reusable conformance checks for every simcore env id (single and vector).

Plain functions raising AssertionError (no pytest needed); ``tests/test_env_conformance.py``
runs them over :func:`simcore.envs.registration.simcore_env_ids`, so a new domain is
covered by registering its ids.  ``kwargs`` are passed to every ``gymnasium.make`` /
``make_vec`` (e.g. a small config that keeps the checks fast).

What is checked: Gymnasium's (and, if installed, SB3's) env checker; pickle /
deepcopy / cloudpickle round trips mid-episode continuing identically; seeding (same
seed -> same trajectory, different seeds -> different, ``reset(seed=None)`` after a
seeded reset continues the stream deterministically; vector seed lists); NEXT_STEP
autoreset of the vector env; independence of ``num_threads``; the standard keywords
``render_mode`` and ``max_episode_steps``; bad actions raising TypeError/ValueError.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

__all__ = [
    "make_single", "make_vector", "rollout", "assert_same", "check_gymnasium", "check_sb3",
    "check_copy_roundtrip", "check_seeding", "check_vector_seed_list", "check_autoreset",
    "check_thread_independence", "check_standard_kwargs", "check_bad_actions", "COPIERS",
]

Kwargs = Mapping[str, Any]


def _cloudpickle(obj: Any) -> Any:
    import cloudpickle

    return pickle.loads(cloudpickle.dumps(obj))


#: name -> function returning an independent copy of an env.
COPIERS: dict[str, Callable[[Any], Any]] = {
    "pickle": lambda e: pickle.loads(pickle.dumps(e)),
    "deepcopy": copy.deepcopy,
    "cloudpickle": _cloudpickle,
}


def make_single(env_id: str, kwargs: Kwargs | None = None, **extra: Any) -> gym.Env:
    """``gymnasium.make(env_id, **kwargs, **extra)``."""
    return gym.make(env_id, **{**dict(kwargs or {}), **extra})


def make_vector(env_id: str, num_envs: int = 3, kwargs: Kwargs | None = None, **extra: Any) -> gym.vector.VectorEnv:
    """The id's own vector env (``vector_entry_point``) of ``num_envs`` sub-envs."""
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point",
                        **{**dict(kwargs or {}), **extra})


def _is_vector(env: Any) -> bool:
    return isinstance(env, gym.vector.VectorEnv)


def rollout(env: Any, n_steps: int, action_seed: int = 0) -> list[tuple]:
    """``n_steps`` steps under actions sampled from the seeded action space (single
    envs are reset after an episode ends); a list of step tuples (obs, reward,
    terminated, truncated, info) plus ("reset", obs, info) entries."""
    space = env.action_space
    space.seed(action_seed)
    out: list[tuple] = []
    for _ in range(n_steps):
        step = env.step(space.sample())
        out.append(step)
        if not _is_vector(env) and (step[2] or step[3]):
            out.append(("reset", *env.reset()))
    return out


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """Recursive exact equality of env outputs (arrays, dicts, tuples, scalars)."""
    if isinstance(a, dict) or isinstance(b, dict):
        assert isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys differ"
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)) and not isinstance(a, str):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert np.array_equal(np.asarray(a), np.asarray(b)), f"{where}: arrays differ"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def check_gymnasium(env_id: str, kwargs: Kwargs | None = None) -> None:
    """gymnasium's ``check_env`` on the unwrapped single env."""
    from gymnasium.utils.env_checker import check_env

    env = make_single(env_id, kwargs)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def check_sb3(env_id: str, kwargs: Kwargs | None = None) -> bool:
    """SB3's ``check_env`` (warnings are errors); False when SB3 is not installed."""
    try:
        from stable_baselines3.common.env_checker import check_env
    except ImportError:
        return False
    import warnings

    env = make_single(env_id, kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, warn=True)
    env.close()
    return True


def check_copy_roundtrip(env_id: str, vector: bool, how: str = "pickle", kwargs: Kwargs | None = None,
                         warmup: int = 3, n_steps: int = 25) -> None:
    """A copy taken mid-episode (after ``warmup`` steps) continues exactly as the
    original under the same actions."""
    env = make_vector(env_id, 3, kwargs) if vector else make_single(env_id, kwargs)
    env.reset(seed=11)
    rollout(env, warmup, action_seed=1)
    twin = COPIERS[how](env)
    assert twin is not env
    # The original runs first: a copy sharing state with it would then diverge.
    assert_same(rollout(env, n_steps, 2), rollout(twin, n_steps, 2), f"{env_id} {how} copy")


def _trajectory(env_id: str, vector: bool, kwargs: Kwargs | None, seed: Any, n: int = 30) -> list:
    env = make_vector(env_id, 3, kwargs) if vector else make_single(env_id, kwargs)
    first = env.reset(seed=seed)
    steps = rollout(env, n, 5)
    again = env.reset()  # seed=None continues the stream
    return [first, steps, again, rollout(env, n, 6)]


def check_seeding(env_id: str, vector: bool, kwargs: Kwargs | None = None) -> None:
    """Same seed -> identical trajectories (including after ``reset(seed=None)``);
    different seeds -> different ones; the unseeded reset starts a new episode."""
    a = _trajectory(env_id, vector, kwargs, 7)
    assert_same(a, _trajectory(env_id, vector, kwargs, 7), f"{env_id} same seed")
    _assert_differ(a, _trajectory(env_id, vector, kwargs, 8), f"{env_id}: seeds 7 and 8")
    # reset(seed=None) continues the stream: not a restart of the seeded episode.
    fresh = make_vector(env_id, 3, kwargs) if vector else make_single(env_id, kwargs)
    restart = [fresh.reset(seed=7), rollout(fresh, 30, 6)]
    _assert_differ(a[2:], restart, f"{env_id}: reset() after a seeded episode restarted the stream")


def _assert_differ(a: Any, b: Any, what: str) -> None:
    try:
        assert_same(a, b)
    except AssertionError:
        return
    raise AssertionError(f"{what} gave identical trajectories")


def check_vector_seed_list(env_id: str, kwargs: Kwargs | None = None, num_envs: int = 3) -> None:
    """Seed lists: wrong length -> ValueError naming seed; the same list -> the same
    trajectories; None entries accepted; ``[s] * B`` and ``s`` both accepted."""
    env = make_vector(env_id, num_envs, kwargs)
    for bad in ([1] * (num_envs + 1), [1] * (num_envs - 1)):
        try:
            env.reset(seed=bad)
        except ValueError as e:
            assert "seed" in str(e), f"{env_id}: the error does not name seed: {e}"
        else:
            raise AssertionError(f"{env_id}: reset(seed=list of {len(bad)}) with {num_envs} sub-envs did not raise")
    seeds = list(range(20, 20 + num_envs))

    def run(seed: Any) -> list:
        e = make_vector(env_id, num_envs, kwargs)
        return [e.reset(seed=seed), rollout(e, 12, 9)]

    assert_same(run(seeds), run(seeds), f"{env_id} same seed list")
    env.reset(seed=[None] * num_envs)
    env.reset(seed=[5] * num_envs)


def _run_until_done(env: Any, max_steps: int, every: bool) -> np.ndarray:
    """Steps (actions seeded 0) until some (every=False) or every slot is done;
    returns the bool (B,) done mask."""
    env.action_space.seed(0)
    for _ in range(max_steps):
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        done = np.logical_or(term, trunc)
        if done.all() or (done.any() and not every):
            return done
    raise AssertionError(f"no slot finished within {max_steps} steps")


def check_autoreset(env_id: str, kwargs: Kwargs | None = None, num_envs: int = 3, max_steps: int = 200) -> None:
    """NEXT_STEP autoreset: metadata says so; the step after a slot's last one
    returns reward 0, no termination / truncation, and (checked with one slot) the
    observation that ``reset()`` would have given at that point."""
    env = make_vector(env_id, num_envs, kwargs)
    assert env.metadata.get("autoreset_mode") == AutoresetMode.NEXT_STEP, f"{env_id}: autoreset_mode"
    env.reset(seed=3)
    done = _run_until_done(env, max_steps, every=False)
    _, reward, term, trunc, _ = env.step(env.action_space.sample())
    assert np.all(reward[done] == 0), f"{env_id}: the autoreset step has a non-zero reward"
    assert not np.any(term[done]) and not np.any(trunc[done]), f"{env_id}: the autoreset step ends an episode"
    obs = []
    for explicit in (False, True):
        one = make_vector(env_id, 1, kwargs)
        one.reset(seed=3)
        _run_until_done(one, max_steps, every=True)
        obs.append(one.reset()[0] if explicit else one.step(one.action_space.sample())[0])
    assert_same(obs[0], obs[1], f"{env_id} autoreset obs vs reset()")


def check_thread_independence(env_id: str, kwargs: Kwargs | None = None, num_envs: int = 300) -> None:
    """Results identical for ``num_threads`` 1 and 2 (a batch large enough to split)."""
    runs = []
    for threads in (1, 2):
        env = make_vector(env_id, num_envs, kwargs, num_threads=threads)
        runs.append([env.reset(seed=4), rollout(env, 8, 1)])
    assert_same(runs[0], runs[1], f"{env_id} num_threads")


def check_standard_kwargs(env_id: str, kwargs: Kwargs | None = None, limit: int = 2) -> None:
    """``render_mode`` (None, each declared mode; an undeclared one raises TypeError,
    which SB3's make_vec_env retries without) and ``max_episode_steps`` (the vector
    env truncates itself at min(horizon, limit))."""
    env = make_single(env_id, kwargs, render_mode=None)
    for mode in env.metadata.get("render_modes", []):
        make_single(env_id, kwargs, render_mode=mode).close()
    env.close()
    if "rgb_array" not in env.metadata.get("render_modes", []):
        try:
            make_single(env_id, kwargs, render_mode="rgb_array")
        except TypeError as e:
            assert "render_mode" in str(e), f"{env_id}: the error does not name render_mode: {e}"
        else:
            raise AssertionError(f"{env_id}: an undeclared render_mode was accepted")
    make_vector(env_id, 2, kwargs, render_mode=None).close()
    vec = make_vector(env_id, 3, kwargs, max_episode_steps=limit)
    vec.reset(seed=0)
    vec.action_space.seed(0)
    alive = np.ones(3, bool)
    for t in range(1, limit + 1):
        _, _, term, trunc, _ = vec.step(vec.action_space.sample())
        assert not np.any(trunc[alive]) or t == limit, f"{env_id}: truncated before max_episode_steps"
        alive &= ~term
    assert np.all(trunc[alive]), f"{env_id}: not truncated at max_episode_steps={limit}"
    single = make_single(env_id, kwargs, max_episode_steps=limit)
    single.reset(seed=0)
    for _ in range(limit):
        *_, term, trunc, _ = single.step(single.action_space.sample())
        if term:
            break
    assert term or trunc, f"{env_id}: gymnasium.make(max_episode_steps) did not end the episode"


def _expect_error(fn: Callable[[], Any], what: str) -> None:
    try:
        fn()
    except (TypeError, ValueError) as e:
        assert "action" in str(e), f"{what}: the error does not name the action: {e}"
    else:
        raise AssertionError(f"{what}: accepted")


def check_bad_actions(env_id: str, vector: bool, kwargs: Kwargs | None = None) -> None:
    """Non-integer actions of a Discrete space (float, str, bool), out-of-range ones,
    non-numeric or mis-shaped weights of a Box space raise TypeError / ValueError
    naming the action."""
    env = make_vector(env_id, 2, kwargs) if vector else make_single(env_id, kwargs)
    env.reset(seed=0)
    space = env.single_action_space if vector else env.action_space
    wrap = (lambda a: np.array([a, a], dtype=object if isinstance(a, str) else None)) if vector else (lambda a: a)
    if isinstance(space, gym.spaces.Discrete):
        bad = [2.7, "1", space.n, -1] + ([] if vector else [True, np.bool_(True)])
        if vector:
            bad.append(True)
        for a in bad:
            _expect_error(lambda: env.step(wrap(a)), f"{env_id}: action {a!r}")
    else:
        shape = (2, *space.shape) if vector else space.shape
        for a in (np.full(shape, "1"), np.zeros((*shape[:-1], shape[-1] + 1)), np.full(shape, np.nan)):
            _expect_error(lambda: env.step(a), f"{env_id}: action dtype {a.dtype} shape {a.shape}")
    env.close()
