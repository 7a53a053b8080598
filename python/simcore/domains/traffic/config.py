"""Configuration dataclasses of the tiered-traffic simulator (docs/tiered_traffic_model.md).

The simulator is the search-session simulator (its calibrated user model unchanged,
:class:`simcore.domains.search.config.SessionConfig`) over a catalogue whose items also
carry ``n_tiers`` binary tier flags as extra ranking columns, users with a latent tier
affinity, add-to-cart responses and the article's reward
r = GMV(n_click, n_cart, n_buy) + sum_i lambda_i (p_i(pi) - p_i(pi_basic)).
Configs are frozen; every field is checked at construction (TypeError for a value of
the wrong kind, ValueError out of range, both naming the field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simcore.domains.search.config import SessionConfig
from simcore.envs.ranges import check_int, check_real

#: Most tiers a catalogue may carry (also base features + tiers <= 64).
MAX_TIERS = 16


def _tuple_field(cfg: object, name: str, n: int, lo: float, hi: float, *, lo_open: bool = False,
                 hi_open: bool = False) -> None:
    """A tuple of ``n`` finite reals in [lo, hi], stored as a tuple of floats."""
    v = getattr(cfg, name)
    if isinstance(v, (str, bytes)) or not hasattr(v, "__len__"):
        raise TypeError(f"{name}: expected a sequence of {n} numbers, got {v!r}")
    if len(v) != n:
        raise ValueError(f"{name}: expected {n} values (one per tier), got {len(v)}")
    for i, x in enumerate(v):
        check_real(f"{name}[{i}]", x, lo, hi, lo_open=lo_open, hi_open=hi_open)
    object.__setattr__(cfg, name, tuple(float(x) for x in v))


@dataclass(frozen=True)
class TierWorldConfig:
    """How tier membership and tier affinity are generated (once, from ``seed``).

    Tier i's membership score of an item is
    u = price_coef[i] * zp + quality_coef[i] * zq + sales_coef[i] * zs + N(0, 1),
    with zp, zq, zs the item's logit price level, quality and sales standardised within
    its query; the items of query q whose u lies in the top share_q fraction are in
    the tier, logit(share_q) = logit(share[i]) + share_spread * N(0, 1) (queries differ
    in how many tier items they hold, so the control share p_i(pi_basic) varies by query).

    A user's affinity class for tier i is like / indifferent / dislike with the
    probabilities of their segment g: (like, indifferent, dislike) of segment g is
    softmax(log like_prob[i] + s e1, log(1 - like_prob[i] - dislike_prob[i]),
    log dislike_prob[i] + s e2), s = segment_spread, e1, e2 ~ N(0, 1) per (g, i).

    Attributes:
        n_tiers: m_t, tier flags per item; integer in [1, 16].
        share: mean fraction of a query's items in each tier; n_tiers values in (0, 1).
        price_coef: weight of the price level in each tier's membership score;
            n_tiers values in [-5, 5] (> 0: the tier holds the expensive items).
        quality_coef: weight of quality; n_tiers values in [-5, 5].
        sales_coef: weight of sales; n_tiers values in [-5, 5].
        share_spread: spread of a query's tier share on the logit scale; in [0, 3].
        like_prob: population probability of liking each tier; n_tiers values in [0, 1).
        dislike_prob: population probability of disliking each tier; n_tiers values in
            [0, 1), like_prob[i] + dislike_prob[i] < 1 (the rest is indifferent).
        segment_spread: how much the segments differ in these probabilities (log-odds
            spread s above); in [0, 3].
        seed: seed of the tier flags and segment affinity probabilities (the base
            catalogue keeps session.world.seed); integer in [0, 2**63 - 1].

    Defaults (3 tiers, named brand / next_day / merchant_a in the docs): a high-brand
    tier of expensive, high-quality, slower-selling items; a next-day-delivery tier of
    fast sellers; a class-A merchant tier of good-quality items.
    """

    n_tiers: int = 3
    share: tuple[float, ...] = (0.2, 0.3, 0.15)
    price_coef: tuple[float, ...] = (1.0, -0.3, 0.3)
    quality_coef: tuple[float, ...] = (1.0, 0.0, 0.8)
    sales_coef: tuple[float, ...] = (-0.5, 0.8, 0.3)
    share_spread: float = 0.5
    like_prob: tuple[float, ...] = (0.2, 0.15, 0.1)
    dislike_prob: tuple[float, ...] = (0.1, 0.1, 0.05)
    segment_spread: float = 0.75
    seed: int = 2027

    def __post_init__(self) -> None:
        check_int("n_tiers", self.n_tiers, 1, MAX_TIERS)
        object.__setattr__(self, "n_tiers", int(self.n_tiers))
        n = self.n_tiers
        _tuple_field(self, "share", n, 0.0, 1.0, lo_open=True, hi_open=True)
        for name in ("price_coef", "quality_coef", "sales_coef"):
            _tuple_field(self, name, n, -5.0, 5.0)
        _tuple_field(self, "like_prob", n, 0.0, 1.0, hi_open=True)
        _tuple_field(self, "dislike_prob", n, 0.0, 1.0, hi_open=True)
        for i, (a, b) in enumerate(zip(self.like_prob, self.dislike_prob)):
            if a + b >= 1.0:
                raise ValueError(f"like_prob[{i}] + dislike_prob[{i}]: must be < 1, got {a + b}")
        check_real("share_spread", self.share_spread, 0.0, 3.0)
        check_real("segment_spread", self.segment_spread, 0.0, 3.0)
        if self.seed is None:
            raise ValueError("seed: must be an integer >= 0, not None: the tiers must be reproducible")
        check_int("seed", self.seed, 0, 2**63 - 1)
        object.__setattr__(self, "seed", int(self.seed))


@dataclass(frozen=True)
class TrafficRewardConfig:
    """The article's reward r = GMV(n_click, n_cart, n_buy) + sum_i lambda_i (p_i - p_i^basic).

    GMV(n_click, n_cart, n_buy) = click * n_click + cart * n_cart + buy * n_buy
    + price * paid, with paid the purchase price (0 without a purchase).  The article
    asks pay > cart > click; that order is the default but not enforced (a sensitivity
    study may want other weights).

    Attributes:
        click: weight of a click; finite, in [0, 1000].
        cart: weight of an add-to-cart; finite, in [0, 1000].
        buy: weight of a purchase; finite, in [0, 1000].
        price: weight of the paid price (GMV in money); finite, in [0, 1000].
        lambdas: lambda_i, weight of tier i's share lift over the control ranking;
            None: 1.0 for every tier; else one finite value per tier in [-1e6, 1e6].
    """

    click: float = 0.1
    cart: float = 0.3
    buy: float = 1.0
    price: float = 0.0
    lambdas: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("click", "cart", "buy", "price"):
            check_real(name, getattr(self, name), 0.0, 1000.0)
        if self.lambdas is not None:
            _tuple_field(self, "lambdas", len(self.lambdas) if hasattr(self.lambdas, "__len__") else -1,
                         -1e6, 1e6)

    def lambda_vector(self, n_tiers: int) -> tuple[float, ...]:
        """lambda_i for ``n_tiers`` tiers (ValueError naming lambdas on a length mismatch)."""
        if self.lambdas is None:
            return (1.0,) * n_tiers
        if len(self.lambdas) != n_tiers:
            raise ValueError(f"lambdas: expected {n_tiers} values (one per tier), got {len(self.lambdas)}")
        return self.lambdas


@dataclass(frozen=True)
class TrafficConfig:
    """A tiered-traffic simulator: the search simulator's config plus tiers, affinity,
    carts and the reward.

    Attributes:
        session: the search simulator's config (base catalogue, the calibrated user
            model, page size, horizon, threads); its ``reward`` field is not used
            (the reward is :attr:`reward`'s).
        tiers: tier membership and affinity generation.
        reward: the GMV weights and lambdas.
        basic_weights: the control ranking pi_basic over the m + m_t ranking columns
            (base features first, then the tier flags); None: the search's "ltr"
            weights (0.3 quality, 0.3 sales, 0.4 relevance) and 0 on every tier.  Also
            the fixed base part of the envs' actions.  Finite values in [-100, 100].
        cart_bias: alpha_cart: a clicked item is added to the cart with probability
            sigmoid(alpha_cart + a_k - (anchor + price_aversion) x_price); finite, in
            [-20, 20].  An assumption (the article publishes no cart model).
        affinity_strength: A, utility weight of a tier flag for a user who likes it
            (-A for one who dislikes it, 0 indifferent); finite, in [0, 10].
        affinity_noise: spread of A between users with an affinity
            (A + affinity_noise * N(0, 1)); finite, in [0, 5].
    """

    session: SessionConfig = field(default_factory=SessionConfig)
    tiers: TierWorldConfig = field(default_factory=TierWorldConfig)
    reward: TrafficRewardConfig = field(default_factory=TrafficRewardConfig)
    basic_weights: tuple[float, ...] | None = None
    cart_bias: float = -1.0
    affinity_strength: float = 1.5
    affinity_noise: float = 0.5

    def __post_init__(self) -> None:
        for name, cls in (("session", SessionConfig), ("tiers", TierWorldConfig),
                          ("reward", TrafficRewardConfig)):
            if not isinstance(getattr(self, name), cls):
                raise TypeError(f"{name}: expected a {cls.__name__}, got {type(getattr(self, name)).__name__}")
        m, mt = self.session.world.n_features, self.tiers.n_tiers
        if m + mt > 64:
            raise ValueError(f"tiers.n_tiers: base features + tiers must be <= 64, got {m} + {mt}")
        self.reward.lambda_vector(mt)  # checks the length
        if self.basic_weights is not None:
            _tuple_field(self, "basic_weights", m + mt, -100.0, 100.0)
        check_real("cart_bias", self.cart_bias, -20.0, 20.0)
        check_real("affinity_strength", self.affinity_strength, 0.0, 10.0)
        check_real("affinity_noise", self.affinity_noise, 0.0, 5.0)

    @property
    def n_base(self) -> int:
        """m, the base ranking features (the search catalogue's columns)."""
        return self.session.world.n_features

    @property
    def n_tiers(self) -> int:
        """m_t, the tier flags."""
        return self.tiers.n_tiers

    @property
    def horizon(self) -> int:
        """Most pages a session can show (the search config's horizon)."""
        return self.session.horizon

    def basic_vector(self) -> tuple[float, ...]:
        """pi_basic's m + m_t weights (the default when basic_weights is None)."""
        if self.basic_weights is not None:
            return self.basic_weights
        ltr = (0.0, 0.3, 0.3, 0.4)
        base = tuple(ltr[j] if j < 4 else 0.0 for j in range(self.n_base))
        return base + (0.0,) * self.n_tiers

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> TrafficConfig:
        """Builds a config from a nested dict (e.g. an RLlib ``env_config``); unknown keys
        raise ValueError naming the dotted path (:func:`simcore.util.config.from_dict`)."""
        from simcore.util.config import from_dict

        return from_dict(cls, d)
