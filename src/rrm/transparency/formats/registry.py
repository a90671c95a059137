"""The registry of money formats, and detection of a file's format from its content.

Built-in formats are the modules of this package; each calls ``register`` when imported. A format of
another package is added the same way, by calling ``register`` with an instance.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from rrm.errors import FormatMismatchError, InputError, UnknownFormatError
from rrm.transparency.formats.base import MoneyFormat

__all__ = ["all_formats", "detect", "get_format", "register"]

_FORMATS: dict[str, MoneyFormat] = {}
_loaded = False
HEAD_BYTES = 16_384


def register(fmt: MoneyFormat) -> None:
    _FORMATS[fmt.name] = fmt


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    package = importlib.import_module("rrm.transparency.formats")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in {"base", "registry"}:
            importlib.import_module(f"rrm.transparency.formats.{module.name}")


def all_formats() -> dict[str, MoneyFormat]:
    _load()
    return dict(sorted(_FORMATS.items()))


def read_head(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    return data.decode("utf-8-sig", errors="replace")


def get_format(name: str) -> MoneyFormat:
    formats = all_formats()
    if name not in formats:
        raise UnknownFormatError(f"no money format {name!r}; known: {', '.join(formats)}")
    return formats[name]


def detect(path: Path, declared: str | None = None) -> MoneyFormat:
    """The format of ``path``: the declared one if the content agrees, else the most confident sniffer."""
    head = read_head(path)
    if declared is not None:
        fmt = get_format(declared)
        if fmt.sniff(head, path) < 0.5:
            best = _best(head, path)
            found = f"; it looks like {best.name!r}" if best is not None else ""
            raise FormatMismatchError(f"the content is not in the declared format {declared!r}{found}", source=str(path))
        return fmt
    best = _best(head, path)
    if best is None:
        raise UnknownFormatError("no money format recognises this file", source=str(path))
    return best


def _best(head: str, path: Path) -> MoneyFormat | None:
    scored = sorted(((fmt.sniff(head, path), fmt.name) for fmt in all_formats().values()), reverse=True)
    if not scored or scored[0][0] < 0.5:
        return None
    return _FORMATS[scored[0][1]]
