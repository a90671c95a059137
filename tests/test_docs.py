"""The documentation stays honest: every command is documented, and the README's test command is what CI runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from rrm.cli.app import app

ROOT = Path(__file__).resolve().parents[1]


def _command_paths() -> list[str]:
    root = typer.main.get_command(app)
    paths: list[str] = []

    def walk(command: Any, prefix: str) -> None:
        if hasattr(command, "list_commands"):  # a group (Typer vendors its own click: no isinstance)
            context = root.context_class(command)
            for name in command.list_commands(context):
                child = command.get_command(context, name)
                assert child is not None, f"{prefix} {name} is listed but cannot be loaded"
                walk(child, f"{prefix} {name}")
        else:
            paths.append(prefix)

    walk(root, "rrm")
    assert len(paths) > 50, paths  # the walk must reach the commands, not stop at the root
    return sorted(paths)


def test_command_table_is_complete() -> None:
    """Every command of every ``*_commands`` module is in ``COMMAND_MODULES``, so none is loaded at start-up."""
    from rrm.cli.app import COMMAND_MODULES, _command_module_names, _commands_of

    registered = {name for module in _command_module_names() for name in _commands_of((module,))}
    assert registered == set(COMMAND_MODULES)
    for name, modules in COMMAND_MODULES.items():
        assert name in _commands_of(modules), (name, modules)


def _loaded_after(arguments: list[str], wanted: str) -> str:
    """In a fresh interpreter, run ``rrm ARGUMENTS`` and print the sorted modules ``wanted`` (an expression
    over ``m``, a name in ``sys.modules``) selects."""
    code = (
        "import sys; from typer.testing import CliRunner; from rrm.cli.app import app; "
        f"r = CliRunner().invoke(app, {arguments!r}); assert r.exit_code == 0, r.output; "
        f"print(sorted(m for m in list(sys.modules) if {wanted}))"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_a_command_loads_only_its_module() -> None:
    assert _loaded_after(["formats"], "m in ('fastapi', 'scipy', 'splink', 'sqlalchemy', 'igraph')") == "[]"


def test_help_lists_commands_without_loading_them() -> None:
    """``rrm --help`` imported every command module (about 4 s); it now reads ``COMMAND_SUMMARIES``."""
    assert _loaded_after(["--help"], "m.startswith('rrm.cli.') and m.endswith('_commands')") == "[]"


def test_help_summaries_are_the_commands_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """The listing drawn from ``COMMAND_SUMMARIES`` is the one drawn from the commands themselves."""
    from typer.testing import CliRunner

    from rrm.cli.app import COMMAND_MODULES, COMMAND_SUMMARIES, _RRMGroup

    assert list(COMMAND_SUMMARIES) == list(COMMAND_MODULES)
    runner = CliRunner(env={"COLUMNS": "250", "TERMINAL_WIDTH": "250"})
    from_summaries = runner.invoke(app, ["--help"])
    monkeypatch.setattr(_RRMGroup, "listing_from_summaries", False)
    from_commands = runner.invoke(app, ["--help"])
    assert from_summaries.exit_code == from_commands.exit_code == 0
    assert "money" in from_summaries.output and "Political ads and party funding" in from_summaries.output
    assert from_summaries.output == from_commands.output


def _docs() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


@pytest.mark.parametrize("command", _command_paths())
def test_every_command_is_documented(command: str) -> None:
    assert command in _docs(), f"'{command}' is not mentioned in README.md or docs/*.md"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in ci.splitlines() if line.startswith("python -m pip install"))
    assert command in readme


def test_architecture_names_every_package() -> None:
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = [p.name for p in (ROOT / "src" / "rrm").iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    missing = [name for name in packages if f"`{name}/" not in architecture]
    assert missing == []
