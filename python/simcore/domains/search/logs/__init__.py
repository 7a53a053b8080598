"""Search logs: the versioned page-view log format (Parquet via pyarrow, CSV for small
data), its schema check, a streaming reader and a logger for any policy on the C++
search simulator (docs/logs.md).  Needs pyarrow: ``pip install "simcore[logs]"``."""

from simcore.domains.search.logs.io import LogReader, LogWriter, open_log, read_log
from simcore.domains.search.logs.record import FixedPolicy, GaussianPolicy, LogSummary, record
from simcore.domains.search.logs.schema import VERSION, LogLayout, LogSchemaError, arrow_schema, columns

__all__ = ["VERSION", "LogLayout", "LogSchemaError", "arrow_schema", "columns", "LogReader", "LogWriter",
           "open_log", "read_log", "FixedPolicy", "GaussianPolicy", "LogSummary", "record"]
