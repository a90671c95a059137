"""The corpus: append-only Parquet files of posts and account observations, and a DuckDB catalog.

Layout under ``<workspace>/corpus``::

    catalog.duckdb          batches (provenance), quarantine, post_hashes (the posts' keys, hashed)
    posts/<batch>.parquet   normalised posts, one file per committed batch
    accounts/<batch>.parquet  account observations of that batch
    staging/<batch>/        work in progress; never read
    staging/<batch>.lock    held (``flock``) by the process working in ``staging/<batch>/``

A batch (one input) is stored whole or not at all: its chunks are appended to one staged Parquet
file; when a post repeats within the batch or is already in ``post_hashes``, the batch is merged and
deduplicated into a final file, otherwise the staged file is the final one (renamed, not rewritten);
then everything is committed in one catalog transaction, and only then are the files moved into place. Opening the store finishes the move for a
committed batch and discards a staged batch that never committed, so a process killed at any point
leaves a consistent corpus. A staging folder whose lock is held belongs to a live process (another
``rrm ingest``) and is left alone; the operating system releases the lock of a killed process.
Spark and any Parquet reader can read ``posts/`` directly.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from rrm._duckdb import arrow_reader, connect, sql_path
from rrm.corpus.formats.base import Rejection
from rrm.corpus.normalise import NormalisedBatch
from rrm.corpus.schema import ACCOUNT_SCHEMA, LIST_FIELDS, POST_SCHEMA
from rrm.errors import NotFoundError, WorkspaceError
from rrm.workspace import Workspace

__all__ = ["CATALOG_WAIT_SECONDS", "BatchRecord", "BatchWriter", "CorpusStore", "QuarantinedRecord"]

MEMORY_LIMIT = "600MB"
_STAGED_POSTS = "posts-000000.parquet"
_STAGED_ACCOUNTS = "accounts-000000.parquet"
_COMPRESSION = "zstd"
_ROW_GROUP_ROWS = 122_880
_POST_DICTIONARY = ["platform", "account_id", "handle", "lang", "kind", "batch_id", "hashtags", "domains"]
_ACCOUNT_DICTIONARY = ["platform", "location", "batch_id"]
"""Columns worth a Parquet dictionary (few distinct values); building one for texts and ids costs more than it saves."""
_POST_STATISTICS = [name for name in POST_SCHEMA.names if name not in {"text", "display_name", *LIST_FIELDS}]
"""Columns whose row groups carry min/max statistics, for the readers' filters. Those of free text and lists
serve no query, and the texts' cost a tenth of the time of writing a batch."""
_ACCOUNT_FIELDS = {
    "handle": ("arg_max(handle, observed_at)", "VARCHAR"),
    "display_name": ("arg_max(display_name, observed_at)", "VARCHAR"),
    "account_created_at": ("min(account_created_at)", "TIMESTAMPTZ"),
    "followers": ("arg_max(followers, observed_at)", "BIGINT"),
    "following": ("arg_max(following, observed_at)", "BIGINT"),
    "profile_text": ("arg_max(profile_text, observed_at)", "VARCHAR"),
    "location": ("arg_max(location, observed_at)", "VARCHAR"),
}
"""How the commit keeps each field of an account's observations (the latest value: ``arg_max`` by time, which
skips NULLs; the earliest creation date), and its SQL type."""
_STAGED_ACCOUNTS_COMPRESSION = "none"
"""The staged account observations (one per post) are read once, by the commit's aggregation, then deleted:
written uncompressed and without statistics, they cost a third of the CPU to write and less to read back, for
about 110 bytes of temporary disk per post (the final accounts file is compressed)."""
CATALOG_WAIT_SECONDS = 30.0
"""How long to wait for the catalog while another process (an ingest committing) holds it."""
_QUARANTINE_SCHEMA = pa.schema(
    [("source", pa.string()), ("line", pa.int64()), ("field", pa.string()), ("reason", pa.string()), ("excerpt", pa.string())]
)
_CATALOG = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, format VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ NOT NULL,
    records_read BIGINT NOT NULL, stored BIGINT NOT NULL, duplicates BIGINT NOT NULL, rejected BIGINT NOT NULL,
    input_bytes BIGINT, settings VARCHAR);
CREATE TABLE IF NOT EXISTS quarantine (
    batch_id VARCHAR NOT NULL, source VARCHAR NOT NULL, line BIGINT, field VARCHAR, reason VARCHAR NOT NULL,
    excerpt VARCHAR);
CREATE TABLE IF NOT EXISTS post_hashes (h UBIGINT NOT NULL, batch_id VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS catalog_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
"""
_KEY_HASH = "hash(platform, post_id)"
"""The 64-bit key of a post in ``post_hashes``: DuckDB's ``hash``, checked against ``_HASH_PROBE`` at every
opening, since a DuckDB release may change it (the table is then computed again from the posts files)."""
_HASH_PROBE = "SELECT hash('rrm post key probe', '1')::VARCHAR"
_BATCH_COLUMNS = (
    "batch_id, source, sha256, format, started_at, finished_at, records_read, stored, duplicates, rejected, "
    "input_bytes, settings"
)
_ADDED_BATCH_COLUMNS = {"input_bytes": "BIGINT", "settings": "VARCHAR"}
"""Columns of ``batches`` that catalogs written before 2026-11-29 (session 7) lack: added at opening, NULL for old batches."""


@dataclass(frozen=True)
class BatchRecord:
    """The provenance of one ingested input."""

    batch_id: str
    source: str
    sha256: str
    format: str
    started_at: datetime
    finished_at: datetime
    records_read: int
    stored: int
    duplicates: int
    rejected: int
    input_bytes: int | None = None
    """The size of what ``sha256`` digests (the file as stored; a zip member's content); None for older batches."""
    settings: str | None = None
    """What shaped the posts besides the bytes and the format (``--platform``, ``--map``), as canonical JSON;
    None for older batches."""


@dataclass(frozen=True)
class QuarantinedRecord:
    batch_id: str
    source: str
    line: int | None
    field: str | None
    reason: str
    excerpt: str | None


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join(sql_path(p) for p in paths) + "]"


class _FolderLock:
    """An exclusive ``flock`` on ``<folder>.lock``, taken before the folder exists and held while it is used.

    The operating system drops the lock when its process dies, however it dies, so a folder whose lock
    can be taken is abandoned work, and a folder whose lock cannot be taken belongs to a live process.
    """

    def __init__(self, folder: Path, *, wait: bool) -> None:
        self.path = folder.with_name(folder.name + ".lock")
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self, *, remove: bool = True) -> None:
        if self._fd is None:
            return
        if remove:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


class CorpusStore:
    """The corpus of one workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace.ensure()
        self.root = workspace.corpus_dir
        self.posts_dir = self.root / "posts"
        self.accounts_dir = self.root / "accounts"
        self.staging_dir = self.root / "staging"
        for folder in (self.posts_dir, self.accounts_dir, self.staging_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._catalog_path = self.root / "catalog.duckdb"
        with self._catalog() as db:
            db.execute(_CATALOG)
            committed = {row[0] for row in db.execute("SELECT batch_id FROM batches").fetchall()}
            stale_hashes = self._migrate(db)
        self._recover(committed)
        if stale_hashes:
            self._rehash()

    @staticmethod
    def _migrate(db: duckdb.DuckDBPyConnection) -> bool:
        """Bring a catalog written by an earlier version up to date; whether ``post_hashes`` must be
        computed again from the posts files (DuckDB's hash has changed since they were stored)."""
        probe = str(db.execute(_HASH_PROBE).fetchall()[0][0])
        stored = db.execute("SELECT value FROM catalog_meta WHERE key = 'post_hash_probe'").fetchall()
        tables = {row[0] for row in db.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
        columns = {row[0] for row in db.execute("SELECT name FROM pragma_table_info('batches')").fetchall()}
        missing = [name for name in _ADDED_BATCH_COLUMNS if name not in columns]
        if stored == [(probe,)] and "post_keys" not in tables and not missing:
            return False  # up to date: opening writes nothing
        db.execute("BEGIN TRANSACTION")
        for name in missing:
            db.execute(f"ALTER TABLE batches ADD COLUMN {name} {_ADDED_BATCH_COLUMNS[name]}")
        if "post_keys" in tables:  # until 2026-11-29: the keys themselves, as strings
            db.execute(f"INSERT INTO post_hashes SELECT {_KEY_HASH}, batch_id FROM post_keys")
            db.execute("DROP TABLE post_keys")
            stored = [(probe,)]
        stale = bool(stored) and stored[0][0] != probe
        if not stale:  # a stale table keeps its old probe until it is computed again (``_rehash``)
            db.execute("INSERT OR REPLACE INTO catalog_meta VALUES ('post_hash_probe', ?)", [probe])
        db.execute("COMMIT")
        return stale

    def _rehash(self) -> None:
        """``post_hashes`` computed again from the posts files (after a change of DuckDB's hash)."""
        files = self.post_files()
        with self._catalog() as db:
            db.execute("BEGIN TRANSACTION")
            db.execute("DELETE FROM post_hashes")
            if files:
                db.execute(f"INSERT INTO post_hashes SELECT {_KEY_HASH}, batch_id FROM read_parquet({_sql_list(files)})")
            db.execute("INSERT OR REPLACE INTO catalog_meta SELECT 'post_hash_probe', * FROM (" + _HASH_PROBE + ")")
            db.execute("COMMIT")

    @contextmanager
    def _catalog(self) -> Iterator[duckdb.DuckDBPyConnection]:
        deadline = time.monotonic() + CATALOG_WAIT_SECONDS
        pause = 0.05
        while True:
            try:
                db = connect(str(self._catalog_path))
                break
            except duckdb.IOException as exc:
                # DuckDB lets one process at a time open the file; an ingest holds it while it commits.
                if "lock" not in str(exc).lower() or time.monotonic() + pause > deadline:
                    raise WorkspaceError(
                        f"the corpus {self.root} is in use by another process or unreadable: {exc}"
                    ) from exc
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
        try:
            db.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            db.execute("SET TimeZone = 'UTC'")
            db.execute(f"SET temp_directory = {sql_path(self.staging_dir / 'duckdb-tmp')}")
            yield db
        finally:
            db.close()

    def _recover(self, committed: set[str]) -> None:
        """Finish committed batches and discard abandoned work; leave work of live processes alone."""
        for staged in sorted(self.staging_dir.iterdir()):
            if staged.name == "duckdb-tmp":
                continue
            if not staged.is_dir():
                if staged.suffix == ".lock" and not staged.with_suffix("").exists():
                    lock = _FolderLock(staged.with_suffix(""), wait=False)
                    lock.release(remove=lock.held)
                continue
            lock = _FolderLock(staged, wait=False)
            if not lock.held:
                continue
            try:
                if staged.name in committed:
                    self._publish(staged.name)
                else:
                    shutil.rmtree(staged, ignore_errors=True)
            finally:
                lock.release()

    def _publish(self, batch_id: str) -> None:
        staged = self.staging_dir / batch_id
        for name, target in (("final-posts.parquet", self.posts_dir), ("final-accounts.parquet", self.accounts_dir)):
            if (staged / name).exists():
                (staged / name).replace(target / f"{batch_id}.parquet")
        shutil.rmtree(staged, ignore_errors=True)

    @contextmanager
    def batch(
        self, source: str, sha256: str, format_name: str, started_at: datetime | None = None, *,
        input_bytes: int | None = None, settings: str | None = None,
    ) -> Iterator[BatchWriter]:
        """Stage one input; it is committed when the block ends without an error, discarded otherwise."""
        writer = BatchWriter(self, source, sha256, format_name, started_at, input_bytes=input_bytes, settings=settings)
        try:
            yield writer
            writer.commit()
        finally:
            writer.discard()

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A private folder under ``staging/`` (for downloads), removed afterwards or when found abandoned."""
        folder = self.staging_dir / f"scratch-{uuid.uuid4().hex}"
        lock = _FolderLock(folder, wait=True)
        folder.mkdir()
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            lock.release()

    # --- reading -------------------------------------------------------------------------------

    def post_files(self) -> list[Path]:
        return sorted(self.posts_dir.glob("*.parquet"))

    def account_files(self) -> list[Path]:
        return sorted(self.accounts_dir.glob("*.parquet"))

    def committed_posts(self, batch_id: str) -> Path:
        """The posts file of a committed batch: in ``posts/``, or still staged if its process stopped before
        moving it (opening the store moves it)."""
        for path in (self.posts_dir / f"{batch_id}.parquet", self.staging_dir / batch_id / "final-posts.parquet"):
            if path.exists():
                return path
        raise WorkspaceError(f"the corpus {self.root} has lost the posts of batch {batch_id}: run `rrm corpus batches`")

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with the views ``posts`` and ``accounts`` (latest observation)."""
        db = connect()
        db.execute("SET TimeZone = 'UTC'")
        posts, accounts = self.post_files(), self.account_files()
        if posts:
            db.execute(f"CREATE VIEW posts AS SELECT * FROM read_parquet({_sql_list(posts)})")
        else:
            db.register("_empty_posts", POST_SCHEMA.empty_table())
            db.execute("CREATE VIEW posts AS SELECT * FROM _empty_posts")
        if accounts:
            db.execute(
                f"""CREATE VIEW accounts AS SELECT * FROM read_parquet({_sql_list(accounts)})
                    QUALIFY row_number() OVER (PARTITION BY platform, account_id ORDER BY observed_at DESC) = 1"""
            )
        else:
            db.register("_empty_accounts", ACCOUNT_SCHEMA.empty_table())
            db.execute("CREATE VIEW accounts AS SELECT * FROM _empty_accounts")
        return db

    def batches(self) -> list[BatchRecord]:
        with self._catalog() as db:
            rows = db.execute(f"SELECT {_BATCH_COLUMNS} FROM batches ORDER BY finished_at, batch_id").fetchall()
        return [BatchRecord(*row) for row in rows]

    def get_batch(self, batch_id: str) -> BatchRecord:
        for record in self.batches():
            if record.batch_id == batch_id:
                return record
        raise NotFoundError(f"no batch {batch_id!r} in the corpus")

    def quarantine(self, batch_id: str | None = None, limit: int | None = None) -> list[QuarantinedRecord]:
        query = "SELECT batch_id, source, line, field, reason, excerpt FROM quarantine"
        params: list[object] = []
        if batch_id is not None:
            query += " WHERE batch_id = ?"
            params.append(batch_id)
        query += " ORDER BY source, line"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        with self._catalog() as db:
            return [QuarantinedRecord(*row) for row in db.execute(query, params).fetchall()]

    def version(self) -> str:
        """Identifies the corpus content: it changes with every committed batch."""
        digest = hashlib.sha256()
        for record in self.batches():
            digest.update(f"{record.batch_id}:{record.sha256}:{record.stored}\n".encode())
        return digest.hexdigest()[:16]


class BatchWriter:
    """Collects the normalised chunks of one input and commits them as one batch."""

    def __init__(
        self, store: CorpusStore, source: str, sha256: str, format_name: str, started_at: datetime | None = None, *,
        input_bytes: int | None = None, settings: str | None = None,
    ) -> None:
        self.store = store
        self.input_bytes = input_bytes
        self.settings = settings
        self.batch_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        self.source = source
        self.sha256 = sha256
        self.format_name = format_name
        self.started_at = started_at or datetime.now(UTC)
        self.folder = store.staging_dir / self.batch_id
        self._lock = _FolderLock(self.folder, wait=True)
        self.folder.mkdir(parents=True)
        self.records_read = 0
        self.valid = 0
        self.rejected = 0
        self._posts_out: pq.ParquetWriter | None = None
        self._accounts_out: pq.ParquetWriter | None = None
        self._rejections: list[Rejection] = []
        self._observed: set[str] = set()  # account fields with a value in some observation of the batch
        self._committed = False
        self.record: BatchRecord | None = None

    def add(self, chunk: NormalisedBatch) -> None:
        self.valid += chunk.posts.num_rows
        self.rejected += len(chunk.rejections)
        self.records_read += chunk.posts.num_rows + len(chunk.rejections)
        if chunk.posts.num_rows:
            if self._posts_out is None or self._accounts_out is None:
                self._posts_out = pq.ParquetWriter(
                    self.folder / _STAGED_POSTS, POST_SCHEMA, compression=_COMPRESSION, use_dictionary=_POST_DICTIONARY,
                    write_statistics=_POST_STATISTICS,
                )
                self._accounts_out = pq.ParquetWriter(
                    self.folder / _STAGED_ACCOUNTS, ACCOUNT_SCHEMA, compression=_STAGED_ACCOUNTS_COMPRESSION,
                    use_dictionary=_ACCOUNT_DICTIONARY, write_statistics=False,
                )
            self._posts_out.write_table(chunk.posts, row_group_size=_ROW_GROUP_ROWS)
            self._accounts_out.write_table(chunk.accounts, row_group_size=_ROW_GROUP_ROWS)
            self._observed.update(
                name for name in _ACCOUNT_FIELDS if chunk.accounts.column(name).null_count < chunk.accounts.num_rows
            )
        self._rejections.extend(chunk.rejections)
        if len(self._rejections) >= 50_000:
            self._flush_rejections()

    def _close_staged(self) -> None:
        for out in (self._posts_out, self._accounts_out):
            if out is not None:
                out.close()
        self._posts_out = self._accounts_out = None

    def _flush_rejections(self) -> None:
        if not self._rejections:
            return
        table = pa.table(
            {
                "source": [r.source for r in self._rejections],
                "line": [r.line for r in self._rejections],
                "field": [r.field for r in self._rejections],
                "reason": [r.reason for r in self._rejections],
                "excerpt": [r.excerpt for r in self._rejections],
            },
            schema=_QUARANTINE_SCHEMA,
        )
        count = len(list(self.folder.glob("rejected-*.parquet")))
        pq.write_table(table, self.folder / f"rejected-{count:06d}.parquet")
        self._rejections = []

    def commit(self) -> BatchRecord:
        self._flush_rejections()
        self._close_staged()
        # Arrow's allocator keeps the memory the read/normalise/write stages freed; the commit's DuckDB
        # queries come on top of it. Given back first, the peak of 5 million posts went from 919 to 753 MB.
        pa.default_memory_pool().release_unused()
        staged_posts = sorted(self.folder.glob("posts-*.parquet"))
        staged_accounts = sorted(self.folder.glob("accounts-*.parquet"))
        rejected = sorted(self.folder.glob("rejected-*.parquet"))
        final_posts = self.folder / "final-posts.parquet"
        final_accounts = self.folder / "final-accounts.parquet"
        stored = 0
        with self.store._catalog() as db:
            if staged_posts:
                stored = self._write_final_posts(db, staged_posts, final_posts)
                # (run beside the posts' queries in a thread of its own, it made the ingest of 1 million posts
                # 0.2 to 0.5 s slower: each DuckDB query already uses both cores)
                self._write_final_accounts(db, staged_accounts, final_accounts, self._observed)
            finished = datetime.now(UTC)
            db.execute("BEGIN TRANSACTION")
            if stored:
                db.execute("INSERT INTO post_hashes SELECT h, ? FROM batch_keys", [self.batch_id])
            if rejected:
                db.execute(
                    f"""INSERT INTO quarantine SELECT ?, source, line, field, reason, excerpt
                        FROM read_parquet({_sql_list(rejected)})""",
                    [self.batch_id],
                )
            values = (
                self.batch_id, self.source, self.sha256, self.format_name, self.started_at, finished,
                self.records_read, stored, self.valid - stored, self.rejected, self.input_bytes, self.settings,
            )
            db.execute(f"INSERT INTO batches ({_BATCH_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
            db.execute("COMMIT")
            self._committed = True
            if not stored:
                final_posts.unlink(missing_ok=True)
                final_accounts.unlink(missing_ok=True)
            # moved into place while the catalog is held, so that the next ingest to hold it finds the posts of
            # every committed batch in ``posts/`` (its merge reads those whose keys it shares)
            self.store._publish(self.batch_id)
        self._lock.release()
        self.record = BatchRecord(*values)
        return self.record

    @staticmethod
    def _write_final_accounts(
        db: duckdb.DuckDBPyConnection, staged: list[Path], target: Path, observed: set[str]
    ) -> None:
        """The latest observation of each account in the batch (each field's latest non-empty value).

        A field no observation has (share tables give accounts without profiles) is written as NULL without
        aggregating it: for ``german_elections.csv``, half the time of this step.
        """
        fields = ", ".join(
            f"{kept if name in observed else f'CAST(NULL AS {sql_type})'} AS {name}"
            for name, (kept, sql_type) in _ACCOUNT_FIELDS.items()
        )
        db.execute(
            f"""COPY (SELECT platform, account_id, {fields},
                             max(observed_at) AS observed_at, any_value(batch_id) AS batch_id
                      FROM read_parquet({_sql_list(staged)}) GROUP BY platform, account_id)
                TO {sql_path(target)} (FORMAT parquet, COMPRESSION zstd)"""
        )

    def _write_final_posts(self, db: duckdb.DuckDBPyConnection, staged: list[Path], target: Path) -> int:
        """Merge records of the same post within the batch, drop posts the corpus already has, write.

        The 64-bit hashes of the posts' keys are left in the temporary table ``batch_keys``, for
        ``post_hashes``. When no post repeats within the batch and no hash is already in the corpus, the
        staged file is already the final one and is renamed, not rewritten. Otherwise the batch is merged
        and compared with the posts of the batches whose hashes it shares, key for key: a collision of
        hashes only costs the merge, never a post.
        """
        db.execute(f"CREATE TEMP VIEW staged AS SELECT * FROM read_parquet({_sql_list(staged)})")
        db.execute(f"CREATE OR REPLACE TEMP TABLE batch_keys AS SELECT {_KEY_HASH} AS h FROM staged")
        clash = db.execute(
            """SELECT EXISTS (SELECT 1 FROM batch_keys GROUP BY h HAVING count(*) > 1)
                   OR EXISTS (SELECT 1 FROM post_hashes WHERE h IN (SELECT h FROM batch_keys))"""
        ).fetchone()
        if len(staged) == 1 and clash is not None and not clash[0]:
            db.execute("DROP VIEW staged")
            staged[0].replace(target)
            return int(pq.ParquetFile(target).metadata.num_rows)
        sharing = [row[0] for row in db.execute(
            "SELECT DISTINCT batch_id FROM post_hashes WHERE h IN (SELECT h FROM batch_keys) ORDER BY 1"
        ).fetchall()]
        known = (
            f"SELECT platform, post_id FROM read_parquet({_sql_list([self.store.committed_posts(b) for b in sharing])})"
            if sharing else "SELECT platform, post_id FROM staged WHERE false"
        )
        db.execute(
            """CREATE TEMP TABLE repeated AS SELECT platform, post_id FROM staged
               GROUP BY platform, post_id HAVING count(*) > 1"""
        )
        merged = """
            SELECT platform, post_id, arg_min(account_id, source_line) AS account_id,
                   arg_min(handle, source_line) AS handle, arg_min(display_name, source_line) AS display_name,
                   min(created_at) AS created_at, arg_min(kind, source_line) AS kind,
                   arg_min(text, source_line) AS text, arg_min(lang, source_line) AS lang,
                   arg_min(reshare_of_post, source_line) AS reshare_of_post,
                   arg_min(reshare_of_account, source_line) AS reshare_of_account,
                   arg_min(reply_to_post, source_line) AS reply_to_post,
                   arg_min(reply_to_account, source_line) AS reply_to_account,
                   arg_min(quote_of_post, source_line) AS quote_of_post,
                   list_distinct(flatten(list(list_zip(urls, urls_canonical)))) AS url_pairs,
                   list_distinct(flatten(list(shortened_urls))) AS shortened_urls,
                   list_distinct(flatten(list(domains))) AS domains,
                   list_distinct(flatten(list(hashtags))) AS hashtags,
                   list_distinct(flatten(list(mentions))) AS mentions,
                   list_distinct(flatten(list(media_hashes))) AS media_hashes,
                   any_value(batch_id) AS batch_id, min(source_line) AS source_line
            FROM staged SEMI JOIN repeated USING (platform, post_id)
            GROUP BY platform, post_id
        """
        columns = ", ".join(
            {
                "urls": "list_transform(url_pairs, lambda x: x[1]) AS urls",
                "urls_canonical": "list_transform(url_pairs, lambda x: x[2]) AS urls_canonical",
            }.get(name, name)
            for name in POST_SCHEMA.names
        )
        names = ", ".join(POST_SCHEMA.names)
        query = f"""
            WITH unique_posts AS (
                SELECT {names} FROM staged ANTI JOIN repeated USING (platform, post_id)
                UNION ALL SELECT {columns} FROM ({merged})
            )
            SELECT * FROM unique_posts ANTI JOIN ({known}) USING (platform, post_id)"""
        # Arrow's Parquet writer, as for the staged file: it costs about half the CPU of DuckDB's COPY
        stored = 0
        with pq.ParquetWriter(
            target, POST_SCHEMA, compression=_COMPRESSION, use_dictionary=_POST_DICTIONARY, write_statistics=_POST_STATISTICS
        ) as out:
            for chunk in arrow_reader(db, query, _ROW_GROUP_ROWS):
                out.write_batch(chunk.cast(POST_SCHEMA), row_group_size=_ROW_GROUP_ROWS)
                stored += chunk.num_rows
        db.execute(f"CREATE OR REPLACE TEMP TABLE batch_keys AS SELECT {_KEY_HASH} AS h FROM read_parquet({sql_path(target)})")
        return stored

    def discard(self) -> None:
        self._close_staged()
        if not self._committed:
            shutil.rmtree(self.folder, ignore_errors=True)
        self._lock.release()
