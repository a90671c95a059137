"""The ``rrm`` command: a thin layer over the library. Library errors become messages here, and only here.

Commands live in modules ``rrm.cli.*_commands``, each with a ``register(app)`` function. A command's
module is imported only when that command runs (``COMMAND_MODULES`` says where each one lives), so
``rrm ingest`` does not pay for loading the web server, detection or entity resolution. A command
module missing from that table still works: it is imported at start-up to learn its commands, and
a test keeps the table complete. ``rrm --help`` lists the commands from ``COMMAND_SUMMARIES`` and imports
none of their modules (importing them all took about 4 s); a test keeps those summaries equal to the
commands' own help.
"""

from __future__ import annotations

import gc
import importlib
import pkgutil
from functools import cache
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from rrm.cli.options import err_console, shown
from rrm.errors import InputError, RRMError

__all__ = ["COMMAND_MODULES", "COMMAND_SUMMARIES", "app", "main"]

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

COMMAND_SUMMARIES: dict[str, str] = {
    "ingest": "Ingest social-media data into the corpus: one batch per input, duplicates skipped, bad records quarantined.",
    "formats": "List the input formats RRM reads.",
    "corpus": "Look at and export the corpus of posts and accounts.",
    "demo": "Generate a scenario with planted campaigns into <workspace>/demo/, ingest it and run every stage.",
    "detect": "Find accounts that act together: co-action edges, tested against a null model, fused into communities.",
    "findings": "The communities of the latest (or a given) detection run, with their scores.",
    "explain": "Why a community (or the edge between two accounts) is flagged: behaviours, evidence posts, null-model figures.",
    "evaluate": "Score a run's communities against labelled accounts: precision, recall, F1, adjusted Rand index.",
    "export": "Export a run's network (GEXF, GraphML, CSV, JSON) or its HTML report.",
    "report": "Write the self-contained HTML report of a run (same as: rrm export --format html).",
    "disarm": "Look up the DISARM red (techniques) and blue (countermeasures) frameworks.",
    "tlp": "List the TLP 2.0 levels, least restrictive first, with their definitions.",
    "admiralty": "The Admiralty code: source reliability A-F, information credibility 1-6, and STIX confidence.",
    "breakout": "Ben Nimmo's Breakout Scale: categories 1-6 (paraphrased).",
    "exposure": "The EEAS FIMI exposure matrix: how channels are tied to a state (a summary, not official text).",
    "incident": "Open, assess, share and respond to incidents.",
    "users": "Local users and their roles (viewer, analyst, lead).",
    "partners": "Partner organisations.",
    "lessons": "Lessons learned from closed incidents.",
    "cases": "The cases database.",
    "audit": "The audit log: who did what and when, with what changed.",
    "share": "Share incidents with partners: STIX 2.1 and MISP, preview, import, revoke.",
    "sync": "Sync with partner TAXII 2.1 nodes: pull what is new there, push what is new here.",
    "serve": "Serve the RRM web application (TAXII 2.1 under /taxii2/ and /api1/) with uvicorn.",
    "taxii": "Manage the TAXII 2.1 node: collections, partners, credentials, rights.",
    "money": "Political ads and party funding: ingest, search, flags, export, report.",
}
"""Top-level command → what ``rrm --help`` says of it: the first paragraph of the command's own help."""


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

    listing_from_summaries = True
    """While its help is drawn, the group's commands are stand-ins made from ``COMMAND_SUMMARIES``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drawing_help = False

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._drawing_help = self.listing_from_summaries
        try:
            super().format_help(ctx, formatter)
        finally:
            self._drawing_help = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(_all_commands())

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if self._drawing_help and cmd_name in COMMAND_SUMMARIES:
            return TyperCommand(name=cmd_name, help=COMMAND_SUMMARIES[cmd_name])
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
    try:
        app()
    finally:
        # Everything is written and closed by now. Python's collections at exit walked every object a
        # command left behind (0.15 to 0.2 s after an ingest); frozen objects are not walked, and are
        # still freed, with the process's memory, when it ends.
        gc.freeze()
