"""What an ingest format is: something that recognises its input and reads it into raw batches."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, ClassVar, TypeAlias

import pyarrow as pa

__all__ = ["IngestFormat", "RawBatch", "RawColumn", "ReadAgain", "Rejection"]

EXCERPT_CHARS = 300


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that was not stored, with where it was and why."""

    source: str
    line: int | None
    field: str | None
    reason: str
    excerpt: str = ""

    def describe(self) -> str:
        place = self.source + (f", line {self.line}" if self.line is not None else "")
        place += f", field {self.field!r}" if self.field else ""
        return f"{place}: {self.reason}"


def excerpt(text: object) -> str:
    """A short, safe excerpt of a rejected record for the quarantine."""
    value = text if isinstance(text, str) else repr(text)
    value = value.encode("utf-8", "replace").decode("utf-8")
    return value if len(value) <= EXCERPT_CHARS else value[:EXCERPT_CHARS] + "…"


class ReadAgain(Exception):  # a signal, not an error: it never reaches a user
    """Raised by ``IngestFormat.read_speculative`` when the input turned out to need the exact reader.

    What it yielded is void: the caller discards it and reads the input again with ``read``.
    """


RawColumn: TypeAlias = list[object] | pa.Array
"""The values of one raw field: Python values, or an Arrow array of strings (the fast path)."""


@dataclass
class RawBatch:
    """Records as a format read them: one list per raw field (see ``schema.RAW_FIELDS``), all the same length.

    ``lines`` holds the line (or record number) where each record starts; rejections are records
    the format could not read at all.
    """

    columns: dict[str, RawColumn] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)

    @classmethod
    def from_records(
        cls, records: list[Mapping[str, object]], lines: list[int], rejections: list[Rejection]
    ) -> RawBatch:
        names: dict[str, None] = {}
        for record in records:
            names.update(dict.fromkeys(record))
        columns: dict[str, RawColumn] = {name: [record.get(name) for record in records] for name in names}
        return cls(columns, lines, rejections)


class IngestFormat(ABC):
    """One input format. Subclass it in a module of ``rrm.corpus.formats`` and ``register`` an instance.

    ``read`` yields batches of at most ``batch_size`` records and never raises for a bad record: it
    reports it as a ``Rejection`` and goes on. It raises ``FormatMismatchError`` when the input as a
    whole is not in this format.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    platform: ClassVar[str] = "unknown"
    time_formats: ClassVar[tuple[str, ...]] = ()
    """strptime patterns tried after unix time and ISO 8601 when parsing this format's times."""

    @abstractmethod
    def sniff(self, head: bytes, name: str) -> float:
        """How sure (0 to 1) this format is that an input starting with ``head`` is its own."""

    @abstractmethod
    def read(self, stream: IO[bytes], source: str, batch_size: int) -> Iterator[RawBatch]:
        """The records of ``stream`` in batches."""

    def read_speculative(self, stream: IO[bytes], source: str, batch_size: int) -> Iterator[RawBatch]:
        """Like ``read``, but may assume the input is regular and raise ``ReadAgain`` (at any point, even
        after the last batch) when it was not; the caller then discards what it got and calls ``read``.
        Formats without a faster optimistic reader simply ``read``."""
        return self.read(stream, source, batch_size)
