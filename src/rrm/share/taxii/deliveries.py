"""The delivery log (who received which object versions, when, under which TLP), written by group commit.

A request that serves objects hands its delivery to :class:`DeliveryLog` and waits until the entry is
committed; only then is the response sent. One background thread per process commits whatever has
queued up meanwhile in one transaction, so under load one commit covers many pages instead of every
page taking the database's write lock on its own (which made 50 concurrent readers queue behind
each other). Nothing leaves the node unlogged: if the commit fails, the waiting requests fail
with it and send nothing. A crash can lose no delivery that was sent; at most it loses log entries
of pages whose responses had not gone out yet.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import orjson
from sqlalchemy import Engine

from rrm.share.taxii import tables as t

__all__ = ["Delivery", "DeliveryLog"]


@dataclass(frozen=True)
class Delivery:
    at: str
    partner_id: str
    collection_id: str
    objects: Sequence[tuple[str, str, str]]  # (object id, version, TLP)


class DeliveryLog:
    """Group commit of deliveries into ``taxii_deliveries``; the writer thread starts on first use."""

    def __init__(self, engine: Engine, max_batch: int = 1000) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._wake = threading.Condition()
        self._pending: list[tuple[Delivery, Future[None] | asyncio.Future[None]]] = []
        self._thread: threading.Thread | None = None
        self._closed = False

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
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue(delivery, done)
        await done

    def _queue(self, delivery: Delivery, done: Future[None] | asyncio.Future[None]) -> None:
        with self._wake:
            if self._closed:
                self._write([delivery])  # after close (e.g. a late request at shutdown): written at once
                done.set_result(None)
                return
            self._pending.append((delivery, done))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="taxii-delivery-log", daemon=True)
                self._thread.start()
            self._wake.notify()

    def close(self) -> None:
        """Commit what is queued and stop the writer thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

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
        mark = "?" if self._engine.dialect.paramstyle == "qmark" else "%s"
        sql = (f"INSERT INTO {t.deliveries.name} (at, partner_id, collection_id, objects) "
               f"VALUES ({mark}, {mark}, {mark}, {mark})")
        rows = [(d.at, d.partner_id, d.collection_id, orjson.dumps(d.objects).decode()) for d in deliveries]
        with self._engine.begin() as db:
            db.exec_driver_sql(sql, rows)


def _settle(waiting: Sequence[Future[None] | asyncio.Future[None]], error: Exception | None) -> None:
    for done in waiting:
        if done.done():  # an asyncio waiter cancelled (client gone): its entry is committed all the same
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
