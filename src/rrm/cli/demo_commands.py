"""``rrm demo``: the whole pipeline on a generated scenario, on a fresh machine with no data."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.status import Status

from rrm.cli.options import JsonOption, WorkspaceOption, console, err_console, print_json, workspace_of
from rrm.demo.pipeline import DemoSize, Stage, StageResult, demo_config, run_demo

__all__ = ["register"]


def demo_command(
    size: Annotated[DemoSize, typer.Option(help="small (seconds), medium (the default scenario) or large.")] = "small",
    seed: Annotated[int, typer.Option(help="Seed of the generated scenario: the same seed gives the same scenario.")] = 7,
    campaigns: Annotated[
        str | None,
        typer.Option(help="Comma-separated campaign kinds to plant [default: retweet-ring,copy-paste,link-farm,"
                          "hashtag-push]; reply-swarm and copypasta are also known.", show_default=False),
    ] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Generate a scenario with planted campaigns into <workspace>/demo/, ingest it and run every stage."""
    kinds = None if campaigns is None else tuple(k.strip() for k in campaigns.split(",") if k.strip())
    config = demo_config(size, seed, kinds)
    status = Status("Generating the scenario…", console=err_console)
    shown: list[tuple[str, StageResult]] = []

    def on_stage(stage: Stage) -> None:
        status.update(f"Running the [bold]{escape(stage.name)}[/] stage…")

    def on_result(stage: Stage, result: StageResult) -> None:
        shown.append((stage.name, result))
        if as_json:
            return
        status.stop()
        console.rule(f"[bold]{escape(result.title)}")
        for line in result.lines:
            console.print(escape(line))
        for path in result.outputs:
            console.print(f"  → {escape(str(path))}")
        status.start()

    if not as_json:
        status.start()
    try:
        run_demo(workspace_of(workspace), config, on_stage=on_stage, on_result=on_result)
    finally:
        status.stop()
    if as_json:
        print_json([{"stage": name, **vars(result)} for name, result in shown])
    else:
        console.print(f"Done: {len(shown)} stage{'s' if len(shown) != 1 else ''}.")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
