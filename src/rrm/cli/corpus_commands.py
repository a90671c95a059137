"""``rrm ingest``, ``rrm formats`` and ``rrm corpus ...``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from rrm.cli.options import JsonOption, WorkspaceOption, console, err_console, print_json, shown, workspace_of
from rrm.corpus import CorpusStore, corpus_stats, export_posts, ingest
from rrm.corpus.export import ExportFormat
from rrm.corpus.formats import all_formats
from rrm.errors import MappingError

__all__ = ["register"]

corpus_app = typer.Typer(help="Look at and export the corpus of posts and accounts.", no_args_is_help=True)



def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise MappingError(f"--map takes FIELD=COLUMN, got {pair!r}")
        mapping[field.strip()] = column.strip()
    return mapping


def ingest_command(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, .gz/.zip archives or http(s) URLs.")],
    format_name: Annotated[
        str | None, typer.Option("--format", "-f", help="Input format (see 'rrm formats'); detected when omitted.")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", "-m", help="FIELD=COLUMN for the 'csv' and 'jsonl' formats; repeat for each field."),
    ] = None,
    platform: Annotated[str | None, typer.Option(help="Platform for records that do not name one.")] = None,
    batch_size: Annotated[int, typer.Option(help="Records normalised at a time.", min=100)] = 50_000,
    force: Annotated[
        bool, typer.Option("--force", help="Read inputs the corpus already has (same bytes, format and options) again.")
    ] = False,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest social-media data into the corpus: one batch per input, duplicates skipped, bad records quarantined."""
    store = CorpusStore(workspace_of(workspace))
    options = _parse_mapping(mapping or [])
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[records]:,} records"),
        TimeElapsedColumn(), console=err_console, transient=True, disable=as_json,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(source: str, done: int, total: int | None, records: int) -> None:
            if source not in tasks:
                tasks[source] = bar.add_task(shown(Path(source).name), total=total, records=0)
            bar.update(tasks[source], completed=done, total=total, records=records)

        report = ingest(
            store, paths, format_name=format_name, options=options, platform=platform, batch_size=batch_size,
            progress=progress, force=force,
        )
    if as_json:
        print_json({"batches": report.batches, "skipped": report.skipped, "failures": [str(f) for f in report.failures]})
    else:
        table = Table("source", "format", "read", "stored", "duplicate", "rejected", "batch", title="Ingested")
        for b in report.batches:
            table.add_row(shown(b.source), b.format, f"{b.records_read:,}", f"{b.stored:,}", f"{b.duplicates:,}",
                          f"{b.rejected:,}", b.batch_id)
        if report.batches or not report.skipped:
            console.print(table)
        for skipped in report.skipped:
            console.print(f"[yellow]already ingested:[/] {shown(skipped.source)} (batch {skipped.batch_id}); "
                          "--force reads it again")
        if any(b.rejected for b in report.batches):
            console.print("Rejected records are listed by [bold]rrm corpus quarantine[/].")
        for failure in report.failures:
            err_console.print(f"[red]not ingested:[/] {shown(failure.message)}")
    if report.failures:
        raise typer.Exit(2)


def formats_command(as_json: JsonOption = False) -> None:
    """List the input formats RRM reads."""
    formats = all_formats()
    if as_json:
        print_json(formats)
        return
    table = Table("format", "description")
    for name, description in formats.items():
        table.add_row(name, shown(description))
    console.print(table)


@corpus_app.command("stats")
def stats_command(
    top: Annotated[int, typer.Option(help="How many top domains, hashtags and accounts.")] = 10,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Posts, accounts, platforms, time span, top domains, hashtags and accounts."""
    stats = corpus_stats(CorpusStore(workspace_of(workspace)), top=top)
    if as_json:
        print_json(stats)
        return
    console.print(f"[bold]{stats.posts:,}[/] posts by [bold]{stats.accounts:,}[/] accounts in {stats.batches} batches "
                  f"({stats.rejected:,} records rejected); corpus version {stats.version}")
    if stats.first_post:
        console.print(f"from {stats.first_post:%Y-%m-%d %H:%M} to {stats.last_post:%Y-%m-%d %H:%M} UTC")
    for title, rows in (("platform", stats.platforms), ("kind", stats.kinds), ("domain", stats.top_domains),
                        ("hashtag", stats.top_hashtags)):
        table = Table(title, "posts", title=f"Top {title}s" if title in {"domain", "hashtag"} else None)
        for name, n in rows:
            table.add_row(shown(name), f"{n:,}")
        console.print(table)
    accounts = Table("platform", "account", "posts", title="Most active accounts")
    for platform_name, account, n in stats.top_accounts:
        accounts.add_row(shown(platform_name), shown(account), f"{n:,}")
    console.print(accounts)


@corpus_app.command("export")
def export_command(
    target: Annotated[Path, typer.Argument(help="File to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="parquet or csv")] = "parquet",
    workspace: WorkspaceOption = None,
) -> None:
    """Export every post as Parquet or CSV."""
    count = export_posts(CorpusStore(workspace_of(workspace)), target, fmt)
    console.print(f"wrote {count:,} posts to {shown(target)}")


@corpus_app.command("batches")
def batches_command(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """The provenance of every batch: file, sha256, format, time and counts."""
    batches = CorpusStore(workspace_of(workspace)).batches()
    if as_json:
        print_json(batches)
        return
    table = Table("batch", "source", "format", "sha256", "finished", "read", "stored", "duplicate", "rejected")
    for b in batches:
        table.add_row(b.batch_id, shown(b.source), b.format, b.sha256[:12], f"{b.finished_at:%Y-%m-%d %H:%M:%S}",
                      f"{b.records_read:,}", f"{b.stored:,}", f"{b.duplicates:,}", f"{b.rejected:,}")
    console.print(table)


@corpus_app.command("quarantine")
def quarantine_command(
    batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many records.")] = 100,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Records that were rejected, with file, line, field and reason."""
    records = CorpusStore(workspace_of(workspace)).quarantine(batch, limit)
    if as_json:
        print_json(records)
        return
    table = Table("source", "line", "field", "reason", "excerpt", title="Quarantine")
    for r in records:
        table.add_row(shown(r.source), str(r.line or ""), shown(r.field), shown(r.reason), shown(r.excerpt))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("formats")(formats_command)
    app.add_typer(corpus_app, name="corpus")
