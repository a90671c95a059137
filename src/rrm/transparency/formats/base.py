"""What a money format is: it recognises its input and reads it into ads, donations and rejections."""

from __future__ import annotations

import csv
import io
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from rrm.corpus.formats.base import Rejection, excerpt
from rrm.errors import InputError
from rrm.transparency.schema import Ad, Donation

__all__ = ["Committee", "CsvRow", "MoneyFormat", "ParseResult", "ReadOptions", "Rejection", "csv_rows", "excerpt"]

MAX_FIELD = 1_000_000


@dataclass(frozen=True, slots=True)
class Committee:
    """A recipient of the FEC committee master: the names and parties behind committee ids."""

    cmte_id: str
    name: str
    party: str | None
    treasurer: str | None
    city: str | None
    state: str | None
    designation: str | None
    committee_type: str | None
    candidate_id: str | None


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What the caller knows that the file may not say: the audience's country, the currency."""

    country: str | None = None
    currency: str | None = None


@dataclass
class ParseResult:
    ads: list[Ad] = field(default_factory=list)
    donations: list[Donation] = field(default_factory=list)
    committees: list[Committee] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def records(self) -> int:
        return len(self.ads) + len(self.donations) + len(self.committees)


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    values: dict[str, str]
    raw: str


class MoneyFormat(ABC):
    """One input format. Subclass it and ``register`` an instance (see ``registry``)."""

    name: ClassVar[str]
    description: ClassVar[str]
    kind: ClassVar[str]
    """``ads``, ``donations`` or ``reference``."""

    @abstractmethod
    def sniff(self, head: str, path: Path) -> float:
        """How sure (0 to 1) this format is that a file starting with ``head`` is its own."""

    @abstractmethod
    def read(self, path: Path, options: ReadOptions) -> ParseResult:
        """Read the file; a bad record becomes a ``Rejection``, never an exception or a silent zero."""


def header_of(head: str) -> list[str]:
    """The first CSV row of ``head`` (BOM stripped), for sniffing."""
    first = head.lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    try:
        return [cell.strip() for cell in next(csv.reader([first]))]
    except (StopIteration, csv.Error):
        return []


def csv_rows(path: Path, required: tuple[str, ...], *, delimiter: str = ",") -> Iterator[CsvRow]:
    """Rows of a CSV file with a header, with the line each starts on. Missing required columns fail the file."""
    csv.field_size_limit(MAX_FIELD)
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        text = handle.read()
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        raise InputError("the file is empty", source=str(path), line=1) from None
    except csv.Error as exc:
        raise InputError(f"unreadable CSV header: {exc}", source=str(path), line=1) from exc
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(
            "missing column(s) " + ", ".join(repr(m) for m in missing) + f"; the header has {header!r}",
            source=str(path), line=1,
        )
    lines = text.splitlines()
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"broken CSV: {exc}", source=str(path), line=reader.line_num) from exc
        end = reader.line_num
        raw = "\n".join(lines[start - 1 : end])
        if cells and any(cell.strip() for cell in cells):
            if len(cells) != len(header):
                values = {"__width__": f"{len(cells)} cells where the header has {len(header)}"}
            else:
                values = {name: cell for name, cell in zip(header, cells, strict=True)}
            yield CsvRow(start, values, raw)
        start = end + 1
