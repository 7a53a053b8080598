"""Configuration dataclasses for the search-session simulator.

Every field has a documented default; the formulas they enter are in
``docs/user_model.md``.  Configs are frozen so that one object can be shared safely.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class WorldConfig:
    """The query catalogue and user population (generated once, from ``seed``).

    Attributes:
        n_queries: number of distinct queries, each with its own candidate set.
        n_items: N, candidates per query.
        n_features: m, ranking features per item (values in [0, 1]; at most 64).
        n_segments: G, observable user segments.
        segment_probs: probability of each segment (None: uniform).
        pref_scale: spread of the segments' mean preferences.
        price_log_mean: mean log price over queries.
        price_log_sd_query: spread of a query's mean log price.
        price_log_sd_item: spread of log price within a query.
        seed: seed of the catalogue and segment preferences (not of the sessions).
    """

    n_queries: int = 64
    n_items: int = 1000
    n_features: int = 8
    n_segments: int = 4
    segment_probs: tuple[float, ...] | None = None
    pref_scale: float = 1.5
    price_log_mean: float = 4.0
    price_log_sd_query: float = 0.5
    price_log_sd_item: float = 0.8
    seed: int = 2026

    def __post_init__(self) -> None:
        for name in ("n_queries", "n_items", "n_features", "n_segments"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        if self.n_features > 64:
            raise ValueError(f"n_features: at most 64 are supported, got {self.n_features}")
        if self.segment_probs is not None:
            p = tuple(float(x) for x in self.segment_probs)
            if len(p) != self.n_segments or any(x < 0 for x in p) or abs(sum(p) - 1) > 1e-9:
                raise ValueError(
                    f"segment_probs: expected {self.n_segments} non-negative numbers summing to 1"
                )
        for name in ("pref_scale", "price_log_sd_query", "price_log_sd_item"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}: must be >= 0")


@dataclass(frozen=True)
class UserModelConfig:
    """Parameters of the user-response model (docs/user_model.md).

    Attributes:
        window: W, pages the user remembers (consideration set, frustration, anchoring).
        recency: delta in (0, 1], weight delta**age of a page seen `age` pages ago.
        pref_noise: sigma_theta, latent preference spread around the segment mean.
        patience_noise: sigma_xi, latent impatience spread.
        price_fit: kappa, penalty kappa * (price level - purchasing power)**2.
        anchor: lambda, reference-price anchoring strength.
        buy_bias: alpha_b, buy utility intercept.
        buy_scale: beta_b, weight of the consideration set's inclusive value.
        leave_bias: alpha_l, leave utility intercept.
        leave_frustration: beta_F, weight of recent pages' irrelevance.
        leave_fatigue: phi, leave utility added per page already seen.
        click_bias: alpha_c, click logit intercept.
        price_feature: feature column holding the normalised price level.
    """

    window: int = 4
    recency: float = 0.7
    pref_noise: float = 0.7
    patience_noise: float = 0.5
    price_fit: float = 4.0
    anchor: float = 2.0
    buy_bias: float = -6.0
    buy_scale: float = 1.0
    leave_bias: float = -3.0
    leave_frustration: float = 4.0
    leave_fatigue: float = 0.05
    click_bias: float = -1.5
    price_feature: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.window, int) or self.window < 1:
            raise ValueError(f"window: must be an integer >= 1, got {self.window!r}")
        if not 0 < self.recency <= 1:
            raise ValueError(f"recency: must lie in (0, 1], got {self.recency!r}")
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and v != v:
                raise ValueError(f"{f.name}: must not be NaN")
        if self.pref_noise < 0 or self.patience_noise < 0 or self.price_fit < 0:
            raise ValueError("pref_noise, patience_noise, price_fit: must be >= 0")


@dataclass(frozen=True)
class SessionConfig:
    """A search-session simulator: world, user model and paging.

    Attributes:
        world: the catalogue and population.
        user: the user-response model.
        page_size: K, items per page (1..128).
        max_steps: pages after which a session is truncated; the horizon is
            min(ceil(N / K), max_steps).  30 is the article's horizon.
        reward: "gmv" (price on purchase, else 0) or "clicks" (price on purchase,
            else the number of clicks on the page: the ranking article's rule).
        num_threads: threads for batched steps (None: all cores).
    """

    world: WorldConfig = field(default_factory=WorldConfig)
    user: UserModelConfig = field(default_factory=UserModelConfig)
    page_size: int = 10
    max_steps: int = 30
    reward: str = "gmv"
    num_threads: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.page_size, int) or not 1 <= self.page_size <= 128:
            raise ValueError(f"page_size: must be an integer in [1, 128], got {self.page_size!r}")
        if not isinstance(self.max_steps, int) or self.max_steps < 1:
            raise ValueError(f"max_steps: must be an integer >= 1, got {self.max_steps!r}")
        if self.reward not in ("gmv", "clicks"):
            raise ValueError(f"reward: must be 'gmv' or 'clicks', got {self.reward!r}")
        if self.num_threads is not None and (
            not isinstance(self.num_threads, int) or self.num_threads < 1
        ):
            raise ValueError(f"num_threads: must be None or an integer >= 1, got {self.num_threads!r}")

    @property
    def horizon(self) -> int:
        """Most pages a session can show: min(ceil(N / K), max_steps)."""
        return min(-(-self.world.n_items // self.page_size), self.max_steps)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "SessionConfig":
        """Builds a config from a nested dict (e.g. an RLlib ``env_config``).

        Keys ``world`` and ``user`` may be dicts; unknown keys raise ValueError.
        """
        d = dict(d or {})
        world = d.pop("world", {})
        user = d.pop("user", {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"config: unknown keys {sorted(unknown)}")
        if isinstance(world, Mapping):
            world = WorldConfig(**world)
        if isinstance(user, Mapping):
            user = UserModelConfig(**user)
        return cls(world=world, user=user, **d)
