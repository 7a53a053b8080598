"""The search-log format, version 1: one row per page view (see docs/logs.md).

A log is a table whose rows are page views, grouped by session: the rows of one
session are contiguous, in page order 0, 1, 2, ..., and the last row of a session
ends it (``outcome`` buy or leave, or ``truncated`` at the horizon).  Session ids are
unique within a file.  The columns (K = page size, m = ranking features, both stored in
the file's metadata):

==================  ======================  ==========================================
column              type                    meaning
==================  ======================  ==========================================
session_id          int64 >= 0              the session
page                int32 >= 0              page index within the session
query               int64 >= 0              the query the user typed (observable)
segment             int32 >= 0              the user's segment (observable)
power               float64 in [0, 1]       the user's purchasing power (observable)
action              float32[m]              the engine's ranking weights on this page
log_propensity      float64, nullable       log density of ``action`` under the logging
                                            policy (null: unknown)
items               int64[K], >= -1         shown items in rank order, -1 padded
item_features       float32[K*m]            their features, row-major (K, m), 0 padded
item_prices         float64[K], >= 0        their prices, 0 padded
clicks              bool[K]                 clicked items
carts               bool[K], nullable       carted items (null: the simulator has none)
outcome             int8 in {0, 1, 2}       0 continue, 1 buy, 2 leave
bought_item         int64 >= -1             the purchased item (-1 unless outcome 1)
price               float64 >= 0            price paid (0 unless outcome 1)
truncated           bool                    the session was cut at the horizon here
latent_patience     float64, nullable       simulator truth, not observable in real logs
latent_prefs        float64[m], nullable    simulator truth, not observable in real logs
exact_b/l/c/m       float64, nullable       the simulator's exact buy / leave / continue
                                            probabilities and expected price of the page
==================  ======================  ==========================================

Everything here is pure Python over pyarrow types; :func:`check_batch` checks one
record batch and :class:`SessionOrder` carries the session-order check across batches,
so a file is checked while it streams.  Every failure raises :class:`LogSchemaError`
naming the column (and the first bad row) and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.domains.search.logs._arrow import pa

VERSION = 1
METADATA_KEY = b"simcore.log"

__all__ = ["VERSION", "METADATA_KEY", "Column", "LogSchemaError", "LogLayout", "columns", "arrow_schema",
           "check_batch", "SessionOrder", "to_numpy"]


class LogSchemaError(ValueError):
    """A log file or table does not follow the search-log format."""


@dataclass(frozen=True)
class Column:
    """One column: name, element kind ('i', 'f', 'b'), element bits, the number of values
    per row (0: a scalar; 'K', 'm', 'Km' or 'mm': resolved by the layout), nullable,
    and the closed value range checked on read (None: unchecked)."""

    name: str
    kind: str
    bits: int
    width: str = ""
    nullable: bool = False
    lo: float | None = None
    hi: float | None = None


COLUMNS: tuple[Column, ...] = (
    Column("session_id", "i", 64, lo=0),
    Column("page", "i", 32, lo=0),
    Column("query", "i", 64, lo=0),
    Column("segment", "i", 32, lo=0),
    Column("power", "f", 64, lo=0.0, hi=1.0),
    Column("action", "f", 32, "m"),
    Column("log_propensity", "f", 64, nullable=True),
    Column("items", "i", 64, "K", lo=-1),
    Column("item_features", "f", 32, "Km"),
    Column("item_prices", "f", 64, "K", lo=0.0),
    Column("clicks", "b", 8, "K"),
    Column("carts", "b", 8, "K", nullable=True),
    Column("outcome", "i", 8, lo=0, hi=2),
    Column("bought_item", "i", 64, lo=-1),
    Column("price", "f", 64, lo=0.0),
    Column("truncated", "b", 8),
    Column("latent_patience", "f", 64, nullable=True),
    Column("latent_prefs", "f", 64, "m", nullable=True),
    Column("exact_b", "f", 64, nullable=True, lo=0.0, hi=1.0),
    Column("exact_l", "f", 64, nullable=True, lo=0.0, hi=1.0),
    Column("exact_c", "f", 64, nullable=True, lo=0.0, hi=1.0),
    Column("exact_m", "f", 64, nullable=True, lo=0.0),
)


def columns() -> tuple[Column, ...]:
    """The format's columns, in file order."""
    return COLUMNS


@dataclass(frozen=True)
class LogLayout:
    """The sizes a file's list columns depend on: page size K, ranking features m and
    the session horizon T (pages)."""

    page_size: int
    num_features: int
    horizon: int

    def __post_init__(self) -> None:
        for name in ("page_size", "num_features", "horizon"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not 1 <= v <= 1 << 20:
                raise LogSchemaError(f"layout.{name}: must be an integer in [1, 2**20], got {v!r}")

    def width(self, col: Column) -> int:
        """Values per row of ``col`` (0 for a scalar column)."""
        K, m = self.page_size, self.num_features
        return {"": 0, "K": K, "m": m, "Km": K * m}[col.width]


def _element(col: Column) -> pa.DataType:
    if col.kind == "b":
        return pa.bool_()
    if col.kind == "i":
        return {8: pa.int8(), 32: pa.int32(), 64: pa.int64()}[col.bits]
    return {32: pa.float32(), 64: pa.float64()}[col.bits]


def arrow_schema(layout: LogLayout, metadata: dict[bytes, bytes] | None = None) -> pa.Schema:
    """The pyarrow schema of a version-1 log with ``layout`` (fixed-size lists)."""
    fields = []
    for col in COLUMNS:
        t = _element(col)
        n = layout.width(col)
        fields.append(pa.field(col.name, pa.list_(t, n) if n else t, nullable=col.nullable))
    return pa.schema(fields, metadata=metadata)


def _type_ok(actual: pa.DataType, expected: pa.DataType) -> bool:
    if pa.types.is_fixed_size_list(expected):
        return (pa.types.is_fixed_size_list(actual) and actual.list_size == expected.list_size
                and actual.value_type == expected.value_type)
    return actual == expected


def check_batch(batch: pa.RecordBatch | pa.Table, layout: LogLayout, where: str = "log") -> None:
    """Checks one batch's columns (presence, types, nulls, NaN, ranges, bought items).

    Raises:
        LogSchemaError: naming the column, the first bad row (``where`` row offset
            aside) and what was expected.
    """
    schema = arrow_schema(layout)
    names = set(batch.schema.names)
    missing = [f.name for f in schema if f.name not in names]
    if missing:
        raise LogSchemaError(f"{where}: missing columns {missing} (format version {VERSION})")
    for field, col in zip(schema, COLUMNS):
        actual = batch.schema.field(field.name).type
        if not _type_ok(actual, field.type):
            raise LogSchemaError(f"{where}: column {field.name!r}: expected {field.type}, got {actual}")
        _check_values(batch.column(field.name), col, where)
    _check_purchases(batch, where)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _check_values(arr: pa.Array | pa.ChunkedArray, col: Column, where: str) -> None:
    """Nulls, NaN/inf and the range of one column."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    nulls = arr.null_count
    if nulls and not col.nullable:
        row = _first(np.asarray(arr.is_null()))
        raise LogSchemaError(f"{where}: column {col.name!r}: null at row {row} (the column is not nullable)")
    if nulls == len(arr):
        return
    if pa.types.is_fixed_size_list(arr.type):
        valid = np.asarray(arr.is_valid())
        values = arr.filter(pa.array(valid)).flatten() if nulls else arr.flatten()
        if values.null_count:
            raise LogSchemaError(f"{where}: column {col.name!r}: null inside a list")
        v = values.to_numpy(zero_copy_only=False).reshape(int(valid.sum()), -1)
        rows = np.flatnonzero(valid)
    else:
        valid = np.asarray(arr.is_valid()) if nulls else None
        v = arr.to_numpy(zero_copy_only=False)
        rows = np.arange(len(v))
        if valid is not None:
            v, rows = v[valid], rows[valid]
        v = v.reshape(-1, 1)
    if col.kind == "f":
        bad = ~np.isfinite(v).all(axis=1)
        if bad.any():
            raise LogSchemaError(f"{where}: column {col.name!r}: NaN or infinite value at row {rows[_first(bad)]}")
    if col.lo is not None and v.size:
        bad = (v < col.lo).any(axis=1)
        if bad.any():
            raise LogSchemaError(f"{where}: column {col.name!r}: value below {col.lo} at row {rows[_first(bad)]}")
    if col.hi is not None and v.size:
        bad = (v > col.hi).any(axis=1)
        if bad.any():
            raise LogSchemaError(f"{where}: column {col.name!r}: value above {col.hi} at row {rows[_first(bad)]}")


def _check_purchases(batch: pa.RecordBatch | pa.Table, where: str) -> None:
    """bought_item is an item (>= 0) exactly when the outcome is a purchase (it may have
    been shown on an earlier page of the session), and only a purchase pays."""
    d = to_numpy(batch, ("outcome", "bought_item", "price"))
    buy = d["outcome"] == 1
    bad = np.where(buy, d["bought_item"] < 0, d["bought_item"] != -1)
    if bad.any():
        raise LogSchemaError(f"{where}: column 'bought_item': row {_first(bad)} must be an item id >= 0 when "
                             "outcome == 1 (buy) and -1 otherwise")
    bad = ~buy & (d["price"] != 0)
    if bad.any():
        raise LogSchemaError(f"{where}: column 'price': row {_first(bad)} pays {d['price'][_first(bad)]} "
                             "without a purchase")


def to_numpy(batch: pa.RecordBatch | pa.Table, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Columns as NumPy arrays: scalars (n,), lists (n, width); ``item_features``
    (n, K, m) needs the layout, so it comes back (n, K*m) here.  A null row of a
    nullable column reads as NaN (floats) or False (bools); the column itself reads
    as None when every row is null."""
    out: dict[str, np.ndarray] = {}
    for name in names if names is not None else batch.schema.names:
        arr = batch.column(name)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        n = len(arr)
        if pa.types.is_fixed_size_list(arr.type):
            width = arr.type.list_size
            if arr.null_count == n and n:
                out[name] = None  # type: ignore[assignment]
                continue
            if arr.null_count:
                fill = pa.scalar([False] * width if pa.types.is_boolean(arr.type.value_type)
                                 else [float("nan")] * width, type=arr.type)
                arr = arr.fill_null(fill)
            out[name] = arr.flatten().to_numpy(zero_copy_only=False).reshape(n, width)
        else:
            if arr.null_count == n and n:
                out[name] = None  # type: ignore[assignment]
                continue
            out[name] = arr.to_numpy(zero_copy_only=False)
    return out


class SessionOrder:
    """The session-order check, carried across the batches of one file.

    Rows of a session are contiguous with pages 0, 1, 2, ...; a session ends on its
    last row (buy, leave or truncated) and on no earlier row; no page is past the
    horizon; no session id comes back after its session ended.
    """

    def __init__(self, layout: LogLayout) -> None:
        self.layout = layout
        self._last_id = -1
        self._last_page = -1
        self._open = False
        self._starts: list[np.ndarray] = []
        self.rows = 0
        self.sessions = 0

    def feed(self, batch: pa.RecordBatch | pa.Table, where: str = "log") -> None:
        """Checks the next batch's rows (already checked by :func:`check_batch`)."""
        d = to_numpy(batch, ("session_id", "page", "outcome", "truncated"))
        sid, page = d["session_id"].astype(np.int64), d["page"].astype(np.int64)
        ends = (d["outcome"] != 0) | d["truncated"].astype(bool)
        if len(sid) == 0:
            return
        prev_sid = np.concatenate(([self._last_id], sid[:-1]))
        prev_page = np.concatenate(([self._last_page], page[:-1]))
        prev_open = np.concatenate(([self._open], ~ends[:-1]))
        same = sid == prev_sid
        row0 = self.rows
        bad = same & ~prev_open
        if bad.any():
            i = _first(bad)
            raise LogSchemaError(f"{where}: session {sid[i]} continues at row {row0 + i} after it ended "
                                 "(buy, leave or truncated)")
        bad = same & (page != prev_page + 1)
        if bad.any():
            i = _first(bad)
            raise LogSchemaError(f"{where}: session {sid[i]}: page {page[i]} at row {row0 + i} follows page "
                                 f"{prev_page[i]} (pages must be 0, 1, 2, ... in order)")
        bad = ~same & prev_open
        if bad.any():
            i = _first(bad)
            raise LogSchemaError(f"{where}: session {prev_sid[i]} is interrupted at row {row0 + i} before it "
                                 "ended (its rows must be contiguous and its last row a buy, leave or truncation)")
        bad = ~same & (page != 0)
        if bad.any():
            i = _first(bad)
            raise LogSchemaError(f"{where}: session {sid[i]} starts at row {row0 + i} with page {page[i]}, not 0")
        bad = page >= self.layout.horizon
        if bad.any():
            i = _first(bad)
            raise LogSchemaError(f"{where}: row {row0 + i}: page {page[i]} is past the horizon "
                                 f"{self.layout.horizon}")
        self._starts.append(sid[~same])
        self._last_id, self._last_page, self._open = int(sid[-1]), int(page[-1]), bool(~ends[-1])
        self.rows += len(sid)

    def finish(self, where: str = "log") -> None:
        """Checks the end of the file: the last session ended, no session id repeated."""
        if self._open:
            raise LogSchemaError(f"{where}: the last session ({self._last_id}) does not end (the file is cut?)")
        starts = np.concatenate(self._starts) if self._starts else np.zeros(0, np.int64)
        uniq, counts = np.unique(starts, return_counts=True)
        if (counts > 1).any():
            raise LogSchemaError(f"{where}: session id {uniq[counts > 1][0]} appears in two places "
                                 "(a session's rows must be contiguous)")
        self.sessions = len(uniq)
