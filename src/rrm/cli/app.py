"""The ``rrm`` command: a thin layer over the library. Library errors become messages here, and only here.

Commands live in modules ``rrm.cli.*_commands``, each with a ``register(app)`` function. A command's
module is imported only when that command runs (``COMMAND_MODULES`` says where each one lives), so
``rrm ingest`` does not pay for loading the web server, detection or entity resolution. A command
module missing from that table still works: it is imported at start-up to learn its commands, and
a test keeps the table complete.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

import typer
from typer.core import TyperGroup

from rrm.cli.options import err_console, shown
from rrm.errors import InputError, RRMError

__all__ = ["COMMAND_MODULES", "app", "main"]

COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "ingest": ("corpus_commands",),
    "formats": ("corpus_commands",),
    "corpus": ("corpus_commands",),
    "demo": ("demo_commands",),
    "detect": ("detect_commands",),
    "findings": ("detect_commands",),
    "explain": ("detect_commands",),
    "evaluate": ("evaluate_commands",),
    "export": ("evaluate_commands",),
    "report": ("evaluate_commands",),
    "disarm": ("frameworks_commands",),
    "tlp": ("frameworks_commands",),
    "admiralty": ("frameworks_commands",),
    "breakout": ("frameworks_commands",),
    "exposure": ("frameworks_commands",),
    "incident": ("cases_commands",),
    "users": ("cases_commands",),
    "partners": ("cases_commands", "sync_commands"),
    "lessons": ("cases_commands",),
    "cases": ("cases_commands",),
    "audit": ("cases_commands",),
    "share": ("share_commands",),
    "sync": ("sync_commands",),
    "serve": ("taxii_commands",),
    "taxii": ("taxii_commands",),
    "money": ("money_commands",),
}
"""Top-level command → the modules that register it (in order), imported when it is used."""


def _command_module_names() -> list[str]:
    import rrm.cli

    return sorted(m.name for m in pkgutil.iter_modules(rrm.cli.__path__) if m.name.endswith("_commands"))


@cache
def _commands_of(modules: tuple[str, ...]) -> dict[str, Any]:
    """The click commands that ``modules`` register, built on a scratch Typer app."""
    scratch = typer.Typer()
    scratch.callback()(lambda: None)  # a group, even when a module registers one command
    for module in modules:
        importlib.import_module(f"rrm.cli.{module}").register(scratch)
    group = typer.main.get_command(scratch)
    return dict(getattr(group, "commands", {}))


@cache
def _unlisted() -> dict[str, tuple[str, ...]]:
    listed = {module for modules in COMMAND_MODULES.values() for module in modules}
    found: dict[str, tuple[str, ...]] = {}
    for module in _command_module_names():
        if module not in listed:
            for name in _commands_of((module,)):
                found[name] = (module,)
    return found


def _all_commands() -> dict[str, tuple[str, ...]]:
    return {**COMMAND_MODULES, **_unlisted()}


class _RRMGroup(TyperGroup):
    """Loads commands on demand; turns RRM's exceptions into one-line messages and exit codes (1: error, 2: bad input)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(_all_commands())

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        modules = _all_commands().get(cmd_name)
        if modules is None:
            return None
        return _commands_of(modules).get(cmd_name)

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


@app.callback()
def _root() -> None:
    """RRM: a Rapid Response Mechanism against foreign information manipulation and interference (FIMI)."""


def main() -> None:
    app()
