"""Plain NumPy twin of the search-session simulator (:class:`simcore.domains.search.simulator.SearchSimulator`).

Written for clarity first, vectorised where NumPy allows (it doubles as the
"vectorised NumPy implementation" in bench/).
"""

from __future__ import annotations

import numpy as np

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.world import World, make_world
from simcore.kernels.reference import scores
from simcore.kernels.rng import Streams, stream_key

# ------------------------------------------------------------------ session simulator


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class ReferenceSessionBatch:
    """NumPy twin of :class:`simcore.domains.search.simulator.SearchSimulator` (same streams, same formulas).

    Pages and sampled outcomes match the C++ simulator exactly; probabilities match to
    floating-point rounding of exp/log (libm vs NumPy).  The interface mirrors
    SearchSimulator: seed, reset, reset_to, step (returning a dict of arrays), peek.
    """

    def __init__(self, config: SessionConfig | None = None, num_sessions: int = 1, seed: int = 0,
                 world: World | None = None) -> None:
        self.config = config if config is not None else SessionConfig()
        self.world = world if world is not None else make_world(self.config.world)
        cfg, um = self.config, self.config.user
        self.X = np.ascontiguousarray(self.world.features, dtype=np.float32)
        self.prices = np.asarray(self.world.prices, dtype=np.float64)
        self.cdf = self.world.segment_cdf
        self.seg_pref = np.asarray(self.world.segment_pref, dtype=np.float64)
        Q, N, m = self.X.shape
        self.Q, self.N, self.m, self.G = Q, N, m, self.cdf.size
        self.K, self.W, self.B = cfg.page_size, um.window, int(num_sessions)
        self.horizon = min(-(-N // self.K), cfg.max_steps)
        self.v = 1.0 / np.log2(np.arange(self.K, dtype=np.float64) + 2.0)
        self.obs_dim = self.W * m + m + 1 + self.G + 1
        B, W, K = self.B, self.W, self.K
        self.rng = Streams(B)
        self.episode = np.zeros(B, dtype=np.uint64)
        self.query = np.zeros(B, dtype=np.int64)
        self.segment = np.zeros(B, dtype=np.int64)
        self.power = np.zeros(B)
        self.patience = np.zeros(B)
        self.pref = np.zeros((B, m))
        self.shown = np.zeros((B, N), dtype=bool)
        self.t = np.zeros(B, dtype=np.int64)
        self.needs_reset = np.ones(B, dtype=bool)
        self.n_pages = np.zeros(B, dtype=np.int64)
        self.head = np.zeros(B, dtype=np.int64)
        self.memo = {k: np.zeros((B, W)) for k in ("ve", "vep", "vx0", "v", "frus", "exp_clicks")}
        self.memo_count = np.zeros((B, W), dtype=np.int64)
        self.items = np.full((B, W, K), -1, dtype=np.int64)
        self.item_weight = np.zeros((B, W, K))
        self.feat_mean = np.zeros((B, W, m))
        self.click_feat = np.zeros((B, W, m))
        self.n_clicks = np.zeros((B, W), dtype=np.int64)
        self.seed(seed)

    # -- episodes
    def seed(self, seed: int) -> None:
        """Slot j's e-th episode draws from the stream (seed, j, e)."""
        self._seed = int(seed)
        self.slot_seed = np.full(self.B, self._seed, dtype=np.uint64)
        self.slot_stream = np.arange(self.B, dtype=np.uint64)
        self.episode[:] = 0
        self.needs_reset[:] = True

    def seed_slots(self, seeds: np.ndarray) -> None:
        """Slot j's e-th episode draws from the stream (seeds[j], 0, e)."""
        seeds = np.array([int(s) for s in seeds], dtype=np.uint64)
        if seeds.shape != (self.B,):
            raise ValueError(f"seeds: expected one seed per session ({self.B}), got {seeds.size}")
        self.slot_seed = seeds
        self.slot_stream = np.zeros(self.B, dtype=np.uint64)
        self.episode[:] = 0
        self.needs_reset[:] = True

    def _begin(self, sel: np.ndarray, users: dict[str, np.ndarray] | None = None) -> None:
        self.rng.state[sel] = stream_key(self.slot_seed[sel], self.slot_stream[sel], self.episode[sel])
        self.episode[sel] += np.uint64(1)
        if users is not None:
            self.query[sel] = users["query"][sel]
            self.segment[sel] = users["segment"][sel]
            self.power[sel] = users["power"][sel]
            self.patience[sel] = users["patience"][sel]
            self.pref[sel] = users["prefs"][sel]
        else:
            q = (self.rng.uniform(sel) * self.Q).astype(np.int64)
            self.query[sel] = np.minimum(q, self.Q - 1)
            u = self.rng.uniform(sel)
            g = np.minimum(np.searchsorted(self.cdf, u, side="right"), self.G - 1)
            self.segment[sel] = g
            p = np.stack([self.rng.uniform(sel) for _ in range(3)])
            self.power[sel] = np.median(p, axis=0)
            um = self.config.user
            for j in range(self.m):
                self.pref[sel, j] = self.seg_pref[g, j] + um.pref_noise * self.rng.normal(sel)
            self.patience[sel] = um.patience_noise * self.rng.normal(sel)
        self.shown[sel] = False
        self.t[sel] = 0
        self.n_pages[sel] = 0
        self.head[sel] = 0
        self.needs_reset[sel] = False

    def reset(self) -> np.ndarray:
        sel = np.arange(self.B)
        self._begin(sel)
        return self._obs(sel)

    def reset_to(self, users: dict[str, np.ndarray]) -> np.ndarray:
        sel = np.arange(self.B)
        self._begin(sel, {k: np.asarray(v) for k, v in users.items()})
        return self._obs(sel)

    # -- pieces of a step (vectorised over the selected sessions `sel`)
    def _rank(self, sel: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        K = self.K
        s = scores(self.X[self.query[sel]], actions[sel][:, None, :])  # (S, N)
        s = np.where(self.shown[sel], -np.inf, s)
        avail = (~self.shown[sel]).sum(axis=1)
        kk = min(K, self.N)
        part = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        ps = np.take_along_axis(s, part, axis=1)
        order = np.lexsort((part, -ps), axis=1)
        page = np.take_along_axis(part, order, axis=1)
        # Exact tie handling: rows whose k-th score is tied with an unselected item
        thr = np.take_along_axis(s, page[:, -1:], axis=1)
        tied = (s == thr).sum(axis=1) > (np.take_along_axis(s, page, axis=1) == thr).sum(axis=1)
        for r in np.nonzero(tied)[0]:
            o = np.lexsort((np.arange(self.N), -s[r]))[:kk]
            page[r] = o
        count = np.minimum(avail, kk)
        out = np.full((sel.size, K), -1, dtype=np.int64)
        out[:, :kk] = page
        out[np.arange(K)[None, :] >= count[:, None]] = -1
        return out, count

    def _describe(self, sel: np.ndarray, page: np.ndarray, count: np.ndarray) -> dict[str, np.ndarray]:
        um = self.config.user
        valid = page >= 0
        items = np.where(valid, page, 0)
        x = self.X[self.query[sel][:, None], items].astype(np.float64)  # (S, K, m)
        a = np.zeros(page.shape)
        for j in range(self.m):
            a = a + self.pref[sel][:, None, j] * (x[..., j] - 0.5)
        x0 = x[..., um.price_feature]
        gap = x0 - self.power[sel][:, None]
        a = a - um.price_fit * gap * gap
        v = self.v[None, :]
        ea = np.exp(a)
        e = ea * np.exp(-(um.anchor + um.price_aversion) * x0)
        price = self.prices[self.query[sel][:, None], items]
        w = np.where(valid, v * e, 0.0)
        c0 = np.exp(um.click_bias)
        z = c0 * v * ea
        q = np.where(valid, z / (1.0 + z), 0.0)

        def seqsum(t: np.ndarray) -> np.ndarray:
            acc = np.zeros(t.shape[0])
            for k in range(self.K):
                acc = acc + np.where(valid[:, k], t[:, k], 0.0)
            return acc

        d = {
            "ve": seqsum(v * e),
            "vep": seqsum(v * e * price),
            "vx0": seqsum(v * x0),
            "v": seqsum(np.broadcast_to(v, a.shape)),
            "weight": w,
            "click_prob": q,
            "count": count,
            "x": x,
        }
        vea = seqsum(v * ea)
        S = np.where(count > 0, np.log(np.where(count > 0, vea / np.where(d["v"] > 0, d["v"], 1), 1)), 0.0)
        d["frus"] = _sigmoid(-S)
        d["exp_clicks"] = seqsum(q)
        return d

    def _evaluate(self, sel: np.ndarray, fresh: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        um, W = self.config.user, self.W
        P, M, X0, V, F = (fresh[k].copy() for k in ("ve", "vep", "vx0", "v", "frus"))
        D = np.ones(sel.size)
        E = np.zeros(sel.size)  # engagement: expected clicks of the earlier pages
        dpow = np.ones(sel.size)
        older = np.minimum(self.n_pages[sel], W - 1)
        for age in range(1, W):
            on = age <= older
            dpow = np.where(on, dpow * um.recency, dpow)
            slot = (self.head[sel] + W - (age - 1)) % W
            get = lambda k: self.memo[k][sel, slot]  # noqa: E731
            P = np.where(on, P + dpow * get("ve"), P)
            M = np.where(on, M + dpow * get("vep"), M)
            X0 = np.where(on, X0 + dpow * get("vx0"), X0)
            V = np.where(on, V + dpow * get("v"), V)
            F = np.where(on, F + dpow * get("frus"), F)
            E = np.where(on, E + dpow * get("exp_clicks"), E)
            D = np.where(on, D + dpow, D)
        ref = X0 / V
        iv = um.anchor * ref + np.log(P) - um.saturation * np.log(V)
        ub = um.buy_bias + um.buy_scale * iv + um.click_intent * E
        ul = (um.leave_bias + um.leave_frustration * (F / D) + um.leave_fatigue * self.t[sel]
              + self.patience[sel] - um.click_retention * E)
        top = np.maximum(0.0, np.maximum(ub, ul))
        eb, el, ec = np.exp(ub - top), np.exp(ul - top), np.exp(-top)
        z = eb + el + ec
        return eb / z, el / z, ec / z, M / P

    def _obs(self, sel: np.ndarray) -> np.ndarray:
        W, m = self.W, self.m
        obs = np.zeros((sel.size, self.obs_dim), dtype=np.float32)
        n_pages = self.n_pages[sel]
        clicks = np.zeros(sel.size)
        acc = np.zeros((sel.size, m))
        for age in range(W):
            on = age < n_pages
            slot = (self.head[sel] + W - age) % W
            obs[:, age * m : (age + 1) * m] = np.where(on[:, None], self.feat_mean[sel, slot], 0.0)
            clicks = np.where(on, clicks + self.n_clicks[sel, slot], clicks)
            acc = np.where(on[:, None], acc + self.click_feat[sel, slot], acc)
        acc = np.where(clicks[:, None] > 0, acc / np.where(clicks > 0, clicks, 1)[:, None], 0.0)
        o = W * m
        obs[:, o : o + m] = acc
        obs[:, o + m] = self.power[sel]
        obs[np.arange(sel.size), o + m + 1 + self.segment[sel]] = 1.0
        obs[:, -1] = np.minimum(1.0, self.t[sel] / self.horizon)
        return obs

    # -- public steps
    def peek(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        """Page and exact b, l, c, m of the next page under ``actions`` (no state change)."""
        actions = np.asarray(actions, dtype=np.float32)
        B, K = self.B, self.K
        out = {"page": np.full((B, K), -1, np.int64), "b": np.zeros(B), "l": np.zeros(B),
               "c": np.ones(B), "m": np.zeros(B), "expected_clicks": np.zeros(B)}
        sel = np.nonzero(~self.needs_reset)[0]
        if sel.size:
            page, count = self._rank(sel, actions)
            fresh = self._describe(sel, page, count)
            b, l, c, m = self._evaluate(sel, fresh)
            out["page"][sel] = page
            out["b"][sel], out["l"][sel], out["c"][sel], out["m"][sel] = b, l, c, m
            out["expected_clicks"][sel] = fresh["exp_clicks"]
        return out

    def step(self, actions: np.ndarray, sample: bool = True) -> dict[str, np.ndarray]:
        """One page per session; returns a dict with the fields of SearchSimulator's StepResult."""
        actions = np.asarray(actions, dtype=np.float32)
        B, K = self.B, self.K
        out = {
            "obs": np.zeros((B, self.obs_dim), np.float32), "reward": np.zeros(B),
            "terminated": np.zeros(B, bool), "truncated": np.zeros(B, bool),
            "outcome": np.full(B, -1, np.int8), "item": np.full(B, -1, np.int64),
            "price": np.zeros(B), "page": np.full((B, K), -1, np.int64),
            "clicks": np.zeros((B, K), bool), "b": np.zeros(B), "l": np.zeros(B),
            "c": np.ones(B), "m": np.zeros(B), "expected_clicks": np.zeros(B),
        }
        rs = np.nonzero(self.needs_reset)[0]
        if rs.size:
            self._begin(rs)
            out["obs"][rs] = self._obs(rs)
        sel = np.nonzero(~np.isin(np.arange(B), rs))[0]
        if sel.size == 0:
            return out
        page, count = self._rank(sel, actions)
        fresh = self._describe(sel, page, count)
        b, l, c, mm = self._evaluate(sel, fresh)
        slot = self._remember(sel, page, count, fresh)
        out["page"][sel] = page
        out["b"][sel], out["l"][sel], out["c"][sel], out["m"][sel] = b, l, c, mm
        out["expected_clicks"][sel] = fresh["exp_clicks"]
        outcome = np.zeros(sel.size, np.int8)
        bought = np.full(sel.size, -1, np.int64)
        paid = np.zeros(sel.size)
        clicks = np.zeros((sel.size, K), bool)
        if sample:
            outcome, bought, paid = self._sample_purchase(sel, b, l)
            clicks = self._sample_clicks(sel, slot, count, fresh)
            nclk = clicks.sum(axis=1)
            reward = np.where(outcome == 1, paid, nclk.astype(float) if self.config.reward == "clicks" else 0.0)
        else:
            self.click_feat[sel, slot] = 0.0
            self.n_clicks[sel, slot] = 0
            reward = b * mm
        out["outcome"][sel] = outcome
        out["item"][sel] = bought
        out["price"][sel] = paid
        out["clicks"][sel] = clicks
        out["reward"][sel] = reward
        term = outcome != 0
        trunc = ~term & (self.t[sel] >= self.horizon)
        out["terminated"][sel] = term
        out["truncated"][sel] = trunc
        self.needs_reset[sel] = term | trunc
        out["obs"][sel] = self._obs(sel)
        return out

    def _remember(self, sel: np.ndarray, page: np.ndarray, count: np.ndarray,
                  fresh: dict[str, np.ndarray]) -> np.ndarray:
        """Writes the shown page into the sessions' W-page memory ring; returns the slot."""
        W, K, m = self.W, self.K, self.m
        slot = np.where(self.n_pages[sel] == 0, 0, (self.head[sel] + 1) % W)
        self.head[sel] = slot
        self.n_pages[sel] = np.minimum(self.n_pages[sel] + 1, W)
        for k in ("ve", "vep", "vx0", "v", "frus", "exp_clicks"):
            self.memo[k][sel, slot] = fresh[k]
        self.memo_count[sel, slot] = count
        self.items[sel, slot] = page
        self.item_weight[sel, slot] = fresh["weight"]
        valid = page >= 0
        xs = np.where(valid[..., None], fresh["x"], 0.0)
        fm = np.zeros((sel.size, m))
        for k in range(K):
            fm = fm + xs[:, k]
        self.feat_mean[sel, slot] = fm / count[:, None]
        rows = np.repeat(sel, K)[valid.ravel()]
        self.shown[rows, page[valid]] = True
        self.t[sel] += 1
        return slot

    def _sample_purchase(self, sel: np.ndarray, b: np.ndarray, l: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draws buy/leave/continue and the bought item: weight delta^age * v_k * e_k over
        the remembered pages in (age, k) order.  Returns (outcome, item, price)."""
        W, K, recency = self.W, self.K, self.config.user.recency
        u = self.rng.uniform(sel)
        u_item = self.rng.uniform(sel)
        outcome = np.where(u < b, 1, np.where(u < b + l, 2, 0)).astype(np.int8)
        bought = np.full(sel.size, -1, np.int64)
        total = np.zeros(sel.size)
        dpow = np.ones(sel.size)
        for age in range(W):
            on = age < self.n_pages[sel]
            sl = (self.head[sel] + W - age) % W
            total = np.where(on, total + dpow * self.memo["ve"][sel, sl], total)
            dpow = dpow * recency
        target = u_item * total
        acc = np.zeros(sel.size)
        dpow = np.ones(sel.size)
        for age in range(W):
            on = age < self.n_pages[sel]
            sl = (self.head[sel] + W - age) % W
            for k in range(K):
                valid_k = on & (k < self.memo_count[sel, sl])
                acc = np.where(valid_k, acc + dpow * self.item_weight[sel, sl, k], acc)
                hit = valid_k & (bought < 0) & (target < acc) & (outcome == 1)
                bought = np.where(hit, self.items[sel, sl, k], bought)
            dpow = dpow * recency
        for r in np.nonzero((outcome == 1) & (bought < 0))[0]:  # rounding fallback
            i = sel[r]
            for age in reversed(range(self.n_pages[i])):
                sl = (self.head[i] + W - age) % W
                pos = np.nonzero(self.item_weight[i, sl, : self.memo_count[i, sl]] > 0)[0]
                if pos.size:
                    bought[r] = self.items[i, sl, pos[-1]]
                    break
        paid = np.where(outcome == 1, self.prices[self.query[sel], np.maximum(bought, 0)], 0.0)
        return outcome, bought, paid

    def _sample_clicks(self, sel: np.ndarray, slot: np.ndarray, count: np.ndarray,
                       fresh: dict[str, np.ndarray]) -> np.ndarray:
        """Draws the clicks on the page (one uniform per position) and remembers the
        clicked items' features; returns bool (S, K)."""
        K, m = self.K, self.m
        clicks = np.zeros((sel.size, K), bool)
        for k in range(K):
            uc = self.rng.uniform(sel)
            clicks[:, k] = (k < count) & (uc < fresh["click_prob"][:, k])
        cf = np.zeros((sel.size, m))
        for k in range(K):
            cf = cf + np.where(clicks[:, k, None], fresh["x"][:, k], 0.0)
        self.click_feat[sel, slot] = cf
        self.n_clicks[sel, slot] = clicks.sum(axis=1)
        return clicks
