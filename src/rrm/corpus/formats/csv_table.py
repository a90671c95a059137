"""Table-driven CSV formats: a format is a mapping from raw fields to the columns of its header.

The reader streams the file through Python's C ``csv`` parser, keeps the line where each record
starts, and rejects (without stopping) records with the wrong number of columns, invalid UTF-8, a
field over ``MAX_FIELD_CHARS`` or a NUL byte. Columns are transposed once per batch, so the cost per
record stays a few hundred nanoseconds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, ClassVar

from rrm.corpus.formats.base import IngestFormat, RawBatch, Rejection, excerpt
from rrm.corpus.formats.registry import mismatch
from rrm.errors import FormatMismatchError

__all__ = ["MAX_FIELD_CHARS", "CsvSpec", "CsvTableFormat", "header_of", "read_csv_rows"]

MAX_FIELD_CHARS = 1024 * 1024
csv.field_size_limit(MAX_FIELD_CHARS)

Columns = dict[str, list[object]]


def header_of(head: bytes, delimiter: str = ",") -> list[str]:
    """The header row of a CSV input from its first bytes (empty when there is none)."""
    text = head.decode("utf-8-sig", "replace")
    first = text.split("\n", 1)[0].rstrip("\r")
    try:
        return [cell.strip() for cell in next(csv.reader([first], delimiter=delimiter))]
    except (csv.Error, StopIteration):
        return []


def _has_invalid_text(rows: list[list[str]]) -> bool:
    try:
        "\x00".join(["\x00".join(row) for row in rows]).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _invalid_field(row: list[str]) -> int | None:
    for index, cell in enumerate(row):
        try:
            cell.encode("utf-8")
        except UnicodeEncodeError:
            return index
    return None


def read_csv_rows(
    stream: IO[bytes], source: str, batch_size: int, delimiter: str = ","
) -> Iterator[tuple[list[str], list[list[str]], list[int], list[Rejection]]]:
    """``(header, rows, start lines, rejections)`` per batch; every row has as many cells as the header."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        raise FormatMismatchError(f"unreadable CSV header: {exc}", source=source) from exc
    width = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    rejections: list[Rejection] = []
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rejections.append(Rejection(source, previous_end + 1, None, f"unreadable CSV record: {exc}"))
            previous_end = reader.line_num
            continue
        start, previous_end = previous_end + 1, reader.line_num
        if len(row) != width:
            if row:
                rejections.append(
                    Rejection(source, start, None, f"expected {width} columns, found {len(row)}", excerpt(",".join(row)))
                )
            continue
        rows.append(row)
        lines.append(start)
        if len(rows) >= batch_size:
            yield header, *_checked(rows, lines, rejections, header, source)
            rows, lines, rejections = [], [], []
    if rows or rejections:
        yield header, *_checked(rows, lines, rejections, header, source)


def _checked(
    rows: list[list[str]], lines: list[int], rejections: list[Rejection], header: list[str], source: str
) -> tuple[list[list[str]], list[int], list[Rejection]]:
    if not _has_invalid_text(rows):
        return rows, lines, rejections
    kept_rows, kept_lines = [], []
    for row, line in zip(rows, lines, strict=True):
        bad = _invalid_field(row)
        if bad is None:
            kept_rows.append(row)
            kept_lines.append(line)
        else:
            shown = row[bad].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            rejections.append(Rejection(source, line, header[bad], "invalid UTF-8", excerpt(shown)))
    return kept_rows, kept_lines, rejections


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
        spec = self.spec
        checked = False
        for header, rows, lines, rejections in read_csv_rows(stream, source, batch_size, spec.delimiter):
            if not checked:
                missing = [c for c in spec.required if c not in header]
                if missing:
                    raise mismatch(self, source, f"missing columns {', '.join(missing)} (header: {', '.join(header)[:200]})")
                checked = True
            index = {column: i for i, column in enumerate(header)}
            transposed = list(zip(*rows, strict=True)) if rows else [()] * len(header)
            columns: Columns = {
                raw: list(transposed[index[column]]) for raw, column in spec.fields.items() if column in index
            }
            for raw, value in spec.constants.items():
                columns[raw] = [value] * len(rows)
            if spec.prepare is not None and rows:
                columns, lines, extra = spec.prepare(columns, lines, source)
                rejections = rejections + extra
            yield RawBatch(columns, lines, rejections)
