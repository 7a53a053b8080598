"""Configuration dataclasses of the customer-lifecycle simulator (docs/lifecycle_model.md).

Three parts: :class:`PopulationConfig` (who the customers are: BG/NBD purchase rate and
dropout, spend, responsiveness, observable features; defaults from the CDNOW fit),
:class:`MarketingConfig` (how touches work: the funnel touch -> click -> convert, fatigue,
the stage effects of special offers and club membership; documented assumptions) and
:class:`LifecycleConfig` (the activity: horizon, budgets, stage thresholds, the action
table).  Configs are frozen; every field is checked at construction (TypeError for a
value of the wrong kind, ValueError out of range, both naming the field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simcore.envs.ranges import check_int, check_real

#: Channels (index order of every per-channel array).
CHANNELS = ("push", "sms", "phone")
#: Lifecycle stages (index order of every per-stage array); docs/lifecycle_model.md, "Stages".
STAGES = ("new", "repeat", "loyal", "lapsing")
#: Observable user features (columns of Population.features), each in [0, 1].
FEATURES = ("age", "income", "app_activity", "sms_affinity")


def _tuple(cfg: object, name: str, n: int, lo: float, hi: float) -> None:
    """A tuple of ``n`` finite reals in [lo, hi], stored as a tuple of floats."""
    v = getattr(cfg, name)
    if isinstance(v, (str, bytes)) or not hasattr(v, "__len__"):
        raise TypeError(f"{name}: expected a sequence of {n} numbers, got {v!r}")
    if len(v) != n:
        raise ValueError(f"{name}: expected {n} values, got {len(v)}")
    for i, x in enumerate(v):
        check_real(f"{name}[{i}]", x, lo, hi)
    object.__setattr__(cfg, name, tuple(float(x) for x in v))


@dataclass(frozen=True)
class PopulationConfig:
    """The customer population (generated once per simulator from ``seed``).

    Purchases follow BG/NBD (Fader, Hardie & Lee 2005) in days: lambda ~ Gamma(r, rate
    alpha) purchases per day while alive, dropout p ~ Beta(a, b) after each purchase.
    The defaults are the maximum-likelihood fit to the CDNOW sample of 2,357 customers
    (``simcore.domains.lifecycle.cdnow.fit_bgnbd``, weeks; alpha x 7 for days), equal to
    the published r = 0.243, alpha = 4.414 weeks, a = 0.793, b = 2.426.  Spend per
    purchase: customer mean m ~ LogNormal(spend_log_mean, spend_log_sd), one purchase's
    value m * LogNormal(-s^2/2, s), s = spend_within_sd (mean m), fitted to the CDNOW
    amounts (``cdnow.fit_spend``).

    Attributes:
        n_users: P, customers in the population; integer in [1, 10_000_000].
        r: BG/NBD Gamma shape of lambda; in (0, 100].
        alpha: BG/NBD Gamma scale parameter alpha in DAYS (lambda's rate); in (0, 1e6].
        a, b: BG/NBD Beta parameters of the dropout p; each in (0, 1000].
        spend_log_mean: mean of log m (m in dollars); in [-10, 10].
        spend_log_sd: between-customer sd of log m; in [0, 5].
        spend_within_sd: within-customer sd s of log value; in [0, 5].
        history_days: length of the pre-activity history simulated to give every
            customer a first purchase, a purchase count and a recency (customers are
            acquired uniformly over it); integer in [1, 3650].
        resp_sd: sd of a customer's log-odds responsiveness per channel
            (N(0, resp_sd^2), independent per channel); in [0, 5].
        sens_sd: sd of log benefit sensitivity (sens = LogNormal(-sd^2/2, sd), mean 1);
            in [0, 5].
        feature_corr: correlation of each observable feature with the latent trait it
            reveals (Gaussian copula); in [0, 1).
        sens_spend_corr: correlation of log benefit sensitivity with the customer's log
            mean spend (negative: customers with smaller baskets are more price-sensitive;
            an assumption); in [-1, 1].
        seed: seed of the population; integer in [0, 2**63 - 1].
    """

    n_users: int = 10_000
    r: float = 0.243
    alpha: float = 4.414 * 7.0
    a: float = 0.793
    b: float = 2.426
    spend_log_mean: float = 3.390
    spend_log_sd: float = 0.405
    spend_within_sd: float = 0.589
    history_days: int = 273
    resp_sd: float = 0.7
    sens_sd: float = 0.5
    feature_corr: float = 0.6
    sens_spend_corr: float = -0.5
    seed: int = 2031

    def __post_init__(self) -> None:
        check_int("n_users", self.n_users, 1, 10_000_000)
        check_real("r", self.r, 0.0, 100.0)
        check_real("alpha", self.alpha, 0.0, 1e6)
        for name in ("r", "alpha", "a", "b"):
            check_real(name, getattr(self, name), 0.0, 1e6 if name == "alpha" else 1000.0)
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)!r}")
        check_real("spend_log_mean", self.spend_log_mean, -10.0, 10.0)
        for name in ("spend_log_sd", "spend_within_sd", "resp_sd", "sens_sd"):
            check_real(name, getattr(self, name), 0.0, 5.0)
        check_int("history_days", self.history_days, 1, 3650)
        check_real("feature_corr", self.feature_corr, 0.0, 1.0, hi_open=True)
        check_real("sens_spend_corr", self.sens_spend_corr, -1.0, 1.0)
        check_int("seed", self.seed, 0, 2**63 - 1)


@dataclass(frozen=True)
class MarketingConfig:
    """How a touch acts (all documented assumptions: docs/lifecycle_model.md, "Funnel").

    P(click) = sigmoid(click_logit[a] + stage_click[s] + h stage_channel_click[s, c]
    + h rho_c - fatigue_coef * F), with rho_c the customer's responsiveness to the
    action's channel c, F the decayed count of past touches (F <- fatigue_decay * F +
    touched, every day) and h = ``heterogeneity``.
    P(convert | click) = sigmoid(conv_stage[kind][s] + depth_coef * sens_h * depth_i[a]
    + dead_logit * [latently dead]) for a special offer (conversion = a purchase with the
    benefit; it wins a dead customer back), sigmoid(club_stage[s] + dead_logit * [dead])
    for a club invitation (conversion = joining; members cannot join again).  depth_i[a]
    = depth[a] + depth_per_dollar[a] E_i[min(rate V, cap)]: a rate benefit (cash back,
    discount) is worth more to a customer with a bigger basket.  sens_h =
    exp(h (log sens + sd^2/2) - (h sd)^2 / 2), sd = PopulationConfig.sens_sd (mean 1 at
    every h; sens_h = sens at h = 1, 1 at h = 0).

    Attributes:
        channel_click_logit: base click log-odds per channel (push, sms, phone); each in [-20, 20].
        channel_touch_cost: cost of one touch per channel, paid on every touch; each in [0, 1e4].
        channel_conv: conversion (or joining) log-odds after a click, added per channel (push,
            sms, phone); each in [-20, 20].  Default (assumption): a clicked push or SMS is a
            customer acting on a link (0), an answered call is often politeness (-0.7).
        stage_click: click log-odds added per stage (new, repeat, loyal, lapsing); in [-20, 20].
        stage_channel_click: click log-odds added per (stage, channel), 12 values, stage-major
            ((new: push, sms, phone), (repeat: ...), (loyal: ...), (lapsing: ...)), each
            scaled by ``heterogeneity``; in [-20, 20].  Defaults (assumptions): new and
            repeat customers have the app fresh (push +0.3, phone -0.3); loyal customers
            use the app daily and dislike calls (push +0.6, sms -0.2, phone -0.8); lapsing
            customers no longer open the app but read SMS (push -1.5, sms +0.8, phone 0).
        heterogeneity: h, the scale of the customer- and context-specific response terms
            (the stage x channel click terms, the channel responsiveness rho_c and the
            spread of benefit sensitivity); 0 = every customer in a stage responds alike
            up to basket size; in [0, 5].
        offer_conv: conversion log-odds of a special offer per stage; in [-20, 20].
        club_conv: joining log-odds of a club invitation per stage; in [-20, 20].
        depth_coef: conversion log-odds per unit of benefit depth x sensitivity; in [0, 50].
        click_depth_coef: click log-odds per unit of benefit depth; in [0, 50].
        dead_logit: log-odds added to conversion for a latently dead customer; in [-20, 0].
        fatigue_coef: click log-odds lost per unit of decayed touches; in [0, 20].
        fatigue_decay: daily decay of the touch, click and conversion histories; in [0, 1).
        club_rate_mult: purchase-rate multiplier of a club member; in [0.1, 10].
        club_dropout_mult: dropout multiplier of a club member; in [0, 1].
        club_cost: one-off cost of a member joining (its benefits), paid on joining; in [0, 1e4].
        ref_value: the dollar value benefits are measured against (depth = benefit / ref_value);
            in (0, 1e4].
    """

    channel_click_logit: tuple[float, ...] = (-4.0, -3.3, -1.8)
    channel_touch_cost: tuple[float, ...] = (0.01, 0.05, 1.5)
    channel_conv: tuple[float, ...] = (0.0, 0.0, -0.7)
    stage_click: tuple[float, ...] = (0.0, 0.3, 0.8, -0.5)
    stage_channel_click: tuple[float, ...] = (0.3, 0.0, -0.3, 0.3, 0.0, -0.3, 0.6, -0.2, -0.8,
                                              -1.5, 0.8, 0.0)
    heterogeneity: float = 1.0
    offer_conv: tuple[float, ...] = (-1.5, -1.5, -0.5, -2.0)
    club_conv: tuple[float, ...] = (-4.0, -1.0, -0.5, -3.5)
    depth_coef: float = 3.0
    click_depth_coef: float = 2.0
    dead_logit: float = -2.5
    fatigue_coef: float = 0.5
    fatigue_decay: float = 0.7
    club_rate_mult: float = 1.5
    club_dropout_mult: float = 0.3
    club_cost: float = 15.0
    ref_value: float = 35.0

    def __post_init__(self) -> None:
        _tuple(self, "channel_click_logit", 3, -20.0, 20.0)
        _tuple(self, "channel_touch_cost", 3, 0.0, 1e4)
        _tuple(self, "channel_conv", 3, -20.0, 20.0)
        for name in ("stage_click", "offer_conv", "club_conv"):
            _tuple(self, name, 4, -20.0, 20.0)
        _tuple(self, "stage_channel_click", 12, -20.0, 20.0)
        check_real("heterogeneity", self.heterogeneity, 0.0, 5.0)
        check_real("depth_coef", self.depth_coef, 0.0, 50.0)
        check_real("click_depth_coef", self.click_depth_coef, 0.0, 50.0)
        check_real("dead_logit", self.dead_logit, -20.0, 0.0)
        check_real("fatigue_coef", self.fatigue_coef, 0.0, 20.0)
        check_real("fatigue_decay", self.fatigue_decay, 0.0, 1.0, hi_open=True)
        check_real("club_rate_mult", self.club_rate_mult, 0.1, 10.0)
        check_real("club_dropout_mult", self.club_dropout_mult, 0.0, 1.0)
        check_real("club_cost", self.club_cost, 0.0, 1e4)
        check_real("ref_value", self.ref_value, 0.0, 1e4, lo_open=True)


@dataclass(frozen=True)
class LifecycleConfig:
    """One marketing activity: N daily steps over a batch of customers.

    Attributes:
        population: the customers.
        marketing: the funnel and stage effects.
        horizon_days: N, days of the activity (steps per episode); integer in [1, 3650].
        budget_per_user: overall episode budget divided by the batch size (the total is
            budget_per_user * B, shared by the B slots); in [0, 1e9].
        user_cap: most a single customer may cost in one episode; in [0, 1e9].
        lapse_days: recency (days since the last purchase) above which a customer is
            "lapsing"; integer in [1, 3650].
        loyal_purchases: purchases (first included) from which a customer is "loyal"
            (club members are loyal too); integer in [2, 1000].
        actions: the action table; None: :func:`simcore.domains.lifecycle.actions.default_actions`
            built from ``marketing`` (16 actions).
        num_threads: C++ threads for a batch step; None: all cores; else an integer >= 1.
    """

    population: PopulationConfig = field(default_factory=PopulationConfig)
    marketing: MarketingConfig = field(default_factory=MarketingConfig)
    horizon_days: int = 30
    budget_per_user: float = 6.0
    user_cap: float = 30.0
    lapse_days: int = 90
    loyal_purchases: int = 4
    actions: Any = None
    num_threads: int | None = None

    def __post_init__(self) -> None:
        for name, cls in (("population", PopulationConfig), ("marketing", MarketingConfig)):
            if not isinstance(getattr(self, name), cls):
                raise TypeError(f"{name}: expected a {cls.__name__}, got {type(getattr(self, name)).__name__}")
        check_int("horizon_days", self.horizon_days, 1, 3650)
        check_real("budget_per_user", self.budget_per_user, 0.0, 1e9)
        check_real("user_cap", self.user_cap, 0.0, 1e9)
        check_int("lapse_days", self.lapse_days, 1, 3650)
        check_int("loyal_purchases", self.loyal_purchases, 2, 1000)
        if self.actions is not None and type(self.actions).__name__ != "ActionTable":
            # (checked by name: actions.py imports this module)
            raise TypeError(f"actions: expected an ActionTable or None, got {type(self.actions).__name__}")
        if self.num_threads is not None:
            check_int("num_threads", self.num_threads, 1, 2**31 - 1)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> LifecycleConfig:
        """Builds a config from a nested dict (unknown keys raise ValueError naming the
        dotted path: :func:`simcore.util.config.from_dict`)."""
        from simcore.util.config import from_dict

        return from_dict(cls, d)
