"""Any CSV or JSON Lines file, read through a column mapping given on the command line.

``rrm ingest data.csv --format csv --map post_id=id --map account_id=user --map created_at=time``
maps raw fields (``schema.RAW_FIELDS``) to the columns of a CSV header; with ``--format jsonl`` the
columns are dotted paths into each JSON object (``--map account_id=user.id``; a path crossing a list
collects from every element: ``--map urls=entities.urls.expanded_url``; a number picks one element).
Besides fields, the mapping takes ``delimiter`` (CSV; one character, or ``tab``) and ``time_format``
(a strptime pattern tried after unix time and ISO 8601).

This module also holds the streaming reader of JSON records (``iter_json``) that the other JSON
formats share: JSON Lines, concatenated pretty-printed values, or the items of one top-level array,
read line by line with the line where each record starts, a bad record rejected and the next read.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, ClassVar

from rrm.corpus.formats.base import IngestFormat, RawBatch, Rejection, excerpt
from rrm.corpus.formats.csv_table import CsvSpec, CsvTableFormat
from rrm.corpus.formats.registry import FormatFactory, mismatch, register
from rrm.corpus.schema import LIST_FIELDS, RAW_FIELDS, REQUIRED_FIELDS
from rrm.errors import MappingError

__all__ = [
    "MAX_RECORD_BYTES",
    "OPTIONS",
    "FieldMapping",
    "JsonRecord",
    "LargeJsonRecord",
    "MappedCsvFormat",
    "MappedJsonFormat",
    "batched",
    "iter_json",
    "iter_json_spilling",
    "resolve_path",
    "text_value",
    "without_options",
]

MAX_RECORD_BYTES = 64 * 1024 * 1024
"""A JSON record (or a line) longer than this is rejected without being held in memory."""

SPILL_BYTES = 16 * 1024 * 1024
"""Where a reader accepts large records, one longer than this goes to an anonymous temporary file."""

OPTIONS = ("delimiter", "time_format")
"""Mapping entries that are settings rather than fields."""

_TOKEN = re.compile(rb'"(?:[^"\\\n]|\\.)*"|[{}\[\]"]')
_BLANK = re.compile(rb"[\s,]*")
_BOM = b"\xef\xbb\xbf"


# --- streaming JSON records -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JsonRecord:
    """One JSON value read from an input, with the line where it starts."""

    line: int
    value: object


@dataclass(frozen=True, slots=True)
class LargeJsonRecord:
    """A record too large to hold in memory, in a seekable temporary file for an incremental parser.

    The file may hold several concatenated values (a long line of them); the reader closes it.
    """

    line: int
    file: IO[bytes]


class _Scanner:
    """Splits a byte stream into JSON records by bracket depth, outside strings, one line at a time.

    JSON strings cannot hold raw newlines, so a line can be tokenised on its own: an unterminated
    string marks the line as corrupt, the record it belongs to is rejected, and reading goes on.
    """

    def __init__(self, source: str, level: int, spill_bytes: int | None) -> None:
        self.source = source
        self.spill_bytes = spill_bytes
        self.line_limit = spill_bytes or MAX_RECORD_BYTES
        self.spilled: IO[bytes] | None = None
        self.level = level  # depth at which records sit: 0 for top-level values, 1 for items of an array
        self.depth = 0
        self.parts: list[bytes] = []
        self.size = 0
        self.start = 0
        self.stray_line = -1
        self.one_per_line: bool | None = None
        """JSON Lines (each record on one line) when the first record goes on after its opening bracket."""

    def line(self, number: int, data: bytes) -> Iterator[JsonRecord | LargeJsonRecord | Rejection]:
        if self.depth == self.level and not self.parts:
            stripped = data.strip().rstrip(b",")
            if stripped[:1] == b"{" and stripped[-1:] == b"}":
                try:
                    yield JsonRecord(number, json.loads(stripped))
                    return
                except (ValueError, RecursionError):
                    pass  # scanned below, which names the problem
        outside = 0
        begin = 0
        for match in _TOKEN.finditer(data):
            token = match.group()
            if token == b'"':
                if self.depth > self.level:
                    yield self._reject(f"invalid JSON: unterminated string on line {number}", data)
                    self.depth = self.level
                else:
                    yield from self._stray(number, data[outside:])
                return
            if token[:1] == b'"':
                continue
            if self.depth < self.level:
                if token == b"[":
                    yield from self._stray(number, data[outside : match.start()])
                    self.depth = self.level
                    outside = match.end()
                continue
            if self.depth == self.level:
                if token in (b"{", b"["):
                    yield from self._stray(number, data[outside : match.start()])
                    self.start, begin, self.depth = number, match.start(), self.depth + 1
                    if self.one_per_line is None:
                        self.one_per_line = bool(data[match.end() :].strip())
                elif token == b"]" and self.level == 1:
                    yield from self._stray(number, data[outside : match.start()])
                    self.depth, outside = 0, match.end()
                continue
            self.depth += 1 if token in (b"{", b"[") else -1
            if self.depth == self.level:
                self._keep(data[begin : match.end()])
                yield self._finish()
                outside = match.end()
        if self.depth > self.level and self.one_per_line:
            yield self._reject("invalid JSON: the line ends inside the record", data)
            self.depth = self.level
        elif self.depth > self.level:
            self._keep(data[begin:])
        else:
            yield from self._stray(number, data[outside:])

    def end(self) -> Iterator[Rejection]:
        if self.depth > self.level:
            yield self._reject("invalid JSON: the input ends inside this record", b"".join(self.parts))

    def too_long(self, number: int, data: bytes, stream: IO[bytes]) -> LargeJsonRecord | Rejection:
        """A line over the limit: kept whole in a file when spilling and it starts a record, else dropped."""
        if self.spill_bytes is not None and self.depth == self.level and data.lstrip()[:1] == b"{":
            spilled = tempfile.TemporaryFile()  # noqa: SIM115 -- the reader closes it
            spilled.write(data)
            while rest := stream.readline(self.line_limit):
                spilled.write(rest)
                if rest.endswith(b"\n"):
                    break
            spilled.seek(0)
            return LargeJsonRecord(number, spilled)
        while (rest := stream.readline(self.line_limit)) and not rest.endswith(b"\n"):
            pass
        self.depth = min(self.depth, self.level)
        self._drop()
        return Rejection(self.source, number, None, f"line longer than {self.line_limit:,} bytes")

    def _drop(self) -> None:
        self.parts, self.size = [], 0
        if self.spilled is not None:
            self.spilled.close()
            self.spilled = None

    def _keep(self, part: bytes) -> None:
        self.size += len(part)
        if self.spilled is not None:
            self.spilled.write(part)
        elif self.spill_bytes is not None and self.size > self.spill_bytes:
            self.spilled = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the reader, which closes it
            for kept in self.parts:
                self.spilled.write(kept)
            self.spilled.write(part)
            self.parts = []
        elif self.size <= MAX_RECORD_BYTES:
            self.parts.append(part)

    def _finish(self) -> JsonRecord | LargeJsonRecord | Rejection:
        if self.spilled is not None:
            spilled, self.spilled, self.size = self.spilled, None, 0
            spilled.seek(0)
            return LargeJsonRecord(self.start, spilled)
        data = b"".join(self.parts)
        oversize = self.size > MAX_RECORD_BYTES
        self.parts, self.size = [], 0
        if oversize:
            return Rejection(self.source, self.start, None, f"record larger than {MAX_RECORD_BYTES:,} bytes",
                             excerpt(data[:400].decode("utf-8", "replace")))
        try:
            return JsonRecord(self.start, json.loads(data))
        except (ValueError, RecursionError) as exc:
            return Rejection(self.source, self.start, None, f"invalid JSON: {_json_problem(exc)}",
                             excerpt(data[:400].decode("utf-8", "replace")))

    def _reject(self, reason: str, data: bytes) -> Rejection:
        self._drop()
        return Rejection(self.source, self.start, None, reason, excerpt(data[:400].decode("utf-8", "replace")))

    def _stray(self, number: int, text: bytes) -> Iterator[Rejection]:
        if _BLANK.fullmatch(text) is None and self.stray_line != number - 1:
            yield Rejection(self.source, number, None, "unexpected text outside a JSON record",
                            excerpt(text.strip().decode("utf-8", "replace")))
        if _BLANK.fullmatch(text) is None:
            self.stray_line = number


def _json_problem(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, UnicodeDecodeError):
        return "invalid UTF-8"
    return str(exc)


def iter_json(stream: IO[bytes], source: str, fmt: IngestFormat) -> Iterator[JsonRecord | Rejection]:
    """The JSON records of ``stream``: JSON Lines, concatenated values, or the items of one array.

    Memory holds one record at a time; a record over ``MAX_RECORD_BYTES`` is rejected. Raises
    ``FormatMismatchError`` when the input does not start with ``{`` or ``[``.
    """
    for item in _iter_json(stream, source, fmt, None):
        assert not isinstance(item, LargeJsonRecord)
        yield item


def iter_json_spilling(
    stream: IO[bytes], source: str, fmt: IngestFormat, spill_bytes: int = SPILL_BYTES
) -> Iterator[JsonRecord | LargeJsonRecord | Rejection]:
    """As ``iter_json``, but a record over ``spill_bytes`` comes as a ``LargeJsonRecord``, whatever its size."""
    return _iter_json(stream, source, fmt, spill_bytes)


def _iter_json(
    stream: IO[bytes], source: str, fmt: IngestFormat, spill_bytes: int | None
) -> Iterator[JsonRecord | LargeJsonRecord | Rejection]:
    limit = spill_bytes or MAX_RECORD_BYTES
    scanner: _Scanner | None = None
    number = 0
    while True:
        data = stream.readline(limit + 1)
        if not data:
            break
        number += 1
        too_long = len(data) > limit and not data.endswith(b"\n")
        if scanner is None:
            if number == 1 and data.startswith(_BOM):
                data = data[len(_BOM):]
            first = data.lstrip()[:1]
            if not first and not too_long:
                continue
            if first not in (b"{", b"["):
                shown = data.strip()[:80].decode("utf-8", "replace")
                raise mismatch(fmt, source, f"line {number} starts with {shown!r}, not a JSON object or array")
            scanner = _Scanner(source, 1 if first == b"[" else 0, spill_bytes)
        if too_long:
            yield scanner.too_long(number, data, stream)
            continue
        yield from scanner.line(number, data)
    if scanner is not None:
        yield from scanner.end()


def batched(
    items: Iterable[tuple[int, Mapping[str, object]] | Rejection], batch_size: int
) -> Iterator[RawBatch]:
    """Raw batches of at most ``batch_size`` records (and rejections) from ``(line, record)`` pairs."""
    records: list[Mapping[str, object]] = []
    lines: list[int] = []
    rejections: list[Rejection] = []
    for item in items:
        if isinstance(item, Rejection):
            rejections.append(item)
        else:
            lines.append(item[0])
            records.append(item[1])
        if len(records) >= batch_size or len(rejections) >= batch_size:
            yield RawBatch.from_records(records, lines, rejections)
            records, lines, rejections = [], [], []
    if records or rejections:
        yield RawBatch.from_records(records, lines, rejections)


# --- values -------------------------------------------------------------------------------------


def resolve_path(value: object, path: tuple[str, ...]) -> object:
    """The value at a dotted ``path``; crossing a list collects from every element (a number picks one)."""
    for i, segment in enumerate(path):
        if isinstance(value, dict):
            value = value.get(segment)
        elif isinstance(value, list):
            if re.fullmatch(r"-?\d+", segment):
                index = int(segment)
                value = value[index] if -len(value) <= index < len(value) else None
            else:
                found: list[object] = []
                for item in value:
                    inner = resolve_path(item, path[i:])
                    found.extend(inner if isinstance(inner, list) else [] if inner is None else [inner])
                return found
        else:
            return None
        if value is None:
            return None
    return value


def text_value(value: object) -> str | None:
    """A JSON scalar as the text a raw field holds (objects and arrays as compact JSON)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (RecursionError, ValueError):
        return "(nested too deeply to show)"


def _field_value(field: str, value: object) -> object:
    if field in LIST_FIELDS:
        if isinstance(value, list):
            return [t for t in (text_value(v) for v in value) if t is not None]
        return text_value(value)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return text_value(value)


def without_options(name: str, make: Callable[[], IngestFormat]) -> FormatFactory:
    """The factory of a format that takes no ``--map``: given one, it raises ``MappingError``."""

    def factory(options: dict[str, str]) -> IngestFormat:
        if options:
            raise MappingError(f"the {name} format takes no --map (only csv and jsonl do); got "
                               f"{', '.join(map(repr, options))}", field=next(iter(options)))
        return make()

    return factory


# --- the mapping --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldMapping:
    """A validated ``--map`` mapping: raw field → column (or dotted path), and the settings."""

    fields: Mapping[str, str]
    delimiter: str = ","
    time_format: str | None = None

    @classmethod
    def parse(cls, options: Mapping[str, str], format_name: str) -> FieldMapping:
        """Raises ``MappingError`` naming unknown fields and unmapped required fields."""
        unknown = [name for name in options if name not in RAW_FIELDS and name not in OPTIONS]
        if unknown:
            raise MappingError(
                f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in the mapping "
                f"for {format_name}; fields are {', '.join(RAW_FIELDS)} (settings: {', '.join(OPTIONS)})",
                field=unknown[0],
            )
        fields = {name: column for name, column in options.items() if name in RAW_FIELDS}
        missing = [name for name in REQUIRED_FIELDS if name not in fields]
        if missing:
            example = " ".join(f"--map {name}=COLUMN" for name in missing)
            raise MappingError(
                f"the mapping for {format_name} must name the column of {', '.join(missing)} ({example})",
                field=missing[0],
            )
        delimiter = options.get("delimiter", ",")
        delimiter = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}.get(delimiter, delimiter)
        if len(delimiter) != 1 or delimiter in "\"\r\n":
            raise MappingError(f"the delimiter must be one character (or 'tab'), got {delimiter!r}", field="delimiter")
        return cls(fields, delimiter, options.get("time_format") or None)

    @property
    def time_formats(self) -> tuple[str, ...]:
        return (self.time_format,) if self.time_format else ()


class MappedCsvFormat(CsvTableFormat):
    """Any CSV, read through a mapping of raw fields to header columns."""

    def __init__(self, mapping: FieldMapping) -> None:
        self.mapping = mapping
        super().__init__(
            CsvSpec(
                name="csv",
                description="any CSV, with --map FIELD=COLUMN for each field",
                platform="unknown",
                fields=dict(mapping.fields),
                required=(),
                time_formats=mapping.time_formats,
                delimiter=mapping.delimiter,
            )
        )

    def sniff(self, head: bytes, name: str) -> float:
        return 0.0

    def read(self, stream: IO[bytes], source: str, batch_size: int) -> Iterator[RawBatch]:
        return self._checked(super().read(stream, source, batch_size), source)

    def read_speculative(self, stream: IO[bytes], source: str, batch_size: int) -> Iterator[RawBatch]:
        return self._checked(super().read_speculative(stream, source, batch_size), source)

    def _checked(self, batches: Iterator[RawBatch], source: str) -> Iterator[RawBatch]:
        """The batches, once the first has shown that every mapped column is in the header."""
        checked = False
        for batch in batches:
            if not checked:
                absent = [(f, c) for f, c in self.mapping.fields.items() if f not in batch.columns]
                if absent:
                    named = ", ".join(f"{column!r} (for {field})" for field, column in absent)
                    raise MappingError(f"mapped column{'s' if len(absent) > 1 else ''} {named} not in the header",
                                       source=source, line=1, field=absent[0][0])
                checked = True
            yield batch


class MappedJsonFormat(IngestFormat):
    """Any JSON Lines file (or concatenated objects, or one array of objects), read through dotted paths."""

    name: ClassVar[str] = "jsonl"
    description: ClassVar[str] = "any JSON Lines, with --map FIELD=PATH (dotted, e.g. user.id) for each field"
    platform: ClassVar[str] = "unknown"

    def __init__(self, mapping: FieldMapping) -> None:
        self.mapping = mapping
        self.time_formats = mapping.time_formats  # type: ignore[misc]
        self._paths = {field: tuple(path.split(".")) for field, path in mapping.fields.items()}

    def sniff(self, head: bytes, name: str) -> float:
        return 0.0

    def _records(self, stream: IO[bytes], source: str) -> Iterator[tuple[int, Mapping[str, object]] | Rejection]:
        for item in iter_json(stream, source, self):
            if isinstance(item, Rejection):
                yield item
            elif not isinstance(item.value, dict):
                yield Rejection(source, item.line, None, f"expected a JSON object, found {type(item.value).__name__}",
                                excerpt(text_value(item.value)))
            else:
                yield item.line, {
                    field: _field_value(field, resolve_path(item.value, path)) for field, path in self._paths.items()
                }

    def read(self, stream: IO[bytes], source: str, batch_size: int) -> Iterator[RawBatch]:
        checked = False
        for batch in batched(self._records(stream, source), batch_size):
            if not checked and len(batch):
                never = [f for f in REQUIRED_FIELDS if all(v is None for v in batch.columns.get(f, []))]
                if never:
                    named = ", ".join(f"{self.mapping.fields[f]!r} (for {f})" for f in never)
                    raise MappingError(f"no record of the first {len(batch):,} has the path {named}",
                                       source=source, field=never[0])
                checked = True
            yield batch


register("csv", "any CSV, with --map FIELD=COLUMN for each field (and delimiter=, time_format=)",
         lambda options: MappedCsvFormat(FieldMapping.parse(options, "csv")), sniffable=False)
register("jsonl", MappedJsonFormat.description,
         lambda options: MappedJsonFormat(FieldMapping.parse(options, "jsonl")), sniffable=False)
