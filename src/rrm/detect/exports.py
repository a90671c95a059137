"""Export the network of a detection run: GEXF and GraphML (for Gephi), CSV and JSON.

The exported network has one node per account that is in an edge or a community, with its
``community`` (empty when none) and the community's ``score``; and one edge per pair of accounts,
fused over behaviours: ``behaviours`` (``;``-separated detector names), ``co_actions`` and ``weight``
(sums over behaviours) and ``q_value`` (the smallest, i.e. the most significant, over behaviours;
NaN in GraphML and absent in GEXF when significance was not tested). The CSV export keeps one row per
pair and behaviour, exactly as the run stored it.

Exporters are registered by name (``register_exporter``), so that a new format is one function
and one line; the built-in HTML report registers itself the same way (``rrm.detect.report``).
"""

from __future__ import annotations

import csv
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from rrm.detect.model import DetectionRun
from rrm.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from rrm.corpus.store import CorpusStore
    from rrm.workspace import Workspace

__all__ = [
    "Exporter",
    "Network",
    "NetworkEdge",
    "NetworkNode",
    "RunFindings",
    "available_formats",
    "export_run",
    "export_workspace_run",
    "fused_network",
    "register_exporter",
    "write_csv",
    "write_gexf",
    "write_graphml",
    "write_json",
]


class RunFindings(Protocol):
    """What exports read from a run: ``rrm.detect.pipeline.DetectionResult`` has this shape."""

    @property
    def run(self) -> DetectionRun: ...

    @property
    def edges(self) -> pa.Table: ...

    @property
    def evidence(self) -> pa.Table: ...

    @property
    def memberships(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class NetworkNode:
    account: str
    community_id: str | None
    score: float | None


@dataclass(frozen=True)
class NetworkEdge:
    account_a: str
    account_b: str
    behaviours: tuple[str, ...]
    co_actions: int
    weight: float
    q_value: float | None


@dataclass(frozen=True)
class Network:
    """A run's network, fused over behaviours: one edge per pair of accounts."""

    nodes: tuple[NetworkNode, ...]
    edges: tuple[NetworkEdge, ...]


def fused_network(findings: RunFindings) -> Network:
    """The nodes and the behaviour-fused edges of a run, sorted for stable output."""
    edges: list[NetworkEdge] = []
    table = findings.edges
    if table.num_rows:
        grouped = table.group_by(["account_a", "account_b"]).aggregate(
            [("behaviour", "distinct"), ("co_actions", "sum"), ("weight", "sum"), ("q_value", "min")]
        )
        grouped = grouped.sort_by([("account_a", "ascending"), ("account_b", "ascending")])
        for row in grouped.to_pylist():
            edges.append(
                NetworkEdge(
                    account_a=row["account_a"],
                    account_b=row["account_b"],
                    behaviours=tuple(sorted(row["behaviour_distinct"])),
                    co_actions=int(row["co_actions_sum"]),
                    weight=float(row["weight_sum"]),
                    q_value=None if row["q_value_min"] is None else float(row["q_value_min"]),
                )
            )
    scores = {c.community_id: c.score for c in findings.run.communities}
    accounts = set(findings.memberships)
    for edge in edges:
        accounts.update((edge.account_a, edge.account_b))
    nodes = []
    for account in sorted(accounts):
        community = findings.memberships.get(account)
        nodes.append(NetworkNode(account, community, scores.get(community) if community is not None else None))
    return Network(tuple(nodes), tuple(edges))


# --- XML ---------------------------------------------------------------------------------------

_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot hold (adversaries put control characters in ids)."""
    return _XML_INVALID.sub("\ufffd", value)


_GEXF_NS = "http://gexf.net/1.3"


def write_gexf(findings: RunFindings, out: Path) -> Path:
    """Write the run's network as GEXF 1.3 (Gephi's own format), undirected."""
    network = fused_network(findings)
    run = findings.run
    ET.register_namespace("", _GEXF_NS)
    root = ET.Element(f"{{{_GEXF_NS}}}gexf", {"version": "1.3"})
    meta = ET.SubElement(root, "meta", {"lastmodifieddate": run.created_at.date().isoformat()})
    ET.SubElement(meta, "creator").text = "RRM"
    ET.SubElement(meta, "description").text = xml_text(
        f"RRM detection run {run.run_id} on corpus version {run.corpus_version}"
    )
    graph = ET.SubElement(root, "graph", {"defaultedgetype": "undirected", "mode": "static"})
    node_attrs = ET.SubElement(graph, "attributes", {"class": "node", "mode": "static"})
    ET.SubElement(node_attrs, "attribute", {"id": "community", "title": "community", "type": "string"})
    ET.SubElement(node_attrs, "attribute", {"id": "score", "title": "score", "type": "double"})
    edge_attrs = ET.SubElement(graph, "attributes", {"class": "edge", "mode": "static"})
    ET.SubElement(edge_attrs, "attribute", {"id": "behaviours", "title": "behaviours", "type": "string"})
    ET.SubElement(edge_attrs, "attribute", {"id": "co_actions", "title": "co_actions", "type": "long"})
    ET.SubElement(edge_attrs, "attribute", {"id": "q_value", "title": "q_value", "type": "double"})
    nodes = ET.SubElement(graph, "nodes")
    for node in network.nodes:
        element = ET.SubElement(nodes, "node", {"id": xml_text(node.account), "label": xml_text(node.account)})
        values = ET.SubElement(element, "attvalues")
        ET.SubElement(values, "attvalue", {"for": "community", "value": xml_text(node.community_id or "")})
        ET.SubElement(values, "attvalue", {"for": "score", "value": repr(node.score or 0.0)})
    edges = ET.SubElement(graph, "edges")
    for index, edge in enumerate(network.edges):
        element = ET.SubElement(
            edges,
            "edge",
            {
                "id": str(index),
                "source": xml_text(edge.account_a),
                "target": xml_text(edge.account_b),
                "weight": repr(edge.weight),
            },
        )
        values = ET.SubElement(element, "attvalues")
        ET.SubElement(values, "attvalue", {"for": "behaviours", "value": xml_text(";".join(edge.behaviours))})
        ET.SubElement(values, "attvalue", {"for": "co_actions", "value": str(edge.co_actions)})
        if edge.q_value is not None:
            ET.SubElement(values, "attvalue", {"for": "q_value", "value": repr(edge.q_value)})
    ET.indent(root)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out


def write_graphml(findings: RunFindings, out: Path) -> Path:
    """Write the run's network as GraphML with igraph (undirected; node ``name``/``label`` = account)."""
    import igraph

    network = fused_network(findings)
    index = {node.account: i for i, node in enumerate(network.nodes)}
    graph = igraph.Graph(n=len(network.nodes), directed=False)
    graph.vs["name"] = [xml_text(n.account) for n in network.nodes]
    graph.vs["label"] = [xml_text(n.account) for n in network.nodes]
    graph.vs["community"] = [xml_text(n.community_id or "") for n in network.nodes]
    graph.vs["score"] = [float(n.score or 0.0) for n in network.nodes]
    graph.add_edges([(index[e.account_a], index[e.account_b]) for e in network.edges])
    graph.es["behaviours"] = [";".join(e.behaviours) for e in network.edges]
    graph.es["co_actions"] = [e.co_actions for e in network.edges]
    graph.es["weight"] = [e.weight for e in network.edges]
    graph.es["q_value"] = [math.nan if e.q_value is None else e.q_value for e in network.edges]
    graph.write_graphml(str(out))
    return out


# --- CSV and JSON ------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A cell that spreadsheets will not run as a formula (OWASP: prefix ``'``); numbers unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def _write_rows(path: Path, header: list[str], rows: Iterator[list[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([csv_cell(cell) for cell in row])


def write_csv(findings: RunFindings, out: Path) -> Path:
    """Write ``edges.csv`` (one row per pair and behaviour) and ``communities.csv`` into folder ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    edges = findings.edges.select(["behaviour", "account_a", "account_b", "co_actions", "weight", "p_value", "q_value"])
    edges = edges.sort_by([("account_a", "ascending"), ("account_b", "ascending"), ("behaviour", "ascending")])
    _write_rows(out / "edges.csv", edges.column_names, (list(row.values()) for row in edges.to_pylist()))
    scores = {c.community_id: c.score for c in findings.run.communities}
    members = sorted(findings.memberships.items(), key=lambda item: (item[1], item[0]))
    _write_rows(
        out / "communities.csv",
        ["community_id", "account", "score"],
        ([community, account, scores.get(community)] for account, community in members),
    )
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def run_document(findings: RunFindings) -> dict[str, Any]:
    """The run, its communities, nodes and fused edges as plain JSON values."""
    run = findings.run
    network = fused_network(findings)
    return {
        "run": _plain({k: v for k, v in asdict(run).items() if k != "communities"}),
        "communities": [
            _plain({k: v for k, v in asdict(c).items() if k != "evidence"}) for c in run.communities
        ],
        "nodes": [_plain(asdict(n)) for n in network.nodes],
        "edges": [_plain(asdict(e)) for e in network.edges],
    }


def write_json(findings: RunFindings, out: Path) -> Path:
    """Write the run as one JSON document (see ``run_document``)."""
    out.write_text(json.dumps(run_document(findings), indent=2, ensure_ascii=False), encoding="utf-8")
    return out


# --- registry ----------------------------------------------------------------------------------

Exporter = Callable[[RunFindings, Path, "CorpusStore | None"], Path]
"""Writes a run to a path; the corpus is given to formats that show posts (the HTML report)."""

_EXPORTERS: dict[str, tuple[str, Exporter]] = {}


def register_exporter(name: str, description: str, exporter: Exporter) -> None:
    _EXPORTERS[name] = (description, exporter)


def available_formats() -> dict[str, str]:
    """Format name → description, for every registered exporter."""
    import rrm.detect.report  # noqa: F401  (registers "html")

    return {name: description for name, (description, _) in sorted(_EXPORTERS.items())}


def export_run(findings: RunFindings, format_name: str, out: Path, store: CorpusStore | None = None) -> Path:
    """Write ``findings`` in the named format to ``out``; returns what was written."""
    if format_name not in available_formats():
        known = ", ".join(available_formats())
        raise InputError(f"no export format {format_name!r}; known: {known}", field="format")
    if not out.parent.exists():
        raise NotFoundError(f"the folder {out.parent} does not exist")
    return _EXPORTERS[format_name][1](findings, out, store)


def export_workspace_run(workspace: Workspace, format_name: str, out: Path, run_id: str | None = None) -> Path:
    """Export a stored run of the workspace (the latest when ``run_id`` is None) with its corpus."""
    from rrm.corpus.store import CorpusStore
    from rrm.detect.findings import FindingsStore

    findings = FindingsStore(workspace).load(run_id)
    return export_run(findings, format_name, out, CorpusStore(workspace))


register_exporter("gexf", "GEXF 1.3 network for Gephi", lambda f, out, _store: write_gexf(f, out))
register_exporter("graphml", "GraphML network (Gephi, igraph, networkx, yEd)", lambda f, out, _store: write_graphml(f, out))
register_exporter("csv", "folder with edges.csv and communities.csv", lambda f, out, _store: write_csv(f, out))
register_exporter("json", "one JSON document: run, communities, nodes, edges", lambda f, out, _store: write_json(f, out))
