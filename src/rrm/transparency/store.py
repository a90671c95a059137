"""The money store of a workspace: ads, donations, FEC committees, entity links, provenance, quarantine.

Layout: ``<workspace>/money/money.duckdb``, one DuckDB database (tables ``ads``, ``donations``,
``committees``, ``links``, ``link_decisions``, ``batches``, ``quarantine``). Columns added since a store
was made are added when it is opened. Ingest is idempotent twice over: a file whose
SHA-256 is already in ``batches`` is skipped, and a record whose id is already stored is counted as a
duplicate, not stored again. Every stored row carries its ``batch_id``, file and line.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from rrm._duckdb import connect
from rrm.errors import InputError, WorkspaceError
from rrm.transparency.formats import ReadOptions, detect
from rrm.transparency.formats.base import ParseResult
from rrm.transparency.schema import AD_SCHEMA, DONATION_SCHEMA, ads_table, donations_table
from rrm.workspace import Workspace

__all__ = ["IngestResult", "MoneyStore", "QuarantinedRow"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, format VARCHAR NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL, records_read BIGINT NOT NULL, stored BIGINT NOT NULL,
    duplicates BIGINT NOT NULL, rejected BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine (
    batch_id VARCHAR NOT NULL, source VARCHAR NOT NULL, line BIGINT, field VARCHAR, reason VARCHAR NOT NULL,
    excerpt VARCHAR);
CREATE TABLE IF NOT EXISTS committees (
    cmte_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, party VARCHAR, treasurer VARCHAR, city VARCHAR,
    state VARCHAR, designation VARCHAR, committee_type VARCHAR, candidate_id VARCHAR, batch_id VARCHAR);
CREATE TABLE IF NOT EXISTS links (
    entity_l VARCHAR NOT NULL, entity_r VARCHAR NOT NULL, name_l VARCHAR, name_r VARCHAR,
    probability DOUBLE NOT NULL, match_weight DOUBLE, method VARCHAR NOT NULL, status VARCHAR NOT NULL,
    evidence VARCHAR NOT NULL, decided_at TIMESTAMPTZ);
ALTER TABLE links ADD COLUMN IF NOT EXISTS link_id VARCHAR;
ALTER TABLE links ADD COLUMN IF NOT EXISTS decided_by VARCHAR;
ALTER TABLE links ADD COLUMN IF NOT EXISTS detail_l VARCHAR;
ALTER TABLE links ADD COLUMN IF NOT EXISTS detail_r VARCHAR;
ALTER TABLE links ADD COLUMN IF NOT EXISTS records BIGINT;
ALTER TABLE links ADD COLUMN IF NOT EXISTS flag_rules VARCHAR;
CREATE TABLE IF NOT EXISTS link_decisions (
    link_id VARCHAR NOT NULL, entity_l VARCHAR NOT NULL, entity_r VARCHAR NOT NULL, name_l VARCHAR, name_r VARCHAR,
    decision VARCHAR NOT NULL, decided_by VARCHAR NOT NULL, decided_at TIMESTAMPTZ NOT NULL, note VARCHAR);
"""
_EXTENSIONS = {".csv", ".json", ".jsonl", ".txt", ".ndjson"}


@dataclass(frozen=True)
class IngestResult:
    """What happened to one input file."""

    source: str
    format: str
    batch_id: str | None
    records_read: int
    stored: int
    duplicates: int
    rejected: int
    skipped: str | None = None
    """Why the file was not read (already ingested, not a money format inside a folder)."""


@dataclass(frozen=True)
class QuarantinedRow:
    batch_id: str
    source: str
    line: int | None
    field: str | None
    reason: str
    excerpt: str | None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def expand(paths: list[Path]) -> list[tuple[Path, bool]]:
    """Files to ingest; folders are walked (``True`` marks a file found in a folder)."""
    found: list[tuple[Path, bool]] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in _EXTENSIONS and not child.name.upper().startswith("README"):
                    found.append((child, True))
        elif path.exists():
            found.append((path, False))
        else:
            raise InputError("no such file or folder", source=str(path))
    return found


class MoneyStore:
    """Political ads and donations of one workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace.ensure()
        self.root = workspace.root / "money"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"cannot create {self.root}: {exc.strerror}") from exc
        self.path = self.root / "money.duckdb"
        with self.connect() as db:
            db.execute(_SCHEMA)
            for name, schema in (("ads", AD_SCHEMA), ("donations", DONATION_SCHEMA)):
                empty = schema.empty_table()  # noqa: F841 - read by DuckDB's replacement scan
                db.execute(f"CREATE TABLE IF NOT EXISTS {name} AS SELECT *, ''::VARCHAR AS batch_id FROM empty LIMIT 0")
            db.execute("ALTER TABLE donations ADD COLUMN IF NOT EXISTS election VARCHAR")  # stores made before it

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            db = connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise WorkspaceError(f"the money store {self.path} is in use by another process or unreadable: {exc}") from exc
        try:
            db.execute("SET TimeZone = 'UTC'")
            db.execute("SET memory_limit = '600MB'")
            db.execute("SET enable_progress_bar = false")
            yield db
        finally:
            db.close()

    # --- ingest ------------------------------------------------------------------------------

    def ingest(self, paths: list[Path], format_name: str | None = None,
               options: ReadOptions | None = None) -> list[IngestResult]:
        """Ingest files and folders; one batch per file. Bad records are quarantined, never dropped."""
        results = [self.ingest_one(path, in_folder, format_name, options) for path, in_folder in expand(paths)]
        self.dedupe_earmarks()
        return results

    def ingest_one(self, path: Path, in_folder: bool, format_name: str | None = None,
                   options: ReadOptions | None = None) -> IngestResult:
        """One file of ``expand``: a file found in a folder that no format reads is skipped, not an error.

        Call ``dedupe_earmarks`` once the files are in (``ingest`` does).
        """
        try:
            return self.ingest_file(path, format_name, options or ReadOptions())
        except InputError as error:
            if not in_folder:
                raise
            return IngestResult(str(path), "-", None, 0, 0, 0, 0, skipped=error.message)

    def ingest_file(self, path: Path, format_name: str | None, options: ReadOptions) -> IngestResult:
        fmt = detect(path, format_name)
        sha = _sha256(path)
        with self.connect() as db:
            known = db.execute("SELECT batch_id FROM batches WHERE sha256 = ? AND format = ?", [sha, fmt.name]).fetchall()
        if known:
            return IngestResult(str(path), fmt.name, str(known[0][0]), 0, 0, 0, 0, skipped="already ingested")
        parsed = fmt.read(path, options)
        return self._store(path, sha, fmt.name, parsed)

    def _store(self, path: Path, sha: str, format_name: str, parsed: ParseResult) -> IngestResult:
        batch_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        stored = 0
        with self.connect() as db:
            db.execute("BEGIN TRANSACTION")
            if parsed.ads:
                stored += self._insert(db, "ads", ads_table(parsed.ads), "ad_id, platform", batch_id)
            if parsed.donations:
                stored += self._insert(db, "donations", donations_table(parsed.donations), "donation_id", batch_id)
            if parsed.committees:
                table = pa.Table.from_pylist([c.__dict__ if hasattr(c, "__dict__") else _fields(c) for c in parsed.committees])
                stored += self._insert(db, "committees", table, "cmte_id", batch_id)
            if parsed.rejections:
                rows = pa.Table.from_pylist([
                    {"batch_id": batch_id, "source": r.source, "line": r.line, "field": r.field, "reason": r.reason,
                     "excerpt": r.excerpt} for r in parsed.rejections
                ])
                db.register("rejected_rows", rows)
                db.execute("INSERT INTO quarantine SELECT batch_id, source, line, field, reason, excerpt FROM rejected_rows").fetchall()
                db.unregister("rejected_rows")
            read = parsed.records + len(parsed.rejections)
            db.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [batch_id, str(path), sha, format_name, datetime.now(UTC), read, stored, parsed.records - stored,
                 len(parsed.rejections)],
            ).fetchall()
            db.execute("COMMIT")
        return IngestResult(str(path), format_name, batch_id, read, stored, parsed.records - stored, len(parsed.rejections))

    @staticmethod
    def _insert(db: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, key: str, batch_id: str) -> int:
        db.register("incoming", rows)
        columns = ", ".join(f'"{name}"' for name in rows.column_names)
        before = _count(db, table)
        # the first record of an id within the file wins; ids already stored are duplicates
        db.execute(
            f"""INSERT INTO {table} ({columns}, batch_id)
                SELECT {columns}, ? FROM (SELECT * FROM incoming QUALIFY row_number() OVER (PARTITION BY {key}) = 1)
                ANTI JOIN {table} USING ({key})""",
            [batch_id],
        ).fetchall()
        db.unregister("incoming")
        return _count(db, table) - before

    def dedupe_earmarks(self) -> None:
        """Mark an FEC pass-through (24T/24I) not counted when the recipient's own 15E of it is stored."""
        with self.connect() as db:
            db.execute(
                """UPDATE donations AS t SET counted = false,
                       count_rule = 'earmark pass-through (' || t.donation_type || ') via conduit ' || t.conduit_id
                                    || ': not counted, the recipient reports it as ' || e.donation_id
                   FROM donations AS e
                   WHERE t.register = 'FEC' AND t.donation_type IN ('24T', '24I') AND t.counted
                     AND e.register = 'FEC' AND e.donation_type = '15E' AND e.counted
                     AND e.recipient_id = t.recipient_id AND e.conduit_id = t.conduit_id
                     AND e.donor_name = t.donor_name AND e.amount = t.amount AND e.date = t.date"""
            ).fetchall()

    # --- reading -----------------------------------------------------------------------------

    def batches(self) -> list[dict[str, object]]:
        with self.connect(read_only=True) as db:
            cursor = db.execute("SELECT * FROM batches ORDER BY ingested_at, batch_id")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def quarantine(self, limit: int | None = None) -> list[QuarantinedRow]:
        query = "SELECT batch_id, source, line, field, reason, excerpt FROM quarantine ORDER BY source, line"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        with self.connect(read_only=True) as db:
            return [QuarantinedRow(*row) for row in db.execute(query).fetchall()]


def _fields(value: object) -> dict[str, object]:
    return {name: getattr(value, name) for name in value.__slots__}  # type: ignore[attr-defined]


def _count(db: duckdb.DuckDBPyConnection, table: str) -> int:
    row = db.execute(f"SELECT count(*) FROM {table}").fetchall()
    return int(row[0][0]) if row else 0


VIEWS = """
CREATE OR REPLACE TEMP VIEW donations_v AS
SELECT d.* EXCLUDE (recipient_name, recipient_party),
       coalesce(c.name, d.recipient_name) AS recipient_name, coalesce(d.recipient_party, c.party) AS recipient_party,
       c.committee_type
FROM donations d LEFT JOIN committees c ON d.register = 'FEC' AND c.cmte_id = d.recipient_id;
"""
