"""The optimistic CSV reader's cheap checks: newlines counted in blocks, blank lines found in Arrow's rows.

The speculative reader no longer scans every byte for blank lines: Arrow reads a blank line as a row
of empty values, which ``_has_blank_row`` finds, and the exact reader (which skips blank lines) takes
over. The corpus must be the same as before: no quarantine entry for a blank line, exact line numbers.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pytest

from rrm.corpus import CorpusStore, ingest
from rrm.corpus.formats.base import ReadAgain
from rrm.corpus.formats.csv_table import _has_blank_row, _LineCounter, _newlines
from rrm.corpus.formats.registry import get_format
from rrm.corpus.ingest import _CountingReader

HEADER = "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
T0 = 1_606_451_170


def row(i: int) -> str:
    return f"{i},u{i % 7},user_{i % 7},,,post {i},{T0 + i},\n"


def lines_of(store: CorpusStore) -> list[tuple[str, int]]:
    with store.connect() as db:
        return [(r[0], r[1]) for r in db.execute("SELECT post_id, source_line FROM posts ORDER BY source_line").fetchall()]


@pytest.mark.parametrize("size", [0, 1, (1 << 16) - 1, 1 << 16, (1 << 16) + 1, 300_001])
def test_newlines_are_counted_exactly_in_small_and_large_blocks(size: int) -> None:
    data = (b"ab\n\r\nc\xc3\xa4\n" * (size // 8 + 1))[:size]
    if size:
        data = b"\n" + data[1:-1] + b"\n" if size > 1 else b"\n"
    assert _newlines(data) == data.count(b"\n")


def test_a_line_counter_without_blank_line_scans_still_flags_nul_bytes() -> None:
    for data, flagged in [(b"a\n\nb\n", False), (b"a\r\n\r\nb\r\n", False), (b"a\nb\x00\nc\n", True)]:
        counter = _LineCounter(io.BytesIO(data), blank_lines=False)
        while counter.read(2):
            pass
        assert counter.flagged is flagged, data
        assert counter.newlines == data.count(b"\n")


def test_a_blank_row_is_one_with_every_column_empty() -> None:
    def batch(**columns: list[str]) -> pa.RecordBatch:
        return pa.RecordBatch.from_pydict({k: pa.array(v, pa.string()) for k, v in columns.items()})

    assert _has_blank_row(batch(a=["1", ""], b=["x", ""]))
    assert not _has_blank_row(batch(a=["1", ""], b=["x", "y"]))
    assert not _has_blank_row(batch(a=["1", "2"], b=["", ""]))
    assert not _has_blank_row(batch(a=[], b=[]))
    assert _has_blank_row(pa.RecordBatch.from_pydict({"a": pa.array([""], pa.string())}))


@pytest.mark.parametrize("blank", ["\n", "\r\n", ",,,,,,,\n"])
def test_the_optimistic_reader_hands_a_file_with_a_blank_row_over(tmp_path: Path, blank: str) -> None:
    path = tmp_path / "blank.csv"
    path.write_text(HEADER + row(1) + blank + row(2), newline="")
    with path.open("rb") as stream, pytest.raises(ReadAgain):
        list(get_format("cnt", {}).read_speculative(stream, "blank.csv", 10))


@pytest.mark.parametrize("where", ["middle", "end"])
def test_blank_lines_are_skipped_and_line_numbers_stay_exact(store: CorpusStore, tmp_path: Path, where: str) -> None:
    path = tmp_path / f"{where}.csv"
    body = row(1) + "\n" + row(2) + "\r\n" + row(3) if where == "middle" else row(1) + row(2) + row(3) + "\n\n"
    path.write_text(HEADER + body, newline="")
    (batch,) = ingest(store, [str(path)]).batches
    assert (batch.records_read, batch.stored, batch.rejected) == (3, 3, 0)
    expected = [("1", 2), ("2", 4), ("3", 6)] if where == "middle" else [("1", 2), ("2", 3), ("3", 4)]
    assert lines_of(store) == expected
    assert store.quarantine() == []


def test_a_row_of_empty_fields_is_quarantined_at_its_line(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "empty-fields.csv"
    path.write_text(HEADER + row(1) + ",,,,,,,\n" + row(2))
    (batch,) = ingest(store, [str(path)]).batches
    assert (batch.stored, batch.rejected) == (2, 1)
    assert lines_of(store) == [("1", 2), ("2", 4)]
    assert [(r.line, r.field) for r in store.quarantine()] == [(3, "post_id")]


class _ReadOnly:
    """A stream with ``read`` only (no ``readinto``), as some wrapped inputs may be."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)

    def seekable(self) -> bool:
        return False


@pytest.mark.parametrize("direct", [True, False])
def test_the_counting_reader_passes_every_byte_and_counts_them(direct: bool) -> None:
    data = bytes(range(256)) * 5000
    seen: list[int] = []
    inner = io.BytesIO(data) if direct else _ReadOnly(data)
    counting = _CountingReader(inner, seen.append)  # type: ignore[arg-type]
    assert io.BufferedReader(counting, buffer_size=4096).read() == data
    assert counting.count == len(data) and seen[-1] == len(data)
