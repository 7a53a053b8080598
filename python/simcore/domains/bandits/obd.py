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
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

BEHAVIORS = ("random", "bts")
CAMPAIGNS = ("all", "men", "women")
REQUIRED = ("timestamp", "item_id", "position", "click", "propensity_score")
WHEEL = "obp-0.4.1-py3-none-any.whl"
WHEEL_ROOT = "obp/dataset/obd"


class OBDFormatError(ValueError):
    """A file that does not follow the Open Bandit Dataset's CSV format."""


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


def _open_text(source: Path, rel: str) -> str:
    """The text of ``rel`` under a directory, or under WHEEL_ROOT in a zip/wheel."""
    if source.is_dir():
        for cand in (source / rel, source / WHEEL_ROOT / rel):
            if cand.is_file():
                return cand.read_text()
        raise FileNotFoundError(f"{source}: no {rel} (nor {WHEEL_ROOT}/{rel}) in it")
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as z:
            names = set(z.namelist())
            for member in (f"{WHEEL_ROOT}/{rel}", rel):
                if member in names:
                    return z.read(member).decode()
        raise FileNotFoundError(f"{source}: no {WHEEL_ROOT}/{rel} in the archive")
    raise FileNotFoundError(f"{source}: expected a directory or a wheel/zip of the Open Bandit Dataset")


def _column(rows: list[list[str]], j: int, name: str, kind: type, where: str) -> np.ndarray:
    vals = [row[j] for row in rows]
    if any(v.strip() == "" or v.strip().lower() == "nan" for v in vals):
        bad = next(i for i, v in enumerate(vals) if v.strip() == "" or v.strip().lower() == "nan")
        raise OBDFormatError(f"{where}: column {name!r} is empty/NaN in data row {bad + 1}")
    try:
        arr = np.array([kind(v) for v in vals])
    except ValueError:
        raise OBDFormatError(f"{where}: column {name!r} is not all {kind.__name__}") from None
    if kind is float and not np.all(np.isfinite(arr)):
        raise OBDFormatError(f"{where}: column {name!r} holds inf")
    return arr


def _timestamps(vals: np.ndarray, where: str) -> np.ndarray:
    out = np.empty(vals.size, dtype="datetime64[us]")
    for i, v in enumerate(vals):
        try:
            t = datetime.fromisoformat(str(v))
        except ValueError:
            raise OBDFormatError(f"{where}: column 'timestamp' row {i + 1}: not an ISO time ({v!r})") from None
        if t.tzinfo is not None:
            t = t.astimezone(timezone.utc).replace(tzinfo=None)
        out[i] = np.datetime64(t, "us")
    return out


def _rows(text: str, where: str) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise OBDFormatError(f"{where}: empty file") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise OBDFormatError(f"{where}: missing columns {missing}")
    rows = [row for row in reader if row]
    if not rows:
        raise OBDFormatError(f"{where}: no data rows")
    short = next((i for i, row in enumerate(rows) if len(row) != len(header)), None)
    if short is not None:
        raise OBDFormatError(f"{where}: data row {short + 1} has {len(rows[short])} fields, header {len(header)}")
    return header, rows


def parse_log(text: str, behavior: str, campaign: str, where: str = "<log>") -> OBDLog:
    """An :class:`OBDLog` from the text of one log CSV, schema-checked
    (:class:`OBDFormatError`, a ValueError, names the file and column)."""
    header, rows = _rows(text, where)
    col = {name: j for j, name in enumerate(header)}

    def get(name: str, kind: type) -> np.ndarray:
        return _column(rows, col[name], name, kind, where)

    item, pos, click = get("item_id", int), get("position", int), get("click", int)
    ps = get("propensity_score", float)
    if np.any(item < 0):
        raise OBDFormatError(f"{where}: column 'item_id' has negative ids")
    if np.any(pos < 1):
        raise OBDFormatError(f"{where}: column 'position' must be 1-based (found {int(pos.min())})")
    if not np.all((click == 0) | (click == 1)):
        raise OBDFormatError(f"{where}: column 'click' must be 0/1")
    if np.any(ps <= 0) or np.any(ps > 1):
        rng = f"[{ps.min():.3g}, {ps.max():.3g}]"
        raise OBDFormatError(f"{where}: column 'propensity_score' outside (0, 1] (range {rng})")
    ts = _timestamps(get("timestamp", str), where)
    ufeat = [c for c in header if c.startswith("user_feature_")]
    aff = sorted((c for c in header if c.startswith("user-item_affinity_")), key=lambda c: int(c.rsplit("_", 1)[1]))
    users = np.stack([get(c, str) for c in ufeat], axis=1) if ufeat else np.empty((len(rows), 0), dtype=str)
    affinity = np.stack([get(c, float) for c in aff], axis=1) if aff else np.empty((len(rows), 0))
    order = np.argsort(ts, kind="stable")
    return OBDLog(
        behavior=behavior, campaign=campaign, timestamp=ts[order],
        item_id=item[order].astype(np.int64), position=(pos[order] - 1).astype(np.int64),
        click=click[order].astype(np.int64), pscore=ps[order].astype(np.float64),
        user_features=users[order], affinity=affinity[order].astype(np.float64),
        n_items=int(max(item.max() + 1, affinity.shape[1])), n_positions=int(pos.max()),
    )


def _check_choice(behavior: str, campaign: str) -> None:
    if behavior not in BEHAVIORS:
        raise ValueError(f"behavior: expected one of {BEHAVIORS}, got {behavior!r}")
    if campaign not in CAMPAIGNS:
        raise ValueError(f"campaign: expected one of {CAMPAIGNS}, got {campaign!r}")


def load_obd(source: str | Path, behavior: str = "random", campaign: str = "all") -> OBDLog:
    """Load one log of the Open Bandit Dataset.

    Args:
        source: the dataset's root directory (holding ``random/``, ``bts/``; a tree with
            ``obp/dataset/obd/`` inside also works) or the ``obp`` wheel/zip.
        behavior: "random" or "bts".
        campaign: "all", "men" or "women".

    Returns:
        The rounds in timestamp order (:class:`OBDLog`).
    """
    _check_choice(behavior, campaign)
    rel = f"{behavior}/{campaign}/{campaign}.csv"
    src = Path(source)
    return parse_log(_open_text(src, rel), behavior, campaign, where=f"{src}:{rel}")


def load_item_context(source: str | Path, behavior: str = "random", campaign: str = "all") -> dict[str, np.ndarray]:
    """The campaign's ``item_context.csv``: ``{"item_id": int64 (m,), "<column>": str (m,) ...}``
    (the item features as read; numeric ones convert with ``astype(float)``)."""
    _check_choice(behavior, campaign)
    rel = f"{behavior}/{campaign}/item_context.csv"
    where = f"{source}:{rel}"
    text = _open_text(Path(source), rel)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or "item_id" not in header:
        raise OBDFormatError(f"{where}: missing column 'item_id'")
    rows = [r for r in reader if r]
    if not rows or any(len(r) != len(header) for r in rows):
        raise OBDFormatError(f"{where}: no rows, or rows of a length other than the header's")
    out = {name: np.array([r[j] for r in rows]) for j, name in enumerate(header) if name}
    out["item_id"] = _column(rows, header.index("item_id"), "item_id", int, where).astype(np.int64)
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
