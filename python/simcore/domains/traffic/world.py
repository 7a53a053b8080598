"""The tiered catalogue: the search catalogue plus binary tier flags, and the segments'
tier-affinity probabilities (docs/tiered_traffic_model.md, "World")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.domains.search.world import World, make_world
from simcore.domains.traffic.config import TierWorldConfig, TrafficConfig
from simcore.util.seeds import SeedTree

#: Names of the default tiers (TierWorldConfig's defaults), for tables and plots.
TIER_NAMES = ("brand", "next_day", "merchant_a")


@dataclass(frozen=True)
class TrafficWorld:
    """A search catalogue with tier flags and a population with tier affinities.

    Attributes (Q queries, N items, m base features, m_t tiers, G segments):
        base: the search :class:`~simcore.domains.search.world.World` (m columns).
        flags: uint8 (Q, N, m_t), 1 if the item is in the tier.
        features: float32 (Q, N, m + m_t): the base columns, then the flags as 0/1.
        prices: float64 (Q, N), > 0 (the base catalogue's).
        segment_probs: float64 (G,).
        segment_pref: float64 (G, m + m_t): the base mean preferences, 0 on the tiers
            (tier tastes are the affinity classes, not segment means).
        like_prob, dislike_prob: float64 (G, m_t), each segment's probability of
            liking / disliking each tier (the rest is indifferent).
    """

    base: World
    flags: np.ndarray
    features: np.ndarray
    prices: np.ndarray
    segment_probs: np.ndarray
    segment_pref: np.ndarray
    like_prob: np.ndarray
    dislike_prob: np.ndarray

    @property
    def segment_cdf(self) -> np.ndarray:
        """float64 (G,) cumulative segment probabilities, last entry exactly 1."""
        return self.base.segment_cdf

    @property
    def n_tiers(self) -> int:
        return int(self.flags.shape[2])

    @property
    def n_base(self) -> int:
        return int(self.base.features.shape[2])

    @property
    def affinity_cdf(self) -> np.ndarray:
        """float64 (G, m_t, 2): (like, like + dislike) cumulative class probabilities."""
        return np.stack([self.like_prob, self.like_prob + self.dislike_prob], axis=-1)


def _logit(x: np.ndarray) -> np.ndarray:
    x = np.clip(np.asarray(x, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(x / (1 - x))


def _standardise(x: np.ndarray) -> np.ndarray:
    """(x - mean) / sd over the items of each query (axis 1); sd 0 -> 1."""
    sd = x.std(axis=1, keepdims=True)
    return (x - x.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)


def tier_flags(base: World, cfg: TierWorldConfig, rng: np.random.Generator) -> np.ndarray:
    """uint8 (Q, N, m_t) tier flags (TierWorldConfig's docstring: membership scores of
    standardised logit price, quality and sales plus N(0, 1) noise; each query's top
    share_q fraction is in the tier, at least one item and at most N - 1 when N > 1)."""
    X = base.features
    Q, N, m = X.shape
    cols = [_standardise(_logit(X[:, :, j])) if j < m else np.zeros((Q, N)) for j in range(3)]
    flags = np.zeros((Q, N, cfg.n_tiers), dtype=np.uint8)
    for i in range(cfg.n_tiers):
        u = (cfg.price_coef[i] * cols[0] + cfg.quality_coef[i] * cols[1] + cfg.sales_coef[i] * cols[2]
             + rng.standard_normal((Q, N)))
        share_q = 1.0 / (1.0 + np.exp(-(_logit(np.array(cfg.share[i])) + cfg.share_spread * rng.standard_normal(Q))))
        n_in = np.clip(np.rint(share_q * N).astype(np.int64), 1 if N > 1 else 0, max(N - 1, 1))
        order = np.argsort(-u, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(N)[None, :].repeat(Q, axis=0), axis=1)
        flags[:, :, i] = rank < n_in[:, None]
    return flags


def affinity_probs(cfg: TierWorldConfig, n_segments: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(like_prob, dislike_prob), float64 (G, m_t) each (TierWorldConfig's docstring)."""
    like = np.asarray(cfg.like_prob)
    dislike = np.asarray(cfg.dislike_prob)
    s = cfg.segment_spread
    e = rng.standard_normal((2, n_segments, cfg.n_tiers))
    with np.errstate(divide="ignore"):
        logits = np.stack([np.log(like) + s * e[0], np.log(1 - like - dislike) + 0 * e[0],
                           np.log(dislike) + s * e[1]], axis=-1)
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p = z / z.sum(axis=-1, keepdims=True)
    return p[..., 0].copy(), p[..., 2].copy()


def make_traffic_world(cfg: TrafficConfig) -> TrafficWorld:
    """The search catalogue of ``cfg.session.world`` (unchanged) with tier flags and
    affinity probabilities drawn from the stream ``SeedTree(cfg.tiers.seed)`` paths
    "tiers/flags" and "tiers/affinity"."""
    base = make_world(cfg.session.world)
    seeds = SeedTree(cfg.tiers.seed).child("tiers")
    flags = tier_flags(base, cfg.tiers, seeds.generator("flags"))
    like, dislike = affinity_probs(cfg.tiers, base.segment_pref.shape[0], seeds.generator("affinity"))
    features = np.ascontiguousarray(np.concatenate([base.features, flags.astype(np.float32)], axis=2))
    pref = np.concatenate([base.segment_pref, np.zeros((base.segment_pref.shape[0], cfg.n_tiers))], axis=1)
    return TrafficWorld(base=base, flags=flags, features=features, prices=base.prices,
                        segment_probs=base.segment_probs, segment_pref=pref,
                        like_prob=like, dislike_prob=dislike)
