"""The TAXII node's store: collections, objects with all their versions, partners, rights, status, deliveries.

Paging is by keyset on ``seq``, a strictly increasing row number, so a page costs the same on a
collection of ten thousand or ten million objects, and the ``next`` token (the last ``seq`` served)
stays valid in any server process. Adding is all or nothing: every object of a request is checked
first, then all are stored in one transaction.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    Engine,
    and_,
    create_engine,
    delete,
    event,
    false,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from rrm.errors import InputError, NotFoundError
from rrm.frameworks.tlp import TLP
from rrm.share.taxii import tables as t
from rrm.share.taxii.access import (
    Partner,
    TaxiiAccess,
    hash_password,
    key_lookup,
    new_api_key,
    object_recipients,
    object_tlp,
    verify_password,
)
from rrm.share.taxii.authcache import EpochCache, secret_digest
from rrm.share.taxii.deliveries import Delivery, DeliveryLog
from rrm.share.taxii.validate import checked_objects, checked_shape

__all__ = ["AddResult", "Filters", "OutgoingRow", "Page", "PageRow", "PageText", "TaxiiStore", "deliveries_path",
           "format_timestamp", "parse_timestamp"]

MAX_PAGE = 1000
_EPOCH = "access_epoch"
SQLITE_POOL_SIZE = 40  # as many as the server's threads (anyio's default limit), so none waits or reconnects


def deliveries_path(database: str) -> Path:
    """The SQLite file of the delivery log beside the objects' file: ``taxii.sqlite`` -> ``taxii.deliveries.sqlite``."""
    path = Path(database)
    return path.with_name(f"{path.stem}.deliveries{path.suffix or '.sqlite'}")


_LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z


def format_timestamp(microseconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` of microseconds since the epoch (on every page: two per page, one per log entry).

    The seconds' part is formatted once per second (cached), the microseconds appended: a quarter of
    what ``datetime.strftime`` costs.
    """
    seconds, micro = divmod(microseconds, 1_000_000)
    if not 0 <= seconds <= _LAST_SECOND:
        return datetime.fromtimestamp(microseconds / 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{_seconds_text(seconds)}.{micro:06d}Z"


@lru_cache(maxsize=4096)
def _seconds_text(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def parse_timestamp(text: str) -> int:
    """Microseconds since the epoch of a STIX/TAXII timestamp; ``ValueError`` when it is not one."""
    value = text.strip()
    if not value.endswith("Z"):
        raise ValueError(f"not a UTC timestamp ending in Z: {value!r}")
    moment = datetime.fromisoformat(value[:-1] + "+00:00")
    return int(moment.timestamp() * 1_000_000)


def _now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Filters:
    """The TAXII 2.1 ``match[...]`` and ``added_after`` filters of one request."""

    added_after: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()


class PageRow(NamedTuple):
    """One stored object version of a page; ``body`` is the object's JSON text as stored."""

    seq: int
    object_id: str
    version: str
    date_added: int  # microseconds since the epoch
    body: str
    tlp: str
    spec_version: str


@dataclass(frozen=True)
class Page:
    rows: list[PageRow] = field(default_factory=list)
    more: bool = False
    next: str | None = None

    @property
    def first_added(self) -> str | None:
        return format_timestamp(self.rows[0].date_added) if self.rows else None

    @property
    def last_added(self) -> str | None:
        return format_timestamp(self.rows[-1].date_added) if self.rows else None


@dataclass(frozen=True)
class PageText:
    """A page of objects as text: the envelope's part and the delivery log's entry, ready to send and store."""

    objects: str = ""  # the stored JSON texts of the objects, comma-separated, oldest added first
    served: str = "[]"  # JSON [[object id, version, TLP], ...], as the delivery log keeps it
    count: int = 0
    first_added: int | None = None  # microseconds since the epoch
    last_added: int | None = None
    more: bool = False
    next: str | None = None


_NOTHING = object()  # no row can be on the page (an added_after later than every object)
_SERVED = itemgetter(1, 2, 5)  # (object id, version, TLP) of a page row as fetched
_BODY = itemgetter(4)
_TEXT_COLUMNS = PageRow._fields[:6]  # what page_text uses: PageRow's columns but spec_version


@dataclass(frozen=True)
class AddResult:
    """What one add did with each object: newly stored, already there unchanged, or in conflict.

    A conflict is a version (same id, same ``modified``) already stored with other content: STIX
    versioning cannot settle it, so the stored one is kept and the conflict is reported.
    """

    stored: tuple[tuple[str, str], ...] = ()  # (id, version)
    unchanged: tuple[tuple[str, str], ...] = ()
    conflicts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OutgoingRow:
    seq: int
    object_id: str
    version: str
    body: str


def _version_of(obj: dict[str, Any], date_added: int) -> str:
    return str(obj.get("modified") or obj.get("created") or format_timestamp(date_added))


class TaxiiStore:
    """The TAXII node's state in a SQL database (a SQLite file by default)."""

    def __init__(self, url: str, deliveries_url: str | None = None) -> None:
        parsed = make_url(url)
        on_file = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
        pool: dict[str, Any] = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE} if on_file else {}
        self.engine: Engine = create_engine(url, future=True, **pool)
        # reads that serve partners go through their own connections, read-only (query_only) on SQLite
        self.reader: Engine = create_engine(url, future=True, **pool) if on_file else self.engine
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if self.reader is not self.engine:
            event.listen(self.reader, "connect", _sqlite_reader_pragmas)
        # The delivery log is written on every page served. In the objects' SQLite file each of its
        # commits would make every reader connection drop its page cache (SQLite discards it when the
        # file changed), so on SQLite it has a file of its own (``deliveries_path``); on a database
        # server it is a table beside the others.
        if deliveries_url is None and on_file:
            deliveries_url = parsed.set(database=str(deliveries_path(str(parsed.database)))).render_as_string(False)
        self.deliveries_engine: Engine = self.engine
        if deliveries_url is not None and deliveries_url != url:
            self.deliveries_engine = create_engine(deliveries_url, future=True)
            if self.deliveries_engine.dialect.name == "sqlite":
                event.listen(self.deliveries_engine, "connect", _sqlite_pragmas)
        self._mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        # reads of a local SQLite file in WAL mode never wait for a lock: an event loop may run them
        # inline (no thread hop); a database server is reached from threads
        self.inline_reads = on_file
        for attempt in range(10):
            try:
                t.metadata.create_all(self.engine)
                self._upgrade()
                if self.deliveries_engine is not self.engine:
                    t.deliveries.create(self.deliveries_engine, checkfirst=True)
                break
            except OperationalError:  # another server worker created a table or index at the same moment
                if attempt == 9:
                    raise
                time.sleep(0.05 * (attempt + 1))
        self._partners: EpochCache[Partner] = EpochCache()
        self._rights: EpochCache[tuple[bool, bool]] = EpochCache()
        self._deliveries = DeliveryLog(self.deliveries_engine)
        self._local = threading.local()
        self._held: list[Any] = []  # the reader connections threads keep (SQLite), closed by close()
        self._held_lock = threading.Lock()

    def _upgrade(self) -> None:
        """Bring a database made by an earlier RRM up to these tables (new columns and indexes)."""
        columns = {c["name"] for c in inspect(self.engine).get_columns(t.objects.name)}
        with self.engine.begin() as db:
            if "origin" not in columns:
                db.execute(text(f"ALTER TABLE {t.objects.name} ADD COLUMN origin VARCHAR(64) NOT NULL DEFAULT 'local'"))
            for index in t.objects.indexes:
                index.create(db, checkfirst=True)
            db.execute(text(f"INSERT INTO {t.meta.name} (name, value) VALUES ('{_EPOCH}', 0) ON CONFLICT DO NOTHING"))

    def close(self) -> None:
        """Commit the deliveries still queued, then close the connections."""
        self._deliveries.close()
        with self._held_lock:
            held, self._held = self._held, []
            self._local = threading.local()  # a later read (the store stays usable) opens a new connection
        for connection in held:
            connection.close()
        self.engine.dispose()
        self.reader.dispose()
        self.deliveries_engine.dispose()

    def _sqlite_reader(self) -> Any:
        """This thread's reader connection to the SQLite file, as the driver's ``sqlite3.Connection``.

        Each thread keeps its reader connection (a read holds no transaction once its rows are
        fetched, and the connection's page and statement caches stay warm); the hot reads call the
        driver on it directly (``execute`` makes the cursor), past the pool's proxies.
        """
        driver = getattr(self._local, "driver", None)
        if driver is None:
            connection = self._local.connection = self.reader.raw_connection()
            with self._held_lock:
                self._held.append(connection)
            driver = self._local.driver = connection.driver_connection
        return driver

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A DBAPI cursor on a reader connection: the fast path of the requests partners make.

        On SQLite the thread's own reader connection (``_sqlite_reader``); elsewhere the connection
        goes back to the pool after each use.
        """
        if self.inline_reads:
            cursor = self._sqlite_reader().cursor()
            try:
                yield cursor
            finally:
                cursor.close()
            return
        raw = self.reader.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            raw.close()

    def access_epoch(self) -> int:
        """The counter that every change to partners, credentials, rights or collections increments.

        On SQLite, a reader connection first asks ``PRAGMA data_version``, which changes exactly when
        another connection has committed to the file since this connection last looked (reader
        connections never write): while it is unchanged the epoch read last on this connection is
        still the epoch, and no table is read.
        """
        if self.inline_reads:
            reader = self._sqlite_reader()
            version = reader.execute("PRAGMA data_version").fetchone()[0]
            known: tuple[int, int] | None = getattr(self._local, "epoch", None)
            if known is not None and known[0] == version:
                return known[1]
            row = reader.execute(f"SELECT value FROM {t.meta.name} WHERE name = ?", (_EPOCH,)).fetchone()
            epoch = int(row[0]) if row else 0
            self._local.epoch = (version, epoch)
            return epoch
        with self._cursor() as cursor:
            cursor.execute(f"SELECT value FROM {t.meta.name} WHERE name = {self._mark}", (_EPOCH,))
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    # --- administration -------------------------------------------------------------------------

    def create_collection(self, collection_id: str, title: str, description: str = "") -> None:
        with self.engine.begin() as db:
            if db.execute(select(t.collections.c.id).where(t.collections.c.id == collection_id)).first() is None:
                db.execute(insert(t.collections).values(id=collection_id, title=title, description=description))
                _bump_epoch(db)

    def add_partner(self, partner_id: str, name: str, max_tlp: TLP) -> Partner:
        with self.engine.begin() as db:
            db.execute(delete(t.partners).where(t.partners.c.id == partner_id))
            db.execute(insert(t.partners).values(id=partner_id, name=name, max_tlp=max_tlp.name))
            _bump_epoch(db)
        return Partner(partner_id, name, max_tlp)

    def issue_api_key(self, partner_id: str) -> str:
        """A new API key for ``partner_id``; only its hash is stored, so this is the one chance to read it."""
        key = new_api_key()
        with self.engine.begin() as db:
            db.execute(insert(t.credentials).values(partner_id=partner_id, kind="key", lookup=key_lookup(key)))
            _bump_epoch(db)
        return key

    def revoke_key(self, key: str) -> bool:
        """Withdraw one API key (it fails from the next request on, in every server process)."""
        with self.engine.begin() as db:
            removed = db.execute(delete(t.credentials).where(t.credentials.c.lookup == key_lookup(key),
                                                             t.credentials.c.kind == "key")).rowcount
            _bump_epoch(db)
        return bool(removed)

    def revoke_credentials(self, partner_id: str) -> int:
        """Withdraw every API key and login of a partner; returns how many there were."""
        with self.engine.begin() as db:
            removed = db.execute(delete(t.credentials).where(t.credentials.c.partner_id == partner_id)).rowcount
            _bump_epoch(db)
        return int(removed or 0)

    def set_password(self, partner_id: str, username: str, password: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(t.credentials).where(t.credentials.c.lookup == key_lookup("basic:" + username)))
            db.execute(
                insert(t.credentials).values(
                    partner_id=partner_id, kind="basic", username=username,
                    lookup=key_lookup("basic:" + username), secret_hash=hash_password(password),
                )
            )
            _bump_epoch(db)

    def grant(self, partner_id: str, collection_id: str, *, read: bool = True, write: bool = False) -> None:
        with self.engine.begin() as db:
            db.execute(
                delete(t.rights).where(t.rights.c.partner_id == partner_id, t.rights.c.collection_id == collection_id)
            )
            db.execute(insert(t.rights).values(partner_id=partner_id, collection_id=collection_id, can_read=read,
                                               can_write=write))
            _bump_epoch(db)

    # --- authentication and access --------------------------------------------------------------

    def partner_by_key(self, key: str, epoch: int | None = None) -> Partner | None:
        """The partner an API key belongs to (cached per process for the current access epoch), or None.

        ``epoch``: the access epoch the request read already (see ``access_epoch``), else it is read.
        """
        lookup = key_lookup(key)
        epoch = self.access_epoch() if epoch is None else epoch
        cached = self._partners.get(("key", lookup), epoch)
        if cached is not None:
            return cached
        with self.engine.connect() as db:
            row = db.execute(
                select(t.partners.c.id, t.partners.c.name, t.partners.c.max_tlp)
                .join(t.credentials, t.credentials.c.partner_id == t.partners.c.id)
                .where(t.credentials.c.lookup == lookup, t.credentials.c.kind == "key")
            ).first()
        if row is None:
            return None
        partner = Partner(row.id, row.name, TLP[row.max_tlp])
        self._partners.put(("key", lookup), partner, epoch)
        return partner

    def cached_login(self, username: str, password: str, epoch: int | None = None) -> Partner | None:
        """The partner of a Basic login verified earlier in this process and access epoch, else None."""
        return self._partners.get(("basic", secret_digest(username, password)),
                                  self.access_epoch() if epoch is None else epoch)

    def partner_by_password(self, username: str, password: str) -> Partner | None:
        """The partner of a Basic login; the scrypt check runs once per process and access epoch."""
        digest = secret_digest(username, password)
        epoch = self.access_epoch()
        cached = self._partners.get(("basic", digest), epoch)
        if cached is not None:
            return cached
        with self.engine.connect() as db:
            row = db.execute(
                select(t.credentials.c.partner_id, t.credentials.c.secret_hash).where(
                    t.credentials.c.lookup == key_lookup("basic:" + username), t.credentials.c.kind == "basic"
                )
            ).first()
        if row is None or not verify_password(password, row.secret_hash or ""):
            return None
        partner = self.partner(row.partner_id)
        if partner is not None:
            self._partners.put(("basic", digest), partner, epoch)
        return partner

    def partner(self, partner_id: str) -> Partner | None:
        with self.engine.connect() as db:
            row = db.execute(select(t.partners).where(t.partners.c.id == partner_id)).first()
        return Partner(row.id, row.name, TLP[row.max_tlp]) if row else None

    def access(self, partner: Partner, collection_id: str, epoch: int | None = None) -> TaxiiAccess:
        """The partner's rights on a collection; ``NotFoundError`` when it may not read it or it does not exist."""
        epoch = self.access_epoch() if epoch is None else epoch
        key = (partner.id, collection_id)
        rights = self._rights.get(key, epoch)
        if rights is None:
            with self.engine.connect() as db:
                row = db.execute(
                    select(t.rights.c.can_read, t.rights.c.can_write)
                    .join(t.collections, t.collections.c.id == t.rights.c.collection_id)
                    .where(t.rights.c.partner_id == partner.id, t.rights.c.collection_id == collection_id)
                ).first()
            rights = (bool(row.can_read), bool(row.can_write)) if row is not None else (False, False)
            self._rights.put(key, rights, epoch)
        if not any(rights):
            raise NotFoundError(f"no collection {collection_id!r}")
        return TaxiiAccess(partner, *rights)

    def collections_for(self, partner: Partner) -> list[dict[str, Any]]:
        with self.engine.connect() as db:
            rows = db.execute(
                select(t.collections, t.rights.c.can_read, t.rights.c.can_write)
                .join(t.rights, t.rights.c.collection_id == t.collections.c.id)
                .where(t.rights.c.partner_id == partner.id, or_(t.rights.c.can_read, t.rights.c.can_write))
                .order_by(t.collections.c.id)
            ).all()
        return [_collection_resource(r.id, r.title, r.description, bool(r.can_read), bool(r.can_write)) for r in rows]

    def collection_for(self, partner: Partner, collection_id: str) -> dict[str, Any]:
        access = self.access(partner, collection_id)
        with self.engine.connect() as db:
            row = db.execute(select(t.collections).where(t.collections.c.id == collection_id)).one()
        return _collection_resource(row.id, row.title, row.description, access.can_read, access.can_write)

    # --- objects --------------------------------------------------------------------------------

    def add(self, collection_id: str, raw_objects: Sequence[object], partner_id: str = "local") -> dict[str, Any]:
        """Store every object of ``raw_objects`` or none; returns the TAXII status resource.

        Objects are validated first (``InputError`` names the first bad one and nothing is stored). A
        version already stored with other content is a conflict: kept as stored, and listed under the
        status's ``failures``. The rows are marked as coming from ``partner_id`` ("local" when
        published on this node), so that sync never pushes a partner's objects back or onward.
        """
        objects = checked_objects(raw_objects)
        requested = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        status_id = str(uuid.uuid4())
        with self.engine.begin() as db:
            result = self._add(db, collection_id, objects, partner_id)
            successes = [{"id": i, "version": v} for i, v in (*result.stored, *result.unchanged)]
            failures = [{"id": i, "version": v, "message": "conflict: this version is stored with other content"}
                        for i, v in result.conflicts]
            status = {
                "id": status_id, "status": "complete", "request_timestamp": requested,
                "total_count": len(objects), "success_count": len(successes), "successes": successes,
                "failure_count": len(failures), "failures": failures, "pending_count": 0, "pendings": [],
            }
            db.execute(insert(t.statuses).values(id=status_id, partner_id=partner_id, request_timestamp=requested,
                                                 body=json.dumps(status)))
        return status

    def receive(self, collection_id: str, objects: Sequence[dict[str, Any]], origin: str) -> AddResult:
        """Store objects already checked (``checked_object``) in one transaction; see ``add``."""
        with self.engine.begin() as db:
            return self._add(db, collection_id, objects, origin)

    def _add(self, db: Connection, collection_id: str, objects: Sequence[dict[str, Any]], origin: str) -> AddResult:
        # Writing first takes the write lock (SQLite) or the collection's row lock (PostgreSQL), so
        # that date_added grows with seq even when several processes add at once.
        db.execute(update(t.collections).where(t.collections.c.id == collection_id)
                   .values(title=t.collections.c.title))
        last = db.execute(
            select(t.objects.c.date_added).where(t.objects.c.collection_id == collection_id)
            .order_by(t.objects.c.date_added.desc()).limit(1)
        ).scalar()
        clock = max(_now_us(), (last or 0) + 1)
        stored: list[tuple[str, str]] = []
        unchanged: list[tuple[str, str]] = []
        conflicts: list[tuple[str, str]] = []
        for obj in objects:
            version, outcome = self._store_one(db, collection_id, obj, clock, origin)
            if outcome == "stored":
                clock += 1
            {"stored": stored, "unchanged": unchanged, "conflict": conflicts}[outcome].append((obj["id"], version))
        return AddResult(tuple(stored), tuple(unchanged), tuple(conflicts))

    def _store_one(
        self, db: Connection, collection_id: str, obj: dict[str, Any], date_added: int, origin: str
    ) -> tuple[str, str]:
        version = _version_of(obj, date_added)
        o = t.objects.c
        existing = db.execute(
            select(o.version).where(o.collection_id == collection_id, o.object_id == obj["id"])
        ).scalars().all()
        if version in existing:
            body = db.execute(select(o.body).where(o.collection_id == collection_id, o.object_id == obj["id"],
                                                   o.version == version)).scalar_one()
            return version, ("unchanged" if json.loads(body) == obj else "conflict")
        newest = not existing or all(version > v for v in existing)
        first = not existing or all(version < v for v in existing)
        if newest and existing:
            db.execute(update(t.objects).where(o.collection_id == collection_id,
                                               o.object_id == obj["id"]).values(is_latest=False))
        if first and existing:
            db.execute(update(t.objects).where(o.collection_id == collection_id,
                                               o.object_id == obj["id"]).values(is_first=False))
        db.execute(insert(t.objects).values(**_row(collection_id, obj, version, date_added, newest, first, origin)))
        return version, "stored"

    def bulk_load(self, collection_id: str, objects: Iterable[dict[str, Any]], origin: str = "local",
                  batch: int = 50_000) -> int:
        """Load many objects fast, in transactions of ``batch`` rows: for trusted data (benchmarks, a restore).

        Only the shape of each object is checked (type and id, not the full STIX validation of
        ``add``), and every (id, version) must be new to the collection (``InputError`` otherwise,
        the batch that holds it is not stored). Returns the number of objects loaded.
        """
        columns = [c.name for c in t.objects.columns if c.name != "seq"]
        marker = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        sql = f"INSERT INTO {t.objects.name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
        loaded = 0
        pending: list[dict[str, Any]] = []

        def flush() -> None:
            with self.engine.begin() as db:
                db.execute(update(t.collections).where(t.collections.c.id == collection_id)
                           .values(title=t.collections.c.title))
                last = db.execute(select(func.max(t.objects.c.date_added))
                                  .where(t.objects.c.collection_id == collection_id)).scalar()
                clock = max(_now_us(), (last or 0) + 1)
                rows = []
                for n, obj in enumerate(pending):
                    version = _version_of(obj, clock + n)
                    row = _row(collection_id, obj, version, clock + n, True, True, origin)
                    rows.append(tuple(row[c] for c in columns))
                try:
                    db.exec_driver_sql(sql, rows)
                except IntegrityError as exc:
                    raise InputError("an object version is already in the collection",
                                     source=f"objects {loaded}-{loaded + len(pending) - 1}") from exc

        for position, obj in enumerate(objects):
            pending.append(checked_shape(obj, f"object {position}", deep=False))
            if len(pending) >= batch:
                flush()
                loaded += len(pending)
                pending = []
        if pending:
            flush()
            loaded += len(pending)
        return loaded

    def outgoing(self, collection_id: str, partner: Partner, after_seq: int, limit: int,
                 origin: str = "local") -> list[OutgoingRow]:
        """The versions added from ``origin`` after row ``after_seq`` that ``partner`` may receive, in order."""
        o = t.objects.c
        query = (
            select(o.seq, o.object_id, o.version, o.body)
            .where(o.collection_id == collection_id, o.seq > after_seq, o.origin == origin,
                   self._tlp_condition(partner))
            .order_by(o.seq).limit(limit)
        )
        with self.engine.connect() as db:
            return [OutgoingRow(r.seq, r.object_id, r.version, r.body) for r in db.execute(query)]

    def latest_version(self, collection_id: str, object_id: str) -> dict[str, Any] | None:
        """The newest stored version of an object (whoever may see it), or None."""
        o = t.objects.c
        with self.engine.connect() as db:
            body = db.execute(select(o.body).where(o.collection_id == collection_id, o.object_id == object_id,
                                                   o.is_latest == true())).scalar()
        found: dict[str, Any] | None = json.loads(body) if body is not None else None
        return found

    def page(
        self, access: TaxiiAccess, collection_id: str, filters: Filters, limit: int | None, after: str | None,
        object_id: str | None = None,
    ) -> Page:
        """One page of the versions the filters select and the partner may receive, oldest added first.

        Runs as plain SQL on a reader connection (no query building per request): one keyset range on
        ``seq`` over the collection's indexes, TLP and recipients checked in the query.
        """
        size = min(limit or MAX_PAGE, MAX_PAGE)
        with self._cursor() as cursor:
            lower = self._lower_bound(cursor, collection_id, filters, after)
            if lower is _NOTHING:
                return Page()
            sql, params = _page_query(self._mark, collection_id, access.partner, filters, object_id, lower, size)
            cursor.execute(sql, params)
            rows = list(map(PageRow._make, cursor.fetchall()))
        more = len(rows) > size
        rows = rows[:size]
        return Page(rows, more, _encode_next(rows[-1].seq) if more else None)

    def page_text(self, access: TaxiiAccess, collection_id: str, filters: Filters, limit: int | None,
                  after: str | None) -> PageText:
        """``page`` as the text to send and to log: the hot path of ``GET .../objects/``.

        The same SQL and rows as ``page``, taken as the driver's plain tuples: the stored object texts
        are joined as they are and the delivery log's list is serialised in one call, with no object
        per row in between.
        """
        size = min(limit or MAX_PAGE, MAX_PAGE)
        # on SQLite the thread's driver connection itself (no pool proxy, no context manager)
        cursor = self._sqlite_reader().cursor() if self.inline_reads else None
        try:
            with contextlib.nullcontext(cursor) if cursor is not None else self._cursor() as current:
                lower = self._lower_bound(current, collection_id, filters, after)
                if lower is _NOTHING:
                    return PageText()
                sql, params = _page_query(self._mark, collection_id, access.partner, filters, None, lower, size,
                                          columns=_TEXT_COLUMNS)
                current.execute(sql, params)
                rows = current.fetchall()  # plain tuples (PageRow's order): no object per row beyond the driver's
        finally:
            if cursor is not None:
                cursor.close()
        more = len(rows) > size
        del rows[size:]
        if not rows:
            return PageText(more=more)
        served = orjson.dumps(list(map(_SERVED, rows))).decode()
        return PageText(",".join(map(_BODY, rows)), served, len(rows), rows[0][3], rows[-1][3], more,
                        _encode_next(rows[-1][0]) if more else None)

    def _lower_bound(self, cursor: Any, collection_id: str, filters: Filters, after: str | None) -> Any:
        """The ``seq`` after which a page starts (None: from the first), or ``_NOTHING`` when none can match."""
        lower = _decode_next(after) if after is not None else None
        if filters.added_after is not None:
            # date_added grows with seq in a collection: one probe of the date index turns the
            # filter into a seq bound, so the page is still a keyset range on seq.
            m = self._mark
            cursor.execute(
                f"SELECT seq FROM {t.objects.name} WHERE collection_id = {m} AND date_added > {m} "
                "ORDER BY date_added LIMIT 1", (collection_id, filters.added_after))
            first = cursor.fetchone()
            if first is None:
                return _NOTHING
            lower = max(lower if lower is not None else 0, int(first[0]) - 1)
        return lower

    def _tlp_condition(self, partner: Partner) -> Any:
        o = t.objects.c
        open_levels = [tlp.name for tlp in TLP if tlp <= partner.max_tlp and tlp not in (TLP.AMBER_STRICT, TLP.RED)]
        named = [TLP.AMBER_STRICT.name, TLP.RED.name]
        named_here = (func.instr(o.recipients, f" {partner.id} ") > 0 if self.engine.dialect.name == "sqlite"
                      else o.recipients.contains(f" {partner.id} ", autoescape=True))  # SQLite's LIKE ignores case
        return or_(o.tlp.in_(open_levels), and_(o.tlp.in_(named), named_here))

    def delete_object(self, collection_id: str, object_id: str, filters: Filters) -> int:
        """Delete the selected versions (every version unless ``match[version]`` narrows it)."""
        o = t.objects.c
        conditions: list[Any] = [o.collection_id == collection_id, o.object_id == object_id]
        if "all" not in filters.versions:
            exact = [v for v in filters.versions if v not in ("last", "first")]
            terms: list[Any] = [o.version.in_(exact)] if exact else []
            if "last" in filters.versions:
                terms.append(o.is_latest == true())
            if "first" in filters.versions:
                terms.append(o.is_first == true())
            conditions.append(or_(*terms) if terms else false())
        if filters.spec_versions:
            conditions.append(o.spec_version.in_(filters.spec_versions))
        with self.engine.begin() as db:
            deleted = db.execute(delete(t.objects).where(*conditions)).rowcount
            remaining = db.execute(select(o.seq, o.version).where(o.collection_id == collection_id,
                                                                  o.object_id == object_id)).all()
            if remaining:
                newest = max(remaining, key=lambda r: r.version)
                oldest = min(remaining, key=lambda r: r.version)
                db.execute(update(t.objects).where(o.collection_id == collection_id, o.object_id == object_id)
                           .values(is_latest=o.seq == newest.seq, is_first=o.seq == oldest.seq))
        return int(deleted or 0)

    def status(self, partner: Partner, status_id: str) -> dict[str, Any]:
        with self.engine.connect() as db:
            row = db.execute(select(t.statuses.c.body).where(t.statuses.c.id == status_id,
                                                             t.statuses.c.partner_id == partner.id)).first()
        if row is None:
            raise NotFoundError(f"no status {status_id!r}")
        body: dict[str, Any] = json.loads(row.body)
        return body

    def record_delivery(self, partner: Partner, collection_id: str, rows: Sequence[PageRow]) -> None:
        """Log what ``partner`` is about to receive; returns once the entry is committed (group commit)."""
        self.submit_delivery(partner, collection_id, rows).result()

    async def logged_delivery(self, partner: Partner, collection_id: str, rows: Sequence[PageRow]) -> None:
        """``record_delivery`` for an event loop: awaits the commit without blocking the loop."""
        if rows:
            served = [(r.object_id, r.version, r.tlp) for r in rows]
            await self._deliveries.logged(Delivery(format_timestamp(_now_us()), partner.id, collection_id, served))

    async def logged_text_delivery(self, partner: Partner, collection_id: str, page: PageText) -> None:
        """``logged_delivery`` of a ``PageText`` (its ``served`` list is stored as it is)."""
        if page.count:
            await self._deliveries.logged(Delivery(format_timestamp(_now_us()), partner.id, collection_id, page.served))

    def submit_delivery(self, partner: Partner, collection_id: str, rows: Sequence[PageRow]) -> Future[None]:
        """Queue the log entry of what ``partner`` is about to receive; the future completes once committed."""
        done: Future[None] = Future()
        if not rows:
            done.set_result(None)
            return done
        served = [(r.object_id, r.version, r.tlp) for r in rows]
        return self._deliveries.submit(Delivery(format_timestamp(_now_us()), partner.id, collection_id, served))

    def deliveries(self, partner_id: str | None = None) -> list[dict[str, Any]]:
        """The delivery log, oldest first (on SQLite: entries an earlier RRM kept in the objects' file first)."""
        query = select(t.deliveries).order_by(t.deliveries.c.id)
        if partner_id is not None:
            query = query.where(t.deliveries.c.partner_id == partner_id)
        engines = [self.engine] if self.deliveries_engine is self.engine else [self.engine, self.deliveries_engine]
        found: list[dict[str, Any]] = []
        for engine in engines:
            with engine.connect() as db:
                found.extend(
                    {"at": r.at, "partner": r.partner_id, "collection": r.collection_id,
                     "objects": json.loads(r.objects)}
                    for r in db.execute(query)
                )
        return found


def _collection_resource(cid: str, title: str, description: str | None, read: bool, write: bool) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "id": cid, "title": title, "can_read": read, "can_write": write,
        "media_types": ["application/stix+json;version=2.1"],
    }
    if description:
        resource["description"] = description
    return resource


def _row(collection_id: str, obj: dict[str, Any], version: str, date_added: int, latest: bool, first: bool,
         origin: str) -> dict[str, Any]:
    return {
        "collection_id": collection_id, "object_id": obj["id"], "type": obj["type"],
        "spec_version": str(obj.get("spec_version", "2.1")), "version": version, "date_added": date_added,
        "is_latest": latest, "is_first": first, "tlp": object_tlp(obj).name,
        "recipients": " " + " ".join(sorted(object_recipients(obj))) + " ",
        "body": json.dumps(obj, separators=(",", ":")), "origin": origin,
    }


def _tlp_sql(mark: str, partner: Partner) -> tuple[str, list[Any]]:
    """The TLP 2.0 rule of ``access`` as SQL: the open levels of the agreement, or named as a recipient."""
    open_levels = [tlp.name for tlp in TLP if tlp <= partner.max_tlp and tlp not in (TLP.AMBER_STRICT, TLP.RED)]
    named = [TLP.AMBER_STRICT.name, TLP.RED.name]
    if mark == "?":  # SQLite: instr, exact like the rule in Python; a bound LIKE pattern re-prepares the statement
        sql = (f"(tlp IN ({_marks(mark, open_levels)}) OR (tlp IN ({_marks(mark, named)}) "
               f"AND instr(recipients, {mark}) > 0))")
        return sql, [*open_levels, *named, f" {partner.id} "]
    escaped = f" {partner.id} ".replace("/", "//").replace("%", "/%").replace("_", "/_")
    sql = (f"(tlp IN ({_marks(mark, open_levels)}) OR (tlp IN ({_marks(mark, named)}) "
           f"AND recipients LIKE {mark} ESCAPE '/'))")
    return sql, [*open_levels, *named, f"%{escaped}%"]


def _marks(mark: str, values: Sequence[Any]) -> str:
    return ", ".join([mark] * len(values))


def _page_query(mark: str, collection_id: str, partner: Partner, filters: Filters, object_id: str | None,
                lower: int | None, size: int, extra: int = 1,
                columns: tuple[str, ...] = PageRow._fields) -> tuple[str, tuple[Any, ...]]:
    """The SQL and parameters of one page (``size`` + ``extra`` rows: one more tells whether there are more)."""
    bounded = lower is not None
    # Partner and Filters are frozen: a changed agreement is another key. Filters naming many values
    # (as many as a client likes) are built each time rather than kept.
    values = (*filters.ids, *filters.types, *filters.versions, *filters.spec_versions, object_id or "")
    small = len(values) <= 16 and sum(map(len, values)) <= 1024
    statement = _page_statement if small else _page_statement.__wrapped__
    sql, params = statement(mark, collection_id, partner, filters, object_id, bounded, columns)
    return sql, (*params, lower, size + extra) if bounded else (*params, size + extra)


@lru_cache(maxsize=1024)
def _page_statement(mark: str, collection_id: str, partner: Partner, filters: Filters, object_id: str | None,
                    bounded: bool, columns: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    """``_page_query`` but for the ``seq`` bound and the row limit, built once per partner, collection and filters."""
    tlp_sql, params = _tlp_sql(mark, partner)
    where = [f"collection_id = {mark}", tlp_sql]
    params.insert(0, collection_id)
    if object_id is not None:
        where.append(f"object_id = {mark}")
        params.append(object_id)
    for column, values in (("object_id", filters.ids), ("type", filters.types),
                           ("spec_version", filters.spec_versions)):
        if values:
            where.append(f"{column} IN ({_marks(mark, values)})")
            params.extend(values)
    if filters.added_after is not None:
        where.append(f"date_added > {mark}")
        params.append(filters.added_after)
    if "all" not in filters.versions:
        terms = []
        if "last" in filters.versions:
            terms.append(f"is_latest = {mark}")
            params.append(True)
        if "first" in filters.versions:
            terms.append(f"is_first = {mark}")
            params.append(True)
        exact = [v for v in filters.versions if v not in ("last", "first")]
        if exact:
            terms.append(f"version IN ({_marks(mark, exact)})")
            params.extend(exact)
        where.append("(" + " OR ".join(terms) + ")" if terms else "1 = 0")
    if bounded:
        where.append(f"seq > {mark}")
    sql = (f"SELECT {', '.join(columns)} FROM {t.objects.name} WHERE {' AND '.join(where)} "
           f"ORDER BY seq LIMIT {mark}")
    return sql, tuple(params)


def _bump_epoch(db: Connection) -> None:
    db.execute(update(t.meta).where(t.meta.c.name == _EPOCH).values(value=t.meta.c.value + 1))


def _encode_next(seq: int) -> str:
    return f"s{seq}"


def _decode_next(token: str) -> int:
    if not token.startswith("s") or not token[1:].isdigit():
        raise ValueError(f"not a next token of this server: {token[:40]!r}")
    return int(token[1:])


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_reader_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA query_only=1")  # these connections serve partners: they can never write
    cursor.close()
