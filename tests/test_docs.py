"""The documentation stays honest: every command is documented, and the README's test command is what CI runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from rrm.cli.app import app

ROOT = Path(__file__).resolve().parents[1]


def _command_paths() -> list[str]:
    root = typer.main.get_command(app)
    paths: list[str] = []

    def walk(command: object, prefix: str) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, f"{prefix} {name}")
        else:
            paths.append(prefix)

    walk(root, "rrm")
    return sorted(paths)


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
