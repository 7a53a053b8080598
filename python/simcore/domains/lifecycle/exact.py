"""Exact per-day expectations of the lifecycle model for given actions in a given state
(docs/lifecycle_model.md, "Exact expectations"): P(click), P(convert), P(purchase),
E[value], E[cost] and E[reward] = E[value] - E[cost], before anything is sampled.

They condition on the simulator's full state, the latent ``alive`` flag included (what a
planner with the model knows; an agent sees only the observation).  The NumPy twin and
the C++ step compute the same formulas in the same order, so the step's ``p_*`` and
``expected_*`` fields equal these to floating-point rounding of exp/erfc.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from simcore.domains.lifecycle.actions import CLUB, OFFER, ActionTable
from simcore.domains.lifecycle.config import LifecycleConfig
from simcore.domains.lifecycle.population import Population

__all__ = ["Model", "stage_of", "capped_rate_mean", "expectations", "sigmoid"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)) (as the C++ core computes it)."""
    return 1.0 / (1.0 + np.exp(-z))


def _phi(x: np.ndarray) -> np.ndarray:
    from scipy.special import erfc  # (imported here: `import simcore` stays free of scipy)

    return 0.5 * erfc(-x / np.sqrt(2.0))


@dataclass(frozen=True)
class Model:
    """The constants one step needs, as arrays: the action table (A,), the marketing
    parameters, the population's organic purchase probabilities, its responsiveness and
    sensitivity at the configured heterogeneity, and the budget rules.

    Attributes (beyond the config's scalars):
        stage_click: float64 (4, 3), stage_click[s] + h stage_channel_click[s, c].
        resp: float64 (P, 3), h rho (the click log-odds per channel).
        sens: float64 (P,), exp(h (log sens + sd^2/2) - (h sd)^2/2) (mean 1).
        q0, q1: float64 (P,), daily purchase probabilities (non-member, member).
    """

    table: dict[str, np.ndarray]
    worst: np.ndarray
    stage_click: np.ndarray
    offer_conv: np.ndarray
    club_conv: np.ndarray
    depth_coef: float
    dead_logit: float
    fatigue_coef: float
    decay: float
    club_dropout_mult: float
    within_sd: float
    q0: np.ndarray
    q1: np.ndarray
    resp: np.ndarray
    sens: np.ndarray
    lapse_days: int
    loyal_purchases: int
    horizon: int
    user_cap: float

    @classmethod
    def build(cls, cfg: LifecycleConfig, table: ActionTable, pop: Population) -> Model:
        """q0 = 1 - exp(-lambda), q1 = 1 - exp(-lambda club_rate_mult) per customer; the
        heterogeneity h scales the stage x channel click terms, resp and log sens."""
        m = cfg.marketing
        h, sd = m.heterogeneity, cfg.population.sens_sd
        sc = np.array(m.stage_click)[:, None] + h * np.array(m.stage_channel_click).reshape(4, 3)
        sens = pop.sens if h == 1.0 else np.exp(h * (np.log(pop.sens) + 0.5 * sd * sd) - 0.5 * (h * sd) ** 2)
        resp = pop.resp if h == 1.0 else h * pop.resp
        return cls(table=table.arrays(), worst=table.worst_cost(), stage_click=sc,
                   offer_conv=np.array(m.offer_conv), club_conv=np.array(m.club_conv),
                   depth_coef=m.depth_coef, dead_logit=m.dead_logit, fatigue_coef=m.fatigue_coef,
                   decay=m.fatigue_decay, club_dropout_mult=m.club_dropout_mult,
                   within_sd=cfg.population.spend_within_sd, q0=-np.expm1(-pop.lam),
                   q1=-np.expm1(-(pop.lam * m.club_rate_mult)), resp=np.ascontiguousarray(resp),
                   sens=np.ascontiguousarray(sens), lapse_days=cfg.lapse_days,
                   loyal_purchases=cfg.loyal_purchases, horizon=cfg.horizon_days, user_cap=cfg.user_cap)


def stage_of(n: np.ndarray, recency: np.ndarray, member: np.ndarray, lapse_days: int,
             loyal_purchases: int) -> np.ndarray:
    """int8 stage: 3 lapsing if recency > lapse_days, else 2 loyal if a member or
    n >= loyal_purchases, else 1 repeat if n >= 2, else 0 new."""
    s = np.where(n >= 2, 1, 0)
    s = np.where(member | (n >= loyal_purchases), 2, s)
    return np.where(recency > lapse_days, 3, s).astype(np.int8)


def capped_rate_mean(rate: np.ndarray, cap: np.ndarray, m: np.ndarray, s: float) -> np.ndarray:
    """E[min(rate V, cap)] for V = m LogNormal(-s^2/2, s) (mean m):
    rate m Phi((L - s^2/2)/s) + cap Phi(-(L + s^2/2)/s), L = log(cap / (rate m));
    min(rate m, cap) when s = 0; 0 when rate = 0 or cap = 0."""
    rate, cap, m = np.broadcast_arrays(np.asarray(rate, float), np.asarray(cap, float), np.asarray(m, float))
    out = np.zeros(rate.shape)
    ok = (rate > 0) & (cap > 0)
    if not np.any(ok):
        return out
    r, k, mm = rate[ok], cap[ok], m[ok]
    if s == 0:
        out[ok] = np.minimum(r * mm, k)
        return out
    L = np.log(k / (r * mm))
    h = 0.5 * s * s
    out[ok] = (r * mm) * _phi((L - h) / s) + k * _phi(-(L + h) / s)
    return out


def expectations(model: Model, pop: Population, state: Mapping[str, np.ndarray],
                 actions: np.ndarray, with_pv: bool = False) -> dict[str, np.ndarray]:
    """Exact expectations of ``actions`` in ``state`` (a simulator's ``state()``).

    Args:
        actions: int (B,) one action per slot, or (B, A') several per slot (broadcast
            against the slots' state, e.g. ``np.arange(A)[None, :]`` for every action).

    Returns:
        float64 arrays of the actions' shape: p_click, p_convert (offer: P(click)
        (v + q_a - v q_a), the benefit is redeemed on the day's purchase, induced or
        organic; club: P(click) v, joining), p_purchase (offer: q_a + P(click) v -
        q_a P(click) v; otherwise q_a), with v = P(convert | click), q_a = [alive] q,
        v's depth = depth + depth_per_dollar E[min(rate V, cap)];
        expected_value (= p_purchase m), expected_cost
        (= touch + p_click click_cost + p_convert (conv_fixed + E[min(rate V, cap)])),
        expected_reward (= expected_value - expected_cost); with ``with_pv`` also
        p_convert_given_click (v; the twin's step draws against it).
    """
    a = np.asarray(actions, dtype=np.int64)
    extra = a.ndim - 1
    def col(x: np.ndarray) -> np.ndarray:
        return np.asarray(x).reshape(x.shape[:1] + (1,) * extra) if extra > 0 else np.asarray(x)

    u = np.asarray(state["user"], dtype=np.int64)
    alive, member = col(np.asarray(state["alive"], bool)), col(np.asarray(state["member"], bool))
    n, rec = np.asarray(state["n"]), np.asarray(state["recency"])
    stage = col(stage_of(n, rec, np.asarray(state["member"], bool), model.lapse_days, model.loyal_purchases))
    h = np.asarray(state["hist"], dtype=np.float64)
    F = col((h[:, 0] + h[:, 1]) + h[:, 2])
    t = model.table
    kind, ch = t["kind"][a], t["channel"][a]
    resp = model.resp[u[(...,) + (None,) * extra] if extra else u, np.maximum(ch, 0)]
    zc = ((t["click_logit"][a] + model.stage_click[stage, np.maximum(ch, 0)]) + resp) - model.fatigue_coef * F
    pc = np.where(kind != 0, sigmoid(zc), 0.0)
    dead = np.where(alive, 0.0, model.dead_logit)
    sens, spend = col(model.sens[u]), col(pop.spend[u])
    capm = capped_rate_mean(t["conv_rate"][a], t["conv_cap"][a], spend, model.within_sd)
    depth = t["depth"][a] + t["depth_per_dollar"][a] * capm
    zo = ((model.offer_conv[stage] + t["conv_logit"][a]) + (model.depth_coef * sens) * depth) + dead
    zk = (model.club_conv[stage] + t["conv_logit"][a]) + dead
    pv = np.where(kind == OFFER, sigmoid(zo), np.where((kind == CLUB) & ~member, sigmoid(zk), 0.0))
    induced = pc * pv  # the touch itself brings the purchase (offer) or the joining (club)
    q = np.where(alive, np.where(member, col(model.q1[u]), col(model.q0[u])), 0.0)
    offer = kind == OFFER
    ppur = np.where(offer, (q + induced) - q * induced, q * np.ones_like(induced))
    # an opened offer is redeemed on any purchase of the day, organic ones included
    pconv = np.where(offer, pc * ((pv + q) - pv * q), induced)
    ev = ppur * spend
    ec = (t["touch_cost"][a] + pc * t["click_cost"][a]) + pconv * (t["conv_fixed"][a] + capm)
    out = {"p_click": pc, "p_convert": pconv, "p_purchase": ppur, "expected_value": ev,
           "expected_cost": ec, "expected_reward": ev - ec}
    if with_pv:
        out["p_convert_given_click"] = pv
    return out
