"""The learned search simulator: the engine's known ranking, a learned user.

:class:`LearnedSimulator` has the face of :class:`simcore.domains.search.simulator.
SearchSimulator` (``reset``, ``reset_to``, ``step(actions, sample)``, ``users``,
``seed``): B sessions, one batched step per call.  Per step: the page of each
session is the top K unseen items of its query by X @ action (the C++ kernel
:func:`simcore.kernels.topk_indexed` over the world's (Q, N, m) catalogue, no per-session
copy; ties by lower index, as the true simulator), then
ONE torch forward of the behaviour model gives the click probabilities, the outcome
probabilities (b, l, c) and the bought-item distribution (hence m), and the outcome,
item and clicks are drawn from the simulator's own NumPy stream.  The observation is
the true simulator's layout (docs/user_model.md, Observation), computed from the
pages shown and the clicks drawn.  Users come from a sampler (:mod:`.users`).

The behaviour model's per-page summaries (:meth:`BehaviourModel.summarize`) are kept
in a memory of W pages, so a step encodes only the page just shown.  Each memory is a
ring over its W slots (age a in slot (head + a) % W, head moving back one slot per
step): a step scatters the new page into one slot and gathers each window it needs
once, in age order (the float inputs of the model are those of a shifted window, bit
for bit: tests/test_learned_sim_exact.py).
``sample=False`` draws nothing and returns the model's exact b, l, c, m (reward b*m),
every session continuing to the horizon, as the true simulator's expectation mode.
Randomness: one ``numpy.random.Generator`` per simulator from ``SeedTree(seed)``
path "learned-sim"; results depend on (seed, actions) only, not on ``threads``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.simulator import StepResult
from simcore.domains.search.world import World, make_world
from simcore.domains.virtual_taobao.model import BehaviourModel
from simcore.domains.virtual_taobao.users import PriorUsers, UserSampler, check_users
from simcore.kernels import topk_indexed
from simcore.util.checks import thread_count
from simcore.util.seeds import SeedTree

__all__ = ["LearnedSimulator"]


class LearnedSimulator:
    """B sessions of a learned user (module docstring).

    Args:
        model: the behaviour model (its K, m, W, G must match the config and world).
        config: the session config (world, page size, horizon, reward mode, threads).
        num_sessions: B >= 1.  seed: the stream seed.
        users: a user sampler (default: :class:`PriorUsers` of the world).
        world: a prebuilt world (default: ``make_world(config.world)``).
    """

    def __init__(self, model: BehaviourModel, config: SessionConfig | None = None, num_sessions: int = 1,
                 seed: int = 0, users: UserSampler | None = None, world: World | None = None) -> None:
        self.config = cfg = config if config is not None else SessionConfig()
        if not isinstance(num_sessions, int) or isinstance(num_sessions, bool) or num_sessions < 1:
            raise ValueError(f"num_sessions: must be an integer >= 1, got {num_sessions!r}")
        self.world = world if world is not None else make_world(cfg.world)
        self.features = np.ascontiguousarray(self.world.features, dtype=np.float32)  # (Q, N, m)
        self.prices = np.asarray(self.world.prices, np.float64).astype(np.float32).reshape(-1)  # (Q * N,)
        Q, N, m = self.world.features.shape
        K, W, G = cfg.page_size, cfg.user.window, int(np.asarray(self.world.segment_probs).shape[0])
        mc = model.config
        if (mc.page_size, mc.num_features, mc.window, mc.segments) != (K, m, W, G):
            raise ValueError(f"model: its (K, m, W, G) = {(mc.page_size, mc.num_features, mc.window, mc.segments)} "
                             f"do not match the config's {(K, m, W, G)}")
        self.model = model.eval()
        self.users_sampler: UserSampler = users if users is not None else PriorUsers(self.world)
        us = self.users_sampler
        self._trusted_users = type(us) is PriorUsers and (us.n_queries, us.probs.size) == (Q, G)
        self.num_sessions, self.num_features, self.K, self.W, self.G, self.N = num_sessions, m, K, W, G, N
        self.horizon = min(math.ceil(N / K), cfg.max_steps)
        self.obs_dim = W * m + m + 1 + G + 1
        thread_count(cfg.num_threads)  # checks it
        self.threads = cfg.num_threads
        B, H = num_sessions, mc.hidden
        self.shown = np.zeros((B, N), np.bool_)
        self.user: dict[str, np.ndarray] = {"query": np.zeros(B, np.int64), "segment": np.zeros(B, np.int32),
                                            "power": np.zeros(B)}
        self.t = np.zeros(B, np.int64)
        self.needs_reset = np.zeros(B, np.bool_)
        self.mem: dict[str, np.ndarray] = {
                    "mean": np.zeros((B, W, H), np.float32), "base": np.zeros((B, W, K), np.float32),
                    "prices": np.zeros((B, W, K), np.float32), "valid": np.zeros((B, W, K), np.bool_),
                    "items": np.full((B, W, K), -1, np.int64), "feat_mean": np.zeros((B, W, m), np.float32),
                    "click_feat": np.zeros((B, W, m), np.float32), "n_clicks": np.zeros((B, W), np.float32)}
        # the memories are rings over their axis 1: age a lives in slot (head + a) % W
        self.head = 0
        self._ages = [(h + np.arange(W)) % W for h in range(W)]
        self._ring_idx: np.ndarray | None = None
        self.seed(seed)
        self.reset()

    # ------------------------------------------------------------------ seeding, users
    def seed(self, seed: int) -> None:
        """Restarts the stream under ``seed`` (an int in [0, 2**64 - 1])."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed < (1 << 64):
            raise ValueError(f"seed: must be an integer in [0, 2**64 - 1], got {seed!r}")
        self.rng = SeedTree(int(seed)).generator("learned-sim")

    def users(self) -> dict[str, np.ndarray]:
        """The observable users now in the slots (query, segment, power): copies."""
        return {k: v.copy() for k, v in self.user.items()}

    def _begin(self, rows: np.ndarray, users: dict[str, np.ndarray]) -> None:
        for k in self.user:
            self.user[k][rows] = users[k]
        self.shown[rows] = False
        self.t[rows] = 0
        self.needs_reset[rows] = False
        for k, v in self.mem.items():
            v[rows] = -1 if k == "items" else 0

    def reset(self) -> np.ndarray:
        """New users (from the sampler) in every slot; float32 (B, D) observations."""
        rows = np.arange(self.num_sessions)
        self._begin(rows, self._draw_users(rows.size))
        return self._obs_fresh(rows)

    def reset_to(self, users: dict[str, np.ndarray]) -> np.ndarray:
        """Starts every slot with given observable users (query, segment, power; (B,)
        each; latent fields, if present, are ignored)."""
        u = check_users(users, self.world.features.shape[0], self.G)
        if u["query"].shape != (self.num_sessions,):
            raise ValueError(f"users: expected {self.num_sessions} users, got {u['query'].shape[0]}")
        rows = np.arange(self.num_sessions)
        self._begin(rows, u)
        return self._obs_fresh(rows)

    def _draw_users(self, n: int) -> dict[str, np.ndarray]:
        if self._trusted_users:  # the prior of a world of this shape: valid by construction
            return self.users_sampler.sample(self.rng, n)
        return check_users(self.users_sampler.sample(self.rng, n), self.world.features.shape[0], self.G,
                           "users sampler output")

    def steps_taken(self) -> np.ndarray:
        """int64 (B,) pages shown in each slot's current episode."""
        return self.t.copy()

    # ------------------------------------------------------------------ observation
    def _obs_fresh(self, rows: np.ndarray) -> np.ndarray:
        """Observations of slots just started (empty memory, t = 0): zero page and
        click features, the user's power and segment one-hot, t / T = 0."""
        n, o = rows.size, self.W * self.num_features + self.num_features
        obs = np.zeros((n, self.obs_dim), np.float32)
        obs[:, o] = self.user["power"][rows]
        obs[np.arange(n), o + 1 + self.user["segment"][rows]] = 1.0
        return obs

    def _obs(self, rows: np.ndarray, feat_mean: np.ndarray, n_clicks: np.ndarray, click_feat: np.ndarray
             ) -> np.ndarray:
        """Observations of ``rows`` from their memory windows (feat_mean (n, W, m),
        n_clicks (n, W), click_feat (n, W, m)): the W pages' mean item features, the
        mean features of the clicked items (0 without clicks), power, segment, t / T."""
        W, m = self.W, self.num_features
        n = rows.size
        obs = np.zeros((n, self.obs_dim), np.float32)
        obs[:, : W * m] = feat_mean.reshape(n, W * m)
        clicks = n_clicks.sum(axis=1)
        acc = click_feat.sum(axis=1)
        obs[:, W * m: W * m + m] = np.where(clicks[:, None] > 0, acc / np.maximum(clicks, 1)[:, None], 0.0)
        o = W * m + m
        obs[:, o] = self.user["power"][rows]
        obs[np.arange(n), o + 1 + self.user["segment"][rows]] = 1.0
        obs[:, -1] = np.minimum(1.0, self.t[rows] / self.horizon)
        return obs

    # ------------------------------------------------------------------ step
    def _put(self, key: str, sel: np.ndarray, all_rows: bool, new: np.ndarray) -> None:
        """Stores the page just shown (``new``, (S, ...)) of rows ``sel`` in memory
        ``key`` at age 0: slot ``head`` of the ring (the page of age W - 1 is dropped)."""
        if all_rows:
            self.mem[key][:, self.head] = new
        else:
            self.mem[key][sel, self.head] = new

    def _win(self, key: str, sel: np.ndarray, all_rows: bool) -> np.ndarray:
        """The window (S, W, ...) of memory ``key`` of rows ``sel``, age 0 first: one
        gather from the ring (a fresh C-contiguous array)."""
        v = self.mem[key]
        if all_rows:
            return v.take(self._ages[self.head], axis=1)
        if self._ring_idx is None:  # the (row, slot) pairs of the window, once per step
            self._ring_idx = (sel[:, None] * self.W + self._ages[self.head]).ravel()
        return v.reshape((-1,) + v.shape[2:]).take(self._ring_idx, axis=0).reshape((sel.size, self.W) + v.shape[2:])

    def _show(self, sel: np.ndarray, all_rows: bool, actions: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Ranks, marks and memorises the pages of rows ``sel``; returns (page int64
        (S, K), valid bool (S, K), item features float32 (S, K, m), 0 padded, and the
        rows' windows of items, valid, prices, feat_mean)."""
        query = self.user["query"] if all_rows else self.user["query"][sel]
        if all_rows:
            page = topk_indexed(self.features, query, actions, self.K, self.shown, self.threads)
        else:
            # take: the same rows as shown[sel], copied in half the time (measured 0.14 against 0.28 ms)
            page = topk_indexed(self.features, query, actions[sel], self.K, self.shown.take(sel, axis=0), self.threads)
        if page.shape[1] < self.K:
            page = np.concatenate([page, np.full((page.shape[0], self.K - page.shape[1]), -1, np.int64)], axis=1)
        valid = page >= 0
        safe = np.where(valid, page, 0)
        full = bool(valid.all())  # every page full (x * True = x exactly: no multiply needed)
        flat = (sel * self.N)[:, None] + safe  # entries of shown viewed as (B * N,)
        self.shown.reshape(-1)[flat.ravel() if full else flat[valid]] = True
        qn = (query * self.N)[:, None] + safe  # rows of the catalogue viewed as (Q * N, m)
        x = self.features.reshape(-1, self.num_features).take(qn.ravel(), axis=0).reshape(*qn.shape, -1)
        prices = self.prices.take(qn)  # = (float64 price * valid) rounded to float32
        if not full:
            x *= valid.astype(np.float32)[..., None]
            prices *= valid.astype(np.float32)
        feat_mean = x.sum(axis=1) / np.maximum(valid.sum(axis=1), 1)[:, None]
        for k, v in (("items", page), ("valid", valid), ("prices", prices), ("feat_mean", feat_mean)):
            self._put(k, sel, all_rows, v)
        return page, valid, x, {k: self._win(k, sel, all_rows) for k in ("valid", "prices")}

    @torch.inference_mode()
    def _respond(self, sel: np.ndarray, all_rows: bool, x: np.ndarray, valid: np.ndarray,
                 win: dict[str, np.ndarray]) -> Any:
        """One forward: encodes the new pages, memorises their summaries, returns the Response."""
        model = self.model
        u = np.zeros((sel.size, 1 + self.G), np.float32)  # = model.user_features: power, onehot(segment)
        u[:, 0] = self.user["power"][sel]
        u[np.arange(sel.size), 1 + self.user["segment"][sel]] = 1.0
        user = torch.from_numpy(u)
        emb = model.encode(torch.from_numpy(x[:, None]), user)  # (S, 1, K, H)
        mean, base = model.summarize(emb, torch.from_numpy(valid[:, None]), torch.from_numpy(x[:, None]))
        self._put("mean", sel, all_rows, mean[:, 0].numpy())
        self._put("base", sel, all_rows, base[:, 0].numpy())
        mean_w, base_w = self._win("mean", sel, all_rows), self._win("base", sel, all_rows)
        t = torch.from_numpy(((self.t[sel] + 1) / self.horizon).astype(np.float32))
        return model.respond(torch.from_numpy(mean_w), torch.from_numpy(base_w), model.clicks(emb[:, 0]),
                             torch.from_numpy(win["prices"]), torch.from_numpy(win["valid"]), user, t)

    def step(self, actions: np.ndarray, sample: bool = True) -> StepResult:
        """One page per session under float (B, m) ranking weights (NEXT_STEP
        autoreset: slots whose episode ended are reset instead, outcome -1).  Returns
        a :class:`StepResult` of fresh arrays."""
        a = np.asarray(actions)
        if a.dtype.kind != "f":
            raise TypeError(f"actions: expected floating weights, got dtype {a.dtype}")
        B, K = self.num_sessions, self.K
        if a.shape != (B, self.num_features):
            raise ValueError(f"actions: expected shape {(B, self.num_features)}, got {a.shape}")
        a = np.ascontiguousarray(a, dtype=np.float32)
        out = _empty_result(B, K, self.obs_dim)
        rs = np.flatnonzero(self.needs_reset)
        sel = np.flatnonzero(~self.needs_reset) if rs.size else np.arange(B)
        if rs.size:
            self._begin(rs, self._draw_users(rs.size))
            out.obs[rs] = self._obs_fresh(rs)
        if sel.size == 0:
            return out
        all_rows = rs.size == 0
        self.head = (self.head - 1) % self.W  # every memory ages by one page (reset rows' are empty)
        self._ring_idx = None
        page, valid, x, win = self._show(sel, all_rows, a)
        resp = self._respond(sel, all_rows, x, valid, win)
        prob = resp.prob.numpy().astype(np.float64)
        m = resp.m.numpy().astype(np.float64)
        q = torch.sigmoid(resp.click_logit).numpy().astype(np.float64) * valid
        out.page[sel], out.c[sel], out.b[sel], out.l[sel], out.m[sel] = page, prob[:, 0], prob[:, 1], prob[:, 2], m
        out.expected_clicks[sel] = q.sum(axis=1)
        self.t[sel] += 1
        if sample:
            clicks = self._sample(sel, out, prob, q, resp.item_logit.numpy(), valid, win)
            # x * float32(clicks) = x * clicks (NumPy casts the bools to 1.0 / 0.0 itself, slower)
            click_feat, n_clicks = (x * clicks.astype(np.float32)[..., None]).sum(axis=1), clicks.sum(axis=1)
        else:
            click_feat, n_clicks = np.zeros((sel.size, self.num_features), np.float32), np.zeros(sel.size, np.float32)
            out.outcome[sel] = 0
            out.reward[sel] = out.b[sel] * m
        term = out.outcome[sel] > 0
        trunc = ~term & (self.t[sel] >= self.horizon)
        out.terminated[sel], out.truncated[sel] = term, trunc
        self.needs_reset[sel] = term | trunc
        self._put("n_clicks", sel, all_rows, n_clicks)
        self._put("click_feat", sel, all_rows, click_feat)
        out.obs[sel] = self._obs(sel, *(self._win(k, sel, all_rows) for k in ("feat_mean", "n_clicks", "click_feat")))
        return out

    def _sample(self, sel: np.ndarray, out: StepResult, prob: np.ndarray, q: np.ndarray, item_logit: np.ndarray,
                valid: np.ndarray, win: dict[str, np.ndarray]) -> np.ndarray:
        """Draws outcome (inverse CDF over continue, buy, leave), the bought item
        (inverse CDF over the remembered items) and the clicks: K + 2 uniforms per row.
        Returns the clicks, bool (S, K)."""
        u = self.rng.random((sel.size, 2 + self.K))
        cdf = np.cumsum(prob, axis=1)
        outcome = (u[:, :1] >= cdf[:, :2]).sum(axis=1).astype(np.int8)  # 0 continue, 1 buy, 2 leave
        clicks = (u[:, 2:] < q) & valid
        prices = win["prices"].reshape(sel.size, -1)
        ok = win["valid"].reshape(sel.size, -1)
        w = np.where(ok, np.exp(item_logit - np.where(ok, item_logit, -np.inf).max(axis=1, keepdims=True)), 0.0)
        c = np.cumsum(w, axis=1)
        pick = np.minimum((u[:, 1:2] * c[:, -1:] >= c).sum(axis=1), self.W * self.K - 1)
        buy = outcome == 1
        rows = np.arange(sel.size)
        out.outcome[sel] = outcome
        slot = self._ages[self.head][pick // self.K] * self.K + pick % self.K  # pick's place in the ring
        out.item[sel] = np.where(buy, self.mem["items"].reshape(-1).take(sel * (self.W * self.K) + slot), -1)
        paid = np.where(buy, prices[rows, pick].astype(np.float64), 0.0)
        out.price[sel] = paid
        out.clicks[sel] = clicks
        nclk = clicks.sum(axis=1).astype(np.float64)
        out.reward[sel] = np.where(buy, paid, nclk if self.config.reward == "clicks" else 0.0)
        return clicks


def _empty_result(B: int, K: int, D: int) -> StepResult:
    """A StepResult of the autoreset defaults (outcome -1, c = 1, page -1)."""
    return StepResult(
        obs=np.zeros((B, D), np.float32), reward=np.zeros(B), terminated=np.zeros(B, np.bool_),
        truncated=np.zeros(B, np.bool_), outcome=np.full(B, -1, np.int8), item=np.full(B, -1, np.int64),
        price=np.zeros(B), page=np.full((B, K), -1, np.int64), clicks=np.zeros((B, K), np.bool_),
        b=np.zeros(B), l=np.zeros(B), c=np.ones(B), m=np.zeros(B), expected_clicks=np.zeros(B))
