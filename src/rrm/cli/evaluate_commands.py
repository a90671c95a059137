"""``rrm evaluate``, ``rrm export`` and ``rrm report``: findings out of the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from rrm.cli.options import JsonOption, WorkspaceOption, console, err_console, print_json, workspace_of

__all__ = ["register"]

RunOption = Annotated[
    str | None, typer.Option("--run", help="The run to use [default: the latest run]", show_default=False)
]


def evaluate(
    labels: Annotated[Path, typer.Argument(help="Labels CSV: platform,account_id,campaign_id,campaign_kind or account,label")],
    run: RunOption = None,
    min_score: Annotated[
        float, typer.Option("--min-score", help="Accounts count as flagged in communities scoring at least this")
    ] = 0.0,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score a run's communities against labelled accounts: precision, recall, F1, adjusted Rand index."""
    from rrm.detect.evaluate import evaluate_workspace

    result, loaded = evaluate_workspace(workspace_of(workspace), labels, run, min_score)
    for rejection in loaded.rejected[:20]:
        err_console.print(f"[yellow]Skipped:[/] {escape(rejection.describe())}")
    if len(loaded.rejected) > 20:
        err_console.print(f"[yellow]Skipped {len(loaded.rejected) - 20} more label rows.[/]")
    if as_json:
        print_json(result)
        return
    console.print(
        f"Run [bold]{escape(result.run_id)}[/]: {result.flagged} accounts flagged (score ≥ {result.min_score:g}), "
        f"{result.positives} labelled as campaign accounts, {result.accounts} accounts in all."
    )
    table = Table("Label", "Accounts", "Predicted", "Correct", "Precision", "Recall", "F1")
    table.add_row(
        "[bold]all campaigns[/]", str(result.positives), str(result.flagged), str(result.true_positives),
        f"{result.precision:.3f}", f"{result.recall:.3f}", f"{result.f1:.3f}",
    )
    for score in result.per_label:
        table.add_row(
            escape(score.label), str(score.accounts), str(score.predicted), str(score.correct),
            f"{score.precision:.3f}", f"{score.recall:.3f}", f"{score.f1:.3f}",
        )
    console.print(table)
    console.print(f"Adjusted Rand index of communities against labels: [bold]{result.adjusted_rand_index:.3f}[/]")


def export(
    out: Annotated[Path, typer.Argument(help="File to write (a folder for csv)")],
    format_name: Annotated[
        str, typer.Option("--format", "-f", help="gexf, graphml, csv, json or html")
    ] = "gexf",
    run: RunOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Export a run's network (GEXF, GraphML, CSV, JSON) or its HTML report."""
    from rrm.detect.exports import export_workspace_run

    written = export_workspace_run(workspace_of(workspace), format_name, out, run)
    console.print(f"Wrote {escape(str(written))}")


def report(
    out: Annotated[Path, typer.Argument(help="HTML file to write")],
    run: RunOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Write the self-contained HTML report of a run (same as: rrm export --format html)."""
    from rrm.detect.exports import export_workspace_run

    written = export_workspace_run(workspace_of(workspace), "html", out, run)
    console.print(f"Wrote {escape(str(written))}")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
    app.command("export")(export)
    app.command("report")(report)
