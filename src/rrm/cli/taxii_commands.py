"""``rrm serve`` and ``rrm taxii ...``: run the node, and manage its collections, partners and credentials."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from rrm.cli.options import JsonOption, WorkspaceOption, console, print_json, workspace_of
from rrm.errors import InputError
from rrm.frameworks.tlp import TLP
from rrm.share.taxii.store import TaxiiStore
from rrm.web.app import serve, taxii_database_url

__all__ = ["register"]

taxii_app = typer.Typer(help="Manage the TAXII 2.1 node: collections, partners, credentials, rights.",
                        no_args_is_help=True)


def _store(workspace: Path | None) -> TaxiiStore:
    return TaxiiStore(taxii_database_url(workspace_of(workspace)))


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes.", min=1)] = 1,
    access_log: Annotated[bool, typer.Option(
        "--access-log/--no-access-log",
        help="Log every HTTP request (uvicorn's access log; the delivery log records what partners received either way).",
    )] = True,
    workspace: WorkspaceOption = None,
) -> None:
    """Serve the RRM web application (TAXII 2.1 under /taxii2/ and /api1/) with uvicorn.

    With several workers each has its own listening socket (SO_REUSEPORT), so connections spread evenly.
    """
    os.environ["RRM_HOME"] = str(workspace_of(workspace).root)
    serve(host, port, workers, access_log=access_log)


@taxii_app.command("collection")
def collection_command(
    collection_id: Annotated[str, typer.Argument(help="Collection id (a UUID is conventional).")],
    title: Annotated[str, typer.Option(help="Title shown to partners.")],
    description: Annotated[str, typer.Option(help="Description shown to partners.")] = "",
    workspace: WorkspaceOption = None,
) -> None:
    """Create a collection."""
    _store(workspace).create_collection(collection_id, title, description)
    console.print(f"collection {escape(collection_id)} ready")


@taxii_app.command("partner")
def partner_command(
    partner_id: Annotated[str, typer.Argument(help="Short partner id, e.g. DE-BfV.")],
    name: Annotated[str, typer.Option(help="Organisation name.")],
    max_tlp: Annotated[str, typer.Option(help="Highest TLP the agreement allows (CLEAR..RED).")] = "AMBER",
    workspace: WorkspaceOption = None,
) -> None:
    """Add or update a partner organisation of the node."""
    partner = _store(workspace).add_partner(partner_id, name, TLP.parse(max_tlp))
    console.print(f"partner {escape(partner.id)} may receive up to {partner.max_tlp}")


@taxii_app.command("key")
def key_command(partner_id: Annotated[str, typer.Argument()], workspace: WorkspaceOption = None) -> None:
    """Issue an API key for a partner (shown once; only its hash is stored)."""
    store = _store(workspace)
    if store.partner(partner_id) is None:
        raise InputError(f"no partner {partner_id!r}; add it with 'rrm taxii partner'")
    typer.echo(store.issue_api_key(partner_id))


@taxii_app.command("revoke")
def revoke_command(
    partner_id: Annotated[str, typer.Argument(help="The partner whose credentials are withdrawn.")],
    key: Annotated[str | None, typer.Option(
        "--key", help="Withdraw only this API key (read from the RRM_REVOKE_KEY variable if unset and present).",
        envvar="RRM_REVOKE_KEY", show_default=False,
    )] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Withdraw a partner's credentials: one API key, or every key and login. Applies to the next request."""
    store = _store(workspace)
    if store.partner(partner_id) is None:
        raise InputError(f"no partner {partner_id!r}", field="partner")
    if key is not None:
        owner = store.partner_by_key(key)
        if owner is None or owner.id != partner_id:
            raise InputError(f"that key is not a key of partner {partner_id!r}", field="key")
        removed = int(store.revoke_key(key))
    else:
        removed = store.revoke_credentials(partner_id)
    if as_json:
        print_json({"partner": partner_id, "revoked": removed})
    else:
        console.print(f"{removed} credential(s) of {escape(partner_id)} withdrawn")


@taxii_app.command("password")
def password_command(
    partner_id: Annotated[str, typer.Argument()],
    username: Annotated[str, typer.Argument()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    workspace: WorkspaceOption = None,
) -> None:
    """Set an HTTP Basic login for a partner (stored as an scrypt hash)."""
    store = _store(workspace)
    if store.partner(partner_id) is None:
        raise InputError(f"no partner {partner_id!r}; add it with 'rrm taxii partner'")
    store.set_password(partner_id, username, password)
    console.print(f"login {escape(username)} set for {escape(partner_id)}")


@taxii_app.command("grant")
def grant_command(
    partner_id: Annotated[str, typer.Argument()],
    collection_id: Annotated[str, typer.Argument()],
    read: Annotated[bool, typer.Option("--read/--no-read")] = True,
    write: Annotated[bool, typer.Option("--write/--no-write")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Give a partner read and/or write access to a collection."""
    _store(workspace).grant(partner_id, collection_id, read=read, write=write)
    console.print(f"{escape(partner_id)} on {escape(collection_id)}: read={read} write={write}")


@taxii_app.command("publish")
def publish_command(
    collection_id: Annotated[str, typer.Argument()],
    bundle: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle (JSON file).")],
    workspace: WorkspaceOption = None,
) -> None:
    """Add the objects of a STIX 2.1 bundle to a collection (all or none)."""
    try:
        document = json.loads(bundle.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not a readable JSON file: {exc}", source=str(bundle)) from exc
    objects = document.get("objects") if isinstance(document, dict) else None
    if not isinstance(objects, list):
        raise InputError("not a STIX bundle (no 'objects' list)", source=str(bundle))
    status = _store(workspace).add(collection_id, objects)
    console.print(f"stored {status['success_count']} objects in {escape(collection_id)}")


@taxii_app.command("deliveries")
def deliveries_command(
    partner: Annotated[str | None, typer.Option(help="Only this partner.")] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """What each partner received, when, and under which TLP."""
    rows = _store(workspace).deliveries(partner)
    if as_json:
        print_json(rows)
        return
    table = Table("at", "partner", "collection", "objects", "TLP")
    for row in rows:
        tlps = sorted({o[2] for o in row["objects"]})
        table.add_row(row["at"], escape(row["partner"]), escape(row["collection"]), str(len(row["objects"])),
                      ", ".join(tlps))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.add_typer(taxii_app, name="taxii")
