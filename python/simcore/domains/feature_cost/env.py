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

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from simcore.domains.feature_cost.data import FeatureCostData
from simcore.domains.feature_cost.env_config import FeatureSelectionConfig, _resolve
from simcore.domains.feature_cost.env_core import _Core
from simcore.domains.feature_cost.spec import EVAL, FEATURE_SELECTION_STEP_SPEC, SKIP
from simcore.envs.registration import register_envs
from simcore.envs.seeding import batch_reset_seed
from simcore.envs.standard import check_render_mode, discrete_action, fresh_seed, per_env_seeds

__all__ = ["FeatureSelectionConfig", "FeatureSelectionEnv", "FeatureSelectionVectorEnv", "FEATURE_SELECTION_STEP_SPEC",
           "SKIP", "EVAL"]



def _slot_seed(seed: int) -> int:
    """The request-stream seed the single env derives from ``reset(seed=seed)``."""
    return int(gym.utils.seeding.np_random(seed)[0].integers(0, 2**63 - 1))


class FeatureSelectionVectorEnv(VectorEnv):
    """B requests decided together; the last step ranks all B with one C++ call.

    Args:
        num_envs: B, an integer (RLlib's ``env_config`` dicts go through the creator
            :func:`simcore.envs.rllib.make_env`).
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
        num_envs: int = 1,
        config: FeatureSelectionConfig | Mapping[str, Any] | None = None,
        data: FeatureCostData | None = None,
        fill: np.ndarray | None = None,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(num_envs, Mapping):
            raise TypeError("num_envs: expected an integer; for RLlib's env_config dict use the creator "
                            "simcore.envs.rllib.make_env(env_id, env_config)")
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
        elif (s := batch_reset_seed(self, seed)) is not None:
            self.core.seed(s)
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
