"""Optional loader of public cluster-trace CSVs into the (B, T, D) traffic arrays the
forecasters and the simulator's analyses take (docs/autoscaling_forecast.md, "Traces").
No trace ships with simcore; the formats are those the publishers document.

Formats (:data:`FORMATS`; files have no header line, columns in this order; a header
line naming the columns is also accepted, then the columns are found by name, in any order):

* ``alibaba-machine``: Alibaba cluster-trace-v2018 ``machine_usage.csv``: machine_id,
  time_stamp (s), cpu_util_percent, mem_util_percent, mem_gps, mkpi, net_in, net_out,
  disk_io_percent.  Series = machines.
* ``alibaba-container``: its ``container_usage.csv``: container_id, machine_id, time_stamp,
  cpu_util_percent, mem_util_percent, cpi, mem_gps, mpki, net_in, net_out, disk_io_percent.
  Series = containers.
* ``azure-cpu``: Azure Public Dataset V1/V2 ``vm_cpu_readings-file-*.csv(.gz)``: timestamp
  (s), vm_id, min_cpu, max_cpu, avg_cpu (5-minute readings).  Series = VMs.

Resampling: step j of a series covers [j step_seconds, (j + 1) step_seconds) of trace time
(trace time 0 is taken as a week's start, so step j has calendar index j; ``Trace.t_start``
is the first step kept); a step's value is the mean of its readings.  Steps without a
reading inside a series' span are filled by linear interpolation (``fill="interpolate"``)
or rejected (``fill="error"``); before a series' first and after its last reading the
nearest value is held (``coverage`` says how much was read, not filled).

Errors (ValueError naming the file, line and column): a row with the wrong number of fields,
a header without a needed column, an empty, non-numeric, NaN or infinite value, a negative
value (traffic must be >= 0; Alibaba's disk_io_percent marks bad readings with -1), timestamps
not increasing within a series (unless ``sort=True``), and an empty selection.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["FORMATS", "TraceFormat", "Trace", "load_trace", "write_rows"]


@dataclass(frozen=True)
class TraceFormat:
    """A CSV layout: the columns in file order, the series id and time columns, the default values."""

    columns: tuple[str, ...]
    id_column: str
    time_column: str
    default_values: tuple[str, ...]


FORMATS: dict[str, TraceFormat] = {
    "alibaba-machine": TraceFormat(
        ("machine_id", "time_stamp", "cpu_util_percent", "mem_util_percent", "mem_gps", "mkpi", "net_in", "net_out",
         "disk_io_percent"), "machine_id", "time_stamp", ("cpu_util_percent", "net_in")),
    "alibaba-container": TraceFormat(
        ("container_id", "machine_id", "time_stamp", "cpu_util_percent", "mem_util_percent", "cpi", "mem_gps", "mpki",
         "net_in", "net_out", "disk_io_percent"), "container_id", "time_stamp", ("cpu_util_percent", "net_in")),
    "azure-cpu": TraceFormat(("timestamp", "vm_id", "min_cpu", "max_cpu", "avg_cpu"), "vm_id", "timestamp",
                             ("avg_cpu", "max_cpu")),
}


@dataclass
class Trace:
    """A loaded trace.

    Attributes:
        traffic: float64 (B, T, D) per-step means, >= 0.
        ids: the B series ids (in order of first appearance).
        columns: the D value columns.
        t_start: the calendar index of step 0 (trace time t_start * step_seconds).
        step_seconds: the step length (600 = the simulator's 10 minutes).
        coverage: float64 (B,), share of each series' steps that had a reading.
    """

    traffic: np.ndarray
    ids: tuple[str, ...]
    columns: tuple[str, ...]
    t_start: int
    step_seconds: int
    coverage: np.ndarray


def _rows(path: str) -> Iterator[list[str]]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:  # type: ignore[operator]
        yield from csv.reader(f)


def _number(text: str, where: str, column: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"{where}: column {column!r} must be a number, got {text!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{where}: column {column!r} is NaN or infinite ({text!r})")
    return v


def _layout(first: list[str], fmt: TraceFormat, values: Sequence[str], where: str) -> tuple[dict[str, int], bool]:
    """Column positions, and whether ``first`` is a header line."""
    names = [c.strip() for c in first]
    header = fmt.time_column in names or fmt.id_column in names
    if header:
        missing = [c for c in (fmt.id_column, fmt.time_column, *values) if c not in names]
        if missing:
            raise ValueError(f"{where}: the header lacks column(s) {missing} (found {names})")
        return {c: names.index(c) for c in names}, True
    return {c: i for i, c in enumerate(fmt.columns)}, False


def _read(path: str, fmt: TraceFormat, values: Sequence[str], ids: set[str] | None, max_ids: int | None,
          sort: bool) -> tuple[list[str], dict[str, tuple[list[float], list[list[float]]]]]:
    """Per series id: its times and value rows, in file order (checked as the module says)."""
    order: list[str] = []
    data: dict[str, tuple[list[float], list[list[float]]]] = {}
    pos: dict[str, int] | None = None
    width = len(fmt.columns)
    for n, row in enumerate(_rows(path), start=1):
        where = f"{os.path.basename(path)} line {n}"
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if pos is None:
            pos, header = _layout(row, fmt, values, where)
            width = len(row) if header else width
            if header:
                continue
        if len(row) != width:
            raise ValueError(f"{where}: expected {width} columns ({', '.join(fmt.columns)}), got {len(row)}")
        sid = row[pos[fmt.id_column]].strip()
        if not sid:
            raise ValueError(f"{where}: column {fmt.id_column!r} is empty")
        if sid not in data:
            if (ids is not None and sid not in ids) or (max_ids is not None and len(order) >= max_ids):
                continue
            order.append(sid)
            data[sid] = ([], [])
        t = _number(row[pos[fmt.time_column]], where, fmt.time_column)
        vals = [_number(row[pos[c]], where, c) for c in values]
        for c, v in zip(values, vals):
            if v < 0:
                raise ValueError(f"{where}: column {c!r} is negative ({v}); traffic must be >= 0")
        times, rows = data[sid]
        if times and t <= times[-1] and not sort:
            raise ValueError(f"{where}: timestamps of {fmt.id_column} {sid!r} are not increasing ({t} after "
                             f"{times[-1]}); pass sort=True to sort them")
        times.append(t)
        rows.append(vals)
    if not order:
        raise ValueError(f"{os.path.basename(path)}: no rows" + (" for the selected ids" if ids or max_ids else ""))
    return order, data


def _fill(v: np.ndarray, have: np.ndarray, sid: str, fill: str) -> np.ndarray:
    """Fills the steps without a reading (module docstring)."""
    idx = np.flatnonzero(have)
    inner = ~have[idx[0]:idx[-1] + 1]
    if inner.any() and fill == "error":
        raise ValueError(f"series {sid!r}: {int(inner.sum())} step(s) without a reading inside its span "
                         "(fill='interpolate' fills them)")
    j = np.arange(v.shape[0])
    return np.stack([np.interp(j, idx, v[idx, k]) for k in range(v.shape[1])], axis=1)


def load_trace(path: str | os.PathLike[str], fmt: str, values: Sequence[str] | None = None,
               step_seconds: int = 600, ids: Sequence[str] | None = None, max_ids: int | None = None,
               sort: bool = False, fill: str = "interpolate") -> Trace:
    """Reads a trace CSV (``.gz`` too) of format ``fmt`` (a key of :data:`FORMATS`) into a
    :class:`Trace` of the ``values`` columns (default: the format's ``default_values``),
    resampled to ``step_seconds``; only the series in ``ids`` (or the first ``max_ids`` met)."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt: expected one of {sorted(FORMATS)}, got {fmt!r}")
    f = FORMATS[fmt]
    cols = tuple(f.default_values if values is None else values)
    bad = [c for c in cols if c not in f.columns or c in (f.id_column, f.time_column)]
    if not cols or bad:
        raise ValueError(f"values: expected value columns of {fmt} {f.columns}, got {list(cols)}")
    if not isinstance(step_seconds, int) or isinstance(step_seconds, bool) or not 1 <= step_seconds <= 86400:
        raise ValueError(f"step_seconds: must be an integer in [1, 86400], got {step_seconds!r}")
    if max_ids is not None and (not isinstance(max_ids, int) or max_ids < 1):
        raise ValueError(f"max_ids: must be None or an integer >= 1, got {max_ids!r}")
    if fill not in ("interpolate", "error"):
        raise ValueError(f"fill: expected 'interpolate' or 'error', got {fill!r}")
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise FileNotFoundError(f"path: no trace file at {p!r}")
    order, data = _read(p, f, cols, set(ids) if ids is not None else None, max_ids, sort)
    bins = {s: np.floor(np.asarray(data[s][0]) / step_seconds).astype(np.int64) for s in order}
    lo = min(int(b.min()) for b in bins.values())
    hi = max(int(b.max()) for b in bins.values())
    if lo < 0:
        raise ValueError(f"{os.path.basename(p)}: column {f.time_column!r} has negative timestamps")
    T, D = hi - lo + 1, len(cols)
    out, cov = np.empty((len(order), T, D)), np.empty(len(order))
    for i, s in enumerate(order):
        b = bins[s] - lo
        vals = np.asarray(data[s][1], dtype=np.float64)
        total, count = np.zeros((T, D)), np.zeros(T)
        np.add.at(total, b, vals)
        np.add.at(count, b, 1.0)
        have = count > 0
        mean = np.where(have[:, None], total / np.maximum(count, 1.0)[:, None], 0.0)
        out[i] = _fill(mean, have, s, fill)
        span = np.flatnonzero(have)
        cov[i] = have.sum() / (span[-1] - span[0] + 1)
    return Trace(out, tuple(order), cols, lo, step_seconds, cov)


def write_rows(path: str | os.PathLike[str], rows: Sequence[Sequence[object]],
               header: Sequence[str] | None = None) -> None:
    """Writes rows as a CSV (``.gz`` compresses): for small synthetic traces in a format above."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if header is not None:
        w.writerow(header)
    w.writerows(rows)
    p = os.fspath(path)
    data = buf.getvalue()
    if p.endswith(".gz"):
        with gzip.open(p, "wt", newline="") as f:
            f.write(data)
    else:
        with open(p, "w", newline="") as f:
            f.write(data)
