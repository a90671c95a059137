"""The delivery log (who received which object versions, when, under which TLP), written by group commit.

A request that serves objects hands its delivery to :class:`DeliveryLog` and waits until the entry is
committed; only then is the response sent. One background thread per process commits whatever has
queued up meanwhile in one transaction, so under load one commit covers many pages instead of every
page taking the database's write lock on its own (which made 50 concurrent readers queue behind
each other). Nothing leaves the node unlogged: if the commit fails, the waiting requests fail
with it and send nothing. A crash can lose no delivery that was sent; at most it loses log entries
of pages whose responses had not gone out yet.

On SQLite the log has a file of its own (``TaxiiStore`` chooses it), the writer's commits never run a
WAL checkpoint (a second thread checkpoints every ``checkpoint_every`` seconds), and the writer holds
the GIL as little as it can, because every moment it holds it the event loop serving pages may wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import orjson
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection

from rrm.share.taxii import tables as t

__all__ = ["Delivery", "DeliveryLog"]

_ROWS_PER_INSERT = 200  # 800 parameters a statement: below every SQLite build's limit (999 before 3.32)


@dataclass(frozen=True)
class Delivery:
    at: str
    partner_id: str
    collection_id: str
    objects: Sequence[tuple[str, str, str]] | str  # (object id, version, TLP), or their JSON list as text


class DeliveryLog:
    """Group commit of deliveries into ``taxii_deliveries``; the writer thread starts on first use."""

    def __init__(self, engine: Engine, max_batch: int = 1000, checkpoint_every: float = 1.0) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._checkpoint_every = checkpoint_every
        self._checkpointer: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake = threading.Condition()
        self._pending: list[tuple[Delivery, Future[None] | asyncio.Future[None]]] = []
        self._this_turn: dict[asyncio.AbstractEventLoop, list[tuple[Delivery, Future[None] | asyncio.Future[None]]]] = {}
        self._thread: threading.Thread | None = None
        self._closed = False
        self._connection: PoolProxiedConnection | None = None  # the writer's; see _write

    def record(self, delivery: Delivery) -> None:
        """Log ``delivery``; returns once it is committed (raises what the commit raised)."""
        self.submit(delivery).result()

    def submit(self, delivery: Delivery) -> Future[None]:
        """Queue ``delivery``; the future completes when it is committed."""
        done: Future[None] = Future()
        self._queue(delivery, done)
        return done

    async def logged(self, delivery: Delivery) -> None:
        """Queue ``delivery`` from a running event loop; returns once it is committed.

        The writer settles all the waiters of one loop in one batch with a single wake-up of that
        loop, instead of one cross-thread call per request.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        # the deliveries of one turn of the loop go to the writer together: one lock and one wake-up
        # (each a chance for the event loop thread to wait for the GIL) instead of one per request
        batch = self._this_turn.get(loop)
        if batch is None:
            batch = self._this_turn[loop] = []
            loop.call_soon(self._hand_over, loop)
        batch.append((delivery, done))
        await done

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._this_turn.pop(loop)
        with self._wake:
            if self._closed:
                try:
                    self._write([delivery for delivery, _ in batch])
                except Exception as exc:
                    _settle([done for _, done in batch], exc)
                    return
                _settle([done for _, done in batch], None)
                return
            self._pending.extend(batch)
            self._start_writer()
            self._wake.notify()

    def _queue(self, delivery: Delivery, done: Future[None] | asyncio.Future[None]) -> None:
        with self._wake:
            if self._closed:
                self._write([delivery])  # after close (e.g. a late request at shutdown): written at once
                done.set_result(None)
                return
            self._pending.append((delivery, done))
            self._start_writer()
            self._wake.notify()

    def _start_writer(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="taxii-delivery-log", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Commit what is queued and stop the writer thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join()
        self._stopping.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        with self._wake:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch:]
            error: Exception | None = None
            try:
                self._write([delivery for delivery, _ in batch])
            except Exception as exc:  # handed to every request waiting on this batch: none of them is sent
                error = exc
            loops: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for _, done in batch:
                if isinstance(done, asyncio.Future):
                    loops.setdefault(done.get_loop(), []).append(done)
                else:
                    _settle([done], error)
            for loop, waiting in loops.items():
                try:
                    loop.call_soon_threadsafe(_settle, waiting, error)
                except RuntimeError:  # that loop is closed: nobody waits any more
                    continue

    def _write(self, deliveries: list[Delivery]) -> None:
        # A DBAPI connection kept by the writer, not an SQLAlchemy transaction per batch: the writer
        # then holds the GIL for a few microseconds per batch (the driver releases it while SQLite
        # works), so the event loop thread that serves the pages rarely waits for it.
        # One INSERT of many rows rather than executemany: the driver releases and takes the GIL back
        # around every statement step, and each time the event loop thread may have to hand it over.
        mark = "?" if self._engine.dialect.paramstyle == "qmark" else "%s"
        values: list[str] = []
        for d in deliveries:
            values.extend((d.at, d.partner_id, d.collection_id,
                           d.objects if isinstance(d.objects, str) else orjson.dumps(d.objects).decode()))
        row = f"({mark}, {mark}, {mark}, {mark})"
        if self._connection is None:
            self._connection = self._open()
        connection = self._connection
        sql = ""
        try:
            cursor = connection.cursor()
            try:
                for start in range(0, len(deliveries), _ROWS_PER_INSERT):
                    chunk = values[4 * start:4 * (start + _ROWS_PER_INSERT)]
                    sql = (f"INSERT INTO {t.deliveries.name} (at, partner_id, collection_id, objects) VALUES "
                           + ", ".join([row] * (len(chunk) // 4)))
                    cursor.execute(sql, chunk)
            finally:
                cursor.close()
            connection.commit()
        except Exception as exc:
            self._connection = None  # rolled back and dropped: the next batch starts on a fresh connection
            with contextlib.suppress(Exception):
                connection.rollback()
            connection.invalidate()
            dbapi = self._engine.dialect.loaded_dbapi
            if isinstance(exc, dbapi.Error):  # the error SQLAlchemy would raise (e.g. its OperationalError)
                raise DBAPIError.instance(sql, values, exc, dbapi.Error, hide_parameters=True) from exc
            raise

    def _open(self) -> PoolProxiedConnection:
        """The writer's connection. On SQLite its commits never checkpoint: a WAL checkpoint copies the
        log into the database file and syncs it (milliseconds to tens of them), and every request
        waiting on that commit would wait for it too. A thread of its own checkpoints instead, every
        ``checkpoint_every`` seconds, without blocking the writer (PASSIVE)."""
        connection = self._engine.raw_connection()
        if self._engine.dialect.name == "sqlite" and self._checkpoint_every > 0 and not self._closed:
            cursor = connection.cursor()
            cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.close()
            if self._checkpointer is None:
                self._checkpointer = threading.Thread(target=self._checkpoints, name="taxii-delivery-checkpoint",
                                                      daemon=True)
                self._checkpointer.start()
        return connection

    def _checkpoints(self) -> None:
        connection = self._engine.raw_connection()
        try:
            while not self._stopping.wait(self._checkpoint_every):
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")  # busy: tried again next time
                cursor.fetchall()
                cursor.close()
        finally:
            connection.close()


def _settle(waiting: Sequence[Future[None] | asyncio.Future[None]], error: Exception | None) -> None:
    for done in waiting:
        if done.done():  # an asyncio waiter cancelled (client gone): its entry is committed all the same
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
