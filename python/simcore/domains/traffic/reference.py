"""Plain NumPy twin of the tiered-traffic simulator
(:class:`simcore.domains.traffic.simulator.TrafficSimulator`).

It reuses the search twin (:class:`simcore.domains.search.reference.ReferenceSessionBatch`)
for ranking, the user model and the page memory, and adds what the C++
``TrafficBatch`` adds: tier-affinity users, carts, page and control tier shares and
the reward.  Same streams, same formulas: pages, draws, counts and shares are equal;
probabilities and rewards equal to floating-point rounding of exp/log.
"""

from __future__ import annotations

import numpy as np

from simcore.domains.search.reference import ReferenceSessionBatch
from simcore.domains.traffic.config import TrafficConfig
from simcore.domains.traffic.world import TrafficWorld, make_traffic_world
from simcore.kernels.reference import scores
from simcore.kernels.rng import stream_key


def control_ranking(world: TrafficWorld, weights: np.ndarray, page_size: int,
                    horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """pi_basic's pages and their tier shares: int64 (Q, T, K) (-1 padded) and float64
    (Q, T, m_t).  Page t holds ranks tK .. tK + K - 1 of the full ranking (score
    descending, ties by lower index)."""
    X = np.asarray(world.features, dtype=np.float32)
    Q, N, F = X.shape
    mt, K, T = world.n_tiers, page_size, horizon
    pages = np.full((Q, T, K), -1, dtype=np.int64)
    share = np.zeros((Q, T, mt))
    for q in range(Q):
        s = scores(X[q], np.asarray(weights, dtype=np.float32))
        order = np.lexsort((np.arange(N), -s))[: T * K]
        for t in range(T):
            items = order[t * K:(t + 1) * K]
            pages[q, t, : items.size] = items
            if items.size:
                share[q, t] = world.flags[q, items].astype(np.float64).sum(axis=0) / items.size
    return pages, share


class ReferenceTrafficBatch(ReferenceSessionBatch):
    """NumPy twin of TrafficSimulator: seed, seed_slots, reset, reset_to, step (a dict
    with the fields of TrafficStepResult), control_pages, control_share."""

    def __init__(self, config: TrafficConfig | None = None, num_sessions: int = 1, seed: int = 0,
                 world: TrafficWorld | None = None) -> None:
        self.tcfg = config if config is not None else TrafficConfig()
        tw = world if world is not None else make_traffic_world(self.tcfg)
        self.tworld = tw
        self.mt, self.mb = tw.n_tiers, tw.n_base
        super().__init__(self.tcfg.session, num_sessions, seed, world=tw)  # type: ignore[arg-type]
        self.affinity_cdf = tw.affinity_cdf
        r = self.tcfg.reward
        self.lambdas = np.array(r.lambda_vector(self.mt), dtype=np.float64)
        self.basic = np.array(self.tcfg.basic_vector(), dtype=np.float32)
        self._pages, self._share = control_ranking(tw, self.basic, self.K, self.horizon)

    def control_pages(self) -> np.ndarray:
        return self._pages

    def control_share(self) -> np.ndarray:
        return self._share

    # -- users: the search draws, then per tier a class uniform and a strength normal
    def _begin(self, sel: np.ndarray, users: dict[str, np.ndarray] | None = None) -> None:
        if users is not None:
            super()._begin(sel, users)
            return
        cfg, um = self.tcfg, self.config.user
        self.rng.state[sel] = stream_key(self.slot_seed[sel], self.slot_stream[sel], self.episode[sel])
        self.episode[sel] += np.uint64(1)
        q = (self.rng.uniform(sel) * self.Q).astype(np.int64)
        self.query[sel] = np.minimum(q, self.Q - 1)
        g = np.minimum(np.searchsorted(self.cdf, self.rng.uniform(sel), side="right"), self.G - 1)
        self.segment[sel] = g
        p = np.stack([self.rng.uniform(sel) for _ in range(3)])
        self.power[sel] = np.median(p, axis=0)
        for j in range(self.mb):
            self.pref[sel, j] = self.seg_pref[g, j] + um.pref_noise * self.rng.normal(sel)
        self.patience[sel] = um.patience_noise * self.rng.normal(sel)
        for j in range(self.mt):
            uc = self.rng.uniform(sel)
            z = self.rng.normal(sel)
            cdf = self.affinity_cdf[g, j]
            sign = np.where(uc < cdf[:, 0], 1.0, np.where(uc < cdf[:, 1], -1.0, 0.0))
            self.pref[sel, self.mb + j] = sign * (cfg.affinity_strength + cfg.affinity_noise * z)
        self.shown[sel] = False
        self.t[sel] = 0
        self.n_pages[sel] = 0
        self.head[sel] = 0
        self.needs_reset[sel] = False

    def _blank(self) -> dict[str, np.ndarray]:
        B, K, mt = self.B, self.K, self.mt
        out = {
            "obs": np.zeros((B, self.obs_dim), np.float32), "reward": np.zeros(B),
            "terminated": np.zeros(B, bool), "truncated": np.zeros(B, bool),
            "outcome": np.full(B, -1, np.int8), "item": np.full(B, -1, np.int64),
            "price": np.zeros(B), "page": np.full((B, K), -1, np.int64),
            "clicks": np.zeros((B, K), bool), "carts": np.zeros((B, K), bool),
            "b": np.zeros(B), "l": np.zeros(B), "c": np.ones(B), "m": np.zeros(B),
            "expected_clicks": np.zeros(B), "expected_carts": np.zeros(B),
        }
        for k in ("n_click", "n_cart", "n_buy"):
            out[k] = np.zeros(B, np.int32)
        out["share"], out["share_basic"] = np.zeros((B, mt)), np.zeros((B, mt))
        out["reward_gmv"], out["reward_tier"] = np.zeros(B), np.zeros(B)
        return out

    def _tiers(self, sel: np.ndarray, fresh: dict[str, np.ndarray], count: np.ndarray,
               t_before: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(share (S, m_t), share_basic (S, m_t), reward_tier (S,))."""
        valid = np.arange(self.K)[None, :] < count[:, None]
        flags = np.where(valid[..., None], fresh["x"][..., self.mb:], 0.0)
        n = np.zeros((sel.size, self.mt))
        for k in range(self.K):
            n = n + flags[:, k]
        share = np.where(count[:, None] > 0, n / np.maximum(count, 1)[:, None], 0.0)
        basic = self._share[self.query[sel], np.minimum(t_before, self.horizon - 1)]
        tier = np.zeros(sel.size)
        for j in range(self.mt):
            tier = tier + self.lambdas[j] * (share[:, j] - basic[:, j])
        return share, basic, tier

    def _cart_prob(self, fresh: dict[str, np.ndarray], count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cart probability of each position given a click, sigmoid(alpha_cart + log e_k)
        with e_k = w_k / v_k, and the expected carts sum_k q_k r_k."""
        valid = np.arange(self.K)[None, :] < count[:, None]
        z = np.exp(self.tcfg.cart_bias) * (fresh["weight"] / self.v[None, :])
        r = np.where(valid, z / (1.0 + z), 0.0)
        exp_carts = np.zeros(count.size)
        for k in range(self.K):
            exp_carts = np.where(valid[:, k], exp_carts + fresh["click_prob"][:, k] * r[:, k], exp_carts)
        return r, exp_carts

    def step(self, actions: np.ndarray, sample: bool = True) -> dict[str, np.ndarray]:
        """One page per session under weights (B, F); the fields of TrafficStepResult."""
        actions = np.asarray(actions, dtype=np.float32)
        out = self._blank()
        rs = np.nonzero(self.needs_reset)[0]
        if rs.size:
            self._begin(rs)
            out["obs"][rs] = self._obs(rs)
        sel = np.nonzero(~np.isin(np.arange(self.B), rs))[0]
        if sel.size == 0:
            return out
        t_before = self.t[sel].copy()
        page, count = self._rank(sel, actions)
        fresh = self._describe(sel, page, count)
        b, l, c, mm = self._evaluate(sel, fresh)
        share, basic, tier = self._tiers(sel, fresh, count, t_before)
        cart_r, exp_carts = self._cart_prob(fresh, count)
        slot = self._remember(sel, page, count, fresh)
        out["page"][sel] = page
        out["b"][sel], out["l"][sel], out["c"][sel], out["m"][sel] = b, l, c, mm
        out["expected_clicks"][sel] = fresh["exp_clicks"]
        out["expected_carts"][sel] = exp_carts
        out["share"][sel], out["share_basic"][sel] = share, basic
        w = self.tcfg.reward
        outcome = np.zeros(sel.size, np.int8)
        bought, paid = np.full(sel.size, -1, np.int64), np.zeros(sel.size)
        if sample:
            outcome, bought, paid = self._sample_purchase(sel, b, l)
            clicks = self._sample_clicks(sel, slot, count, fresh)
            carts = np.zeros_like(clicks)
            for k in range(self.K):
                uk = self.rng.uniform(sel)
                carts[:, k] = clicks[:, k] & (uk < cart_r[:, k])
            nclk, ncart = clicks.sum(axis=1), carts.sum(axis=1)
            nbuy = (outcome == 1).astype(np.int64)
            gmv = w.click * nclk + w.cart * ncart + w.buy * nbuy + w.price * paid
            out["clicks"][sel], out["carts"][sel] = clicks, carts
            out["n_click"][sel], out["n_cart"][sel], out["n_buy"][sel] = nclk, ncart, nbuy
        else:
            self.click_feat[sel, slot] = 0.0
            self.n_clicks[sel, slot] = 0
            gmv = w.click * fresh["exp_clicks"] + w.cart * exp_carts + w.buy * b + w.price * (b * mm)
        out["reward_gmv"][sel], out["reward_tier"][sel] = gmv, tier
        out["reward"][sel] = gmv + tier
        out["outcome"][sel], out["item"][sel], out["price"][sel] = outcome, bought, paid
        term = outcome != 0
        trunc = ~term & (self.t[sel] >= self.horizon)
        out["terminated"][sel], out["truncated"][sel] = term, trunc
        self.needs_reset[sel] = term | trunc
        out["obs"][sel] = self._obs(sel)
        return out
