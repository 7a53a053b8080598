"""The action table of the lifecycle simulator: do nothing, or an offer type x channel x
benefit, each with its funnel parameters and costs (docs/lifecycle_model.md, "Actions").

Cost of an action for one customer and day (what the budget pays):
touch_cost (always) + click_cost * [clicked] (red packets are paid when opened)
+ [converted] * (conv_fixed + min(conv_rate * value, conv_cap)) (coupons: conv_fixed;
cash back and discounts: a rate of the purchase value, capped; club: conv_fixed is the
joining cost).  Its worst case touch_cost + click_cost + conv_fixed + conv_cap bounds
the realised cost (``worst_cost``); the budget pays the realised cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.domains.lifecycle.config import CHANNELS, LifecycleConfig, MarketingConfig

#: Action kinds.
NOTHING, OFFER, CLUB = 0, 1, 2
KINDS = ("nothing", "offer", "club")
#: Benefits of a special offer.
BENEFITS = ("coupon", "cashback", "red_packet", "discount")
#: Click log-odds of each benefit kind (added to the channel's; an assumption).
BENEFIT_CLICK = {"coupon": 0.0, "cashback": 0.0, "red_packet": 0.4, "discount": 0.2, "club": 0.0}

_FIELDS = ("kind", "channel", "click_logit", "depth", "touch_cost", "click_cost", "conv_fixed",
           "conv_rate", "conv_cap", "depth_per_dollar", "conv_logit")


@dataclass(frozen=True)
class ActionTable:
    """A actions, row 0 = do nothing.  Every attribute is a tuple of A entries.

    Attributes:
        names: labels, e.g. "offer/sms/coupon10".
        kind: 0 nothing (row 0 only), 1 special offer, 2 club invitation.
        channel: 0 push, 1 sms, 2 phone (-1 for row 0).
        click_logit: base click log-odds (channel + benefit + click_depth_coef * depth).
        depth: fixed benefit depth (a fixed benefit's value / MarketingConfig.ref_value), >= 0.
        touch_cost, click_cost, conv_fixed, conv_rate, conv_cap: the costs above; each
            finite and >= 0 (conv_rate <= 1); row 0's are all 0.
        depth_per_dollar: depth added per dollar of the customer's expected rate benefit
            E_i[min(conv_rate V, conv_cap)] (1 / ref_value for cash back and discounts in
            the default table, 0 otherwise), >= 0; default all 0.  The depth a customer
            responds to is depth + depth_per_dollar * E_i[min(conv_rate V, conv_cap)].
        conv_logit: conversion log-odds added after a click of this action (the
            default table: MarketingConfig.channel_conv of its channel), finite; default all 0.
    """

    names: tuple[str, ...]
    kind: tuple[int, ...]
    channel: tuple[int, ...]
    click_logit: tuple[float, ...]
    depth: tuple[float, ...]
    touch_cost: tuple[float, ...]
    click_cost: tuple[float, ...]
    conv_fixed: tuple[float, ...]
    conv_rate: tuple[float, ...]
    conv_cap: tuple[float, ...]
    depth_per_dollar: tuple[float, ...] | None = None
    conv_logit: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        A = len(self.names)
        for name in ("depth_per_dollar", "conv_logit"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, (0.0,) * A)
        if A < 1 or A > 256:
            raise ValueError(f"names: an action table needs 1 to 256 actions, got {A}")
        for name in _FIELDS:
            v = getattr(self, name)
            if len(v) != A:
                raise ValueError(f"{name}: expected {A} entries (one per action), got {len(v)}")
            arr = np.asarray(v, dtype=np.float64)
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name}: must be finite")
            if name in ("depth", "touch_cost", "click_cost", "conv_fixed", "conv_rate", "conv_cap",
                        "depth_per_dollar"):
                bad = np.flatnonzero(arr < 0)
                if bad.size:
                    raise ValueError(f"{name}[{bad[0]}]: must be >= 0 (no negative costs), got {arr[bad[0]]}")
            object.__setattr__(self, name, tuple(int(x) for x in v) if name in ("kind", "channel")
                               else tuple(float(x) for x in v))
        if self.kind[0] != NOTHING or self.channel[0] != -1 or any(getattr(self, f)[0] for f in _FIELDS[3:]):
            raise ValueError("kind[0]: action 0 must be 'do nothing' (kind 0, channel -1, zero costs)")
        for i in range(1, A):
            if self.kind[i] not in (OFFER, CLUB):
                raise ValueError(f"kind[{i}]: must be 1 (offer) or 2 (club), got {self.kind[i]}")
            if not 0 <= self.channel[i] < len(CHANNELS):
                raise ValueError(f"channel[{i}]: must lie in [0, {len(CHANNELS)}), got {self.channel[i]}")
            if self.conv_rate[i] > 1:
                raise ValueError(f"conv_rate[{i}]: must lie in [0, 1], got {self.conv_rate[i]}")

    @property
    def n(self) -> int:
        """A, the number of actions."""
        return len(self.names)

    def arrays(self) -> dict[str, np.ndarray]:
        """The table as arrays (A,): kind, channel int32; the rest float64."""
        return {f: np.array(getattr(self, f), dtype=np.int32 if f in ("kind", "channel") else np.float64)
                for f in _FIELDS}

    def worst_cost(self) -> np.ndarray:
        """float64 (A,): touch_cost + click_cost + conv_fixed + conv_cap, summed in that
        order (an upper bound: the sampled cost never exceeds it)."""
        a = self.arrays()
        return ((a["touch_cost"] + a["click_cost"]) + a["conv_fixed"]) + a["conv_cap"]


def default_actions(m: MarketingConfig | None = None) -> ActionTable:
    """The 16-action default table (docs/lifecycle_model.md, "Actions"): do nothing;
    special offers by push and SMS with a $5 or $10 coupon, 10 % cash back (cap $10), a
    $2 red packet or a 20 % discount (cap $20); by phone a $10 coupon or the 20 %
    discount; a club invitation by push, SMS or phone (joining costs club_cost).  Fixed
    benefits have depth = value / ref_value; rate benefits (cash back, discount) have
    depth 0 and depth_per_dollar = 1 / ref_value, so their depth is the customer's
    expected benefit in dollars / ref_value (bigger baskets, deeper benefit)."""
    m = m if m is not None else MarketingConfig()
    rows: list[tuple] = [("nothing", NOTHING, -1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)]
    # benefit label -> (kind, click cost, conv fixed, conv rate, conv cap, benefit value in $)
    offers = {
        "coupon5": ("coupon", 0.0, 5.0, 0.0, 0.0, 5.0),
        "coupon10": ("coupon", 0.0, 10.0, 0.0, 0.0, 10.0),
        "cashback10": ("cashback", 0.0, 0.0, 0.10, 10.0, 0.0),
        "redpacket2": ("red_packet", 2.0, 0.0, 0.0, 0.0, 2.0),
        "discount20": ("discount", 0.0, 0.0, 0.20, 20.0, 0.0),
    }
    menu = {"push": list(offers), "sms": list(offers), "phone": ["coupon10", "discount20"]}
    for c, labels in menu.items():
        ci = CHANNELS.index(c)
        for lab in labels:
            ben, cc, cf, cr, cap, val = offers[lab]
            depth = val / m.ref_value
            dpd = 1.0 / m.ref_value if cr > 0 else 0.0
            # the click term sees the advertised benefit (a rate: rate * ref_value)
            shown = (val if cr == 0 else cr * m.ref_value) / m.ref_value
            logit = m.channel_click_logit[ci] + BENEFIT_CLICK[ben] + m.click_depth_coef * shown
            rows.append((f"offer/{c}/{lab}", OFFER, ci, logit, depth, m.channel_touch_cost[ci], cc, cf, cr, cap,
                         dpd, m.channel_conv[ci]))
    for ci, c in enumerate(CHANNELS):
        rows.append((f"club/{c}", CLUB, ci, m.channel_click_logit[ci], 0.0, m.channel_touch_cost[ci], 0.0,
                     m.club_cost, 0.0, 0.0, 0.0, m.channel_conv[ci]))
    cols = list(zip(*rows))
    return ActionTable(names=tuple(cols[0]), kind=tuple(cols[1]), channel=tuple(cols[2]),
                       click_logit=tuple(cols[3]), depth=tuple(cols[4]), touch_cost=tuple(cols[5]),
                       click_cost=tuple(cols[6]), conv_fixed=tuple(cols[7]), conv_rate=tuple(cols[8]),
                       conv_cap=tuple(cols[9]), depth_per_dollar=tuple(cols[10]), conv_logit=tuple(cols[11]))


def action_table(config: LifecycleConfig) -> ActionTable:
    """The table a config uses: ``config.actions``, or the default built from its marketing."""
    return config.actions if config.actions is not None else default_actions(config.marketing)
