"""Overlapping the stages of an ingest: read the next batch while this one is normalised and written.

Arrow's CSV reader, DuckDB and the Parquet writer release the GIL while they work, so a reader
thread and a writer thread let the stages of one input use more than one core. Errors raised in a
thread are raised again in the caller, in order, and a stopped pipeline stops its threads.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

__all__ = ["Prefetched", "Writer"]

T = TypeVar("T")
_POLL_SECONDS = 0.05


class _Done:
    pass


_DONE = _Done()


class Prefetched(Generic[T]):
    """Iterates ``make()`` in a thread, ``depth`` items ahead of the consumer. Use as a context manager.

    ``make`` is called in the thread, so a generator is created, run and closed there.
    """

    def __init__(self, make: Callable[[], Iterator[T]], depth: int = 1) -> None:
        self._make = make
        self._queue: queue.Queue[T | _Done | BaseException] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rrm-ingest-reader", daemon=True)

    def __enter__(self) -> Prefetched[T]:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _put(self, item: T | _Done | BaseException) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            iterator = self._make()
            try:
                for item in iterator:
                    if not self._put(item):
                        return
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
        except BaseException as error:  # handed to the consumer, which raises it
            self._put(error)
            return
        self._put(_DONE)

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
        self._thread.join()


class Writer(Generic[T]):
    """Calls ``write(item)`` in one background thread, in order, with at most ``depth`` items submitted and
    not yet written.

    ``submit`` raises the error of an earlier write; ``finish`` waits for the last one and raises its error.
    Once a write fails, the items after it are not written. A depth of 2 lets the producer go on while
    the writer is one item behind: on 1 million posts the ingest waited 0.9 s for its writer with a
    depth of 1, and took 10% less time with 2.
    """

    def __init__(self, write: Callable[[T], None], depth: int = 2) -> None:
        self._write = write
        self._depth = max(depth, 1)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rrm-ingest-writer")
        self._pending: deque[Future[None]] = deque()
        self._failed = threading.Event()

    def __enter__(self) -> Writer[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)

    def submit(self, item: T) -> None:
        while len(self._pending) >= self._depth:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._write_unless_failed, item))

    def _write_unless_failed(self, item: T) -> None:
        if self._failed.is_set():
            return
        try:
            self._write(item)
        except BaseException:
            self._failed.set()
            raise

    def finish(self) -> None:
        while self._pending:
            self._pending.popleft().result()
