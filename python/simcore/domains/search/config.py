"""Configuration dataclasses for the search-session simulator.

Every field has a documented default; the formulas they enter are in
``docs/user_model.md``.  Configs are frozen so that one object can be shared safely.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simcore.envs.ranges import check_int, check_real


@dataclass(frozen=True)
class WorldConfig:
    """The query catalogue and user population (generated once, from ``seed``).

    Every field is checked at construction (TypeError for a value of the wrong kind,
    ValueError out of range, both naming the field).  The ranges keep every
    probability of the user model finite (no exp overflow) and bound memory.

    Attributes:
        n_queries: number of distinct queries, each with its own candidate set;
            integer in [1, 10**6].
        n_items: N, candidates per query; integer in [1, 10**6].
        n_features: m, ranking features per item (values in [0, 1]); integer in
            [1, 64].  Also n_queries * n_items * n_features <= 2**31.
        n_segments: G, observable user segments; integer in [1, 1024].
        segment_probs: probability of each segment (None: uniform); else G finite
            numbers >= 0 summing to 1.
        pref_scale: spread of the segments' mean preferences; finite, in [0, 5].
        price_log_mean: mean log price over queries; finite, in [-20, 20].
        price_log_sd_query: spread of a query's mean log price; finite, in [0, 3].
        price_log_sd_item: spread of log price within a query; finite, in [0, 3].
        seed: seed of the catalogue and segment preferences (not of the sessions);
            integer in [0, 2**63 - 1].  None is refused (ValueError): the catalogue
            must be reproducible from the config.
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
        for name, hi in (("n_queries", 10**6), ("n_items", 10**6), ("n_features", 64), ("n_segments", 1024)):
            _int_field(self, name, 1, hi)
        if self.n_queries * self.n_items * self.n_features > 2**31:
            raise ValueError("n_queries, n_items, n_features: the catalogue may hold at most 2**31 feature values")
        if self.segment_probs is not None:
            if isinstance(self.segment_probs, (str, bytes)) or not hasattr(self.segment_probs, "__len__"):
                raise TypeError(f"segment_probs: expected None or a sequence of numbers, got {self.segment_probs!r}")
            for i, x in enumerate(self.segment_probs):
                check_real(f"segment_probs[{i}]", x, 0.0, 1.0)
            p = tuple(float(x) for x in self.segment_probs)
            if len(p) != self.n_segments or abs(sum(p) - 1) > 1e-9:
                raise ValueError(
                    f"segment_probs: expected {self.n_segments} non-negative numbers summing to 1"
                )
        for name, lo, hi in (("pref_scale", 0, 5), ("price_log_mean", -20, 20),
                             ("price_log_sd_query", 0, 3), ("price_log_sd_item", 0, 3)):
            check_real(name, getattr(self, name), lo, hi)
        if self.seed is None:
            raise ValueError("seed: must be an integer >= 0, not None: the catalogue must be reproducible")
        _int_field(self, "seed", 0, 2**63 - 1)


@dataclass(frozen=True)
class UserModelConfig:
    """Parameters of the user-response model (docs/user_model.md).

    The defaults of buy_bias, leave_bias, leave_fatigue, patience_noise, saturation
    and click_intent are the output of ``simcore calibrate`` (the article's fig. 3
    purchase-episode lengths under the "ltr" ranking; docs/user_model.md); the others
    are documented assumptions (price_aversion: a price elasticity of conversion of
    about -1.6 at the catalogue's centre).

    Every field is checked at construction (TypeError for a value of the wrong kind,
    ValueError out of range, both naming the field).  The ranges keep every exp of
    the model finite, hence b, l, c, m and the click probabilities finite (the
    three-way logit is computed stably for any finite utilities).

    Attributes:
        window: W, pages the user remembers (consideration set, frustration,
            anchoring); integer in [1, 64].
        recency: delta, weight delta**age of a page seen `age` pages ago; in (0, 1].
        pref_noise: sigma_theta, latent preference spread around the segment mean;
            finite, in [0, 5].
        patience_noise: sigma_xi, latent impatience spread; finite, in [0, 10].
        price_fit: kappa, penalty kappa * (price level - purchasing power)**2;
            finite, in [0, 100].
        anchor: lambda, reference-price anchoring strength; finite, in [0, 50].
        price_aversion: eta, absolute price-level penalty at purchase: an item's
            buy weight is exp(a + lambda * (r - x_price) - eta * x_price), so
            expensive pages convert less (anchoring alone cancels on average);
            finite, in [0, 50].
        buy_bias: alpha_b, buy utility intercept; finite, in [-50, 50].
        buy_scale: beta_b, weight of the consideration set's inclusive value;
            finite, in [0, 10].
        saturation: nu, consideration-set saturation: IV -= nu * log(sum over
            remembered pages of delta**age * V_s); 0: every remembered page adds to
            the buy odds (the set's size counts), 1: only the set's position-weighted
            mean attractiveness counts; finite, in [0, 1].
        leave_bias: alpha_l, leave utility intercept; finite, in [-50, 50].
        leave_frustration: beta_F, weight of recent pages' irrelevance; finite,
            in [0, 50].
        leave_fatigue: phi, leave utility added per page already seen; finite,
            in [0, 5].
        click_bias: alpha_c, click logit intercept; finite, in [-20, 20].
        click_intent: beta_E, buy utility per expected click on the earlier
            remembered pages (engagement E = sum over ages 1..W-1 of
            delta**age * expected clicks; the current page does not count, so this
            is a purely delayed effect of what was shown); finite, in [0, 5].
        click_retention: rho_E, leave utility removed per unit of the same
            engagement E; finite, in [0, 5].
        price_feature: feature column holding the normalised price level; integer
            in [0, 63], and below the world's n_features (checked by SessionConfig).
    """

    window: int = 4
    recency: float = 0.7
    pref_noise: float = 0.7
    patience_noise: float = 1.569
    price_fit: float = 4.0
    anchor: float = 2.0
    price_aversion: float = 3.0
    buy_bias: float = -4.253
    buy_scale: float = 1.0
    saturation: float = 1.0
    leave_bias: float = -1.403
    leave_frustration: float = 4.0
    leave_fatigue: float = 0.069
    click_bias: float = -1.5
    click_intent: float = 0.0
    click_retention: float = 0.0
    price_feature: int = 0

    def __post_init__(self) -> None:
        _int_field(self, "window", 1, 64)
        check_real("recency", self.recency, 0.0, 1.0, lo_open=True)
        for name, (lo, hi) in _USER_RANGES.items():
            check_real(name, getattr(self, name), lo, hi)
        _int_field(self, "price_feature", 0, 63)


#: Valid [lo, hi] of UserModelConfig's real fields (see its docstring).
_USER_RANGES: dict[str, tuple[float, float]] = {
    "pref_noise": (0, 5),
    "patience_noise": (0, 10),
    "price_fit": (0, 100),
    "anchor": (0, 50),
    "price_aversion": (0, 50),
    "buy_bias": (-50, 50),
    "buy_scale": (0, 10),
    "saturation": (0, 1),
    "leave_bias": (-50, 50),
    "leave_frustration": (0, 50),
    "leave_fatigue": (0, 5),
    "click_bias": (-20, 20),
    "click_intent": (0, 5),
    "click_retention": (0, 5),
}


def _int_field(cfg: object, name: str, lo: int, hi: int) -> None:
    """Checks an integer field and stores it as a Python int (NumPy ints accepted)."""
    v = getattr(cfg, name)
    check_int(name, v, lo, hi)
    object.__setattr__(cfg, name, int(v))


@dataclass(frozen=True)
class SessionConfig:
    """A search-session simulator: world, user model and paging.

    Attributes:
        world: the catalogue and population.
        user: the user-response model.
        page_size: K, items per page; integer in [1, 128].
        max_steps: pages after which a session is truncated; integer in
            [1, 10**6]; the horizon is min(ceil(N / K), max_steps).  30 is the
            article's horizon.
        reward: "gmv" (price on purchase, else 0) or "clicks" (price on purchase,
            else the number of clicks on the page: the ranking article's rule).
        num_threads: threads for batched steps (None: all cores); else integer in
            [1, 1024].

    Checked at construction (TypeError / ValueError naming the field); also
    user.price_feature < world.n_features.
    """

    world: WorldConfig = field(default_factory=WorldConfig)
    user: UserModelConfig = field(default_factory=UserModelConfig)
    page_size: int = 10
    max_steps: int = 30
    reward: str = "gmv"
    num_threads: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.world, WorldConfig):
            raise TypeError(f"world: expected a WorldConfig, got {type(self.world).__name__}")
        if not isinstance(self.user, UserModelConfig):
            raise TypeError(f"user: expected a UserModelConfig, got {type(self.user).__name__}")
        _int_field(self, "page_size", 1, 128)
        _int_field(self, "max_steps", 1, 10**6)
        if self.reward not in ("gmv", "clicks"):
            raise ValueError(f"reward: must be 'gmv' or 'clicks', got {self.reward!r}")
        if self.num_threads is not None:
            _int_field(self, "num_threads", 1, 1024)
        if self.user.price_feature >= self.world.n_features:
            raise ValueError(
                f"user.price_feature: must be < world.n_features ({self.world.n_features}), "
                f"got {self.user.price_feature}"
            )

    @property
    def horizon(self) -> int:
        """Most pages a session can show: min(ceil(N / K), max_steps)."""
        return min(-(-self.world.n_items // self.page_size), self.max_steps)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> SessionConfig:
        """Builds a config from a nested dict (e.g. an RLlib ``env_config``).

        Keys ``world`` and ``user`` may be dicts; unknown keys raise ValueError naming
        the dotted path (:func:`simcore.util.config.from_dict`).
        """
        from simcore.util.config import from_dict

        return from_dict(cls, d)
