"""Streaming, schema-checked reading of the Open Bandit Dataset's log CSVs.

The full release holds 26M rounds (12M in its largest log, "bts/all", a file of several
GB with 80 affinity columns), so a log is read in chunks of ``chunk_rows`` data rows from
a text stream (a file or a zip member, never the whole text in memory), and only the
columns asked for are converted: the five core columns always, the user features and
affinities only with ``context=True``.  Peak memory is the output arrays plus one chunk of
raw rows.  Conversions are vectorised per chunk (NumPy string -> number casts,
``datetime64`` parsing of the common ``+00:00`` form); a chunk that fails is re-checked
value by value so the error names the file, the column and the global data row.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import numpy as np

REQUIRED = ("timestamp", "item_id", "position", "click", "propensity_score")
WHEEL_ROOT = "obp/dataset/obd"
#: default number of data rows converted at once
CHUNK_ROWS = 50_000


class OBDFormatError(ValueError):
    """A file that does not follow the Open Bandit Dataset's CSV format."""


@contextmanager
def open_member(source: Path, rel: str) -> Iterator[IO[str]]:
    """A text stream of ``rel`` under a directory, or under WHEEL_ROOT in a zip/wheel
    (FileNotFoundError naming what is missing)."""
    if source.is_dir():
        for cand in (source / rel, source / WHEEL_ROOT / rel):
            if cand.is_file():
                with cand.open(newline="") as fh:
                    yield fh
                return
        raise FileNotFoundError(f"{source}: no {rel} (nor {WHEEL_ROOT}/{rel}) in it")
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as z:
            names = set(z.namelist())
            for member in (f"{WHEEL_ROOT}/{rel}", rel):
                if member in names:
                    with z.open(member) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as fh:
                        yield fh
                    return
        raise FileNotFoundError(f"{source}: no {WHEEL_ROOT}/{rel} in the archive")
    raise FileNotFoundError(f"{source}: expected a directory or a wheel/zip of the Open Bandit Dataset")


@dataclass(frozen=True)
class RawColumns:
    """The converted columns of one log, in file order (not yet sorted by time).

    Attributes:
        timestamp: datetime64[us] (n,) UTC.  item_id, position, click: int64 (n,) as in
        the file (position 1-based).  pscore: float64 (n,).  users: str (n, k).
        affinity: float64 (n, m) (m = 0 without context).
    """

    timestamp: np.ndarray
    item_id: np.ndarray
    position: np.ndarray
    click: np.ndarray
    pscore: np.ndarray
    users: np.ndarray
    affinity: np.ndarray


def _bad_value(vals: list[str], kind: type, where: str, name: str, row0: int) -> OBDFormatError:
    """The error for the first value of ``vals`` that is empty, NaN or not a ``kind``."""
    for i, v in enumerate(vals):
        s = v.strip()
        if s == "" or s.lower() == "nan":
            return OBDFormatError(f"{where}: column {name!r} is empty/NaN in data row {row0 + i + 1}")
        try:
            x = kind(s)
        except ValueError:
            return OBDFormatError(f"{where}: column {name!r} is not all {kind.__name__} (data row {row0 + i + 1})")
        if kind is float and not np.isfinite(x):
            return OBDFormatError(f"{where}: column {name!r} holds inf in data row {row0 + i + 1}")
    return OBDFormatError(f"{where}: column {name!r} could not be read")


def _numbers(vals: list[str], kind: type, where: str, name: str, row0: int) -> np.ndarray:
    """int64 or float64 (m,) from strings; empty, NaN, inf or malformed -> OBDFormatError."""
    try:
        arr = np.array(vals, dtype=np.float64)
    except ValueError:
        raise _bad_value(vals, kind, where, name, row0) from None
    if not np.all(np.isfinite(arr)):
        raise _bad_value(vals, kind, where, name, row0)
    if kind is int:
        if np.any(np.abs(arr) >= 2.0**53) or not np.array_equal(np.round(arr), arr):
            raise _bad_value(vals, int, where, name, row0)
        return arr.astype(np.int64)
    return arr


def _timestamps(vals: list[str], where: str, row0: int) -> np.ndarray:
    """datetime64[us] (m,) UTC from ISO strings; the ``+00:00`` form vectorised, any other
    offset converted row by row."""
    arr = np.array(vals)
    utc = np.char.endswith(arr, "+00:00")
    out = np.empty(arr.size, dtype="datetime64[us]")
    if utc.any():
        try:
            out[utc] = np.array([v[:-6] for v in arr[utc]], dtype="datetime64[us]")
        except ValueError:
            utc[:] = False
    for i in np.flatnonzero(~utc):
        try:
            t = datetime.fromisoformat(str(arr[i]))
        except ValueError:
            raise OBDFormatError(f"{where}: column 'timestamp' row {row0 + i + 1}: not an ISO time "
                                 f"({str(arr[i])!r})") from None
        if t.tzinfo is not None:
            t = t.astimezone(timezone.utc).replace(tzinfo=None)
        out[i] = np.datetime64(t, "us")
    return out


def _header(reader: Iterator[list[str]], where: str) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise OBDFormatError(f"{where}: empty file") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise OBDFormatError(f"{where}: missing columns {missing}")
    return header


def _chunks(reader: Iterator[list[str]], width: int, keep: list[int], chunk_rows: int, where: str
            ) -> Iterator[tuple[int, list[list[str]]]]:
    """(first data row index, rows) per chunk of ``chunk_rows`` non-empty rows, each row
    checked to have ``width`` fields and cut down to the fields ``keep`` (so a chunk
    holds only the columns asked for, not the 90 of a full-width row)."""
    buf: list[list[str]] = []
    row0 = 0
    for row in reader:
        if not row:
            continue
        if len(row) != width:
            raise OBDFormatError(f"{where}: data row {row0 + len(buf) + 1} has {len(row)} fields, header {width}")
        buf.append([row[j] for j in keep])
        if len(buf) == chunk_rows:
            yield row0, buf
            row0 += len(buf)
            buf = []
    if buf:
        yield row0, buf


def read_columns(stream: IO[str], where: str, *, context: bool = True,
                 chunk_rows: int = CHUNK_ROWS) -> RawColumns:
    """Read one log CSV from ``stream`` chunk by chunk (module docstring).

    Args:
        stream: text stream of the CSV (header first).
        where: the file's name for error messages.
        context: also read ``user_feature_*`` and ``user-item_affinity_*`` columns.
        chunk_rows: data rows converted at once, >= 1.
    """
    if not (isinstance(chunk_rows, int) and chunk_rows >= 1):
        raise ValueError(f"chunk_rows: expected an int >= 1, got {chunk_rows!r}")
    reader = csv.reader(stream)
    header = _header(reader, where)
    ufeat = [c for c in header if c.startswith("user_feature_")] if context else []
    aff = sorted((c for c in header if c.startswith("user-item_affinity_")),
                 key=lambda c: int(c.rsplit("_", 1)[1])) if context else []
    names = [*REQUIRED, *ufeat, *aff]
    col = {name: k for k, name in enumerate(names)}
    keep = [header.index(name) for name in names]
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("ts", "item", "pos", "click", "ps", "users", "aff")}
    for row0, rows in _chunks(reader, len(header), keep, chunk_rows, where):
        def vals(name: str) -> list[str]:
            j = col[name]
            return [r[j] for r in rows]

        parts["item"].append(_numbers(vals("item_id"), int, where, "item_id", row0))
        parts["pos"].append(_numbers(vals("position"), int, where, "position", row0))
        parts["click"].append(_numbers(vals("click"), int, where, "click", row0))
        parts["ps"].append(_numbers(vals("propensity_score"), float, where, "propensity_score", row0))
        parts["ts"].append(_timestamps(vals("timestamp"), where, row0))
        if ufeat:
            for c in ufeat:
                _check_present(vals(c), where, c, row0)
            parts["users"].append(np.array([[r[col[c]] for c in ufeat] for r in rows]))
        if aff:
            parts["aff"].append(np.stack([_numbers(vals(c), float, where, c, row0) for c in aff], axis=1))
    if not parts["item"]:
        raise OBDFormatError(f"{where}: no data rows")
    n = sum(p.size for p in parts["item"])
    return RawColumns(
        timestamp=np.concatenate(parts["ts"]), item_id=np.concatenate(parts["item"]),
        position=np.concatenate(parts["pos"]), click=np.concatenate(parts["click"]),
        pscore=np.concatenate(parts["ps"]),
        users=np.concatenate(parts["users"]) if parts["users"] else np.empty((n, 0), dtype=str),
        affinity=np.concatenate(parts["aff"]) if parts["aff"] else np.empty((n, 0)),
    )


def _check_present(vals: list[str], where: str, name: str, row0: int) -> None:
    for i, v in enumerate(vals):
        if v.strip() == "" or v.strip().lower() == "nan":
            raise OBDFormatError(f"{where}: column {name!r} is empty/NaN in data row {row0 + i + 1}")
