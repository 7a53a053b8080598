"""Type stubs of the compiled extension simcore._core (bindings/*.cpp).

The extension has one submodule per domain: ``common``, ``ranking``, ``search``,
``feature_cost``, ``traffic``, ``lifecycle``, ``autoscaling``.  They are typed here as module-like namespaces
(a single-file stub cannot hold real submodule stubs without shadowing the .so), so that
``_core.ranking.topk(...)`` type-checks.  Prefer the Python faces
(simcore.kernels, simcore.domains.search.simulator, simcore.domains.feature_cost.kernels):
they validate arguments and name them in errors.
"""

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
B8 = npt.NDArray[np.bool_]

def hardware_threads() -> int: ...

class _Common:
    @staticmethod
    def hardware_threads() -> int: ...
    @staticmethod
    def _stream_sum(X: F32, threads: int = 0) -> float: ...

class _Ranking:
    @staticmethod
    def topk(X: F32, w: F32, k: int, exclude: B8 | None = None, threads: int = 0) -> I64: ...
    @staticmethod
    def topk_batch(X: F32, W: F32, k: int, exclude: B8 | None = None, threads: int = 0) -> I64:
        """int64 (B, min(k, N)), -1 padded."""
    @staticmethod
    def topk_indexed(X: F32, rows: I64, W: F32, k: int, exclude: B8 | None = None, threads: int = 0) -> I64:
        """int64 (B, min(k, N)): row b ranks X[rows[b]] of X (Q, N, m), -1 padded."""
    @staticmethod
    def _topk_columns(Xc: F32, w: F32, k: int, exclude: B8 | None = None,
                      absmax: bool = True) -> I64: ...
    @staticmethod
    def discordant_pairs(a: F64, b: F64) -> int: ...
    @staticmethod
    def scores(X: F32, w: F32) -> F64: ...

class UserModel:  # the type of _core.search.UserModel (not a top-level name at run time)
    window: int
    recency: float
    pref_noise: float
    patience_noise: float
    price_fit: float
    anchor: float
    price_aversion: float
    buy_bias: float
    buy_scale: float
    saturation: float
    leave_bias: float
    leave_frustration: float
    leave_fatigue: float
    click_bias: float
    click_intent: float
    click_retention: float
    price_feature: int
    def __init__(self) -> None: ...

class SessionBatch:  # the type of _core.search.SessionBatch
    """Thread-safe: calls on one object are serialised by a per-object lock."""
    def __init__(self, features: F32, prices: F64, segment_cdf: F64, segment_pref: F64,
                 model: UserModel, page_size: int, max_steps: int, reward_mode: int,
                 num_sessions: int) -> None: ...
    @property
    def num_sessions(self) -> int: ...
    @property
    def obs_dim(self) -> int: ...
    @property
    def horizon(self) -> int: ...
    def seed(self, seed: int) -> None:
        """Slot j's e-th episode draws from stream_key(seed, j, e)."""
    def seed_slots(self, seeds: npt.NDArray[np.uint64]) -> None:
        """uint64 (B,): slot j's e-th episode draws from stream_key(seeds[j], 0, e)."""
    def reset(self, obs: F32, threads: int = 0) -> None: ...
    def reset_to(self, query: I64, segment: I32, power: F64, patience: F64, prefs: F64,
                 obs: F32, threads: int = 0) -> None: ...
    def step(self, actions: F32, out: dict[str, np.ndarray], sample: bool = True,
             threads: int = 0) -> None: ...
    def peek(self, actions: F32, out: dict[str, np.ndarray], threads: int = 0) -> None: ...
    def users(self) -> dict[str, np.ndarray]: ...
    def steps_taken(self) -> I64: ...
    def get_state(self) -> dict[str, Any]: ...
    def set_state(self, state: dict[str, Any]) -> None: ...

class _Search:
    UserModel: type[UserModel]
    SessionBatch: type[SessionBatch]

class _FeatureCost:
    @staticmethod
    def subset_eval(X: F32, w: F32 | None, layers: Sequence[tuple[F32, F32]] | None,
                    mask: B8, query_index: I64 | None, fill: F32 | None, cost_total: F64,
                    top_k: int, threads: int, return_scores: bool, return_full: bool,
                    simd: bool = True, kl_temperature: float = 0.0
                    ) -> tuple[I64, F64, F64 | None, F64 | None, F32, F64 | None]: ...
    @staticmethod
    def feature_mean(X: F32, threads: int = 0) -> F32: ...
    @staticmethod
    def pair_count(N: int, top_k: int = 0) -> int: ...

class TrafficBatch:  # the type of _core.traffic.TrafficBatch (bindings/register_traffic.cpp)
    def __init__(self, features: F32, prices: F64, segment_cdf: F64, segment_pref: F64,
                 model: UserModel, page_size: int, max_steps: int, num_sessions: int, n_tiers: int,
                 affinity_cdf: F64, affinity_strength: float, affinity_noise: float, cart_bias: float,
                 gmv_weights: F64, lambdas: F64, basic_weights: F32) -> None:
        """features (Q, N, m + n_tiers) with 0/1 tier flags last; affinity_cdf (G, n_tiers, 2);
        gmv_weights (click, cart, buy, price); lambdas (n_tiers,); basic_weights (m + n_tiers,)."""
    @property
    def num_sessions(self) -> int: ...
    @property
    def obs_dim(self) -> int: ...
    @property
    def horizon(self) -> int: ...
    def seed(self, seed: int) -> None: ...
    def seed_slots(self, seeds: npt.NDArray[np.uint64]) -> None: ...
    def reset(self, obs: F32, threads: int = 0) -> None: ...
    def reset_to(self, query: I64, segment: I32, power: F64, patience: F64, prefs: F64,
                 obs: F32, threads: int = 0) -> None: ...
    def step(self, actions: F32, out: dict[str, np.ndarray], sample: bool = True,
             threads: int = 0) -> None: ...
    def users(self) -> dict[str, np.ndarray]: ...
    def steps_taken(self) -> I64: ...
    def control_pages(self) -> I64: ...
    def control_share(self) -> F64: ...
    def get_state(self) -> dict[str, Any]: ...
    def set_state(self, state: dict[str, Any]) -> None: ...

class _Traffic:
    TrafficBatch: type[TrafficBatch]

class LifecycleBatch:  # the type of _core.lifecycle.LifecycleBatch (bindings/register_lifecycle.cpp)
    def __init__(self, kind: I32, channel: I32, action_params: F64, stage_params: F64, params: F64,
                 horizon: int, lapse_days: int, loyal_purchases: int, population: dict[str, np.ndarray],
                 num_users: int) -> None:
        """kind, channel (A,); action_params (A, 7); stage_params (3, 4); params (9,); population:
        features (P, 4) float32, p, spend, sens, q0, q1 (P,), resp (P, 3), n0, recency0 int32, alive0 bool."""
    @property
    def num_users(self) -> int: ...
    @property
    def n_actions(self) -> int: ...
    @property
    def obs_dim(self) -> int: ...
    @property
    def total_budget(self) -> float: ...
    @property
    def budget_left(self) -> float: ...
    @property
    def day(self) -> int: ...
    def seed(self, seed: int) -> None: ...
    def seed_slots(self, seeds: npt.NDArray[np.uint64]) -> None: ...
    def reset(self, obs: F32, threads: int = 0) -> None: ...
    def reset_to(self, users: I64, obs: F32, threads: int = 0) -> None: ...
    def step(self, actions: I64, out: dict[str, np.ndarray], threads: int = 0) -> None: ...
    def state(self) -> dict[str, Any]: ...
    def set_state(self, state: dict[str, Any]) -> None: ...

class _Lifecycle:
    LifecycleBatch: type[LifecycleBatch]

class AutoscalingBatch:  # the type of _core.autoscaling.AutoscalingBatch (bindings/register_autoscaling.cpp)
    def __init__(self, params: F64, min_vms: I64, max_vms: I64, init_vms: I64, model: F64,
                 holiday: npt.NDArray[np.uint8], horizon: int, delay: int) -> None:
        """params (B, 23); min/max/init_vms (B,); model (6,): cpu_target, band, eta, slo_penalty, a_min, a_max."""
    @property
    def num_zones(self) -> int: ...
    def reset(self, state: dict[str, np.ndarray], obs: F32, threads: int = 0) -> None: ...
    def step(self, state: dict[str, np.ndarray], actions: F64, out: dict[str, np.ndarray],
             threads: int = 0) -> None: ...

class _Autoscaling:
    N_PARAMS: int
    MAX_DELAY: int
    OBS_DIM: int
    AutoscalingBatch: type[AutoscalingBatch]
    @staticmethod
    def vecmath(name: str, x: F64) -> Any:
        """The step's exp / log / log1p / cos2pi / uniform53 on x (n,) float64 -> (n,) float64;
        sincos2pi -> (cos, sin) (cpp/simcore/autoscaling/vecmath.hpp)."""

common: Final[_Common]
ranking: Final[_Ranking]
search: Final[_Search]
feature_cost: Final[_FeatureCost]
traffic: Final[_Traffic]
lifecycle: Final[_Lifecycle]
autoscaling: Final[_Autoscaling]
