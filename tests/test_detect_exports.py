"""Exports of a run's network: GEXF, GraphML, CSV and JSON, each read back by an independent reader."""

from __future__ import annotations

import csv
import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import igraph
import networkx as nx
import pyarrow as pa
import pytest

from rrm.detect.exports import (
    available_formats,
    export_run,
    fused_network,
    write_csv,
    write_gexf,
    write_graphml,
    write_json,
)
from rrm.detect.model import EDGE_SCHEMA, EVIDENCE_SCHEMA, Community, DetectionRun
from rrm.errors import InputError, NotFoundError

HOSTILE = "x:=cmd|' /C calc'!A0<b>&\x01"


@dataclass(frozen=True)
class Findings:
    """A hand-built result with the shape of ``rrm.detect.pipeline.DetectionResult``."""

    run: DetectionRun
    edges: pa.Table
    evidence: pa.Table
    memberships: dict[str, str] = field(default_factory=dict)


def _time(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 3, 1, hour, minute, second, tzinfo=UTC)


def sample_findings(hostile: str = HOSTILE) -> Findings:
    """Two communities (A: three accounts, B: two plus a hostile account id), one stray edge."""
    edges = [
        ("co-reshare", "twitter:a1", "twitter:a2", 3, 2.5, 0.001, 0.004),
        ("co-link", "twitter:a1", "twitter:a2", 2, 1.0, 0.01, 0.02),
        ("co-reshare", "twitter:a1", "twitter:a3", 4, 3.0, 0.001, 0.003),
        ("co-reshare", "twitter:a2", "twitter:a3", 2, 1.5, 0.002, 0.01),
        ("co-text", "twitter:b1", "twitter:b2", 5, 4.0, 0.0001, 0.001),
        ("co-text", "twitter:b1", hostile, 2, 1.0, 0.02, 0.04),
        ("co-text", "twitter:b2", hostile, 2, 1.0, 0.02, 0.04),
        ("co-link", "twitter:c1", "twitter:c2", 2, 0.5, 0.4, None),
    ]
    edge_table = pa.Table.from_pylist([dict(zip(EDGE_SCHEMA.names, e, strict=True)) for e in edges], schema=EDGE_SCHEMA)
    evidence = [
        ("co-reshare", "twitter:a1", "twitter:a2", "twitter:p0", "pa1", "pa2", _time(10, 0, 5), _time(10, 0, 20)),
        ("co-reshare", "twitter:a1", "twitter:a3", "twitter:p0", "pa1", "pa3", _time(10, 0, 5), _time(10, 0, 40)),
        ("co-text", "twitter:b1", "twitter:b2", "hash1", "pb1", "pb2", _time(12, 1), _time(12, 1, 30)),
        ("co-text", "twitter:b1", hostile, "hash1", "pb1", "pbx", _time(12, 1), _time(12, 1, 50)),
    ]
    evidence_table = pa.Table.from_pylist(
        [dict(zip(EVIDENCE_SCHEMA.names, e, strict=True)) for e in evidence], schema=EVIDENCE_SCHEMA
    )
    communities = (
        Community(
            "c1", ("twitter:a1", "twitter:a2", "twitter:a3"), 0.91, {"behaviours": 0.5, "time_tightness": 0.3, "size": 0.11},
            {"co-reshare": 3, "co-link": 1}, "Three accounts reshared the same posts within 40 seconds.",
        ),
        Community(
            "c2", ("twitter:b1", "twitter:b2", hostile), 0.42, {"behaviours": 0.3, "time_tightness": 0.12},
            {"co-text": 3}, "Identical texts <script>alert('explain')</script> within a minute.",
        ),
    )
    run = DetectionRun(
        run_id="run-1",
        corpus_version="abc123",
        created_at=_time(15),
        parameters={"window_seconds": 60, "min_co_actions": 2, "fdr_q": 0.05},
        detectors=("co-reshare", "co-link", "co-text"),
        edges=120,
        significant_edges=7,
        expected_false_edges=0.35,
        communities=communities,
    )
    memberships = {a: c.community_id for c in communities for a in c.accounts}
    return Findings(run, edge_table, evidence_table, memberships)


def test_fused_network_has_one_edge_per_pair() -> None:
    network = fused_network(sample_findings())
    pairs = {(e.account_a, e.account_b): e for e in network.edges}
    assert len(pairs) == len(network.edges) == 7
    a1a2 = pairs[("twitter:a1", "twitter:a2")]
    assert a1a2.behaviours == ("co-link", "co-reshare")
    assert (a1a2.co_actions, a1a2.weight, a1a2.q_value) == (5, 3.5, 0.004)
    assert pairs[("twitter:c1", "twitter:c2")].q_value is None
    nodes = {n.account: n for n in network.nodes}
    assert nodes["twitter:a1"].community_id == "c1" and nodes["twitter:a1"].score == 0.91
    assert nodes["twitter:c1"].community_id is None and nodes["twitter:c1"].score is None


def test_gexf_is_read_back_by_networkx(tmp_path: Path) -> None:
    out = write_gexf(sample_findings(), tmp_path / "run.gexf")
    graph = nx.read_gexf(out)
    assert not graph.is_directed()
    assert graph.number_of_nodes() == 8 and graph.number_of_edges() == 7
    assert graph.nodes["twitter:a1"]["community"] == "c1"
    assert graph.nodes["twitter:a1"]["score"] == pytest.approx(0.91)
    edge = graph.edges["twitter:a1", "twitter:a2"]
    assert edge["behaviours"] == "co-link;co-reshare"
    assert edge["co_actions"] == 5 and edge["weight"] == pytest.approx(3.5) and edge["q_value"] == pytest.approx(0.004)
    assert "q_value" not in graph.edges["twitter:c1", "twitter:c2"]
    # the hostile id is kept (control character replaced) and its markup is escaped, not parsed
    hostile = HOSTILE.replace("\x01", "\ufffd")
    assert graph.nodes[hostile]["community"] == "c2"
    assert ET.parse(out).getroot().tag == "{http://gexf.net/1.3}gexf"


def test_graphml_is_read_back_by_igraph_and_networkx(tmp_path: Path) -> None:
    out = write_graphml(sample_findings(), tmp_path / "run.graphml")
    graph = igraph.Graph.Read_GraphML(str(out))
    assert not graph.is_directed()
    assert graph.vcount() == 8 and graph.ecount() == 7
    names = graph.vs["name"]
    a1, a2 = names.index("twitter:a1"), names.index("twitter:a2")
    edge = graph.es[graph.get_eid(a1, a2)]
    assert edge["behaviours"] == "co-link;co-reshare"
    assert edge["co_actions"] == 5 and edge["weight"] == pytest.approx(3.5)
    assert graph.vs[a1]["community"] == "c1" and graph.vs[a1]["score"] == pytest.approx(0.91)
    c1, c2 = names.index("twitter:c1"), names.index("twitter:c2")
    assert math.isnan(graph.es[graph.get_eid(c1, c2)]["q_value"])
    assert nx.read_graphml(out).number_of_edges() == 7  # a second reader agrees


def test_csv_keeps_one_row_per_behaviour_and_defuses_formulas(tmp_path: Path) -> None:
    out = write_csv(sample_findings(hostile="=HYPERLINK(\"http://evil\")"), tmp_path / "csv")
    with (out / "edges.csv").open(newline="") as handle:
        edges = list(csv.DictReader(handle))
    assert len(edges) == 8
    assert edges[0] == {
        "behaviour": "co-link", "account_a": "twitter:a1", "account_b": "twitter:a2", "co_actions": "2", "weight": "1.0",
        "p_value": "0.01", "q_value": "0.02",
    }
    with (out / "communities.csv").open(newline="") as handle:
        communities = list(csv.DictReader(handle))
    assert len(communities) == 6
    assert {"community_id": "c1", "account": "twitter:a1", "score": "0.91"} in communities
    assert any(row["account"] == "'=HYPERLINK(\"http://evil\")" for row in communities)
    assert not any(row["account"].startswith("=") for row in communities)


def test_json_document(tmp_path: Path) -> None:
    out = write_json(sample_findings(), tmp_path / "run.json")
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["run"]["run_id"] == "run-1"
    assert document["run"]["created_at"] == "2024-03-01T15:00:00+00:00"
    assert [c["community_id"] for c in document["communities"]] == ["c1", "c2"]
    assert len(document["nodes"]) == 8 and len(document["edges"]) == 7
    assert document["edges"][0]["behaviours"] == ["co-link", "co-reshare"]


def test_registry_lists_every_format_and_rejects_unknown_ones(tmp_path: Path) -> None:
    assert set(available_formats()) == {"csv", "gexf", "graphml", "html", "json"}
    with pytest.raises(InputError, match="field 'format': no export format 'pdf'"):
        export_run(sample_findings(), "pdf", tmp_path / "x.pdf")
    with pytest.raises(NotFoundError, match="does not exist"):
        export_run(sample_findings(), "json", tmp_path / "missing" / "x.json")
    assert export_run(sample_findings(), "gexf", tmp_path / "x.gexf").stat().st_size > 0
