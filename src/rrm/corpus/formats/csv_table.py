"""Table-driven CSV formats: a format is a mapping from raw fields to the columns of its header.

The reader streams the file through Python's C ``csv`` parser, keeps the line where each record
starts, and rejects (without stopping) records with the wrong number of columns, invalid UTF-8, a
field over ``MAX_FIELD_CHARS`` or a NUL byte. Columns are transposed once per batch, so the cost per
record stays a few hundred nanoseconds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from rrm.corpus.formats.base import IngestFormat, RawBatch, ReadAgain, Rejection, excerpt
from rrm.corpus.formats.registry import mismatch
from rrm.errors import FormatMismatchError

__all__ = ["MAX_FIELD_CHARS", "CsvSpec", "CsvTableFormat", "header_of", "read_csv_rows"]

MAX_FIELD_CHARS = 1024 * 1024
FAST_BLOCK_BYTES = 1024 * 1024
"""Arrow's CSV block: a record longer than this sends the input to the exact reader. Arrow's streaming reader
reads about 40 blocks ahead of its consumer (its background queue holds 32), so the block size sets that
memory: with 4 MiB blocks the ingest of 1 million posts peaked at 660 MB, with 1 MiB at 500 MB, and spent
1.9-2.4 CPU s in the kernel (faulting in that memory) against 0.8-1.0."""
_NEWLINE = ord("\n")

Columns = dict[str, pa.Array]


def header_of(head: bytes, delimiter: str = ",") -> list[str]:
    """The header row of a CSV input from its first bytes (empty when there is none)."""
    text = head.decode("utf-8-sig", "replace")
    first = text.split("\n", 1)[0].rstrip("\r")
    try:
        return [cell.strip() for cell in next(csv.reader([first], delimiter=delimiter))]
    except (csv.Error, StopIteration):
        return []


def read_csv_rows(
    stream: IO[bytes], source: str, batch_size: int, delimiter: str = ",", skip: int = 0
) -> Iterator[tuple[list[str], list[list[str]], list[int], list[Rejection]]]:
    """``(header, rows, lines, rejections)`` per batch; every row has as many cells as the header.

    A record's line is where it ends (the same line as where it starts unless a quoted field spans lines).
    Invalid UTF-8 arrives as lone surrogates (``surrogateescape``), found later when converting to Arrow.
    """
    # the csv module's field limit is one for the whole process, and other readers (the money formats) set
    # their own: set ours each time
    csv.field_size_limit(MAX_FIELD_CHARS)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        raise FormatMismatchError(f"unreadable CSV header: {exc}", source=source) from exc
    width = len(header)
    for _ in range(skip):
        next(reader)
    rows: list[list[str]] = []
    lines: list[int] = []
    rejections: list[Rejection] = []
    finished = False
    while not finished:
        try:
            for row in reader:
                if len(row) != width:
                    if row:
                        rejections.append(
                            Rejection(source, reader.line_num, None, f"expected {width} columns, found {len(row)}",
                                      excerpt(",".join(row)))
                        )
                    continue
                rows.append(row)
                lines.append(reader.line_num)
                if len(rows) == batch_size:
                    yield header, rows, lines, rejections
                    rows, lines, rejections = [], [], []
            finished = True
        except csv.Error as exc:
            rejections.append(Rejection(source, reader.line_num, None, f"unreadable CSV record: {exc}"))
    if rows or rejections:
        yield header, rows, lines, rejections


def columns_as_arrow(
    header: list[str], rows: list[list[str]], lines: list[int], wanted: dict[str, str], source: str
) -> tuple[dict[str, pa.Array], list[int], list[Rejection]]:
    """The ``wanted`` columns (raw field → header column) as Arrow strings; rows with invalid UTF-8 rejected."""
    index = {column: i for i, column in enumerate(header)}
    transposed = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    rejections: list[Rejection] = []
    bad: dict[int, Rejection] = {}
    arrays: dict[str, pa.Array] = {}
    for raw, column in wanted.items():
        if column not in index:
            continue
        values = transposed[index[column]]
        try:
            arrays[raw] = pa.array(values, pa.string())
        except UnicodeEncodeError:
            for i, value in enumerate(values):
                if i not in bad:
                    try:
                        value.encode("utf-8")
                    except UnicodeEncodeError:
                        shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                        bad[i] = Rejection(source, lines[i], column, "invalid UTF-8", excerpt(shown))
    if bad:
        keep = [i for i in range(len(rows)) if i not in bad]
        rejections.extend(bad[i] for i in sorted(bad))
        arrays, lines, _ = columns_as_arrow(header, [rows[i] for i in keep], [lines[i] for i in keep], wanted, source)
    arrays, lines, with_nul = without_nul_bytes(arrays, lines, wanted, source)
    return arrays, lines, rejections + with_nul


def without_nul_bytes(
    arrays: dict[str, pa.Array], lines: list[int], wanted: Mapping[str, str], source: str
) -> tuple[dict[str, pa.Array], list[int], list[Rejection]]:
    """Records with a NUL byte in a field we use are rejected: no text legitimately holds one."""
    flagged: dict[int, str] = {}
    for raw, values in arrays.items():
        if pc.any(pc.match_substring(values, "\x00")).as_py():
            for index in pc.indices_nonzero(pc.fill_null(pc.match_substring(values, "\x00"), False)).to_pylist():
                flagged.setdefault(index, wanted.get(raw, raw))
    if not flagged:
        return arrays, lines, []
    rejections = [Rejection(source, lines[i], flagged[i], "NUL byte in field") for i in sorted(flagged)]
    keep = pa.array([i not in flagged for i in range(len(lines))])
    return ({raw: values.filter(keep) for raw, values in arrays.items()},
            [line for i, line in enumerate(lines) if i not in flagged], rejections)


def _newlines(data: bytes) -> int:
    """The number of newlines in ``data``: NumPy counts a large block in half the time, without the GIL."""
    if len(data) < 1 << 16:
        return data.count(b"\n")
    return int(np.count_nonzero(np.frombuffer(data, np.uint8) == _NEWLINE))


def _has_blank_row(batch: pa.RecordBatch) -> bool:
    """True when a row of ``batch`` has every column empty, as Arrow reads a blank line (``\\n`` or ``\\r\\n``).

    Arrow turns a blank line into a row of empty values; such a row (blank line or not) is left to the
    exact reader, which skips blank lines. Usually the first column (an identifier) has no empty
    value and the check ends there.
    """
    if batch.num_columns == 0:
        return bool(batch.num_rows > 0)
    empty: pa.Array | None = None
    for column in batch.columns:
        column_empty = pc.equal(pc.binary_length(column), 0)
        empty = column_empty if empty is None else pc.and_(empty, column_empty)
        if not pc.any(empty).as_py():
            return False
    return True


class _LineCounter(io.RawIOBase):
    """Passes a seekable stream through, counting lines and watching for blank lines and NUL bytes.

    After the reader has consumed it and set ``records``, ``regular`` tells whether each record was
    exactly one line after the header, which makes the line numbers given by position right.
    """

    def __init__(self, inner: IO[bytes], *, blank_lines: bool = True) -> None:
        self._inner = inner
        # blank lines cost two more scans of every byte; the speculative reader finds them in Arrow's rows instead
        self._blank_lines = blank_lines
        self._tail = b"\n"
        self.newlines = 0
        self.flagged = False
        self.records: int | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Rewinding (the only seek the reader makes) starts the count again."""
        self._tail, self.newlines, self.flagged = b"\n", 0, False
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def read(self, size: int = -1, /) -> bytes:
        data = self._inner.read(size)
        if data:
            if b"\x00" in data:
                self.flagged = True
            elif self._blank_lines:
                edge = self._tail + data[:2]  # a blank line may straddle two reads
                if b"\n\n" in data or b"\n\r\n" in data or b"\n\n" in edge or b"\n\r\n" in edge:
                    self.flagged = True
            self.newlines += _newlines(data)
            self._tail = (self._tail + data)[-2:]
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    @property
    def regular(self) -> bool:
        if self.flagged or self.records is None:
            return False
        lines = self.newlines + (0 if self._tail.endswith(b"\n") else 1)
        return self.records + 1 == lines


@dataclass(frozen=True)
class CsvSpec:
    """A CSV format as data: which header columns feed which raw fields."""

    name: str
    description: str
    platform: str
    fields: Mapping[str, str]
    """raw field → header column"""
    required: tuple[str, ...]
    """header columns that must all be present for the file to be this format"""
    constants: Mapping[str, str] = field(default_factory=dict)
    time_formats: tuple[str, ...] = ()
    delimiter: str = ","
    prepare: Callable[[Columns, list[int], str], tuple[Columns, list[int], list[Rejection]]] | None = None
    """optional whole-batch step: fix columns, or reject records the mapping alone cannot judge"""


class CsvTableFormat(IngestFormat):
    name: ClassVar[str] = "csv"
    description: ClassVar[str] = "CSV"

    def __init__(self, spec: CsvSpec) -> None:
        self.spec = spec
        self.name = spec.name  # type: ignore[misc]
        self.description = spec.description  # type: ignore[misc]
        self.platform = spec.platform  # type: ignore[misc]
        self.time_formats = spec.time_formats  # type: ignore[misc]

    def sniff(self, head: bytes, name: str) -> float:
        header = set(header_of(head, self.spec.delimiter))
        required = set(self.spec.required)
        if not header or not required <= header:
            return 0.0
        mapped = set(self.spec.fields.values()) | required
        return 0.5 + 0.5 * len(mapped & header) / len(header | mapped)

    def read(self, stream: IO[bytes], source: str, batch_size: int) -> Iterator[RawBatch]:
        """Arrow's C++ CSV reader while the file is regular; Python's exact reader from the first irregularity.

        The fast path needs a seekable stream and one record per line, which a first pass checks by
        counting lines and records (so no value spans lines and line numbers are exact). At the
        first irregular batch (a malformed row, invalid UTF-8, an oversized row) it stops, and the
        exact reader takes over at the first record not yet yielded, so every rejection names its
        line and no record is read twice.
        """
        skip = 0
        if stream.seekable():
            start = stream.tell()
            stopped_at = yield from self._read_fast(stream, source, batch_size)
            if stopped_at is None:
                return
            skip = stopped_at
            stream.seek(start)
        yield from self._read_exact(stream, source, batch_size, skip)

    def _check_header(self, header: list[str], source: str) -> None:
        missing = [c for c in self.spec.required if c not in header]
        if missing:
            raise mismatch(self, source, f"missing columns {', '.join(missing)} (header: {', '.join(header)[:80]!r})")

    def _finish(self, columns: Columns, lines: list[int], rejections: list[Rejection], source: str) -> RawBatch:
        for raw, value in self.spec.constants.items():
            columns[raw] = pa.array([value] * len(lines), pa.string())
        if self.spec.prepare is not None and lines:
            columns, lines, extra = self.spec.prepare(columns, lines, source)
            rejections = rejections + extra
        return RawBatch(columns, lines, rejections)

    def read_speculative(self, stream: IO[bytes], source: str, batch_size: int) -> Iterator[RawBatch]:
        """Arrow's reader straight away, assuming one record per line, and checking it while reading.

        The lines are counted as Arrow reads the bytes (no separate pass over the file); at the end,
        records + header must equal lines. Any irregularity (a malformed row, a record over several
        lines, a blank line, a NUL byte) raises ``ReadAgain``: then ``read`` does it the exact way.
        """
        if not stream.seekable():
            yield from self.read(stream, source, batch_size)
            return
        # blank lines are found in the rows Arrow reads (``_has_blank_row``), which spares two scans of every byte
        counted = _LineCounter(stream, blank_lines=False)
        stopped_at = yield from self._read_fast(counted, source, batch_size, proven=False)  # type: ignore[arg-type]
        if stopped_at is not None or not counted.regular:
            raise ReadAgain(source)

    def _read_fast(
        self, stream: IO[bytes], source: str, batch_size: int, *, proven: bool = True
    ) -> Generator[RawBatch, None, int | None]:
        start = stream.tell()
        head = stream.read(FAST_BLOCK_BYTES)
        stream.seek(start)
        header = header_of(head, self.spec.delimiter)
        if not header or b"\n" not in head:
            return 0
        self._check_header(header, source)
        if len(set(header)) != len(header) or (proven and not self._one_record_per_line(stream, header)):
            stream.seek(start)
            return 0
        stream.seek(start)
        counter = stream if isinstance(stream, _LineCounter) else None
        irregular: list[object] = []

        def on_invalid(row: object) -> str:
            irregular.append(row)
            return "skip"

        wanted = {raw: column for raw, column in self.spec.fields.items() if column in header}
        done = 0
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(block_size=FAST_BLOCK_BYTES, use_threads=True),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.spec.delimiter, newlines_in_values=False, ignore_empty_lines=False,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in header}, strings_can_be_null=False,
                    quoted_strings_can_be_null=False, include_columns=sorted(set(wanted.values())),
                ),
            )
            for record_batch in reader:
                if irregular or (counter is not None and (counter.flagged or _has_blank_row(record_batch))):
                    return done
                pending.append(record_batch)
                pending_rows += record_batch.num_rows
                if pending_rows >= batch_size:
                    yield self._fast_batch(pending, wanted, done, source)
                    done += pending_rows
                    pending, pending_rows = [], 0
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
            return done
        if irregular:
            return done
        if counter is not None:
            counter.records = done + pending_rows
        if pending:
            yield self._fast_batch(pending, wanted, done, source)
        return None

    def _one_record_per_line(self, stream: IO[bytes], header: list[str]) -> bool:
        """True when the input has exactly one physical line per record (and the header), no blank line
        and no NUL byte: then a record's line is its position, and Arrow's multi-threaded reader can
        be used as it is."""
        start = stream.tell()
        newlines = 0
        last = b"\n"
        for chunk in iter(lambda: stream.read(1 << 22), b""):
            if b"\x00" in chunk or b"\n\n" in last + chunk or b"\n\r\n" in last + chunk:
                return False  # NUL bytes and blank lines are for the exact reader to report
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
        lines = newlines + (0 if last in (b"\n", b"") else 1)
        stream.seek(start)
        invalid: list[object] = []

        def on_invalid(row: object) -> str:
            invalid.append(row)
            return "skip"

        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(block_size=FAST_BLOCK_BYTES, use_threads=True),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.spec.delimiter, newlines_in_values=True, ignore_empty_lines=False,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(include_columns=[header[0]], column_types={header[0]: pa.binary()}),
            )
            records = sum(batch.num_rows for batch in reader)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return False
        return not invalid and records + 1 == lines

    def _fast_batch(self, batches: list[pa.RecordBatch], wanted: dict[str, str], done: int, source: str) -> RawBatch:
        table = pa.Table.from_batches(batches)
        columns: Columns = {raw: table.column(column).combine_chunks() for raw, column in wanted.items()}
        first_line = done + 2
        lines = list(range(first_line, first_line + table.num_rows))
        return self._finish(columns, lines, [], source)

    def _read_exact(self, stream: IO[bytes], source: str, batch_size: int, skip: int) -> Iterator[RawBatch]:
        checked = False
        for header, rows, lines, rejections in read_csv_rows(stream, source, batch_size, self.spec.delimiter, skip):
            if not checked:
                self._check_header(header, source)
                checked = True
            arrays, lines, bad_text = columns_as_arrow(header, rows, lines, dict(self.spec.fields), source)
            yield self._finish(dict(arrays), lines, rejections + bad_text, source)


