"""Small helpers over the DuckDB Python API, in one place because its names change between versions."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

__all__ = ["arrow_reader", "arrow_table", "connect", "sql_path", "sql_string"]


def connect(database: str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that never draws its progress bar (it would corrupt ``--json`` output)."""
    db = duckdb.connect(database, read_only=read_only)
    db.execute("SET enable_progress_bar = false")
    return db


def arrow_table(db: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    """The whole result of ``query`` as an Arrow table."""
    relation = db.sql(query)
    for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        method = getattr(relation, name, None)
        if method is not None:
            table = method()
            return table.read_all() if isinstance(table, pa.RecordBatchReader) else table
    raise RuntimeError("this DuckDB version offers no way to fetch Arrow tables")


def arrow_reader(db: duckdb.DuckDBPyConnection, query: str, batch_size: int) -> pa.RecordBatchReader:
    """The result of ``query`` as a stream of Arrow record batches of about ``batch_size`` rows."""
    relation = db.sql(query)
    for name in ("to_arrow_reader", "fetch_record_batch"):
        method = getattr(relation, name, None)
        if method is not None:
            reader: pa.RecordBatchReader = method(batch_size)
            return reader
    raise RuntimeError("this DuckDB version offers no way to stream Arrow record batches")


def sql_string(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_path(path: Path) -> str:
    return sql_string(str(path))
