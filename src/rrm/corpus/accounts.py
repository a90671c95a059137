"""The accounts of a batch, aggregated while the batch is staged: the latest value of each field per account.

Every post carries one observation of its account. ``AccountAggregator`` streams the observations of
one batch, chunk by chunk, into one DuckDB aggregation that runs in a thread of its own while the
input is still being read, and writes the batch's accounts file when the batch ends. So the
observations are never written to disk and read back, and the commit only waits for the last chunks.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from rrm._duckdb import connect, sql_path
from rrm.corpus.schema import ACCOUNT_SCHEMA

__all__ = ["LATEST_OBSERVATIONS", "AccountAggregator"]

LATEST_OBSERVATIONS = """
    SELECT platform, account_id, arg_max(handle, observed_at) AS handle,
           arg_max(display_name, observed_at) AS display_name,
           min(account_created_at) AS account_created_at,
           arg_max(followers, observed_at) AS followers,
           arg_max(following, observed_at) AS following,
           arg_max(profile_text, observed_at) AS profile_text,
           arg_max(location, observed_at) AS location,
           max(observed_at) AS observed_at, any_value(batch_id) AS batch_id
    FROM {source} GROUP BY platform, account_id"""
"""One row per account: each field's latest non-NULL value (``arg_max`` skips NULLs), the earliest creation time."""

MEMORY_LIMIT = "200MB"
"""The aggregation's own DuckDB runs beside the normalising one: it spills to disk past this."""
_DEPTH = 4
_POLL_SECONDS = 0.05


class _End:
    pass


class _Abort:
    pass


_END = _End()
_ABORT = _Abort()


class AggregationStopped(Exception):  # a signal inside the aggregation thread, never seen by a user
    """Raised in the observation stream when the batch is discarded, which ends the DuckDB query."""


class AccountAggregator:
    """Aggregates the account observations of one batch in a background thread; ``finish`` writes ``target``.

    ``add`` queues a chunk (waiting while ``depth`` chunks are queued, so memory stays bounded) and
    raises the aggregation's error if it failed; ``close`` stops it and drops what it did.
    """

    def __init__(self, target: Path, temp_dir: Path, depth: int = _DEPTH) -> None:
        self.target = target
        self._temp_dir = temp_dir
        self._queue: queue.Queue[pa.Table | _End | _Abort] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="rrm-ingest-accounts", daemon=True)
        self._thread.start()

    def _observations(self) -> Iterator[pa.RecordBatch]:
        while True:
            item = self._queue.get()
            if isinstance(item, _End):
                return
            if isinstance(item, _Abort):
                raise AggregationStopped
            yield from item.to_batches()

    def _run(self) -> None:
        db = connect()
        try:
            # one thread: the query runs in this thread, beside the reading, normalising and writing ones
            db.execute("SET threads = 1")
            db.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            db.execute("SET TimeZone = 'UTC'")
            db.execute(f"SET temp_directory = {sql_path(self._temp_dir)}")
            db.register("observations", pa.RecordBatchReader.from_batches(ACCOUNT_SCHEMA, self._observations()))
            query = LATEST_OBSERVATIONS.format(source="observations")
            db.execute(f"COPY ({query}) TO {sql_path(self.target)} (FORMAT parquet, COMPRESSION zstd)")
        except BaseException as error:  # handed to the thread that adds or finishes
            self._error = error
            self._drain()
        finally:
            db.close()

    def _drain(self) -> None:
        """After a failure, empty the queue so that no producer waits forever."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def _put(self, item: pa.Table | _End | _Abort) -> None:
        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                continue

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def add(self, observations: pa.Table) -> None:
        """Queue one chunk of observations (``ACCOUNT_SCHEMA``)."""
        self._raise()
        if observations.num_rows:
            self._put(observations)

    def end(self) -> None:
        """No more observations: the aggregation writes ``target`` (and frees its memory) in its thread."""
        if not self._ended:
            self._ended = True
            self._put(_END)

    def finish(self) -> Path:
        """Wait for the aggregation to write ``target`` and return it; raises the aggregation's error."""
        self.end()
        self._thread.join()
        self._raise()
        return self.target

    def close(self) -> None:
        """Stop without finishing (the batch is discarded); the caller removes ``target``."""
        if self._thread.is_alive():
            if self._ended:  # too late to stop it: the file is being written
                self._thread.join()
                return
            self._ended = True
            self._put(_ABORT)
            self._thread.join()
