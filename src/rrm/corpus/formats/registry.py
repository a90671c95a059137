"""The registry of ingest formats.

Built-in formats are modules of this package that call ``register`` when imported; every module here
is imported on first use, so adding a format is adding one module. Other packages add formats through
the ``rrm.formats`` entry-point group, each entry point naming a callable that returns an
``IngestFormat``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from importlib.metadata import entry_points

from rrm.corpus.formats.base import IngestFormat
from rrm.errors import FormatMismatchError, UnknownFormatError

__all__ = ["FormatFactory", "all_formats", "detect", "get_format", "register"]

FormatFactory = Callable[[dict[str, str]], IngestFormat]
"""Builds a format from command-line options (``--map field=column`` for the mapping formats)."""

_FACTORIES: dict[str, FormatFactory] = {}
_DESCRIPTIONS: dict[str, str] = {}
_SNIFFABLE: dict[str, IngestFormat] = {}
_loaded = False


def register(name: str, description: str, factory: FormatFactory, *, sniffable: bool = True) -> None:
    """Make a format available under ``name``. Sniffable formats take part in detection."""
    _FACTORIES[name] = factory
    _DESCRIPTIONS[name] = description
    if sniffable:
        _SNIFFABLE[name] = factory({})


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    package = importlib.import_module("rrm.corpus.formats")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in {"base", "registry", "csv_table", "csv_lines"}:
            importlib.import_module(f"rrm.corpus.formats.{module.name}")
    for entry in entry_points(group="rrm.formats"):
        factory: FormatFactory = entry.load()
        sample = factory({})
        register(sample.name, sample.description, factory)


def all_formats() -> dict[str, str]:
    """Every registered format's name and description."""
    _load()
    return dict(sorted(_DESCRIPTIONS.items()))


def get_format(name: str, options: dict[str, str] | None = None) -> IngestFormat:
    _load()
    if name not in _FACTORIES:
        known = ", ".join(sorted(_FACTORIES))
        raise UnknownFormatError(f"unknown format {name!r}; known formats: {known}")
    return _FACTORIES[name](options or {})


def detect(head: bytes, source: str) -> IngestFormat:
    """The format most sure that ``head`` is its own."""
    _load()
    scored = sorted(((fmt.sniff(head, source), name) for name, fmt in _SNIFFABLE.items()), reverse=True)
    if not scored or scored[0][0] <= 0.0:
        raise UnknownFormatError(
            "no known format recognises this input; name one with --format (see 'rrm formats')", source=source
        )
    return _SNIFFABLE[scored[0][1]]


def mismatch(fmt: IngestFormat, source: str, detail: str) -> FormatMismatchError:
    return FormatMismatchError(f"does not look like {fmt.name}: {detail}", source=source)
