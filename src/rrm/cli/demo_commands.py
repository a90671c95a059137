"""``rrm demo``: the whole pipeline on a generated scenario, on a fresh machine with no data."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    pass
