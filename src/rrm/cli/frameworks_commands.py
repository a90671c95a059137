"""``rrm disarm search|show``, ``rrm tlp``, ``rrm admiralty``, ``rrm breakout`` and ``rrm exposure``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from rrm.cli.options import JsonOption, console, print_json
from rrm.frameworks.admiralty import AdmiraltyRating, InformationCredibility, SourceReliability
from rrm.frameworks.breakout import BreakoutCategory
from rrm.frameworks.disarm import DisarmDetail, load_disarm
from rrm.frameworks.disarm_model import Countermeasure, Detection, DisarmObject, Tactic, Technique
from rrm.frameworks.exposure import SOURCE_NOTE, ExposureCategory, indicator_dimensions
from rrm.frameworks.tlp import marking_definition, tlp_levels

__all__ = ["register"]

disarm_app = typer.Typer(
    help="Look up the DISARM red (techniques) and blue (countermeasures) frameworks.", no_args_is_help=True
)

_DESCRIPTION_WIDTH = 160


def _short(text: str, width: int = _DESCRIPTION_WIDTH) -> str:
    text = " ".join(text.replace("<br />", " ").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _plain(item: DisarmObject) -> dict[str, Any]:
    return {"kind": item.kind, **asdict(item)}


def _where(item: DisarmObject) -> str:
    if isinstance(item, Technique):
        return f"{item.tactic_id} / {item.phase_id}" + (f" (sub-technique of {item.parent_id})" if item.parent_id else "")
    if isinstance(item, Tactic):
        return item.phase_id
    if isinstance(item, Countermeasure | Detection):
        return ", ".join(filter(None, [item.tactic_id, item.responsetype_id, *item.metatechnique_ids]))
    return ""


@disarm_app.command("search")
def search_command(
    text: Annotated[str, typer.Argument(help="Words or an id to look for in ids, names and descriptions.")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="Most results to show.", min=1)] = 20,
    as_json: JsonOption = False,
) -> None:
    """Find DISARM techniques, tactics and countermeasures, best matches first."""
    results = load_disarm().search(text, limit=limit)
    if as_json:
        print_json([_plain(item) for item in results])
        return
    if not results:
        console.print(f"No DISARM technique, tactic or countermeasure matches {escape(repr(text))}.")
        return
    table = Table("id", "kind", "name", "where", "description", title=f"DISARM: {escape(text)}")
    for item in results:
        table.add_row(item.id, item.kind, escape(item.name), _where(item), escape(_short(item.description, 90)))
    console.print(table)


@disarm_app.command("show")
def show_command(
    object_id: Annotated[str, typer.Argument(metavar="ID", help="T0049, T0049.001, TA01, P01, C00008, F00001...")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="Most suggested countermeasures to show.", min=1)] = 15,
    as_json: JsonOption = False,
) -> None:
    """Show one DISARM object; for a technique, also the countermeasures suggested for it."""
    detail = load_disarm().describe(object_id)
    if as_json:
        print_json(
            {
                "item": _plain(detail.item),
                "related": [_plain(r) for r in detail.related],
                "suggestions": [asdict(s) for s in detail.suggestions],
                "warning": detail.warning,
            }
        )
        return
    _print_detail(detail, limit)


def _print_detail(detail: DisarmDetail, limit: int) -> None:
    item = detail.item
    lines = [f"[bold]{item.id} {escape(item.name)}[/] ({item.kind})"]
    where = _where(item)
    if where:
        lines.append(f"[dim]{escape(where)}[/]")
    if item.description:
        lines.append(escape(_short(item.description, 2000)))
    url = getattr(item, "url", None)
    if url:
        lines.append(f"[dim]{escape(url)}[/]")
    console.print(Panel("\n".join(lines), expand=False))
    if isinstance(item, Countermeasure | Detection):
        links = Table("written", "as written", "basis", "how", "current techniques", title="Technique links (upstream)")
        for link in item.links:
            style = {"current": "", "v0.1": "yellow", "unresolved": "red"}[link.basis]
            links.add_row(
                link.written_id, escape(link.written_name), f"[{style}]{link.basis}[/]" if style else link.basis,
                link.method, ", ".join(link.technique_ids) or "-",
            )
        console.print(links)
    elif detail.related:
        related = Table("id", "kind", "name", title="Contains")
        for other in detail.related:
            related.add_row(other.id, other.kind, escape(other.name))
        console.print(related)
    if isinstance(item, Technique):
        if detail.suggestions:
            table = Table("id", "countermeasure", "counters", "link", "metatechnique", "response",
                          title=f"Suggested countermeasures ({len(detail.suggestions)})")
            for s in detail.suggestions[:limit]:
                notes = []
                if s.via_v0_1:
                    notes.append(f"[yellow]via v0.1 {', '.join(s.v0_1_ids)}[/]")
                if s.via_parent:
                    notes.append(f"via parent {item.parent_id}")
                c = s.countermeasure
                table.add_row(c.id, escape(c.name), ", ".join(s.technique_ids), "; ".join(notes) or "direct",
                              ", ".join(c.metatechnique_ids), c.responsetype_id or "")
            console.print(table)
        else:
            console.print("No countermeasure of the DISARM blue framework is linked to this technique.")
    if detail.warning:
        console.print(Panel(escape(detail.warning), title="DISARM Foundation caution", border_style="yellow"))


def tlp_command(as_json: JsonOption = False) -> None:
    """List the TLP 2.0 levels, least restrictive first, with their definitions."""
    levels = tlp_levels()
    if as_json:
        print_json(
            [
                {"label": lv.label, "rank": lv.rank, "colour": lv.colour, "definition": lv.definition,
                 "stix_marking_definition": marking_definition(lv.tlp)}
                for lv in levels
            ]
        )
        return
    table = Table("label", "definition", "STIX marking definition", title="Traffic Light Protocol 2.0 (FIRST)")
    for lv in levels:
        table.add_row(f"[bold {lv.colour} on black]{lv.label}[/]", lv.definition, lv.marking_id)
    console.print(table)


def admiralty_command(
    rating: Annotated[str | None, typer.Argument(help="A rating to explain, e.g. B2.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The Admiralty code: source reliability A-F, information credibility 1-6, and STIX confidence."""
    if rating is not None:
        parsed = AdmiraltyRating.parse(rating)
        if as_json:
            print_json(
                {
                    "code": parsed.code,
                    "reliability": {"code": parsed.reliability.value, "label": parsed.reliability.label,
                                    "description": parsed.reliability.description},
                    "credibility": {"code": parsed.credibility.value, "label": parsed.credibility.label,
                                    "description": parsed.credibility.description},
                    "stix_confidence": parsed.stix_confidence,
                }
            )
            return
        confidence = parsed.stix_confidence
        console.print(
            f"[bold]{parsed.code}[/]: source {parsed.reliability.value} ({parsed.reliability.label}), "
            f"information {parsed.credibility.value} ({parsed.credibility.label}); STIX confidence: "
            + (str(confidence) if confidence is not None else "none (leave the property out)")
        )
        return
    reliability = [
        {"code": r.value, "label": r.label, "description": r.description, "standard": r.standard}
        for r in SourceReliability
    ]
    credibility = [
        {"code": c.value, "label": c.label, "description": c.description, "stix_confidence": c.stix_confidence,
         "confidence_range": c.confidence_range}
        for c in InformationCredibility
    ]
    if as_json:
        print_json({"source_reliability": reliability, "information_credibility": credibility})
        return
    table = Table("code", "source reliability", "description", title="Admiralty code: source")
    for r in reliability:
        note = "" if r["standard"] else " [dim](MISP extension, not NATO)[/]"
        table.add_row(str(r["code"]), f"{r['label']}{note}", str(r["description"]))
    console.print(table)
    table = Table("code", "information credibility", "description", "STIX confidence", title="Admiralty code: information")
    for level in InformationCredibility:
        bounds = level.confidence_range
        stix = f"{level.stix_confidence} ({bounds[0]}-{bounds[1]})" if bounds else "none"
        table.add_row(level.code, level.label, level.description, stix)
    console.print(table)


def breakout_command(as_json: JsonOption = False) -> None:
    """Ben Nimmo's Breakout Scale: categories 1-6 (paraphrased)."""
    categories = [{"category": c.value, "label": c.label, "definition": c.definition} for c in BreakoutCategory]
    if as_json:
        print_json(categories)
        return
    table = Table("category", "label", "definition", title="Breakout Scale (Nimmo, Brookings 2020; paraphrased)")
    for c in categories:
        table.add_row(str(c["category"]), str(c["label"]), str(c["definition"]))
    console.print(table)


def exposure_command(as_json: JsonOption = False) -> None:
    """The EEAS FIMI exposure matrix: how channels are tied to a state (a summary, not official text)."""
    categories = [
        {"code": c.value, "label": c.label, "attribution": c.attribution, "definition": c.definition}
        for c in ExposureCategory
    ]
    if as_json:
        print_json({"categories": categories, "indicator_dimensions": indicator_dimensions(), "note": SOURCE_NOTE})
        return
    table = Table("code", "category", "attribution", "definition", title="EEAS FIMI exposure matrix")
    for c in categories:
        table.add_row(str(c["code"]), str(c["label"]), str(c["attribution"]), str(c["definition"]))
    console.print(table)
    console.print(f"[dim]{SOURCE_NOTE}[/]")


def register(app: typer.Typer) -> None:
    app.add_typer(disarm_app, name="disarm")
    app.command("tlp")(tlp_command)
    app.command("admiralty")(admiralty_command)
    app.command("breakout")(breakout_command)
    app.command("exposure")(exposure_command)
