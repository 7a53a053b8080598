"""pyarrow, or one line saying how to install it (the log format needs it; nothing
else in simcore does)."""

from __future__ import annotations

INSTALL = 'pip install "simcore[logs]"  (pyarrow, for the Parquet/CSV search logs)'

try:
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq
except ModuleNotFoundError as e:  # pragma: no cover - exercised by the bare-install check
    raise ModuleNotFoundError(f"simcore's search logs need pyarrow: {INSTALL}", name="pyarrow") from e

__all__ = ["pa", "pq", "pa_csv", "INSTALL"]
