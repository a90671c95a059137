"""The ``rrm`` command: a thin layer over the library. Library errors become messages here, and only here."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import typer
from typer.core import TyperGroup

from rrm.cli.options import err_console, shown
from rrm.errors import InputError, RRMError

__all__ = ["app", "main"]


class _RRMGroup(TyperGroup):
    """Turns RRM's exceptions into one-line messages and exit codes (1: error, 2: bad input)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except RRMError as error:
            err_console.print(f"[red]Error:[/] {shown(error.message)}")
            raise typer.Exit(2 if isinstance(error, InputError) else 1) from error


app = typer.Typer(
    cls=_RRMGroup,
    name="rrm",
    help="RRM: a Rapid Response Mechanism against foreign information manipulation and interference (FIMI).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



def _register_commands() -> None:
    """Every module ``rrm.cli.*_commands`` adds its commands through its ``register(app)``."""
    import rrm.cli

    for module in sorted(pkgutil.iter_modules(rrm.cli.__path__), key=lambda m: m.name):
        if module.name.endswith("_commands"):
            importlib.import_module(f"rrm.cli.{module.name}").register(app)


_register_commands()


def main() -> None:
    app()
