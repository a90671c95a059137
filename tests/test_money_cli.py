"""The ``rrm money`` commands, end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import shared_data
from rrm.cli.app import app

runner = CliRunner()


def test_ingest_flags_search_export_report(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    sample = shared_data("transparency/uk-electoral-commission-sample/donations_sample_300.csv")
    result = runner.invoke(app, ["money", "ingest", "-w", ws, "--json", str(sample)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["stored"] == 300
    result = runner.invoke(app, ["money", "flags", "-w", ws, "--rule", "foreign-state-donor", "--json"])
    assert result.exit_code == 0
    assert len(json.loads(result.output)) == 13
    result = runner.invoke(app, ["money", "search", "-w", ws, "--recipient", "Labour Party", "--json"])
    assert any(row["donor"] == "Unite the Union" for row in json.loads(result.output))
    result = runner.invoke(app, ["money", "export", "-w", ws, "--format", "json", str(tmp_path / "out.json")])
    assert result.exit_code == 0
    assert len(json.loads((tmp_path / "out.json").read_text())["donations"]) == 300
    report = tmp_path / "report.html"
    result = runner.invoke(app, ["money", "report", "-w", ws, str(report)])
    assert result.exit_code == 0
    page = report.read_text()
    assert "<svg" in page and "The Kingdom of Saudi Arabia" in page and "<script" not in page


def test_hostile_names_are_escaped_in_the_report(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    path = tmp_path / "ec.csv"
    path.write_text("ECRef,RegulatedEntityName,Value,AcceptedDate,DonorName\n"
                    "E1,<script>alert(1)</script>,\"£100.00\",01/02/2024,Embassy of <b>Nowhere</b>\n", encoding="utf-8")
    assert runner.invoke(app, ["money", "ingest", "-w", ws, str(path)]).exit_code == 0
    report = tmp_path / "r.html"
    assert runner.invoke(app, ["money", "report", "-w", ws, str(report)]).exit_code == 0
    page = report.read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_bad_input_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, ["money", "ingest", "-w", str(tmp_path / "ws"), str(path)])
    assert result.exit_code == 2
    assert "x.csv: no money format recognises this file" in " ".join(result.output.split())
    result = runner.invoke(app, ["money", "ingest", "-w", str(tmp_path / "ws"), "--format", "fec-itcont", str(path)])
    assert result.exit_code == 2 and "not in the declared format 'fec-itcont'" in " ".join(result.output.split())
