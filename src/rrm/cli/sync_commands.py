"""``rrm partners add-node`` and ``rrm sync``: sync this node's collections with partner TAXII 2.1 nodes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from rrm.cli.cases_commands import partners_app
from rrm.cli.options import JsonOption, WorkspaceOption, console, print_json, workspace_of
from rrm.frameworks.tlp import TLP
from rrm.share.sync import PAGE_SIZE, NodeCredentials, Syncer, SyncNode, SyncSecrets
from rrm.share.taxii.store import TaxiiStore
from rrm.web.app import taxii_database_url

__all__ = ["register"]

sync_app = typer.Typer(help="Sync with partner TAXII 2.1 nodes: pull what is new there, push what is new here.",
                       invoke_without_command=True)


def _syncer(workspace: Path | None, page_size: int = PAGE_SIZE) -> Syncer:
    chosen = workspace_of(workspace)
    return Syncer(TaxiiStore(taxii_database_url(chosen)), SyncSecrets.of(chosen), page_size=page_size)


def add_node_command(
    name: Annotated[str, typer.Argument(help="Partner node id, e.g. DE; also its TAXII partner id here.")],
    url: Annotated[str, typer.Option(help="The partner's server, e.g. https://rrm.partner.example.")],
    collection: Annotated[str, typer.Option(help="The partner's collection id.")],
    api_root: Annotated[str, typer.Option(help="API root path on the server (or a full URL).")] = "api1",
    key: Annotated[str | None, typer.Option(help="API key the partner issued to this node.")] = None,
    user: Annotated[str | None, typer.Option(help="HTTP Basic user (instead of a key).")] = None,
    password: Annotated[str | None, typer.Option(help="HTTP Basic password (instead of a key).")] = None,
    local_collection: Annotated[
        str | None, typer.Option(help="Local collection to sync with [default: the partner's collection id].")
    ] = None,
    max_tlp: Annotated[
        str | None, typer.Option(help="Highest TLP pushed to this partner unnamed [default: kept, or AMBER].")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Add or update a partner TAXII node and its credentials (kept in a 0600 file in the workspace)."""
    node = SyncNode(name, url, api_root, collection, local_collection or collection)
    syncer = _syncer(workspace)
    syncer.add_node(node, NodeCredentials(key, user, password), max_tlp=TLP.parse(max_tlp) if max_tlp else None)
    partner = syncer.store.partner(name)
    ceiling = partner.max_tlp if partner else TLP.AMBER
    console.print(f"node {escape(name)}: {escape(node.collection_url)} <-> local collection "
                  f"{escape(node.local_collection)}; pushes up to {ceiling} (RED and AMBER+STRICT only when named)")


@sync_app.callback()
def sync_command(
    ctx: typer.Context,
    partner: Annotated[str | None, typer.Option(help="Only this partner node [default: every node].")] = None,
    pull: Annotated[bool, typer.Option("--pull/--no-pull", help="Pull from the partners.")] = True,
    push: Annotated[bool, typer.Option("--push/--no-push", help="Push to the partners.")] = True,
    page_size: Annotated[int, typer.Option(help="Objects per request.", min=1, max=1000)] = PAGE_SIZE,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pull from and push to each partner node (incremental, idempotent, resumable)."""
    if ctx.invoked_subcommand is not None:
        return
    syncer = _syncer(workspace, page_size)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True,
                  disable=as_json) as progress:
        task = progress.add_task("sync", total=None)
        moved = {"pull": 0, "push": 0}

        def on_page(node: str, direction: str, count: int) -> None:
            moved[direction] += count
            progress.update(task, description=f"{escape(node)}: pulled {moved['pull']}, pushed {moved['push']}")

        reports = syncer.sync(partner, on_page=on_page, pull=pull, push=push)
    if as_json:
        print_json(reports)
        return
    table = Table("node", "pulled", "new", "unchanged", "pushed", "conflicts", "rejected")
    for r in reports:
        table.add_row(escape(r.node), str(r.pulled), str(r.stored), str(r.unchanged), str(r.pushed),
                      str(r.conflicts), str(r.rejected))
    console.print(table)
    for r in reports:
        for warning in r.warnings:
            console.print(f"[yellow]{escape(r.node)}:[/] {escape(warning)}")


@sync_app.command("status")
def status_command(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Each partner node, its collections, and where the last pull and push stopped."""
    syncer = _syncer(workspace)
    rows = [(node, syncer.state(node.name)) for node in syncer.nodes()]
    if as_json:
        print_json([{"node": node, "state": state} for node, state in rows])
        return
    table = Table("node", "partner collection", "local collection", "pulled up to", "pushed up to row",
                  "last pull", "last push")
    for node, state in rows:
        table.add_row(escape(node.name), escape(node.collection_url), escape(node.local_collection),
                      state.pulled_after or "-", str(state.pushed_seq), state.last_pull or "-", state.last_push or "-")
    console.print(table)


@sync_app.command("conflicts")
def conflicts_command(
    partner: Annotated[str | None, typer.Option(help="Only this partner node.")] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Versions with the same 'modified' but different content here and at a partner (kept, not overwritten)."""
    found = _syncer(workspace).conflicts(partner)
    if as_json:
        print_json(found)
        return
    table = Table("at", "node", "direction", "object", "version", "detail")
    for c in found:
        table.add_row(c.at, escape(c.node), c.direction, escape(c.object_id), escape(c.version), escape(c.detail))
    console.print(table)


@sync_app.command("rejects")
def rejects_command(
    partner: Annotated[str | None, typer.Option(help="Only this partner node.")] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Objects a partner sent that were not valid STIX 2.1 (not stored), with the reason."""
    found = _syncer(workspace).rejects(partner)
    if as_json:
        print_json(found)
        return
    table = Table("at", "node", "object", "reason")
    for r in found:
        table.add_row(r["at"], escape(r["node"]), escape(r["object"]), escape(r["reason"]))
    console.print(table)


def register(app: typer.Typer) -> None:
    partners_app.command("add-node")(add_node_command)
    app.add_typer(sync_app, name="sync")
