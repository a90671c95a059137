"""``rrm money ...``: political ads and party funding, with foreign and impermissible money flagged."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Column, Table

from rrm.cli.options import JsonOption, WorkspaceOption, console, print_json, workspace_of
from rrm.errors import InputError
from rrm.transparency import (
    DEFAULT_ELECTIONS,
    Election,
    MoneyStore,
    ReadOptions,
    all_formats,
    all_rules,
    decide,
    export,
    links,
    resolve,
    run_flags,
    search_ads,
    search_donations,
    write_report,
)
from rrm.transparency.incidents import IncidentEntity, from_cases
from rrm.transparency.store import expand

__all__ = ["register"]

money_app = typer.Typer(help="Political ads and party funding: ingest, search, flags, export, report.",
                        no_args_is_help=True)


def _json(value: object) -> None:
    """Print JSON; amounts (``Decimal``) are written as strings so that no digit is lost."""
    def plain(item: object) -> object:
        if is_dataclass(item) and not isinstance(item, type):
            return {f.name: plain(getattr(item, f.name)) for f in fields(item)}
        if isinstance(item, list | tuple):
            return [plain(v) for v in item]
        if isinstance(item, dict):
            return {str(k): plain(v) for k, v in item.items()}
        if isinstance(item, Decimal | date):
            return str(item)
        return item

    print_json(plain(value))


def _store(workspace: Path | None) -> MoneyStore:
    return MoneyStore(workspace_of(workspace))


@money_app.command("ingest")
def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (ad library exports, donation registers).")],
    format_name: Annotated[str | None, typer.Option("--format", "-f", help="Format; detected from content when omitted.")] = None,
    country: Annotated[str | None, typer.Option(help="Audience country (ISO code, or EU) when the file does not say.")] = None,
    currency: Annotated[str | None, typer.Option(help="Currency when the file does not say.")] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest files: one batch per file, already ingested files skipped, bad rows quarantined with file and line."""
    store = _store(workspace)
    options = ReadOptions(country=country.upper() if country else None, currency=currency.upper() if currency else None)
    files = expand(paths)
    results = []
    with Progress(console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task("ingesting", total=len(files))
        for path, in_folder in files:
            results.append(store.ingest_one(path, in_folder, format_name, options))
            progress.advance(task)
    store.dedupe_earmarks()
    if as_json:
        _json(results)
        return
    table = Table("file", "format", "read", "stored", "duplicates", "rejected", "note")
    for r in results:
        table.add_row(escape(r.source), r.format, str(r.records_read), str(r.stored), str(r.duplicates), str(r.rejected),
                      escape(r.skipped or ""))
    console.print(table)


@money_app.command("formats")
def formats_command(as_json: JsonOption = False) -> None:
    """List the formats 'rrm money ingest' reads."""
    formats = {name: fmt.description for name, fmt in all_formats().items()}
    if as_json:
        print_json(formats)
        return
    table = Table("format", "description")
    for name, description in formats.items():
        table.add_row(name, description)
    console.print(table)


@money_app.command("search")
def search_command(
    text: Annotated[str | None, typer.Option(help="Ads whose text contains this.")] = None,
    region: Annotated[str | None, typer.Option(help="Ads reaching this region (or country code).")] = None,
    recipient: Annotated[str | None, typer.Option(help="Who funds this recipient (name, committee id or party).")] = None,
    donor: Annotated[str | None, typer.Option(help="Donations from donors whose name contains this.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who paid for ads about X reaching Y (--text, --region); who funds P (--recipient, --donor)."""
    store = _store(workspace)
    if recipient or donor:
        funders = search_donations(store, recipient, donor, limit)
        if as_json:
            _json(funders)
            return
        table = Table("donor", "recipient", "party", "total (counted)", "donations", "not counted", "donor country")
        for f in funders:
            table.add_row(escape(f.donor), escape(f.recipient), escape(f.party or ""), f"{f.total:,} {f.currency}",
                          str(f.donations), str(f.not_counted), f.donor_country or "")
        console.print(table)
        return
    payers = search_ads(store, text, region, limit)
    if as_json:
        _json(payers)
        return
    table = Table("payer / sponsor", "paid for by", "spend (range)", "records", "regions")
    for p in payers:
        table.add_row(escape(p.payer), escape(p.sponsor or ""), escape(str(p.spend)), str(p.records),
                      escape(", ".join(p.regions)))
    console.print(table)


def _elections(values: list[str] | None) -> tuple[Election, ...]:
    chosen = list(DEFAULT_ELECTIONS)
    for value in values or []:
        country, sep, day = value.partition(":")
        try:
            chosen.append(Election(country.strip().upper(), date.fromisoformat(day.strip()), value))
        except ValueError:
            raise InputError(f"--election takes COUNTRY:YYYY-MM-DD, got {value!r}", field="--election") from None
        if not sep:
            raise InputError(f"--election takes COUNTRY:YYYY-MM-DD, got {value!r}", field="--election")
    return tuple(chosen)


def _incident_names(path: Path | None) -> list[str]:
    if path is None:
        return []
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"cannot read: {reason}", source=str(path)) from exc


UserOption = Annotated[
    str | None, typer.Option("--user", "-u", envvar="RRM_USER", show_default=False,
                             help="Who you are [env RRM_USER]: reads the cases store's incidents; records decisions."),
]


@money_app.command("flags")
def flags_command(
    rule: Annotated[list[str] | None, typer.Option("--rule", "-r", help="Only this rule; repeat for several.")] = None,
    election: Annotated[list[str] | None, typer.Option(help="Another election day, COUNTRY:YYYY-MM-DD.")] = None,
    incident_entities: Annotated[Path | None, typer.Option(help="File of entity names in incidents, one a line.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows shown in the table.")] = 100,
    user: UserOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the flag rules; every flag shows its rule and evidence. Incidents come from the cases store."""
    store = _store(workspace)
    cases = from_cases(store.workspace, user)
    names: list[str | IncidentEntity] = [*_incident_names(incident_entities), *cases.entities]
    flags = run_flags(store, rule, elections=_elections(election), incident_entities=names)
    if as_json:
        _json(flags)
        return
    table = Table("rule", "subject", "evidence", "source")
    for f in flags[:limit]:
        table.add_row(f.rule, escape(f.subject), escape(f.evidence_text()), escape(f"{f.source}:{f.line}" if f.source else ""))
    console.print(table)
    counts: dict[str, int] = {}
    for f in flags:
        counts[f.rule] = counts.get(f.rule, 0) + 1
    console.print(f"{len(flags)} flags: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    console.print(f"Incidents: {escape(cases.note)}")


@money_app.command("rules")
def rules_command(as_json: JsonOption = False) -> None:
    """List the flag rules and what each checks."""
    rules = {name: rule.rule for name, rule in all_rules().items()}
    if as_json:
        print_json(rules)
        return
    table = Table("rule", "what it checks")
    for name, text in rules.items():
        table.add_row(name, escape(text))
    console.print(table)


@money_app.command("resolve")
def resolve_command(
    accept: Annotated[float, typer.Option(min=0, max=1, help="Probability from which a link is accepted.")] = 0.9,
    review: Annotated[float, typer.Option(min=0, max=1, help="Probability from which a link goes to review.")] = 0.5,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Link donors, payers, sponsors and advertisers across sources (Splink); uncertain pairs go to review."""
    with Progress(console=console, transient=True, disable=as_json) as progress:
        progress.add_task("comparing names (Splink), then ranking the review queue", total=None)
        summary = resolve(_store(workspace), accept=accept, review=review)
    if as_json:
        print_json(summary)
        return
    console.print(f"{summary.mentions} names; {summary.accepted} links accepted ({summary.deterministic} by key), "
                  f"{summary.review} to review; {summary.decided} kept as people decided")


links_app = typer.Typer(help="Entity links and the review queue: list, accept, reject.", invoke_without_command=True)


@links_app.callback()
def links_command(
    ctx: typer.Context,
    review: Annotated[bool, typer.Option("--review", help="The review queue (the default), most useful first.")] = False,
    status: Annotated[str | None, typer.Option(help="accepted, review or rejected.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show entity links with their evidence; the review queue by default (links touching flagged money first)."""
    if ctx.invoked_subcommand is not None:
        return
    wanted = "review" if review or status is None else status
    found = links(_store(workspace), wanted, limit)
    if as_json:
        _json(found)
        return
    table = Table("name", "name", "p", "evidence",
                  Column("flagged by" if wanted == "review" else "decided by", overflow="fold"))
    table.columns.insert(0, Column("id", no_wrap=True))  # first and never wrapped: it is copied into accept/reject
    for link in found:
        table.add_row(link.link_id, _side(link.name_l, link.detail_l), _side(link.name_r, link.detail_r),
                      f"{link.probability:.2f}", escape(link.evidence),
                      escape(link.flag_rules if wanted == "review" else link.decided_by or link.method))
    console.print(table)
    if wanted == "review":
        console.print("Decide with 'rrm money links accept ID' or 'rrm money links reject ID'.")


def _side(name: str, detail: str) -> str:
    return escape(name) + (f"\n[dim]{escape(detail)}[/dim]" if detail else "")


def _decide(link: str, accept: bool, note: str, user: str | None, workspace: Path | None, as_json: bool) -> None:
    decided = decide(_store(workspace), link, accept, user=user or "", note=note)
    if as_json:
        _json(decided)
        return
    console.print(f"{decided.status} {decided.link_id}: {escape(decided.name_l)} = {escape(decided.name_r)} "
                  f"(by {escape(decided.decided_by or '')}); kept by later 'rrm money resolve' runs")


NoteOption = Annotated[str, typer.Option(help="Why (kept with the decision).")]
LinkArgument = Annotated[str, typer.Argument(help="The link id ('rrm money links').")]


@links_app.command("accept")
def accept_command(link: LinkArgument, note: NoteOption = "", user: UserOption = None,
                   workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Accept a link: the two names are one entity (kept with who and when)."""
    _decide(link, True, note, user, workspace, as_json)


@links_app.command("reject")
def reject_command(link: LinkArgument, note: NoteOption = "", user: UserOption = None,
                   workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Reject a link: the two names are different entities (kept with who and when)."""
    _decide(link, False, note, user, workspace, as_json)


@money_app.command("quarantine")
def quarantine_command(
    limit: Annotated[int, typer.Option(min=1)] = 100, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Rows that were rejected, with file, line, field and reason."""
    rows = _store(workspace).quarantine(limit)
    if as_json:
        print_json(rows)
        return
    table = Table("file", "line", "field", "reason")
    for row in rows:
        table.add_row(escape(row.source), str(row.line or ""), escape(row.field or ""), escape(row.reason))
    console.print(table)


@money_app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="A folder for csv, a file for json.")],
    format_name: Annotated[str, typer.Option("--format", "-f", help="csv or json.")] = "csv",
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export ads and donations."""
    written = export(_store(workspace), format_name, out)
    if as_json:
        print_json(written)
        return
    for path in written:
        console.print(f"wrote {escape(str(path))}")


@money_app.command("report")
def report_command(
    out: Annotated[Path, typer.Argument(help="The HTML file to write.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Write a self-contained HTML report with charts of spend by payer and donations by recipient, and the flags."""
    path = write_report(_store(workspace), out)
    console.print(f"wrote {escape(str(path))}")


money_app.add_typer(links_app, name="links")


def register(app: typer.Typer) -> None:
    app.add_typer(money_app, name="money")
