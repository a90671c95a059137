"""Normalising an input as one stream: one DuckDB query for many raw batches gives what one query per batch gave.

``Normaliser.normalise_all`` hands consecutive batches with the same columns to one query, which
DuckDB plans once and reads as a stream; fields stored as given bypass DuckDB and are put back beside
its rows by position. These tests hold the streamed result to the batch-by-batch one, including a
change of columns between batches, batches holding only rejections, and errors raised while reading.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

from rrm._duckdb import arrow_table, connect
from rrm.corpus.formats.base import RawBatch, ReadAgain, Rejection
from rrm.corpus.normalise import NormalisedBatch, Normaliser, _distinct_sorted, _empty_as_null
from rrm.errors import InputError

T0 = 1_606_451_170


def raw_batch(first: int, count: int, *, with_handles: bool = True) -> RawBatch:
    ids = range(first, first + count)
    columns: dict[str, object] = {
        "post_id": pa.array([str(i) if i % 11 else "" for i in ids]),  # every 11th has no id: rejected
        "account_id": pa.array([f" u{i % 5} " for i in ids]),
        "created_at": pa.array([str(T0 + i) if i % 13 else "yesterday" for i in ids]),  # every 13th: bad time
        "text": pa.array([f"post {i} #Tag{i % 3} @someone https://Example.org/{i % 4}?utm_source=x" if i % 2 else ""
                          for i in ids]),
        "reshare_of_post": pa.array(["" if i % 3 else str(i - 1) for i in ids]),
        "reply_to_account": pa.array([None if i % 4 else "u1" for i in ids]),
    }
    if with_handles:
        columns["handle"] = pa.array([f"@user{i % 5}" for i in ids])
    return RawBatch(columns, list(range(first + 1, first + 1 + count)), [])  # type: ignore[arg-type]


def normaliser() -> Normaliser:
    return Normaliser("telegram", (), "batch-1", "input.csv")


def combined(batches: list[NormalisedBatch]) -> tuple[pa.Table, pa.Table, list[Rejection]]:
    posts = pa.concat_tables([b.posts for b in batches])
    accounts = pa.concat_tables([b.accounts for b in batches])
    rejections = sorted((r for b in batches for r in b.rejections), key=lambda r: (r.line or 0, r.reason))
    return posts.combine_chunks(), accounts.combine_chunks(), rejections


def test_one_stream_gives_what_one_query_per_batch_gives() -> None:
    batches = [raw_batch(0, 700), raw_batch(700, 5), raw_batch(705, 1_300)]
    batches[1].rejections.append(Rejection("input.csv", 9_999, None, "expected 7 columns, found 2"))
    one_by_one = normaliser()
    expected = combined([one_by_one.normalise(b) for b in batches])
    streamed = normaliser()
    got = combined(list(streamed.normalise_all(batches, 256)))
    assert got[0].num_rows == expected[0].num_rows == 2_005 - (183 + 155 - 15)  # no id, bad time, both
    assert got[0].equals(expected[0])
    assert got[1].equals(expected[1])
    assert got[2] == expected[2]
    assert ("input.csv", 9_999) in {(r.source, r.line) for r in got[2]}
    # the fields that bypass DuckDB are back beside their own rows
    rows = got[0].select(["post_id", "source_line", "reshare_of_post", "kind", "handle"]).to_pylist()
    assert all(int(r["post_id"]) + 1 == r["source_line"] for r in rows)
    assert all((r["kind"] == "reshare") == (r["reshare_of_post"] is not None) for r in rows)
    assert {r["handle"] for r in rows} == {f"user{i}" for i in range(5)}
    one_by_one.close()
    streamed.close()


def test_a_change_of_columns_starts_another_query_and_loses_nothing() -> None:
    batches = [raw_batch(0, 300), raw_batch(300, 300, with_handles=False), RawBatch({}, [], [
        Rejection("input.csv", 5_000, None, "unreadable CSV record")]), raw_batch(600, 300)]
    one_by_one = normaliser()
    expected = combined([one_by_one.normalise(b) for b in batches])
    streamed = normaliser()
    got = combined(list(streamed.normalise_all(batches, 100)))
    assert got[0].equals(expected[0])
    assert got[2] == expected[2]
    assert got[0].column("handle").null_count == 300 - (27 + 23 - 2)  # the batch without handles, as stored
    one_by_one.close()
    streamed.close()


@pytest.mark.parametrize("error", [ReadAgain("input.csv"), InputError("corrupt compressed data", source="input.csv")])
def test_an_error_while_reading_is_raised_with_its_own_type(error: Exception) -> None:
    def batches() -> Iterator[RawBatch]:
        yield raw_batch(0, 500)
        raise error

    streamed = normaliser()
    got: list[NormalisedBatch] = []
    with pytest.raises(type(error)):
        for batch in streamed.normalise_all(batches(), 100):
            got.append(batch)
    assert sum(b.posts.num_rows + len(b.rejections) for b in got) == 500  # what was read before it
    streamed.close()


def test_distinct_sorted_lists_match_duckdb() -> None:
    given = pa.array([["b.org", "a.org", "b.org"], [], None, ["z.net", None], ["é.fr"]], pa.list_(pa.string()))
    derived = pa.array([["a.org"], ["q.com", "Q.com"], ["x.com"], [], ["e.fr", "é.fr"]], pa.list_(pa.string()))
    mine = _distinct_sorted(pa.chunked_array([given.slice(0, 2), given.slice(2)]), derived)
    db = connect()
    db.register("lists", pa.table({"given": given, "derived": derived}))
    theirs = arrow_table(
        db, "SELECT list_sort(list_distinct(list_filter(list_concat(given, derived), lambda x: x IS NOT NULL))) AS d "
            "FROM lists",
    ).column("d")
    db.close()
    assert mine.to_pylist() == theirs.to_pylist() == [
        ["a.org", "b.org"], ["Q.com", "q.com"], ["x.com"], ["z.net"], ["e.fr", "é.fr"]]


def test_empty_strings_become_null_without_copying_the_values() -> None:
    values = pa.array(["a", "", None, "ccc", ""])
    made = _empty_as_null(values)
    assert made.to_pylist() == ["a", None, None, "ccc", None]
    assert made.buffers()[2].address == values.buffers()[2].address  # the same characters, not a copy
    assert _empty_as_null(values.slice(1)).to_pylist() == [None, None, "ccc", None]
    chunked = _empty_as_null(pa.chunked_array([values.slice(0, 2), values.slice(2)]))
    assert chunked.to_pylist() == ["a", None, None, "ccc", None]
