"""``simcore/FeatureSelection-v0``: decide, feature by feature, which ranking features
the engine computes for a search request (seed article, section 引擎性能优化).

Episode = one request (user u, query q) with its candidate set.  At step k = 0..n-1
the agent decides feature k: action 1 = Eval (compute it), 0 = Skip (the ranker
uses the feature's population mean instead).  After the last decision the request is
ranked with the chosen subset and compared with the full-feature ranking.

Observation (float32 (8 + 2n + 1,), all in [0, 1]) -- the article's
s = (age, sex, power, query features, a_1..a_n, current_step):
    age, sex, power, query category one-hot (4), query long-tail degree,
    decisions a_1..a_n so far (1 = Eval; 0 = Skip or not decided yet), k / n,
    and the current step k one-hot (n; all zero once every feature is decided), so
    that a policy network tells the features apart without decoding k / n.

Reward, and its sign convention.  The article writes R = R^ + T with R^(s_k, a_k) =
c_k for Eval (0 for Skip) and T(s_k, a_k) = r_p when the pairwise loss t exceeds C:
both are *costs* the agent must avoid.  Here rewards are what the agent maximises:

    r_k = -c_k / sum_j c_j   if a_k = Eval (a fraction of the full cost), 0 if Skip,
          - penalty * (v_k - v_{k-1}) - loss_weight * (t_k - t_{k-1})   ("step", default)
          - penalty * v_n - loss_weight * t_n  at the last step only      ("final")

with ``penalty`` = r_p >= 0 given as a magnitude and v_k = [t_k > C], where t_k is
the pairwise loss (a fraction of the counted pairs: all pairs, or the pairs touching
the full top-k with ``top_k``) of the ranking with the features skipped so far (the
undecided ones counted as evaluated), t_0 = v_0 = 0.  In "step" mode the article's T
is charged at the step whose Skip breaks the ranking (and refunded should a later
decision bring the loss back under C): potential-based shaping with potential
-r_p v_k - lambda t_k.  Both modes give the same episode return

    -cost_fraction(S) - penalty * [loss(S) > C] - loss_weight * loss(S)

(all features: -1); "step" tells the agent at once which decision broke the ranking.
``loss_weight`` = lambda > 0 (default 0) adds the article's relaxed objective
(eq. 2, min_S D + lambda |S|, here with |S| weighted by cost and divided through by
lambda): with ``penalty=0`` the agent minimises cost_fraction + lambda * loss.
``loss="kl"`` measures t with eq. 2's D(F_o || F_a) instead: the KL divergence between
the softmax distributions (temperature ``kl_temperature``) of the full and the subset
scores over the request's candidates, with C then a KL value (nats).

The vector env (``gymnasium.make_vec``) steps B requests at once and ranks them with
one batched C++ call; every episode has exactly n steps, so all slots end together
(NEXT_STEP autoreset: the step after the last one resets every slot, reward 0).
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from typing import Any, Mapping

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from simcore.envs.ranges import check_int, check_real
from simcore.envs.registration import register_envs
from simcore.envs.seeding import seed_to_int
from simcore.envs.spec import Field, ObsSlice, StepSpec
from simcore.envs.standard import check_max_episode_steps, check_render_mode, discrete_action, fresh_seed, per_env_seeds
from simcore.domains.feature_cost.data import CONTEXT_NAMES, FeatureCostData, FeatureCostDataConfig, generate
from simcore.domains.feature_cost.kernels import cost_totals, feature_mean, subset_eval

__all__ = ["FeatureSelectionConfig", "FeatureSelectionEnv", "FeatureSelectionVectorEnv", "FEATURE_SELECTION_STEP_SPEC",
           "SKIP", "EVAL"]

SKIP, EVAL = 0, 1

#: The step spec; dims: ``n`` features, ``C`` = len(CONTEXT_NAMES) (8), ``D`` obs size.
#: The info fields come only with the last decision of an episode.
FEATURE_SELECTION_STEP_SPEC = StepSpec(
    name="feature_selection",
    fields=(
        Field("obs", "float32", ("D",), "next observation, in [0, 1] (layout: obs_layout)"),
        Field("reward", "float64", (), "minus the cost fraction of an Eval, minus penalty / loss terms"),
        Field("terminated", "bool", (), "every feature has been decided"),
        Field("truncated", "bool", (), "max_episode_steps was reached first"),
        Field("loss", "float64", (), "the configured loss t of the chosen subset"),
        Field("cost", "float64", (), "cost of the chosen subset, a fraction of the full cost"),
        Field("penalized", "bool", (), "the loss exceeded C"),
        Field("mask", "bool", ("n",), "the chosen subset (True = Eval)"),
        Field("context", "int64", (), "index of the request in the pool"),
    ),
    obs_layout=(
        ObsSlice("context", "C", "request context: " + ", ".join(CONTEXT_NAMES)),
        ObsSlice("decisions", "n", "1 = Eval; 0 = Skip or not decided yet"),
        ObsSlice("progress", 1, "k / n"),
        ObsSlice("step", "n", "current step k one-hot (all zero once every feature is decided)"),
    ),
)


@dataclass(frozen=True)
class FeatureSelectionConfig:
    """The feature-selection task.

    Attributes:
        data: how to generate the pool of requests (ignored when a data set is passed
            to the env); a FeatureCostDataConfig (checks its own fields).
        loss_threshold: C, the largest tolerated loss: a fraction of pairs in [0, 1]
            for ``loss="pairwise"``, nats, finite, in [0, 1e6] for ``loss="kl"``.
        penalty: r_p, charged when the loss exceeds C; finite, in [0, 1e6].  Above
            1 (the cost of all features) breaking the ranking is never worth it.
        loss_weight: lambda, weight of the loss itself in the reward; finite, in
            [0, 1e6].
        penalty_mode: "step" (charged when the loss of the decisions so far crosses
            C) or "final" (charged at the last step); the same episode return.
        top_k: None: the loss counts all pairs; k: only pairs touching the full top-k
            (pairwise loss only); integer in [1, 10**6].
        loss: "pairwise" (the reward's t, default) or "kl" (eq. 2's D(F_o || F_a)).
        kl_temperature: T of the softmax distributions of the KL loss; finite, in
            (0, 1e6].
        num_threads: threads of the ranking kernel (None: all cores); else integer
            in [1, 1024].

    Checked at construction: TypeError for a value of the wrong kind (bool, None,
    str where a number is expected), ValueError out of range, both naming the field.
    """

    data: FeatureCostDataConfig = field(default_factory=FeatureCostDataConfig)
    loss_threshold: float = 0.05
    penalty: float = 2.0
    loss_weight: float = 0.0
    penalty_mode: str = "step"
    top_k: int | None = None
    loss: str = "pairwise"
    kl_temperature: float = 1.0
    num_threads: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.data, FeatureCostDataConfig):
            raise TypeError(f"data: expected a FeatureCostDataConfig, got {type(self.data).__name__}")
        if self.loss not in ("pairwise", "kl"):
            raise ValueError(f"loss: must be 'pairwise' or 'kl', got {self.loss!r}")
        check_real("kl_temperature", self.kl_temperature, 0.0, 1e6, lo_open=True)
        check_real("loss_threshold", self.loss_threshold, 0.0, 1.0 if self.loss == "pairwise" else 1e6)
        check_real("penalty", self.penalty, 0.0, 1e6)
        check_real("loss_weight", self.loss_weight, 0.0, 1e6)
        if self.penalty_mode not in ("step", "final"):
            raise ValueError(f"penalty_mode: must be 'step' or 'final', got {self.penalty_mode!r}")
        if self.top_k is not None:
            check_int("top_k", self.top_k, 1, 10**6)
        if self.num_threads is not None:
            check_int("num_threads", self.num_threads, 1, 1024)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "FeatureSelectionConfig":
        """From a (nested) dict; ``data`` may be a dict; unknown keys raise ValueError."""
        d = dict(d or {})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown FeatureSelectionConfig keys: {sorted(unknown)}")
        if isinstance(d.get("data"), Mapping):
            d["data"] = FeatureCostDataConfig(**d["data"])
        return cls(**d)


def _resolve(config: FeatureSelectionConfig | Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> FeatureSelectionConfig:
    if isinstance(config, FeatureSelectionConfig):
        return dataclasses.replace(config, **overrides) if overrides else config
    if config is not None and not isinstance(config, Mapping):
        raise TypeError(f"config: expected FeatureSelectionConfig, dict or None, got {type(config).__name__}")
    return FeatureSelectionConfig.from_dict({**dict(config or {}), **overrides})


def _canonical(a: np.ndarray) -> np.ndarray:
    """A view of ``a`` with NumPy's canonical instance of its dtype."""
    return a.view(np.dtype(a.dtype.str)) if a.dtype.fields is None else a


class _Core:
    """The batched episode logic shared by the single and the vector env."""

    def __init__(self, B: int, config: FeatureSelectionConfig, data: FeatureCostData | None,
                 fill: np.ndarray | None, max_episode_steps: object = None) -> None:
        if not isinstance(B, numbers.Integral) or B < 1:
            raise ValueError(f"num_envs: must be an integer >= 1, got {B!r}")
        self.B = int(B)
        self.config = config
        self.data = data if data is not None else generate(config.data)
        if not isinstance(self.data, FeatureCostData):
            raise TypeError("data: expected a FeatureCostData")
        Q, N, n = self.data.X.shape
        self.n = n
        self.fill = feature_mean(self.data.X) if fill is None else np.asarray(fill, dtype=np.float32)
        if self.fill.shape != (n,) or not np.all(np.isfinite(self.fill)):
            raise ValueError(f"fill: expected finite values of shape ({n},)")
        tot = cost_totals(self.data.cost, Q, N, n)  # (1 or Q, n)
        full = tot.sum(axis=1, keepdims=True)
        if np.any(full <= 0):
            raise ValueError("cost: the full feature set must have a positive cost")
        self.step_cost = tot / full  # fraction of the full cost of each feature
        self.dims = {"n": n, "C": len(CONTEXT_NAMES)}
        self.dims["D"] = self.obs_dim = FEATURE_SELECTION_STEP_SPEC.obs_dim(self.dims)
        self.slices = FEATURE_SELECTION_STEP_SPEC.obs_slices(self.dims)
        limit = check_max_episode_steps(max_episode_steps)
        self.limit = n if limit is None else min(n, limit)  # steps until terminated / truncated
        self.contexts = np.zeros(self.B, dtype=np.int64)
        self.decisions = np.zeros((self.B, n), dtype=bool)
        self.k = 0
        self.done = True
        self.rng: np.random.Generator | list[np.random.Generator] = np.random.default_rng()

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickling: arrays come back with fresh dtype objects that the C++ kernels'
        strict dtype check refuses; view them with NumPy's canonical dtypes."""
        self.__dict__.update(state)
        d = self.data
        self.data = dataclasses.replace(d, **{f.name: _canonical(getattr(d, f.name)) for f in dataclasses.fields(d)
                                              if isinstance(getattr(d, f.name), np.ndarray)})
        for k, v in list(vars(self).items()):
            if isinstance(v, np.ndarray):
                setattr(self, k, _canonical(v))

    def seed(self, seed: int | list[int]) -> None:
        """One generator drawing every slot's request (int), or one per slot (list)."""
        self.rng = np.random.default_rng(seed) if isinstance(seed, int) else [np.random.default_rng(s) for s in seed]

    def _draw(self, Q: int) -> np.ndarray:
        if isinstance(self.rng, list):
            return np.array([g.integers(0, Q, size=1)[0] for g in self.rng], dtype=np.int64)
        return self.rng.integers(0, Q, size=self.B)

    def start(self, contexts: np.ndarray | None) -> np.ndarray:
        Q = len(self.data)
        if contexts is None:
            self.contexts = self._draw(Q)
        else:
            c = np.asarray(contexts)
            if c.dtype.kind not in "iu" or c.shape != (self.B,):
                raise ValueError(f"options['contexts']: expected {self.B} integer request indices")
            if c.size and (c.min() < 0 or c.max() >= Q):
                raise ValueError(f"options['contexts']: indices must lie in [0, {Q})")
            self.contexts = c.astype(np.int64)
        self.decisions[:] = False
        self.loss = np.zeros(self.B)
        self.prev_loss = np.zeros(self.B)
        self.violated = np.zeros(self.B)
        self.k = 0
        self.done = False
        return self.obs()

    def obs(self) -> np.ndarray:
        o = np.empty((self.B, self.obs_dim), dtype=np.float32)
        sl = self.slices
        o[:, sl["context"]] = self.data.context[self.contexts]
        o[:, sl["decisions"]] = self.decisions
        o[:, sl["progress"]] = self.k / self.n
        o[:, sl["step"]] = 0.0
        if self.k < self.n:
            o[:, sl["step"].start + self.k] = 1.0
        return o

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, bool, dict[str, Any]]:
        """obs (B, D), reward float64 (B,), terminated, truncated (all slots alike), info."""
        a = np.asarray(actions)
        if a.dtype.kind not in "iu":
            raise TypeError(f"actions: expected integer actions (0 = Skip, 1 = Eval), got dtype {a.dtype}")
        if a.shape != (self.B,):
            raise ValueError(f"actions: expected shape ({self.B},), got {a.shape}")
        if a.size and (a.min() < 0 or a.max() > 1):
            raise ValueError("actions: must be 0 (Skip) or 1 (Eval)")
        k = self.k
        ev = a.astype(bool)
        self.decisions[:, k] = ev
        rows = self.contexts if self.step_cost.shape[0] > 1 else np.zeros(self.B, dtype=np.int64)
        reward = np.where(ev, -self.step_cost[rows, k], 0.0)
        self.k += 1
        last = self.k == self.n
        cfg = self.config
        if cfg.penalty_mode == "step":
            # Only rows that skipped feature k changed their subset since the last step.
            changed = np.flatnonzero(~ev)
            if changed.size:
                mask = self.decisions[changed].copy()
                mask[:, self.k :] = True
                self.loss[changed] = self._loss(mask, self.contexts[changed])
            viol = (self.loss > cfg.loss_threshold).astype(float)
            reward = reward - cfg.penalty * (viol - self.violated)
            if cfg.loss_weight:
                reward = reward - cfg.loss_weight * (self.loss - self.prev_loss)
            self.violated = viol
            self.prev_loss = self.loss.copy()
        elif last:
            self.loss = self._loss(self.decisions.copy(), self.contexts)
            self.violated = (self.loss > cfg.loss_threshold).astype(float)
            reward = reward - cfg.penalty * self.violated - cfg.loss_weight * self.loss
        info: dict[str, Any] = {}
        if last:
            out = {
                "loss": self.loss.copy(),
                "cost": (self.decisions * self.step_cost[rows]).sum(axis=1),
                "penalized": self.violated.astype(bool),
                "mask": self.decisions.copy(),
                "context": self.contexts.copy(),
            }
            info = {k: out[k] for k in FEATURE_SELECTION_STEP_SPEC.info_keys}
        truncated = not last and self.k >= self.limit
        self.done = last or truncated
        return self.obs(), reward, last, truncated, info

    def _loss(self, mask: np.ndarray, contexts: np.ndarray) -> np.ndarray:
        """float64 (B,) the configured loss t of each slot's subset."""
        kl = self.config.loss == "kl"
        res = subset_eval(
            self.data.X, mask, self.data.cost, self.data.weights, fill=self.fill,
            top_k=self.config.top_k, query_index=contexts, threads=self.config.num_threads,
            kl_temperature=self.config.kl_temperature if kl else None,
        )
        return res.kl if kl else res.loss_fraction


def _slot_seed(seed: int) -> int:
    """The request-stream seed the single env derives from ``reset(seed=seed)``."""
    return int(gym.utils.seeding.np_random(seed)[0].integers(0, 2**63 - 1))


class FeatureSelectionVectorEnv(VectorEnv):
    """B requests decided together; the last step ranks all B with one C++ call.

    Args:
        num_envs: B, or a dict (RLlib's ``env_config | {"num_envs": n}``) holding
            ``num_envs`` and config keys.
        config: :class:`FeatureSelectionConfig`, a dict, or None; keyword overrides.
        data: a :class:`FeatureCostData` pool of requests (default: generated from
            ``config.data``).
        fill: float32 (n,) value of skipped features (default: the pool's feature mean).
        render_mode: None only (no rendering); any other mode raises TypeError.
        max_episode_steps: None, or truncate every slot after min(n,
            max_episode_steps) decisions (undecided features count as evaluated).

    ``reset(options={"contexts": idx})`` starts the slots on given requests (int (B,));
    otherwise requests are drawn uniformly from the pool with the env's RNG.  Seeds:
    an int seeds one generator drawing every slot's request (as before); a list of
    ``num_envs`` ints or None (Gymnasium's per-sub-env convention; ValueError for
    another length) gives slot i its own stream, exactly the single env's after
    ``reset(seed=seed[i])``.  Info at the last step: ``FEATURE_SELECTION_STEP_SPEC``'s
    info fields, each (B, ...): ``loss``, ``cost`` (fraction of the full cost),
    ``penalized``, ``mask`` bool (B, n), ``context``.  Pickles with its full state.
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int | Mapping[str, Any] = 1,
        config: FeatureSelectionConfig | Mapping[str, Any] | None = None,
        data: FeatureCostData | None = None,
        fill: np.ndarray | None = None,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(num_envs, Mapping):
            d = dict(num_envs)
            num_envs = int(d.pop("num_envs", 1))
            render_mode = d.pop("render_mode", render_mode)
            max_episode_steps = d.pop("max_episode_steps", max_episode_steps)
            overrides = {**d, **overrides}
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.config = _resolve(config, overrides)
        self.core = _Core(num_envs, self.config, data, fill, max_episode_steps)
        self.num_envs = self.core.B
        self.single_observation_space = FEATURE_SELECTION_STEP_SPEC.observation_space(self.core.dims)
        self.single_action_space = spaces.Discrete(2)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._seeded = False

    @property
    def data(self) -> FeatureCostData:
        return self.core.data

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        """Starts B new requests; returns obs float32 (B, D) and an empty info."""
        if isinstance(seed, (list, tuple, np.ndarray)):
            seeds = [fresh_seed() if s is None else s for s in per_env_seeds(seed, self.num_envs)]
            self.core.seed([_slot_seed(s) for s in seeds])
            self._seeded = True
        elif seed is not None:
            s = seed_to_int(seed)
            self._np_random, self._np_random_seed = np.random.default_rng(s), s
            self.core.seed(s)
            self._seeded = True
        elif not self._seeded:
            self.core.seed(int(self.np_random.integers(0, 2**63 - 1)))
            self._seeded = True
        obs = self.core.start((options or {}).get("contexts"))
        return obs, {}

    def step(self, actions: Any):
        """actions int (B,) in {0, 1}; returns obs (B, D), reward float64 (B,),
        terminated, truncated bool (B,), info."""
        if self.core.done:  # NEXT_STEP autoreset
            obs = self.core.start(None)
            z = np.zeros(self.num_envs, dtype=bool)
            return obs, np.zeros(self.num_envs), z, z.copy(), {}
        obs, reward, term, trunc, info = self.core.step(actions)
        return obs, reward, np.full(self.num_envs, term), np.full(self.num_envs, trunc), info


class FeatureSelectionEnv(gym.Env):
    """One request at a time (see the module docstring); same arguments as the vector
    env without ``num_envs``.  ``reset(options={"context": i})`` picks the request.
    Actions: a Python or NumPy integer 0 / 1 (bool, float, str raise TypeError)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        config: FeatureSelectionConfig | Mapping[str, Any] | None = None,
        data: FeatureCostData | None = None,
        fill: np.ndarray | None = None,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        **overrides: Any,
    ) -> None:
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        overrides.setdefault("num_threads", 1)
        self.config = _resolve(config, overrides)
        self.core = _Core(1, self.config, data, fill, max_episode_steps)
        self.observation_space = FEATURE_SELECTION_STEP_SPEC.observation_space(self.core.dims)
        self.action_space = spaces.Discrete(2)
        self._seeded = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None or not self._seeded:
            self.core.seed(int(self.np_random.integers(0, 2**63 - 1)))
            self._seeded = True
        ctx = None
        if options and "context" in options:
            ctx = np.array([options["context"]])
        obs = self.core.start(ctx)
        return obs[0], {"context": int(self.core.contexts[0])}

    def step(self, action: Any):
        if self.core.done:
            raise RuntimeError("step() called on a finished episode: call reset() first")
        a = discrete_action(action, 2)
        obs, reward, term, trunc, info = self.core.step(np.array([a]))
        out = {k: (v[0].copy() if isinstance(v, np.ndarray) and v.ndim > 1 else v[0].item()) for k, v in info.items()}
        return obs[0], float(reward[0]), bool(term), bool(trunc), out


register_envs({
    "simcore/FeatureSelection-v0": (
        "simcore.domains.feature_cost.env:FeatureSelectionEnv",
        "simcore.domains.feature_cost.env:FeatureSelectionVectorEnv",
    ),
})
