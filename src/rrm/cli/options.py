"""Options shared by every command, so that they behave the same everywhere."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from rrm.workspace import Workspace

__all__ = ["JsonOption", "WorkspaceOption", "console", "err_console", "print_json", "shown", "workspace_of"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", envvar="RRM_HOME", help="Workspace folder [default: ./rrm-workspace]", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def shown(text: object) -> str:
    """Adversary text made safe for a terminal: control characters (ANSI escape sequences, bidi
    overrides, newlines) written as ``\\x1b``-style codes, and Rich markup escaped."""
    if text is None:
        return ""
    value = text if isinstance(text, str) else str(text)
    return escape(_UNPRINTABLE.sub(lambda m: "\\" + ascii(m.group())[2:-1].lstrip("\\"), value))


def workspace_of(path: Path | None) -> Workspace:
    return Workspace.resolve(path).ensure()


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(value: Any) -> None:
    """Print ``value`` (dataclasses, lists, dicts) as JSON on standard output."""
    typer.echo(json.dumps(_plain(value), indent=2, ensure_ascii=False))
