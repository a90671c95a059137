"""Evaluation against labels, and the ``rrm evaluate / export / report`` commands on a real run."""

from __future__ import annotations

import json
from pathlib import Path

import igraph
import networkx as nx
import pytest
from typer.testing import CliRunner

from rrm.cli.app import app
from rrm.corpus import CorpusStore, ingest
from rrm.detect.evaluate import adjusted_rand_index, evaluate, load_labels
from rrm.detect.findings import FindingsStore
from rrm.detect.params import DetectionParams
from rrm.detect.pipeline import detect
from rrm.errors import InputError
from rrm.workspace import Workspace
from test_detect_exports import sample_findings

runner = CliRunner()


# --- adjusted Rand index -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("truth", "predicted", "expected"),
    [
        ([0, 0, 1, 1], [0, 0, 1, 1], 1.0),
        ([0, 0, 1, 1], [1, 1, 0, 0], 1.0),  # names do not matter
        ([0, 0, 1, 2], [0, 0, 1, 1], 0.5714285714285714),  # scikit-learn's documented example
        ([0, 0, 1, 1], [0, 1, 0, 1], -0.5),
        ([0, 0, 0, 0], [0, 1, 2, 3], 0.0),
        (["a", "a", "b", "b", "c", "c"], ["x", "x", "x", "y", "y", "y"], 0.24242424242424243),
    ],
)
def test_adjusted_rand_index_matches_known_values(truth: list[object], predicted: list[object], expected: float) -> None:
    assert adjusted_rand_index(truth, predicted) == pytest.approx(expected)


def test_adjusted_rand_index_needs_the_same_items() -> None:
    with pytest.raises(ValueError, match="same items"):
        adjusted_rand_index([1, 2], [1])


# --- labels files ------------------------------------------------------------------------------


def test_load_labels_of_the_scenario_shape_and_plain_shape(tmp_path: Path) -> None:
    scenario = tmp_path / "labels.csv"
    scenario.write_text(
        "platform,account_id,campaign_id,campaign_kind\n"
        "twitter,a1,c-01,retweet-ring\n"
        ",a9,c-01,retweet-ring\n"
        "twitter,b1,c-02,copy-paste\n"
        "twitter,a1,c-02,copy-paste\n"
        "twitter,x,y,z,extra\n",
        encoding="utf-8",
    )
    loaded = load_labels(scenario)
    assert loaded.labels == {"twitter:a1": "c-01:retweet-ring", "twitter:b1": "c-02:copy-paste"}
    assert [(r.line, r.field) for r in loaded.rejected] == [(3, "platform"), (5, None), (6, None)]
    assert "two labels" in loaded.rejected[1].reason
    plain = tmp_path / "plain.csv"
    plain.write_text("account,label\ntwitter:a1,ira\ntwitter:z,organic\n", encoding="utf-8")
    assert load_labels(plain).labels == {"twitter:a1": "ira", "twitter:z": "organic"}


def test_load_labels_rejects_unusable_files(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("who,what\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"wrong\.csv, line 1: a labels file needs the columns"):
        load_labels(wrong)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"account,label\n\xff\xfe,\x80\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_labels(binary)


# --- scores ------------------------------------------------------------------------------------


def test_evaluate_counts_flagged_accounts_by_the_documented_rule() -> None:
    findings = sample_findings()
    labels = {
        "twitter:a1": "ring:retweet", "twitter:a2": "ring:retweet", "twitter:a3": "organic",
        "twitter:b1": "paste:copy", "twitter:b2": "paste:copy", "twitter:z1": "paste:copy",
        "twitter:c1": "none",
    }
    result = evaluate(findings, labels, universe=["twitter:o1", "twitter:o2"])
    # flagged: a1 a2 a3 (c1, 0.91) and b1 b2 + hostile (c2, 0.42); positives: a1 a2 b1 b2 z1
    assert (result.flagged, result.positives, result.true_positives) == (6, 5, 4)
    assert result.precision == pytest.approx(4 / 6) and result.recall == pytest.approx(4 / 5)
    assert result.f1 == pytest.approx(2 * (4 / 6) * (4 / 5) / (4 / 6 + 4 / 5))
    by_label = {s.label: s for s in result.per_label}
    assert (by_label["ring:retweet"].predicted, by_label["ring:retweet"].correct) == (3, 2)
    assert by_label["paste:copy"].recall == pytest.approx(2 / 3)
    assert result.accounts == 10  # 7 labelled + hostile + 2 from the universe
    assert 0.0 < result.adjusted_rand_index < 1.0

    strict = evaluate(findings, labels, min_score=0.5)
    assert (strict.flagged, strict.true_positives) == (3, 2)
    assert {s.label: s.predicted for s in strict.per_label} == {"paste:copy": 0, "ring:retweet": 3}


def test_perfect_findings_score_one() -> None:
    findings = sample_findings()
    labels = {account: f"campaign-{community}" for account, community in findings.memberships.items()}
    result = evaluate(findings, labels)
    assert (result.precision, result.recall, result.f1, result.adjusted_rand_index) == (1.0, 1.0, 1.0, 1.0)


# --- the commands, on a real run of the pipeline ------------------------------------------------


@pytest.fixture(scope="module")
def detected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path]:
    """A small generated scenario, ingested and detected by the real pipeline; (workspace, labels)."""
    from rrm.demo.scenario import ScenarioConfig, generate_scenario

    folder = tmp_path_factory.mktemp("run")
    scenario = generate_scenario(ScenarioConfig(seed=3, organic_accounts=300, days=2, accounts_per_campaign=8))
    files = scenario.write(folder / "data")
    workspace = Workspace.resolve(folder / "ws").ensure()
    store = CorpusStore(workspace)
    ingest(store, [str(files.posts)])
    FindingsStore(workspace).save(detect(store, DetectionParams(null_shuffles=5)))
    return workspace, files.labels


def test_rrm_evaluate_on_a_real_run(detected: tuple[Workspace, Path]) -> None:
    workspace, labels = detected
    result = runner.invoke(app, ["evaluate", str(labels), "-w", str(workspace.root), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["positives"] == 32 and scores["flagged"] > 0
    assert scores["precision"] > 0.5 and scores["recall"] > 0.3 and scores["adjusted_rand_index"] > 0.3
    assert len(scores["per_label"]) == 4
    table = runner.invoke(app, ["evaluate", str(labels), "-w", str(workspace.root), "--min-score", "1000"])
    assert table.exit_code == 0, table.output
    assert "0 accounts flagged" in table.stdout and "Adjusted Rand index" in table.stdout


def test_rrm_evaluate_reports_bad_input(detected: tuple[Workspace, Path], tmp_path: Path) -> None:
    workspace, labels = detected
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,useful\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(bad), "-w", str(workspace.root)])
    assert result.exit_code == 2
    assert f"Error: {bad}, line 1: a labels file needs the columns" in " ".join(result.output.split())
    missing = runner.invoke(app, ["evaluate", str(labels), "-w", str(workspace.root), "--run", "nope"])
    assert missing.exit_code == 1 and "no detection run 'nope'" in missing.output


def test_rrm_export_every_format_of_a_real_run(detected: tuple[Workspace, Path], tmp_path: Path) -> None:
    workspace, _ = detected
    run = FindingsStore(workspace).load()
    for name in ("gexf", "graphml", "json", "csv", "html"):
        out = tmp_path / f"run.{name}"
        result = runner.invoke(app, ["export", "-w", str(workspace.root), "--format", name, "--run", run.run.run_id, str(out)])
        assert result.exit_code == 0, result.output
        assert out.exists()
    nodes = set(run.memberships)
    gexf = nx.read_gexf(tmp_path / "run.gexf")
    assert nodes <= set(gexf.nodes) and gexf.number_of_edges() > 0
    graphml = igraph.Graph.Read_GraphML(str(tmp_path / "run.graphml"))
    assert graphml.vcount() == gexf.number_of_nodes() and graphml.ecount() == gexf.number_of_edges()
    assert (tmp_path / "run.csv" / "edges.csv").read_text().count("\n") == run.edges.num_rows + 1
    assert "Community" in (tmp_path / "run.html").read_text(encoding="utf-8")
    wrong = runner.invoke(app, ["export", "-w", str(workspace.root), "--format", "pdf", str(tmp_path / "x")])
    assert wrong.exit_code == 2 and "no export format 'pdf'" in wrong.output


def test_rrm_report_is_the_html_export(detected: tuple[Workspace, Path], tmp_path: Path) -> None:
    workspace, _ = detected
    result = runner.invoke(app, ["report", "-w", str(workspace.root), str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    run = FindingsStore(workspace).load().run
    assert run.run_id in html and html.count('class="timeline"') == len(run.communities) > 0
