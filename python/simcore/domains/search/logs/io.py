"""Writing and streaming search logs: Parquet (the format) and CSV (small data).

:class:`LogWriter` appends checked chunks (each a row group of a Parquet file, written
to ``PATH.tmp`` and renamed on :meth:`LogWriter.close`, so a crashed run leaves no
half file under the final name).  :func:`open_log` opens a file for streaming:
:meth:`LogReader.batches` yields NumPy batches, checking every batch against the
schema and the session order as it goes, so a bad file fails at the first bad row
and a good one loses nothing.

CSV stores list columns as space-separated numbers in one field, empty fields as
nulls, and the metadata in a ``PATH.meta.json`` sidecar (without it the layout is
inferred from the first row and the horizon is unchecked).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from simcore.domains.search.logs._arrow import pa, pa_csv, pq
from simcore.domains.search.logs.schema import (
    COLUMNS,
    METADATA_KEY,
    VERSION,
    LogLayout,
    LogSchemaError,
    SessionOrder,
    arrow_schema,
    check_batch,
    to_numpy,
)

__all__ = ["LogWriter", "LogReader", "open_log", "read_log"]

_MAX_HORIZON = 1 << 20


def _format(path: Path, fmt: str | None) -> str:
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "parquet")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt: expected 'parquet' or 'csv', got {fmt!r}")
    return fmt


def _record_batch(cols: Mapping[str, Any], layout: LogLayout) -> pa.RecordBatch:
    """NumPy columns -> a record batch of the version-1 schema (None: an all-null
    column, allowed for nullable columns only)."""
    schema = arrow_schema(layout)
    n = len(np.asarray(cols["session_id"]))
    arrays = []
    for field, col in zip(schema, COLUMNS):
        if field.name not in cols:
            raise LogSchemaError(f"columns: missing {field.name!r}")
        v = cols[field.name]
        if v is None:
            if not col.nullable:
                raise LogSchemaError(f"columns: {field.name!r} is not nullable")
            arrays.append(pa.nulls(n, type=field.type))
            continue
        a = np.asarray(v)
        if pa.types.is_fixed_size_list(field.type):
            width = field.type.list_size
            if a.shape[0] != n or a.size != n * width:
                raise LogSchemaError(f"columns: {field.name!r}: expected {n} rows of {width} values, "
                                     f"got shape {a.shape}")
            flat = pa.array(np.ascontiguousarray(a.reshape(-1)), type=field.type.value_type)
            arrays.append(pa.FixedSizeListArray.from_arrays(flat, width))
        else:
            if a.shape != (n,):
                raise LogSchemaError(f"columns: {field.name!r}: expected shape ({n},), got {a.shape}")
            arrays.append(pa.array(a, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


class LogWriter:
    """Appends page-view chunks to a log file.

    Args:
        path: ``*.parquet`` (the format) or ``*.csv``.
        layout: page size, feature count and horizon of the logged simulator.
        metadata: JSON-serialisable provenance (policy, simulator config, seed ...),
            stored under ``simcore.log`` with the format version and the layout.
        fmt: 'parquet' or 'csv' (default: from the suffix).

    Each :meth:`write` takes whole sessions (the session-order check runs across
    chunks); :meth:`close` checks that the last session ended and renames the file
    into place.  Use as a context manager.
    """

    def __init__(self, path: str | os.PathLike, layout: LogLayout, metadata: Mapping[str, Any] | None = None,
                 fmt: str | None = None) -> None:
        self.path = Path(path)
        self.layout = layout
        self.fmt = _format(self.path, fmt)
        meta = {"version": VERSION, "page_size": layout.page_size, "num_features": layout.num_features,
                "horizon": layout.horizon, **dict(metadata or {})}
        self.metadata = meta
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self._order = SessionOrder(layout)
        self._schema = arrow_schema(layout, {METADATA_KEY: json.dumps(meta, sort_keys=True).encode()})
        self._pq: Any = None
        self._csv_header = True
        self._closed = False
        if self.fmt == "parquet":
            self._pq = pq.ParquetWriter(self._tmp, self._schema, compression="zstd")
        else:
            self._tmp.write_bytes(b"")

    def write(self, cols: Mapping[str, Any]) -> None:
        """Appends rows (NumPy columns, see :mod:`~simcore.domains.search.logs.schema`);
        they are checked first, so a bad chunk raises and is not written."""
        if self._closed:
            raise ValueError("LogWriter: write after close")
        batch = _record_batch(cols, self.layout)
        check_batch(batch, self.layout, where="write")
        self._order.feed(batch, where="write")
        if self.fmt == "parquet":
            self._pq.write_batch(batch.replace_schema_metadata(self._schema.metadata))
        else:
            with open(self._tmp, "ab") as f:
                pa_csv.write_csv(_csv_table(batch), f,
                                 pa_csv.WriteOptions(include_header=self._csv_header))
            self._csv_header = False

    def close(self) -> None:
        """Finishes the file (the last session must have ended) and moves it into place."""
        if self._closed:
            return
        self._closed = True
        if self._pq is not None:
            self._pq.close()
        try:
            self._order.finish(where="write")
        except LogSchemaError:
            self._tmp.unlink(missing_ok=True)
            raise
        if self.fmt == "csv":
            Path(str(self.path) + ".meta.json").write_text(json.dumps(self.metadata, sort_keys=True, indent=1))
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Drops the partial file."""
        self._closed = True
        if self._pq is not None:
            self._pq.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _csv_table(batch: pa.RecordBatch) -> pa.Table:
    """List columns as space-separated strings (null rows stay null)."""
    arrays, names = [], []
    for name in batch.schema.names:
        arr = batch.column(name)
        if pa.types.is_fixed_size_list(arr.type):
            d = to_numpy(pa.table({name: arr}), (name,))[name]
            valid = np.asarray(arr.is_valid())
            if d is None:
                arrays.append(pa.nulls(len(arr), pa.string()))
            else:
                text = [" ".join(map(_num, row)) if ok else None for row, ok in zip(d.tolist(), valid)]
                arrays.append(pa.array(text, pa.string()))
        else:
            arrays.append(arr)
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def _num(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    return repr(float(v)) if isinstance(v, float) else str(v)


class LogReader:
    """An open log: ``layout``, ``metadata``, ``num_rows`` and :meth:`batches`."""

    def __init__(self, path: str | os.PathLike, fmt: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"path: no log file at {self.path}")
        self.fmt = _format(self.path, fmt)
        if self.fmt == "parquet":
            try:
                self._file = pq.ParquetFile(self.path)
            except pa.ArrowInvalid as e:
                raise LogSchemaError(f"{self.path}: not a Parquet file ({e})") from None
            raw = (self._file.schema_arrow.metadata or {}).get(METADATA_KEY)
            if raw is None:
                raise LogSchemaError(f"{self.path}: no simcore.log metadata (not written by a LogWriter?)")
            self.metadata = json.loads(raw)
            self.num_rows = self._file.metadata.num_rows
        else:
            self._table = _read_csv(self.path)
            side = Path(str(self.path) + ".meta.json")
            self.metadata = json.loads(side.read_text()) if side.exists() else _infer_csv_meta(self._table)
            self.num_rows = self._table.num_rows
        version = self.metadata.get("version")
        if version != VERSION:
            raise LogSchemaError(f"{self.path}: format version {version!r}; this simcore reads version {VERSION}")
        try:
            self.layout = LogLayout(int(self.metadata["page_size"]), int(self.metadata["num_features"]),
                                    int(self.metadata.get("horizon") or _MAX_HORIZON))
        except (KeyError, TypeError, ValueError) as e:
            raise LogSchemaError(f"{self.path}: bad layout in the metadata ({e})") from None

    def _raw_batches(self, batch_rows: int) -> Iterator[pa.RecordBatch | pa.Table]:
        if self.fmt == "parquet":
            yield from self._file.iter_batches(batch_size=batch_rows)
        else:
            for lo in range(0, self.num_rows, batch_rows):
                yield _csv_lists(self._table.slice(lo, batch_rows), self.layout, str(self.path))

    def batches(self, batch_rows: int = 65536, whole_sessions: bool = False) -> Iterator[dict[str, np.ndarray]]:
        """Streams the log as dicts of NumPy arrays, each batch checked first.

        Args:
            batch_rows: rows per batch read (>= 1).
            whole_sessions: hold back a session cut by a batch boundary to the next
                batch, so each batch holds whole sessions only.

        Yields:
            name -> array: scalars (n,), lists (n, width), ``item_features`` (n, K, m);
            a nullable column that is null in every row of the batch is None.
        """
        if not isinstance(batch_rows, (int, np.integer)) or isinstance(batch_rows, bool) or batch_rows < 1:
            raise ValueError(f"batch_rows: must be an integer >= 1, got {batch_rows!r}")
        order = SessionOrder(self.layout)
        where = str(self.path)
        carry: dict[str, np.ndarray] | None = None
        for raw in self._raw_batches(int(batch_rows)):
            check_batch(raw, self.layout, where=where)
            order.feed(raw, where=where)
            d = to_numpy(raw)
            if d["item_features"] is not None:
                d["item_features"] = d["item_features"].reshape(len(d["session_id"]), self.layout.page_size,
                                                                self.layout.num_features)
            if not whole_sessions:
                yield d
                continue
            d = _join(carry, d) if carry is not None else d
            ends = np.flatnonzero((d["outcome"] != 0) | d["truncated"])
            cut = int(ends[-1]) + 1 if len(ends) else 0
            carry = _rows(d, slice(cut, None)) if cut < len(d["session_id"]) else None
            if cut:
                yield _rows(d, slice(0, cut))
        order.finish(where=where)

    def read_all(self) -> dict[str, np.ndarray]:
        """The whole file as one dict of arrays (checked)."""
        parts = list(self.batches(batch_rows=1 << 20))
        if not parts:
            return {}
        out = parts[0]
        for p in parts[1:]:
            out = _join(out, p)
        return out


def _rows(d: dict[str, np.ndarray], sl: slice) -> dict[str, np.ndarray]:
    return {k: (None if v is None else v[sl]) for k, v in d.items()}  # type: ignore[misc]


def _join(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Row-concatenation; an all-null column (None) joined with values becomes NaN/False rows."""
    out = {}
    for k in a:
        x, y = a[k], b[k]
        if x is None and y is None:
            out[k] = None
            continue
        if x is None or y is None:
            ref = y if x is None else x
            n = len(a["session_id"]) if x is None else len(b["session_id"])
            fill = np.full((n, *ref.shape[1:]), np.nan if ref.dtype.kind == "f" else False, ref.dtype)
            x, y = (fill, y) if x is None else (x, fill)
        out[k] = np.concatenate([x, y])
    return out  # type: ignore[return-value]


def open_log(path: str | os.PathLike, fmt: str | None = None) -> LogReader:
    """Opens a search log for streaming (see :class:`LogReader`)."""
    return LogReader(path, fmt)


def read_log(path: str | os.PathLike, fmt: str | None = None) -> dict[str, np.ndarray]:
    """Reads and checks a whole search log (small files; stream big ones with open_log)."""
    return open_log(path, fmt).read_all()


# ------------------------------------------------------------------------------- CSV
def _read_csv(path: Path) -> pa.Table:
    types = {}
    for c in COLUMNS:
        if c.width:
            types[c.name] = pa.string()
        elif c.kind == "b":
            types[c.name] = pa.bool_()
        elif c.kind == "i":
            types[c.name] = {8: pa.int8(), 32: pa.int32(), 64: pa.int64()}[c.bits]
        else:
            types[c.name] = pa.float64()
    opts = pa_csv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                 true_values=["1", "true", "True"], false_values=["0", "false", "False"])
    try:
        return pa_csv.read_csv(path, convert_options=opts)
    except pa.ArrowInvalid as e:
        raise LogSchemaError(f"{path}: {e}") from None


def _infer_csv_meta(table: pa.Table) -> dict[str, Any]:
    def width(name: str) -> int:
        if name not in table.schema.names or table.num_rows == 0:
            raise LogSchemaError(f"column {name!r}: missing or empty (cannot infer the layout)")
        first = table.column(name)[0].as_py()
        return len(first.split()) if first else 0

    return {"version": VERSION, "page_size": width("items"), "num_features": width("action"), "horizon": None}


def _csv_lists(table: pa.Table, layout: LogLayout, where: str) -> pa.Table:
    """Parses the space-separated list fields into fixed-size lists (float64 columns
    are cast to the schema's float widths)."""
    schema = arrow_schema(layout)
    arrays = []
    for field, col in zip(schema, COLUMNS):
        if field.name not in table.schema.names:
            raise LogSchemaError(f"{where}: missing columns [{field.name!r}] (format version {VERSION})")
        arr = table.column(field.name).combine_chunks()
        if not col.width:
            arrays.append(arr.cast(field.type) if arr.type != field.type else arr)
            continue
        width = field.type.list_size
        text = arr.to_pylist()
        valid = np.array([t is not None for t in text], bool)
        dtype = {"b": np.int8, "i": np.int64, "f": np.float64}[col.kind]
        try:
            vals = np.array(" ".join(t for t in text if t is not None).split(), dtype=dtype)
        except ValueError:
            raise LogSchemaError(f"{where}: column {field.name!r}: a value is not a number") from None
        if vals.size != valid.sum() * width:
            raise LogSchemaError(f"{where}: column {field.name!r}: expected {width} values per row")
        if col.kind == "b" and vals.size and not np.isin(vals, (0, 1)).all():
            raise LogSchemaError(f"{where}: column {field.name!r}: flags must be 0 or 1")
        full = np.zeros((len(text), width), dtype)
        full[valid] = vals.reshape(-1, width)
        flat = pa.array(full.reshape(-1).astype(bool) if col.kind == "b" else full.reshape(-1),
                        type=field.type.value_type)
        lists = pa.FixedSizeListArray.from_arrays(flat, width, mask=pa.array(~valid) if (~valid).any() else None)
        arrays.append(lists)
    return pa.Table.from_arrays(arrays, schema=schema)
