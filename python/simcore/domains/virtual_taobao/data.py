"""Training data for a learned user simulator, streamed from a search log (docs/logs.md).

One example per logged page view: the observable user (power, segment), the page's
index t, the item features, prices and validity of the shown page and of the W - 1
pages before it in the same session (the user model's memory, docs/user_model.md),
and the user's response: the clicks on the page, the outcome (0 continue, 1 buy,
2 leave) and, on a purchase, which remembered item was bought.

Pages are stored once, (n, K, m); the window of row r is an int64 (n, W) table of row
indices (age 0 = r itself, -1 before the session's first page), gathered per minibatch
by :meth:`PageData.window_items`.  Latent columns (``latent_*``) are never read; the
exact b, l, c, m columns are kept aside (``PageData.exact``) for measuring fidelity and
never enter the training tensors: a learner sees only what a real log holds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from simcore.domains.search.logs import open_log

__all__ = ["PageData", "load_pages", "pages_from_batch", "first_pages"]


@dataclass
class PageData:
    """Page views of whole sessions, as arrays (n page views, K page size, m features,
    W window, G segments).

    Attributes:
        features: float32 (n, K, m) shown items' features (0 padded).
        prices: float32 (n, K) their prices (0 padded).
        valid: bool (n, K) a real item at that rank.
        window: int64 (n, W) row of the page of age a (0: this page), -1 if none.
        power: float64 (n,); segment: int64 (n,); query: int64 (n,); page: int64 (n,) t - 1.
        clicks: bool (n, K); outcome: int64 (n,) 0/1/2; bought: int64 (n,) index
            a * K + k into the window of the bought item, -1 without a purchase (or
            when the item is outside the window).
        session: int64 (n,) session ids.  horizon: T of the log.
        exact: float64 (n, 4) the simulator's exact b, l, c, m of the page history, or
            None (real logs): for measuring fidelity only, never a model input.
        action: float32 (n, m) the engine's ranking weights that produced each page
            (the log's ``action`` column), or None (data generated without them).
    """

    features: np.ndarray
    prices: np.ndarray
    valid: np.ndarray
    window: np.ndarray
    power: np.ndarray
    segment: np.ndarray
    query: np.ndarray
    page: np.ndarray
    clicks: np.ndarray
    outcome: np.ndarray
    bought: np.ndarray
    session: np.ndarray
    horizon: int
    exact: np.ndarray | None = None
    action: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def window_items(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gathers the memory of ``rows``: features float32 (r, W, K, m), prices
        float32 (r, W, K), valid bool (r, W, K) (pages before the session's first are
        invalid)."""
        idx = self.window[rows]
        on = idx >= 0
        safe = np.where(on, idx, 0)
        x = self.features[safe] * on[..., None, None]
        p = self.prices[safe] * on[..., None]
        v = self.valid[safe] & on[..., None]
        return x.astype(np.float32, copy=False), p.astype(np.float32, copy=False), v

    def subset(self, rows: np.ndarray) -> PageData:
        """The rows ``rows`` (whole sessions, in order) with their windows re-indexed."""
        rows = np.asarray(rows, np.int64)
        remap = np.full(len(self), -1, np.int64)
        remap[rows] = np.arange(rows.size)
        w = self.window[rows]
        w = np.where(w >= 0, remap[np.where(w >= 0, w, 0)], -1)
        return PageData(self.features[rows], self.prices[rows], self.valid[rows], w, self.power[rows],
                        self.segment[rows], self.query[rows], self.page[rows], self.clicks[rows],
                        self.outcome[rows], self.bought[rows], self.session[rows], self.horizon,
                        None if self.exact is None else self.exact[rows],
                        None if self.action is None else self.action[rows])


def pages_from_batch(batch: dict[str, np.ndarray], window: int, horizon: int) -> PageData:
    """The PageData of one reader batch of whole sessions (``LogReader.batches(...,
    whole_sessions=True)``); ``window`` is W >= 1."""
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window: must be an integer >= 1, got {window!r}")
    n = len(batch["session_id"])
    K = batch["items"].shape[1]
    page = batch["page"].astype(np.int64)
    ages = np.arange(window)
    rows = np.arange(n)[:, None] - ages[None, :]
    win = np.where(ages[None, :] <= page[:, None], rows, -1)
    items = batch["items"]
    hist = np.where(win[..., None] >= 0, items[np.where(win >= 0, win, 0)], -1)  # (n, W, K)
    bought_id = batch["bought_item"]
    hit = (hist == bought_id[:, None, None]) & (bought_id[:, None, None] >= 0)
    flat = hit.reshape(n, window * K)
    bought = np.where(flat.any(axis=1), flat.argmax(axis=1), -1)
    cols = [batch.get(f"exact_{k}") for k in "blcm"]
    exact = None if any(c is None for c in cols) else np.stack([np.asarray(c) for c in cols], axis=1)
    return PageData(
        features=np.ascontiguousarray(batch["item_features"], np.float32),
        prices=batch["item_prices"].astype(np.float32),
        valid=items >= 0,
        window=win.astype(np.int64),
        power=batch["power"].astype(np.float64),
        segment=batch["segment"].astype(np.int64),
        query=batch["query"].astype(np.int64),
        page=page,
        clicks=batch["clicks"].astype(bool),
        outcome=batch["outcome"].astype(np.int64),
        bought=bought.astype(np.int64),
        session=batch["session_id"].astype(np.int64),
        horizon=int(horizon),
        exact=exact,
        action=None if batch.get("action") is None else np.asarray(batch["action"], np.float32),
    )


def _concat(parts: list[PageData]) -> PageData:
    offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
    wins = [np.where(p.window >= 0, p.window + o, -1) for p, o in zip(parts, offsets)]
    cat = {name: np.concatenate([getattr(p, name) for p in parts])
           for name in ("features", "prices", "valid", "power", "segment", "query", "page", "clicks",
                        "outcome", "bought", "session")}
    exact = None if any(p.exact is None for p in parts) else np.concatenate([p.exact for p in parts])
    action = None if any(p.action is None for p in parts) else np.concatenate([p.action for p in parts])
    return PageData(window=np.concatenate(wins), horizon=parts[0].horizon, exact=exact, action=action, **cat)


def load_pages(path: str | os.PathLike, window: int = 4, batch_rows: int = 65536,
               max_rows: int | None = None) -> PageData:
    """Streams a search log into :class:`PageData` (whole sessions, every batch checked
    by the reader).

    Args:
        path: a log written by :func:`simcore.domains.search.logs.record` (or any
            valid version-1 log).
        window: W, the pages of memory per example (the user model remembers 4).
        batch_rows: rows per reader batch.
        max_rows: stop after the batch that reaches this many rows (None: all).
    """
    reader = open_log(path)
    horizon = int(reader.layout.horizon)
    parts: list[PageData] = []
    total = 0
    for batch in reader.batches(batch_rows=batch_rows, whole_sessions=True):
        parts.append(pages_from_batch(batch, window, horizon))
        total += len(parts[-1])
        if max_rows is not None and total >= max_rows:
            break
    if not parts:
        raise ValueError(f"path: the log {path} holds no page views")
    return _concat(parts)


def first_pages(data: PageData) -> dict[str, np.ndarray]:
    """The observable users of the sessions (their first page): query int64,
    segment int32, power float64, one row per session."""
    first = data.page == 0
    return {"query": data.query[first].astype(np.int64), "segment": data.segment[first].astype(np.int32),
            "power": data.power[first].astype(np.float64)}
