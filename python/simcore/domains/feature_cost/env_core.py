"""The batched episode logic shared by the single and the vector FeatureSelection env."""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np

from simcore.domains.feature_cost.data import CONTEXT_NAMES, FeatureCostData, generate
from simcore.domains.feature_cost.env_config import FeatureSelectionConfig
from simcore.domains.feature_cost.kernels import cost_totals, feature_mean, subset_eval
from simcore.domains.feature_cost.spec import FEATURE_SELECTION_STEP_SPEC
from simcore.envs.standard import check_max_episode_steps


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
