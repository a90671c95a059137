"""The accounts of a batch are aggregated while it is staged, and give what one query over every observation gives.

``AccountAggregator`` streams the account observations (one per post) into a DuckDB aggregation
running in its own thread; these tests hold its file to the same query run once over all the
observations, and check that a failed or discarded batch stops the thread and leaves nothing behind.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rrm._duckdb import arrow_table, connect
from rrm.corpus import CorpusStore, ingest
from rrm.corpus.accounts import LATEST_OBSERVATIONS, AccountAggregator
from rrm.corpus.schema import ACCOUNT_SCHEMA

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def observations(first: int, count: int) -> pa.Table:
    """Observations of 7 accounts, with missing handles, locations and counts, and later ones not always last."""
    rows = range(first, first + count)
    columns = {
        "platform": ["x"] * count,
        "account_id": [f"a{i % 7}" for i in rows],
        "handle": [None if i % 5 == 0 else f"h{i}" for i in rows],
        "display_name": [f"name {i}" for i in rows],
        "account_created_at": [T0 - timedelta(days=i % 11) for i in rows],
        "followers": [None if i % 3 == 0 else i * 10 for i in rows],
        "following": [i for i in rows],
        "profile_text": [f"bio {i}" if i % 2 else None for i in rows],
        "location": [None if i % 4 else f"town {i}" for i in rows],
        "observed_at": [T0 + timedelta(minutes=(i * 37) % 1_000) for i in rows],  # out of order
        "batch_id": ["b1"] * count,
    }
    return pa.table(columns, schema=ACCOUNT_SCHEMA)


def sorted_rows(table: pa.Table) -> list[dict[str, object]]:
    return sorted(table.to_pylist(), key=lambda row: str(row["account_id"]))


def aggregated_at_once(table: pa.Table) -> pa.Table:
    db = connect()
    db.execute("SET TimeZone = 'UTC'")
    db.register("observations", table)
    result = arrow_table(db, LATEST_OBSERVATIONS.format(source="observations"))
    db.close()
    return result


def test_streamed_chunks_give_what_one_query_over_all_observations_gives(tmp_path: Path) -> None:
    chunks = [observations(0, 300), observations(300, 0), observations(300, 1_000)]
    aggregator = AccountAggregator(tmp_path / "accounts.parquet", tmp_path / "tmp", depth=1)
    for chunk in chunks:
        aggregator.add(chunk)
    written = pq.read_table(aggregator.finish())
    expected = aggregated_at_once(pa.concat_tables(chunks))
    assert written.num_rows == 7
    assert sorted_rows(written) == sorted_rows(expected)
    latest = {row["account_id"]: row for row in sorted_rows(written)}
    assert all(row["handle"] is not None and row["location"] is not None for row in latest.values())  # NULLs skipped


def test_an_aggregation_that_fails_raises_its_error_and_stops(tmp_path: Path) -> None:
    aggregator = AccountAggregator(tmp_path / "missing-folder" / "accounts.parquet", tmp_path / "tmp", depth=1)
    with pytest.raises(Exception, match="missing-folder"):
        for start in range(0, 20_000, 100):  # the producer never waits forever on a dead aggregation
            aggregator.add(observations(start, 100))
        aggregator.finish()
    aggregator.close()
    assert not any(t.name == "rrm-ingest-accounts" for t in threading.enumerate())


def test_a_closed_aggregation_stops_its_thread_without_finishing(tmp_path: Path) -> None:
    aggregator = AccountAggregator(tmp_path / "accounts.parquet", tmp_path / "tmp", depth=1)
    aggregator.add(observations(0, 100))
    aggregator.close()
    aggregator.close()  # twice is harmless
    assert not any(t.name == "rrm-ingest-accounts" for t in threading.enumerate())


def test_a_batch_that_fails_while_staging_leaves_no_aggregation_running(
    store: CorpusStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
                    + "".join(f"{i},u{i % 7},user_{i % 7},,,post {i},{1_606_451_170 + i},\n" for i in range(1, 101)))
    from rrm.corpus import store as store_module

    original = store_module.BatchWriter.add
    calls: list[int] = []

    def failing(self: store_module.BatchWriter, chunk: object) -> None:
        calls.append(1)
        original(self, chunk)  # type: ignore[arg-type]
        if len(calls) == 2:
            raise OSError("disk full")

    monkeypatch.setattr(store_module.BatchWriter, "add", failing)
    with pytest.raises(OSError, match="disk full"):
        ingest(store, [str(path)], batch_size=30)
    assert not any(t.name == "rrm-ingest-accounts" for t in threading.enumerate())
    assert store.batches() == [] and store.account_files() == []
    assert [p.name for p in store.staging_dir.iterdir() if p.name != "duckdb-tmp"] == []


@pytest.mark.parametrize("batch_size", [1, 2, 100])  # one chunk: aggregated at the commit, without a thread
def test_the_accounts_of_an_ingest_are_the_latest_observations(store: CorpusStore, tmp_path: Path, batch_size: int) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
                    "1,u1,first_name,,,a,1606451170,\n"
                    "2,u1,,,,b,1606451290,\n"  # the latest post gives no handle: the latest given one is kept
                    "3,u1,renamed,,,c,1606451230,\n"
                    "4,u2,other,,,d,1606451000,\n")
    assert ingest(store, [str(path)], batch_size=batch_size).batches[0].stored == 4
    with store.connect() as db:
        rows = db.execute("SELECT account_id, handle, epoch(observed_at) FROM accounts ORDER BY account_id").fetchall()
    assert rows == [("u1", "renamed", 1_606_451_290), ("u2", "other", 1_606_451_000)]
