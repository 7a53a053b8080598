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

from simcore.envs.registration import register_envs
from simcore.envs.seeding import seed_to_int
from simcore.domains.feature_cost.data import CONTEXT_NAMES, FeatureCostData, FeatureCostDataConfig, generate
from simcore.domains.feature_cost.kernels import cost_totals, feature_mean, subset_eval

__all__ = ["FeatureSelectionConfig", "FeatureSelectionEnv", "FeatureSelectionVectorEnv", "SKIP", "EVAL"]

SKIP, EVAL = 0, 1


@dataclass(frozen=True)
class FeatureSelectionConfig:
    """The feature-selection task.

    Attributes:
        data: how to generate the pool of requests (ignored when a data set is passed
            to the env).
        loss_threshold: C, the largest tolerated loss: a fraction of pairs in [0, 1]
            for ``loss="pairwise"``, nats >= 0 for ``loss="kl"``.
        penalty: r_p >= 0, charged when the loss exceeds C.  Above 1 (the cost of
            all features) breaking the ranking is never worth it.
        loss_weight: lambda >= 0, weight of the pairwise loss itself in the reward.
        penalty_mode: "step" (charged when the loss of the decisions so far crosses
            C) or "final" (charged at the last step); the same episode return.
        top_k: None: the loss counts all pairs; k: only pairs touching the full top-k
            (pairwise loss only).
        loss: "pairwise" (the reward's t, default) or "kl" (eq. 2's D(F_o || F_a)).
        kl_temperature: T > 0 of the softmax distributions of the KL loss.
        num_threads: threads of the ranking kernel (None: all cores).
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
        if self.loss not in ("pairwise", "kl"):
            raise ValueError(f"loss: must be 'pairwise' or 'kl', got {self.loss!r}")
        if not (isinstance(self.kl_temperature, numbers.Real) and np.isfinite(self.kl_temperature)
                and self.kl_temperature > 0):
            raise ValueError(f"kl_temperature: must be a finite number > 0, got {self.kl_temperature!r}")
        upper = 1.0 if self.loss == "pairwise" else np.inf
        if not (isinstance(self.loss_threshold, numbers.Real) and 0.0 <= self.loss_threshold <= upper
                and np.isfinite(self.loss_threshold)):
            what = "lie in [0, 1] (a fraction of pairs)" if self.loss == "pairwise" else "be a finite number >= 0"
            raise ValueError(f"loss_threshold: must {what}, got {self.loss_threshold!r}")
        if not (isinstance(self.penalty, numbers.Real) and self.penalty >= 0 and np.isfinite(self.penalty)):
            raise ValueError(f"penalty: must be a finite number >= 0, got {self.penalty!r}")
        if not (isinstance(self.loss_weight, numbers.Real) and self.loss_weight >= 0 and np.isfinite(self.loss_weight)):
            raise ValueError(f"loss_weight: must be a finite number >= 0, got {self.loss_weight!r}")
        if self.penalty_mode not in ("step", "final"):
            raise ValueError(f"penalty_mode: must be 'step' or 'final', got {self.penalty_mode!r}")
        if self.top_k is not None and (not isinstance(self.top_k, int) or self.top_k < 1):
            raise ValueError(f"top_k: must be None or an integer >= 1, got {self.top_k!r}")
        if self.num_threads is not None and (not isinstance(self.num_threads, int) or self.num_threads < 1):
            raise ValueError(f"num_threads: must be None or an integer >= 1, got {self.num_threads!r}")

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


class _Core:
    """The batched episode logic shared by the single and the vector env."""

    def __init__(self, B: int, config: FeatureSelectionConfig, data: FeatureCostData | None,
                 fill: np.ndarray | None) -> None:
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
        self.obs_dim = len(CONTEXT_NAMES) + 2 * n + 1
        self.contexts = np.zeros(self.B, dtype=np.int64)
        self.decisions = np.zeros((self.B, n), dtype=bool)
        self.k = 0
        self.done = True
        self.rng = np.random.default_rng()

    def seed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def start(self, contexts: np.ndarray | None) -> np.ndarray:
        Q = len(self.data)
        if contexts is None:
            self.contexts = self.rng.integers(0, Q, size=self.B)
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
        c = len(CONTEXT_NAMES)
        o[:, :c] = self.data.context[self.contexts]
        o[:, c : c + self.n] = self.decisions
        o[:, c + self.n] = self.k / self.n
        o[:, c + self.n + 1 :] = 0.0
        if self.k < self.n:
            o[:, c + self.n + 1 + self.k] = 1.0
        return o

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, dict[str, Any]]:
        a = np.asarray(actions)
        if a.dtype.kind not in "iub":
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
            info = {
                "loss": self.loss.copy(),
                "cost": (self.decisions * self.step_cost[rows]).sum(axis=1),
                "penalized": self.violated.astype(bool),
                "mask": self.decisions.copy(),
                "context": self.contexts.copy(),
            }
            self.done = True
        return self.obs(), reward, self.done, info

    def _loss(self, mask: np.ndarray, contexts: np.ndarray) -> np.ndarray:
        """float64 (B,) the configured loss t of each slot's subset."""
        kl = self.config.loss == "kl"
        res = subset_eval(
            self.data.X, mask, self.data.cost, self.data.weights, fill=self.fill,
            top_k=self.config.top_k, query_index=contexts, threads=self.config.num_threads,
            kl_temperature=self.config.kl_temperature if kl else None,
        )
        return res.kl if kl else res.loss_fraction


class FeatureSelectionVectorEnv(VectorEnv):
    """B requests decided together; the last step ranks all B with one C++ call.

    Args:
        num_envs: B, or a dict (RLlib's ``env_config | {"num_envs": n}``) holding
            ``num_envs`` and config keys.
        config: :class:`FeatureSelectionConfig`, a dict, or None; keyword overrides.
        data: a :class:`FeatureCostData` pool of requests (default: generated from
            ``config.data``).
        fill: float32 (n,) value of skipped features (default: the pool's feature mean).

    ``reset(options={"contexts": idx})`` starts the slots on given requests (int (B,));
    otherwise requests are drawn uniformly from the pool with the env's RNG (seeded
    by ``reset(seed=...)``).  Info at the last step: ``loss`` (fraction), ``cost``
    (fraction of the full cost), ``penalized``, ``mask`` bool (B, n), ``context``.
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int | Mapping[str, Any] = 1,
        config: FeatureSelectionConfig | Mapping[str, Any] | None = None,
        data: FeatureCostData | None = None,
        fill: np.ndarray | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(num_envs, Mapping):
            d = dict(num_envs)
            num_envs = int(d.pop("num_envs", 1))
            overrides = {**d, **overrides}
        self.config = _resolve(config, overrides)
        self.core = _Core(num_envs, self.config, data, fill)
        self.num_envs = self.core.B
        self.single_observation_space = spaces.Box(0.0, 1.0, shape=(self.core.obs_dim,), dtype=np.float32)
        self.single_action_space = spaces.Discrete(2)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._seeded = False

    @property
    def data(self) -> FeatureCostData:
        return self.core.data

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
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
        if self.core.done:  # NEXT_STEP autoreset
            obs = self.core.start(None)
            z = np.zeros(self.num_envs, dtype=bool)
            return obs, np.zeros(self.num_envs), z, z.copy(), {}
        obs, reward, done, info = self.core.step(actions)
        term = np.full(self.num_envs, done)
        return obs, reward, term, np.zeros(self.num_envs, dtype=bool), info


class FeatureSelectionEnv(gym.Env):
    """One request at a time (see the module docstring); same arguments as the vector
    env without ``num_envs``.  ``reset(options={"context": i})`` picks the request."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        config: FeatureSelectionConfig | Mapping[str, Any] | None = None,
        data: FeatureCostData | None = None,
        fill: np.ndarray | None = None,
        **overrides: Any,
    ) -> None:
        overrides.setdefault("num_threads", 1)
        self.config = _resolve(config, overrides)
        self.core = _Core(1, self.config, data, fill)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self.core.obs_dim,), dtype=np.float32)
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
        a = np.asarray(action)
        if a.shape not in ((), (1,)):
            raise ValueError(f"action: expected a single 0/1 action, got shape {a.shape}")
        obs, reward, done, info = self.core.step(a.reshape(1))
        out = {k: (v[0].copy() if isinstance(v, np.ndarray) and v.ndim > 1 else v[0].item()) for k, v in info.items()}
        return obs[0], float(reward[0]), bool(done), False, out


register_envs({
    "simcore/FeatureSelection-v0": (
        "simcore.domains.feature_cost.env:FeatureSelectionEnv",
        "simcore.domains.feature_cost.env:FeatureSelectionVectorEnv",
    ),
})
