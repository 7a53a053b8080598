"""Loader for the Open Bandit Dataset's CSV format (ZOZOTOWN, CC BY 4.0; Saito et al.).

Layout (the full release and the sample inside the ``obp`` 0.4.1 wheel alike)::

    <root>/{random,bts}/{all,men,women}/{all,men,women}.csv     the logs
    <root>/{random,bts}/{all,men,women}/item_context.csv         item features

In the wheel ``<root>`` is ``obp/dataset/obd``; :func:`load_obd` reads a directory or
the wheel/zip directly.  A log's columns: an unnamed row index, ``timestamp`` (ISO,
UTC), ``item_id`` (int in [0, n_items)), ``position`` (1-based int), ``click`` (0/1),
``propensity_score`` (the behaviour policy's probability of the item at that position,
in (0, 1]), ``user_feature_0..3`` (hashed categoricals) and
``user-item_affinity_<k>`` (floats, one per item).  Standard library and NumPy only.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simcore.domains.bandits.obd_csv import (
    CHUNK_ROWS,
    REQUIRED,
    WHEEL_ROOT,
    OBDFormatError,
    RawColumns,
    open_member,
    read_columns,
)

BEHAVIORS = ("random", "bts")
CAMPAIGNS = ("all", "men", "women")
WHEEL = "obp-0.4.1-py3-none-any.whl"
__all__ = ["CHUNK_ROWS", "REQUIRED", "WHEEL", "WHEEL_ROOT", "OBDFormatError", "OBDLog", "find_wheel",
           "load_item_context", "load_obd", "parse_log"]


@dataclass(frozen=True)
class OBDLog:
    """One logging policy's rounds of one campaign, in timestamp order.

    Attributes:
        behavior: "random" (uniform) or "bts" (Bernoulli Thompson sampling).
        campaign: "all", "men" or "women".
        timestamp: datetime64[us] (n,), UTC, non-decreasing.
        item_id: int64 (n,) the recommended item, in [0, n_items).
        position: int64 (n,) the slot, 0-based (the file's 1-based value minus 1).
        click: int64 (n,) 0/1 reward.
        pscore: float64 (n,) propensity of (item, position) under the behaviour policy, (0, 1].
        user_features: str (n, k) hashed user categoricals (``user_feature_*`` columns).
        affinity: float64 (n, m) ``user-item_affinity_*`` columns (m = 0 when absent).
        n_items: number of items (max item id + 1, or the affinity width if larger).
        n_positions: number of positions (max position + 1).
    """

    behavior: str
    campaign: str
    timestamp: np.ndarray
    item_id: np.ndarray
    position: np.ndarray
    click: np.ndarray
    pscore: np.ndarray
    user_features: np.ndarray
    affinity: np.ndarray
    n_items: int
    n_positions: int

    @property
    def n_rounds(self) -> int:
        """Number of logged rounds."""
        return int(self.item_id.size)

    def ctr(self) -> float:
        """The on-policy click-through rate mean(click)."""
        return float(self.click.mean())


def parse_log(text: str, behavior: str, campaign: str, where: str = "<log>", *, context: bool = True) -> OBDLog:
    """An :class:`OBDLog` from the text of one log CSV, schema-checked
    (:class:`OBDFormatError`, a ValueError, names the file and column)."""
    return _to_log(read_columns(io.StringIO(text), where, context=context), behavior, campaign, where)


def _to_log(raw: RawColumns, behavior: str, campaign: str, where: str) -> OBDLog:
    """Check the value rules of the core columns and sort the rounds by time."""
    item, pos, click, ps = raw.item_id, raw.position, raw.click, raw.pscore
    if np.any(item < 0):
        raise OBDFormatError(f"{where}: column 'item_id' has negative ids")
    if np.any(pos < 1):
        raise OBDFormatError(f"{where}: column 'position' must be 1-based (found {int(pos.min())})")
    if not np.all((click == 0) | (click == 1)):
        raise OBDFormatError(f"{where}: column 'click' must be 0/1")
    if np.any(ps <= 0) or np.any(ps > 1):
        rng = f"[{ps.min():.3g}, {ps.max():.3g}]"
        raise OBDFormatError(f"{where}: column 'propensity_score' outside (0, 1] (range {rng})")
    order = np.argsort(raw.timestamp, kind="stable")
    return OBDLog(
        behavior=behavior, campaign=campaign, timestamp=raw.timestamp[order],
        item_id=item[order], position=pos[order] - 1, click=click[order], pscore=ps[order],
        user_features=raw.users[order], affinity=raw.affinity[order],
        n_items=int(max(item.max() + 1, raw.affinity.shape[1])), n_positions=int(pos.max()),
    )


def _check_choice(behavior: str, campaign: str) -> None:
    if behavior not in BEHAVIORS:
        raise ValueError(f"behavior: expected one of {BEHAVIORS}, got {behavior!r}")
    if campaign not in CAMPAIGNS:
        raise ValueError(f"campaign: expected one of {CAMPAIGNS}, got {campaign!r}")


def load_obd(source: str | Path, behavior: str = "random", campaign: str = "all", *, context: bool = True,
             chunk_rows: int = CHUNK_ROWS) -> OBDLog:
    """Load one log of the Open Bandit Dataset, streaming it in chunks (the full
    release's 12M-round "bts/all" log included; ``simcore.domains.bandits.obd_csv``).

    Args:
        source: the dataset's root directory (holding ``random/``, ``bts/``; a tree with
            ``obp/dataset/obd/`` inside also works) or the ``obp`` wheel/zip.
        behavior: "random" or "bts".
        campaign: "all", "men" or "women".
        context: also read the user features and the user-item affinities (False: only
            the five core columns, which is all the OPE benchmark needs; on the full
            release that is 33 bytes per round instead of about 700).
        chunk_rows: data rows converted at once (memory of one chunk of raw strings).

    Returns:
        The rounds in timestamp order (:class:`OBDLog`).
    """
    _check_choice(behavior, campaign)
    rel = f"{behavior}/{campaign}/{campaign}.csv"
    src = Path(source)
    where = f"{src}:{rel}"
    with open_member(src, rel) as fh:
        raw = read_columns(fh, where, context=context, chunk_rows=chunk_rows)
    return _to_log(raw, behavior, campaign, where)


def load_item_context(source: str | Path, behavior: str = "random", campaign: str = "all") -> dict[str, np.ndarray]:
    """The campaign's ``item_context.csv``: ``{"item_id": int64 (m,), "<column>": str (m,) ...}``
    (the item features as read; numeric ones convert with ``astype(float)``)."""
    _check_choice(behavior, campaign)
    rel = f"{behavior}/{campaign}/item_context.csv"
    where = f"{source}:{rel}"
    with open_member(Path(source), rel) as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        rows = [r for r in reader if r]
    if header is None or "item_id" not in header:
        raise OBDFormatError(f"{where}: missing column 'item_id'")
    if not rows or any(len(r) != len(header) for r in rows):
        raise OBDFormatError(f"{where}: no rows, or rows of a length other than the header's")
    out = {name: np.array([r[j] for r in rows]) for j, name in enumerate(header) if name}
    j = header.index("item_id")
    try:
        out["item_id"] = np.array([int(r[j]) for r in rows], dtype=np.int64)
    except ValueError:
        raise OBDFormatError(f"{where}: column 'item_id' is not all int") from None
    return out


def find_wheel(cache_dir: str | Path, download: bool = True) -> Path:
    """The ``obp`` 0.4.1 wheel (which holds the dataset's sample) in ``cache_dir``; if
    absent and ``download``, fetched with ``pip download obp==0.4.1 --no-deps``
    (obp is not installed nor imported).  RuntimeError with a one-line reason if neither works."""
    cache = Path(cache_dir)
    found = cache / WHEEL
    if found.is_file():
        return found
    if not download:
        raise RuntimeError(f"no {WHEEL} in {cache} (download disabled)")
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "obp==0.4.1", "--no-deps", "-d", str(cache), "-q"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"pip download obp==0.4.1 failed: {exc}") from None
    if proc.returncode != 0 or not found.is_file():
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"pip download obp==0.4.1 failed (exit {proc.returncode}): {last}")
    return found
