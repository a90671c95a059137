"""The fast ingest paths give the same corpus as the exact ones.

The optimistic CSV reader assumes one record per line and checks it while reading; when the input
turns out irregular, the batch is read again the exact way, so line numbers in the quarantine stay
right. A batch whose posts are all new is published as staged (no rewrite); repeated posts, within
the batch or already in the corpus, still go through the merge. The read / normalise / write stages
run in threads, and an error in any of them stops the batch and stores nothing.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from rrm.corpus import CorpusStore, SkippedInput, ingest, ingest_source
from rrm.corpus.formats.base import ReadAgain
from rrm.corpus.formats.csv_table import FAST_BLOCK_BYTES, MAX_FIELD_CHARS, _LineCounter
from rrm.corpus.formats.registry import get_format
from rrm.corpus.ingest import ingest_settings
from rrm.corpus.pipeline import Prefetched, Writer
from rrm.corpus.schema import ACCOUNT_SCHEMA, POST_SCHEMA
from rrm.corpus.sources import InputSource

ingest_module = importlib.import_module("rrm.corpus.ingest")  # ``rrm.corpus.ingest`` the attribute is the function
HEADER = "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
T0 = 1_606_451_170


def row(i: int, message: str | None = None) -> str:
    return f"{i},u{i % 7},user_{i % 7},,,{message or f'post {i} #tag{i % 3}'},{T0 + i},\n"


def posts(store: CorpusStore) -> list[tuple[str, int]]:
    with store.connect() as db:
        return [(r[0], r[1]) for r in db.execute("SELECT post_id, source_line FROM posts ORDER BY source_line").fetchall()]


def test_a_record_over_two_lines_gives_exact_line_numbers(store: CorpusStore, tmp_path: Path) -> None:
    """Arrow parses a quoted newline inside a block without complaint: the line count must catch it."""
    path = tmp_path / "multiline.csv"
    path.write_text(HEADER + row(1) + row(2, '"two\nlines"') + row(3) + "4,u4\n" + row(5))
    (batch,) = ingest(store, [str(path)]).batches
    assert (batch.records_read, batch.stored, batch.rejected) == (5, 4, 1)
    # a record's line is where it ends: post 2 spans lines 3-4, so post 3 is on line 5 and the bad row on 6
    assert posts(store) == [("1", 2), ("2", 4), ("3", 5), ("5", 7)]
    assert [(r.line, r.reason) for r in store.quarantine()] == [(6, "expected 8 columns, found 2")]


def test_the_optimistic_reader_hands_over_when_the_file_is_irregular(tmp_path: Path) -> None:
    fmt = get_format("cnt", {})
    regular = tmp_path / "regular.csv"
    regular.write_text(HEADER + row(1) + row(2))
    with regular.open("rb") as stream:
        assert sum(len(b) for b in fmt.read_speculative(stream, "regular.csv", 10)) == 2
    for name, body in [("multiline", row(1) + row(2, '"a\nb"')), ("blank", row(1) + "\n" + row(2)),
                       ("crlf-blank", row(1) + "\r\n" + row(2)), ("bad-row", row(1) + "x,y\n")]:
        path = tmp_path / f"{name}.csv"
        path.write_text(HEADER + body, newline="")
        with path.open("rb") as stream, pytest.raises(ReadAgain):
            list(fmt.read_speculative(stream, name, 10))


def test_a_record_longer_than_a_block_is_stored_whole(store: CorpusStore, tmp_path: Path) -> None:
    """Arrow refuses a record that does not fit one of its blocks; the exact reader then reads the input,
    and the long record, its fields under ``MAX_FIELD_CHARS``, is stored with the records around it, whatever
    field limit another reader of the process (the money formats set 1,000,000) left in the csv module."""
    csv.field_size_limit(1_000_000)
    field = "x" * (MAX_FIELD_CHARS - 10)
    assert len(field) * 2 > FAST_BLOCK_BYTES
    path = tmp_path / "long.csv"
    path.write_text(HEADER + row(1) + f"2,u2,user_2,,,{field},{T0 + 2},{field}\n" + row(3))
    fmt = get_format("cnt", {})
    with path.open("rb") as stream, pytest.raises(ReadAgain):
        list(fmt.read_speculative(stream, "long.csv", 10))
    (batch,) = ingest(store, [str(path)]).batches
    assert (batch.records_read, batch.stored, batch.rejected) == (3, 3, 0)
    assert posts(store) == [("1", 2), ("2", 3), ("3", 4)]
    with store.connect() as db:
        assert db.execute("SELECT length(text) FROM posts WHERE post_id = '2'").fetchall() == [(len(field),)]


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_the_line_counter_sees_blank_lines_across_reads(size: int) -> None:
    for data, blank in [(b"a\nb\n\nc\n", True), (b"a\r\nb\r\n\r\nc\r\n", True), (b"a\nb\nc", False), (b"a\r\nb\r\n", False)]:
        counter = _LineCounter(io.BytesIO(data))
        while counter.read(size):
            pass
        assert counter.flagged is blank, (data, size)
        assert counter.newlines == data.count(b"\n")


def test_new_posts_are_published_without_a_rewrite_and_read_back_whole(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "new.csv"
    path.write_text(HEADER + "".join(row(i) for i in range(1, 201)))
    (batch,) = ingest(store, [str(path)], batch_size=50).batches
    assert (batch.stored, batch.duplicates) == (200, 0)
    (posts_file,) = store.post_files()
    assert pq.ParquetFile(posts_file).schema_arrow.names == POST_SCHEMA.names
    assert pq.ParquetFile(posts_file).metadata.created_by.startswith("parquet-cpp-arrow")  # as staged, not rewritten
    with store.connect() as db:
        assert db.execute("SELECT count(*), count(DISTINCT post_id), min(source_line), max(source_line) FROM posts"
                          ).fetchone() == (200, 200, 2, 201)
        assert db.execute("SELECT count(*) FROM accounts").fetchone() == (7,)
        assert db.execute("SELECT hashtags FROM posts WHERE post_id = '4'").fetchone() == (["tag1"],)


def test_repeated_posts_are_merged_within_a_batch_and_against_the_corpus(store: CorpusStore, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text(HEADER + "".join(row(i) for i in range(1, 51)))
    assert ingest(store, [str(first)]).batches[0].stored == 50
    overlapping = tmp_path / "overlapping.csv"
    overlapping.write_text(HEADER + "".join(row(i) for i in range(41, 61)) + row(55, "again #more"))
    (batch,) = ingest(store, [str(overlapping)], batch_size=7).batches
    assert (batch.records_read, batch.stored, batch.duplicates) == (21, 10, 11)
    merged = store.posts_dir / f"{batch.batch_id}.parquet"
    rewritten = pq.ParquetFile(merged)  # by the merge (Arrow's writer): the staged file held all 21 records
    assert rewritten.metadata.num_rows == 10
    assert rewritten.schema_arrow.remove_metadata().equals(POST_SCHEMA)  # the corpus schema, nullability included
    with store.connect() as db:
        assert db.execute("SELECT count(*), count(DISTINCT post_id) FROM posts").fetchone() == (60, 60)
        assert db.execute("SELECT list_sort(hashtags) FROM posts WHERE post_id = '55'").fetchone() == (["more", "tag1"],)
    assert ingest(store, [str(overlapping)], force=True).batches[0].stored == 0


def _catalog(store: CorpusStore) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(store.root / "catalog.duckdb"))


def test_a_hash_shared_with_another_post_never_loses_a_post(store: CorpusStore, tmp_path: Path) -> None:
    """The catalog keeps 64-bit hashes of the keys: a new post whose hash is already there (a collision,
    forced here) goes through the merge, which compares keys, and is stored."""
    first = tmp_path / "first.csv"
    first.write_text(HEADER + "".join(row(i) for i in range(1, 11)))
    (old,) = ingest(store, [str(first)]).batches
    with _catalog(store) as catalog:  # the hash of post 11 recorded as if batch `old` had a post with it
        catalog.execute("INSERT INTO post_hashes SELECT hash('twitter', '11'), ?", [old.batch_id])
    second = tmp_path / "second.csv"
    second.write_text(HEADER + row(11))
    (batch,) = ingest(store, [str(second)]).batches
    assert (batch.stored, batch.duplicates) == (1, 0)
    with store.connect() as db:
        assert db.execute("SELECT platform FROM posts WHERE post_id = '11'").fetchall() == [("twitter",)]


def test_a_catalog_of_an_earlier_version_is_migrated_and_still_deduplicates(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(HEADER + "".join(row(i) for i in range(1, 21)))
    (batch,) = ingest(store, [str(path)]).batches
    with _catalog(store) as catalog:  # the catalog as it was before 2026-11-29: the keys as strings
        catalog.execute("DROP TABLE post_hashes")
        catalog.execute("DROP TABLE catalog_meta")
        catalog.execute("CREATE TABLE post_keys (platform VARCHAR NOT NULL, post_id VARCHAR NOT NULL, batch_id VARCHAR NOT NULL)")
        catalog.execute("INSERT INTO post_keys SELECT 'twitter', range::VARCHAR, ? FROM range(1, 21)", [batch.batch_id])
        catalog.execute("ALTER TABLE batches DROP COLUMN input_bytes")  # and the batches without their size and settings
        catalog.execute("ALTER TABLE batches DROP COLUMN settings")
    reopened = CorpusStore(store.workspace)
    with _catalog(reopened) as catalog:
        tables = {r[0] for r in catalog.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert "post_keys" not in tables
        assert catalog.execute("SELECT count(*) FROM post_hashes").fetchone() == (20,)
    (old,) = reopened.batches()
    assert (old.batch_id, old.input_bytes, old.settings) == (batch.batch_id, None, None)
    # an input of an earlier version is not known by its size and settings: read again, and deduplicated
    (again,) = ingest(reopened, [str(path)]).batches
    assert (again.stored, again.duplicates) == (0, 20)
    assert ingest(reopened, [str(path)]).skipped[0].batch_id == again.batch_id


def test_the_hashes_are_computed_again_when_duckdbs_hash_changes(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(HEADER + "".join(row(i) for i in range(1, 21)))
    ingest(store, [str(path)])
    with _catalog(store) as catalog:  # what a catalog written by a DuckDB with another hash looks like
        catalog.execute("UPDATE post_hashes SET h = h + 1")
        catalog.execute("UPDATE catalog_meta SET value = 'another hash' WHERE key = 'post_hash_probe'")
    reopened = CorpusStore(store.workspace)
    assert ingest(reopened, [str(path)], force=True).batches[0].stored == 0
    with reopened.connect() as db:
        assert db.execute("SELECT count(*) FROM posts").fetchone() == (20,)


def test_an_input_the_corpus_has_is_not_read_again(
    store: CorpusStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same bytes, format and settings as a committed batch: skipped, whatever the file is called; other
    settings, other bytes of the same size, or ``force``: read (and deduplicated)."""
    path = tmp_path / "posts.csv"
    path.write_text(HEADER + "".join(row(i) for i in range(1, 21)))
    (first,) = ingest(store, [str(path)]).batches
    assert (first.input_bytes, first.settings) == (path.stat().st_size, ingest_settings())
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    reads: list[str] = []
    real_batch = ingest_module._ingest_batch
    monkeypatch.setattr(ingest_module, "_ingest_batch", lambda store, source, *a, **k: (
        reads.append(source.name), real_batch(store, source, *a, **k))[1])
    report = ingest(store, [str(path), str(copy)])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.skipped == [SkippedInput(str(path), digest, first.batch_id), SkippedInput(str(copy), digest, first.batch_id)]
    assert (report.batches, report.failures, reads) == ([], [], [])
    # one input at a time, as the library offers it: the catalog is asked
    assert ingest_source(store, InputSource(str(copy), copy)) == SkippedInput(str(copy), digest, first.batch_id)
    # another platform makes other posts: read
    (other,) = ingest(store, [str(path)], platform="telegram").batches
    assert (other.stored, other.settings) == (20, ingest_settings("telegram"))
    # the same size, other bytes (a post id changed in place): read, and the new post stored
    changed = path.read_text().replace("\n20,", "\n99,")
    assert len(changed) == len(path.read_text())
    path.write_text(changed)
    (edited,) = ingest(store, [str(path)]).batches
    assert (edited.stored, edited.duplicates) == (1, 19)
    (forced,) = ingest(store, [str(path)], force=True).batches
    assert (forced.stored, forced.duplicates) == (0, 20)
    assert reads == [str(path)] * 3
    assert len(store.batches()) == 4


def _numbers(stop: int, fail_at: int | None = None) -> Iterator[int]:
    for i in range(stop):
        if i == fail_at:
            raise ValueError(f"bad record {i}")
        yield i


def test_prefetched_passes_items_in_order_and_raises_the_readers_error() -> None:
    with Prefetched(lambda: _numbers(100)) as items:
        assert list(items) == list(range(100))
    with Prefetched(lambda: _numbers(100, fail_at=30)) as items:
        seen = []
        with pytest.raises(ValueError, match="bad record 30"):
            seen.extend(items)
    assert seen == list(range(30))


def test_prefetched_stops_its_thread_when_the_consumer_stops() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    with Prefetched(endless) as items:
        for i in items:
            if i == 5:
                break
    assert closed.wait(5)


def test_the_writer_raises_an_earlier_error() -> None:
    written: list[int] = []

    def write(item: int) -> None:
        if item == 2:
            raise OSError("disk full")
        written.append(item)

    with Writer(write) as writer, pytest.raises(OSError, match="disk full"):
        for item in range(5):
            writer.submit(item)
        writer.finish()
    assert written == [0, 1]


def test_an_error_while_writing_stores_nothing(store: CorpusStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(HEADER + "".join(row(i) for i in range(1, 101)))
    from rrm.corpus import store as store_module

    original = store_module.BatchWriter.add
    calls = []

    def failing(self: store_module.BatchWriter, chunk: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        original(self, chunk)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module.BatchWriter, "add", failing)
    with pytest.raises(OSError, match="disk full"):
        ingest(store, [str(path)], batch_size=30)
    assert store.batches() == []
    assert store.post_files() == []
    assert [p.name for p in store.staging_dir.iterdir() if p.name != "duckdb-tmp"] == []


def test_identifiers_and_times_lose_unicode_blanks_but_texts_keep_them(store: CorpusStore, tmp_path: Path) -> None:
    """Blanks are trimmed in Arrow with the characters SQL ``trim`` removes (Unicode space separators)."""
    path = tmp_path / "blanks.csv"
    path.write_text(HEADER + f"\u3000 7\u00a0,\u2003u1 ,user_1,,, spaced text\u3000, {T0} ,\n"
                    + "8,u2,user_2,,,iso,\u00a02020-11-27T04:26:10Z\u202f,\n", encoding="utf-8")
    (batch,) = ingest(store, [str(path)]).batches
    assert batch.stored == 2
    with store.connect() as db:
        rows = db.execute("SELECT post_id, account_id, text, epoch(created_at) FROM posts ORDER BY post_id").fetchall()
    assert rows == [("7", "u1", " spaced text\u3000", T0), ("8", "u2", "iso", 1_606_451_170)]


def test_a_copy_in_the_same_command_is_skipped(store: CorpusStore, tmp_path: Path) -> None:
    """The inputs of one ``ingest`` know the batches the ones before them committed."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + "".join(row(i) for i in range(1, 11)))
    (folder / "b.csv").write_bytes((folder / "a.csv").read_bytes())
    report = ingest(store, [str(folder)])
    (batch,) = report.batches
    assert batch.stored == 10
    assert [(s.source, s.batch_id) for s in report.skipped] == [(str(folder / "b.csv"), batch.batch_id)]


def test_account_fields_no_observation_has_are_null_and_the_others_kept(store: CorpusStore, tmp_path: Path) -> None:
    """The commit aggregates only the account fields some observation of the batch has; the file keeps its schema."""
    path = tmp_path / "late-handles.csv"
    path.write_text(HEADER + "".join(
        f"{i},u{i % 3},{f'name_{i % 3}' if i >= 200 else ''},,,post {i},{T0 + i},\n" for i in range(250)
    ))
    ingest(store, [path], batch_size=100)  # three chunks: the handles come in the last one only
    (accounts_file,) = store.account_files()
    assert [(f.name, f.type) for f in pq.read_schema(accounts_file)] == [(f.name, f.type) for f in ACCOUNT_SCHEMA]
    with store.connect() as db:
        rows = db.execute("SELECT account_id, handle, display_name, followers, account_created_at FROM accounts "
                          "ORDER BY account_id").fetchall()
    assert rows == [(f"u{n}", f"name_{n}", None, None, None) for n in range(3)]
