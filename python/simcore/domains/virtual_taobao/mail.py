"""MAIL: multi-step adversarial imitation of the user inside the learned simulator.

The article's LERD / MAIL (section 3.3) trains the user policy so that whole sessions
it generates look like the logged ones.  Here, per iteration:

1. Rollouts.  B logged first states (the observable users: query, segment, power)
   start B sessions of the :class:`.sim.LearnedSimulator` driven by the current user
   model; the engine ranks with the logging policy (weights ``mean + std * N(0, 1)``
   per page, the log's exploration; the engine is known, so only the user is
   learned).  The user's sampled responses (clicks, outcome, bought item) end or
   continue each session, so the pages reached (the states) follow the model.  The
   generated sessions are stored as a :class:`.data.PageData` (:func:`generate_sessions`).
2. Discriminator.  D(s, a) of :mod:`.gail` on (observable state, page, user response):
   s = [mean item features of the W remembered pages, power, onehot(segment), t / T],
   a = [clicks (K), onehot(outcome) (3)]; trained real (logged page views) vs
   generated ones, ``disc_steps`` logistic steps.
3. PPO.  Reward r = log D - log(1 - D) (the discriminator's logit) per generated page:
   GAIL's -log(1 - D) > 0 would pay every extra page, so a session that continues
   would collect more reward-to-go whatever D says (a bias to long sessions, seen on
   the test problem); the logit is 0 where D cannot tell, so the length is learned
   from D only.  The advantage of a page is its
   reward-to-go within its generated session minus the mean reward-to-go of the
   generated pages with the same t (a per-step baseline), divided by its std; PPO
   clipped steps on log pi(a | s) of the behaviour model (:func:`.gail.user_log_prob`).

Deterministic given ``MAILConfig.seed`` (SeedTree paths "users", "rollout/<i>",
"engine/<i>", "real/<i>", "disc").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.world import World
from simcore.domains.virtual_taobao.bc import batch_tensors, predict
from simcore.domains.virtual_taobao.data import PageData, first_pages, pages_from_batch
from simcore.domains.virtual_taobao.gail import (
    Discriminator,
    _features,
    discriminator_step,
    ppo_step,
    user_log_prob,
)
from simcore.domains.virtual_taobao.model import BehaviourModel
from simcore.domains.virtual_taobao.sim import LearnedSimulator
from simcore.util.seeds import SeedTree

__all__ = ["MAILConfig", "generate_sessions", "reward_to_go", "train_mail"]


@dataclass(frozen=True)
class MAILConfig:
    """MAIL run: iterations (>= 1), sessions generated per iteration (>= 2),
    disc_steps (>= 1), ppo_epochs (>= 1), lr of the user model (> 0), disc_lr (> 0),
    clip in (0, 1), engine exploration std (>= 0), seed."""

    iterations: int = 20
    sessions: int = 512
    disc_steps: int = 2
    ppo_epochs: int = 2
    lr: float = 1e-3
    disc_lr: float = 1e-3
    clip: float = 0.2
    std: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        for name, lo in (("iterations", 1), ("sessions", 2), ("disc_steps", 1), ("ppo_epochs", 1)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
        for name in ("lr", "disc_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)!r}")
        if not 0 < self.clip < 1:
            raise ValueError(f"clip: must lie in (0, 1), got {self.clip!r}")
        if not self.std >= 0:
            raise ValueError(f"std: must be >= 0, got {self.std!r}")


def generate_sessions(model: BehaviourModel, config: SessionConfig, world: World, users: dict[str, np.ndarray],
                      mean: np.ndarray, std: float, seed: int,
                      engine: Callable[[np.ndarray], np.ndarray] | None = None) -> PageData:
    """Rolls out one session per user (query, segment, power (B,)) in the learned
    simulator of ``model`` under engine weights mean (m,) + std * N(0, 1) per page, or
    ``engine(obs float32 (B, D)) -> float32 (B, m)`` when given (the learned engine
    policy of :mod:`.joint`; ``mean``, ``std`` are then unused); returns their page
    views (rows grouped by session, in page order; ``exact`` None; ``action`` the
    engine's weights of each page).  Session ids are 0..B-1."""
    B = int(np.asarray(users["query"]).shape[0])
    tree = SeedTree(seed)
    sim = LearnedSimulator(model, config, B, seed=tree.seed("sim"), world=world)
    obs = sim.reset_to(users)
    rng = tree.generator("engine")
    m = world.features.shape[2]
    alive = np.ones(B, bool)
    q = np.asarray(users["query"], np.int64)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("session_id", "page", "items", "clicks", "outcome",
                                                        "bought_item", "action")}
    t = 0
    while alive.any():
        if engine is None:
            a = (np.asarray(mean, np.float64)[None] + std * rng.standard_normal((B, m))).astype(np.float32)
        else:
            a = np.ascontiguousarray(engine(obs), np.float32)
        with torch.no_grad():
            res = sim.step(a, sample=True)
        obs = res.obs
        idx = np.flatnonzero(alive)
        for k, v in (("session_id", idx), ("page", np.full(idx.size, t)), ("items", res.page[idx]),
                     ("clicks", res.clicks[idx]), ("outcome", res.outcome[idx].astype(np.int64)),
                     ("bought_item", res.item[idx]), ("action", a[idx])):
            cols[k].append(v)
        alive &= ~(res.terminated | res.truncated)
        t += 1
    batch = {k: np.concatenate(v) for k, v in cols.items()}
    order = np.lexsort((batch["page"], batch["session_id"]))
    batch = {k: v[order] for k, v in batch.items()}
    s, items = batch["session_id"], batch["items"]
    safe = np.where(items >= 0, items, 0)
    batch["item_features"] = np.where((items >= 0)[..., None], world.features[q[s][:, None], safe], 0.0)
    batch["item_prices"] = np.where(items >= 0, world.prices[q[s][:, None], safe], 0.0)
    batch["query"] = q[s]
    batch["segment"] = np.asarray(users["segment"])[s]
    batch["power"] = np.asarray(users["power"], np.float64)[s]
    return pages_from_batch(batch, config.user.window, sim.horizon)


def reward_to_go(reward: np.ndarray, session: np.ndarray) -> np.ndarray:
    """float64 (n,): the sum of ``reward`` over the rows from this one to the end of
    its session (rows grouped by session in page order)."""
    r = np.asarray(reward, np.float64)
    out = np.empty_like(r)
    acc = 0.0
    for i in range(r.size - 1, -1, -1):
        if i == r.size - 1 or session[i] != session[i + 1]:
            acc = 0.0
        acc += r[i]
        out[i] = acc
    return out


def _advantage(rtg: np.ndarray, page: np.ndarray) -> np.ndarray:
    base = np.zeros_like(rtg)
    for p in np.unique(page):
        sel = page == p
        base[sel] = rtg[sel].mean()
    adv = rtg - base
    return adv / max(float(adv.std()), 1e-8)


def train_mail(data: PageData, model: BehaviourModel, config: SessionConfig, world: World, mean: np.ndarray,
               cfg: MAILConfig | None = None, engine: Callable[[np.ndarray], np.ndarray] | None = None
               ) -> list[float]:
    """MAIL on the log ``data`` (module docstring); updates ``model`` in place and
    returns the mean reward logit D of the generated pages per iteration (0: D
    cannot tell generated pages from logged ones).  ``engine`` (obs float32 (B, D) ->
    float32 (B, m)): the known logging policy when it is not ``mean + std * N(0, 1)``
    (then ``mean`` and ``cfg.std`` are unused)."""
    cfg = cfg if cfg is not None else MAILConfig()
    tree = SeedTree(cfg.seed)
    users = first_pages(data)
    n_users = users["query"].shape[0]
    W, m, G = data.window.shape[1], data.features.shape[2], model.config.segments
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(tree.seed("disc") % (1 << 63))
        disc = Discriminator(W * m + 1 + G + 1, data.features.shape[1] + 3)
    od = torch.optim.Adam(disc.parameters(), lr=cfg.disc_lr)
    op = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rewards: list[float] = []
    for it in range(cfg.iterations):
        pick = tree.generator("users", it).integers(0, n_users, cfg.sessions)
        gen = generate_sessions(model, config, world, {k: v[pick] for k, v in users.items()}, mean, cfg.std,
                                tree.seed("rollout", it), engine=engine)
        bg = batch_tensors(gen, np.arange(len(gen)))
        fake = _features(bg, bg["clicks"], bg["outcome"], G)
        rrng = tree.generator("real", it)
        for _ in range(cfg.disc_steps):
            br = batch_tensors(data, rrng.integers(0, len(data), len(gen)))
            discriminator_step(disc, od, _features(br, br["clicks"], br["outcome"], G), fake)
        with torch.no_grad():
            r = disc.logit(*fake).numpy()
        rewards.append(float(r.mean()))
        adv = torch.from_numpy(_advantage(reward_to_go(r, gen.session), gen.page).astype(np.float32))
        with torch.no_grad():
            logp_old = user_log_prob(predict(model, bg), bg["clicks"], bg["outcome"], bg["bought"], bg["valid0"])[0]

        def logp_entropy() -> tuple[torch.Tensor, torch.Tensor]:
            return user_log_prob(predict(model, bg), bg["clicks"], bg["outcome"], bg["bought"], bg["valid0"])

        for _ in range(cfg.ppo_epochs):
            ppo_step(logp_entropy, op, logp_old, adv, clip=cfg.clip)
    return rewards
