"""``rrm share ...``: preview what a partner would receive, export STIX 2.1 or MISP, import, revoke."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from rrm.cases.db import CasesDB
from rrm.cli.options import JsonOption, WorkspaceOption, console, print_json, workspace_of
from rrm.errors import InputError
from rrm.frameworks.tlp import TLP
from rrm.share.misp import import_misp, read_event
from rrm.share.preview import SharePlan, ceiling_for, revoke, share_incident, write_document
from rrm.share.pseudonymise import Pseudonymiser
from rrm.share.signing import NodeKey
from rrm.share.stix_export import DisarmStixIndex, NodeIdentity
from rrm.share.stix_import import ImportResult, import_stix, read_bundle
from rrm.share.taxii.store import TaxiiStore
from rrm.web.app import taxii_database_url
from rrm.workspace import Workspace

__all__ = ["register"]

share_app = typer.Typer(help="Share incidents with partners: STIX 2.1 and MISP, preview, import, revoke.",
                        no_args_is_help=True)

UserOption = Annotated[str | None, typer.Option("--user", "-u", envvar="RRM_USER", help="Act as this user.",
                                                show_default=False)]
PartnerOption = Annotated[str | None, typer.Option("--partner", "-p", help="The partner receiving it.")]
MaxTlpOption = Annotated[str | None, typer.Option(
    "--max-tlp", help="TLP ceiling when the TAXII node has no such partner (CLEAR..RED).")]
PseudonymiseOption = Annotated[bool, typer.Option(
    "--pseudonymise", help="Pseudonymise account ids (key: RRM_PSEUDONYM_KEY, hexadecimal).")]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="stix or misp.")]

MAX_INPUT_BYTES = 50 * 1024 * 1024


def _node(workspace: Workspace) -> NodeIdentity:
    return NodeIdentity.load_or_create(workspace.root / "node.json")


def _disarm_index_path(workspace: Workspace) -> Path:
    return workspace.root / "disarm-stix-ids.json"


def _format(text: str) -> Literal["stix", "misp"]:
    value = text.strip().lower()
    if value == "stix":
        return "stix"
    if value == "misp":
        return "misp"
    raise InputError(f"{text!r} is not a format: use stix or misp", field="format")


def _pseudonymiser(wanted: bool) -> Pseudonymiser | None:
    if not wanted:
        return None
    key = os.environ.get("RRM_PSEUDONYM_KEY")
    if not key:
        raise InputError("--pseudonymise needs the agreement's key in RRM_PSEUDONYM_KEY (hexadecimal)",
                         field="RRM_PSEUDONYM_KEY")
    return Pseudonymiser.from_hex(key)


def _plan(
    workspace: Workspace, user: str | None, incident_id: int, fmt: str, partner: str | None, max_tlp: str | None,
    pseudonymise: bool, *, sign: bool = False, log: bool = False, destination: str | None = None,
) -> SharePlan:
    taxii = TaxiiStore(taxii_database_url(workspace))
    try:
        ceiling, source = ceiling_for(taxii, partner, TLP.parse(max_tlp) if max_tlp else None)
    finally:
        taxii.close()
    key = NodeKey.load_or_create(workspace.root / "node-signing.key") if sign else None
    with CasesDB.for_workspace(workspace) as db:
        return share_incident(
            db, user or "", incident_id, _node(workspace), fmt=_format(fmt), partner=partner, ceiling=ceiling,
            ceiling_from=source, pseudonymiser=_pseudonymiser(pseudonymise),
            disarm_ids=DisarmStixIndex.load(_disarm_index_path(workspace)), sign_with=key, log=log,
            destination=destination,
        )


def _show_plan(plan: SharePlan, title: str) -> None:
    console.print(f"[bold]{escape(title)}[/]: incident {plan.incident_id} ({plan.tlp.label}) as {plan.format.upper()} "
                  f"to {escape(plan.partner or 'a file')}, ceiling {plan.ceiling.label} (from the {plan.ceiling_from})")
    table = Table("what", "count")
    for kind, count in plan.objects.items():
        table.add_row(escape(kind), str(count))
    console.print(table)
    if plan.pseudonymised:
        console.print(f"{plan.pseudonymised} account id(s) pseudonymised")
    for redaction in plan.redactions:
        console.print(f"withheld: {redaction.count} {escape(redaction.what)} ({escape(redaction.reason)})")
    for warning in plan.warnings:
        console.print(f"[yellow]note:[/] {escape(warning)}")


@share_app.command("preview")
def preview_command(
    incident_id: Annotated[int, typer.Argument(help="The incident.")],
    partner: PartnerOption = None, max_tlp: MaxTlpOption = None, pseudonymise: PseudonymiseOption = False,
    fmt: FormatOption = "stix", user: UserOption = None, workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
    show: Annotated[bool, typer.Option("--show", help="Print the bundle or event itself.")] = False,
) -> None:
    """Show exactly what PARTNER would receive of an incident, without sending or logging anything."""
    plan = _plan(workspace_of(workspace), user, incident_id, fmt, partner, max_tlp, pseudonymise)
    if show:
        typer.echo(plan.to_json())
    elif as_json:
        print_json({"format": plan.format, "incident": plan.incident_id, "partner": plan.partner,
                    "tlp": plan.tlp.label, "ceiling": plan.ceiling.label, "ceiling_from": plan.ceiling_from,
                    "objects": plan.objects, "object_ids": list(plan.object_ids), "redactions": list(plan.redactions),
                    "pseudonymised": plan.pseudonymised, "warnings": list(plan.warnings)})
    else:
        _show_plan(plan, "Preview (nothing sent)")


@share_app.command("export")
def export_command(
    incident_id: Annotated[int, typer.Argument(help="The incident.")],
    out: Annotated[Path, typer.Argument(help="File to write (JSON).")],
    fmt: FormatOption = "stix", partner: PartnerOption = None, max_tlp: MaxTlpOption = None,
    pseudonymise: PseudonymiseOption = False,
    sign: Annotated[bool, typer.Option("--sign", help="Sign the STIX bundle with this node's Ed25519 key.")] = False,
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Export an incident as a STIX 2.1 bundle or a MISP event to OUT; the export is logged."""
    if sign and _format(fmt) != "stix":
        raise InputError("only STIX bundles are signed", field="sign")
    plan = _plan(workspace_of(workspace), user, incident_id, fmt, partner, max_tlp, pseudonymise, sign=sign, log=True,
                 destination=str(out))
    write_document(plan, out)
    if as_json:
        print_json({"file": str(out), "format": plan.format, "partner": plan.partner, "tlp": plan.tlp.label,
                    "objects": plan.objects, "signed": sign})
    else:
        _show_plan(plan, f"Exported to {out}")


def _show_import(result: ImportResult, as_json: bool) -> None:
    if as_json:
        print_json(result if result.disarm is None else {
            "source": result.source, "ignored": result.ignored,
            "disarm": {"attack_patterns": result.disarm.attack_patterns, "mapped": result.disarm.mapped,
                       "unknown": list(result.disarm.unknown), "missing": list(result.disarm.missing)}})
        return
    if result.disarm is not None:
        check = result.disarm
        console.print(f"DISARM framework bundle: {check.attack_patterns} attack-patterns, {check.mapped} mapped to "
                      f"DISARM techniques, {len(check.unknown)} unknown, {len(check.missing)} of RRM's missing; "
                      "its attack-pattern ids will be used in exports")
        return
    table = Table("received", "incident", "result", "detail")
    for outcome in result.outcomes:
        table.add_row(escape(outcome.key), str(outcome.incident_id or ""), outcome.action, escape(outcome.detail))
    console.print(table)
    if result.ignored:
        console.print("not imported: " + ", ".join(f"{n} {escape(t)}" for t, n in result.ignored.items()))
    for warning in result.warnings:
        console.print(f"[yellow]note:[/] {escape(warning)}")


@share_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle or a MISP event (JSON).")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="stix or misp [default: guessed]")] = None,
    from_partner: Annotated[str | None, typer.Option("--from", help="The partner who sent it.")] = None,
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Import a partner's STIX 2.1 bundle or MISP event: incidents created or updated, all or nothing."""
    chosen = workspace_of(workspace)
    try:
        if file.stat().st_size > MAX_INPUT_BYTES:
            raise InputError(f"is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB", source=str(file))
        raw = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", source=str(file)) from exc
    kind = _format(fmt) if fmt else ("stix" if b'"bundle"' in raw[:4096] or b'"type": "bundle"' in raw else "misp")
    with CasesDB.for_workspace(chosen) as db:
        if kind == "stix":
            result = import_stix(db, user or "", read_bundle(raw, source=str(file)), source=str(file),
                                 from_partner=from_partner, node=_node(chosen),
                                 disarm_index_path=_disarm_index_path(chosen))
        else:
            result = import_misp(db, user or "", read_event(raw, source=str(file)), source=str(file),
                                 from_partner=from_partner)
    _show_import(result, as_json)


@share_app.command("revoke")
def revoke_command(
    object_id: Annotated[str, typer.Argument(help="The STIX id to revoke, e.g. indicator--….")],
    bundle: Annotated[Path | None, typer.Option("--bundle", help="An exported bundle holding the object.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the revoked version here.")] = None,
    workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Revoke a shared STIX object: a new version with revoked: true, added to this node's TAXII collections."""
    chosen = workspace_of(workspace)
    known = read_bundle(bundle.read_bytes(), source=str(bundle))["objects"] if bundle else []
    taxii = TaxiiStore(taxii_database_url(chosen))
    try:
        result = revoke(taxii, object_id.strip(), known=known)
    finally:
        taxii.close()
    if output is not None:
        output.write_text(json.dumps({"type": "bundle", "id": f"bundle--{object_id.split('--')[-1]}",
                                      "objects": [result.obj]}, indent=2) + "\n", encoding="utf-8")
    if as_json:
        print_json(result)
    else:
        where = ", ".join(result.collections) or "no TAXII collection (send the revoked version yourself)"
        console.print(f"revoked {escape(result.object_id)} as version {result.version}; added to {escape(where)}")


def register(app: typer.Typer) -> None:
    app.add_typer(share_app, name="share")
